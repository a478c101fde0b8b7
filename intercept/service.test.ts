/**
 * The intercept service on one node with a real (in-memory) Level store, a recording access log and
 * fake peer centres: decisions across centres, feedback, counters, metrics, and every bad input
 * refused with its code and nothing kept.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessEvent, AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import { PeerUnavailableError } from '../federation/host.ts';
import { type CreditFact, composeUscc, type IngestRecord } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import type { Listing } from './decide.ts';
import type { InterceptPeers } from './ports.ts';
import {
  createInterceptService,
  DEFAULT_PEER_TIMEOUT_MS,
  type InterceptService,
  SLOW_PEER_TIMEOUT_MS,
} from './service.ts';

const NOW = Date.parse('2026-11-20T02:00:00Z');
const XM = composeUscc('9', '1', '350203', 'MA2Y0C01');
const ZZ = composeUscc('9', '1', '350602', 'MA2Y0C02');
const QZ = composeUscc('9', '1', '350502', 'MA2Y0C03');
const gov: Principal = { sub: 'subsidy-system', role: 'gov-system', department: 'xm-finance' };
const otherDept: Principal = { sub: 'bid-system', role: 'gov-system', department: 'xm-construction' };
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };

let db: RootDb;
let profiles: ProfileStore;
let events: AccessEvent[];
let qzDown: boolean;
let service: InterceptService;
const asked: string[][] = [];
/** The time limits the check gave the Quanzhou centre, in order. */
const qzTimeouts: number[] = [];

const log: AccessLogPort = {
  async append(e) {
    events.push(e);
    return { index: events.length - 1, leafHash: '' };
  },
};
const zzListing: Listing = {
  factId: 'ZZ-SD-1',
  subtype: 'SERIOUS_DISHONESTY',
  status: 'ACTIVE',
  severity: 'SERIOUS',
  decisionDate: '2026-02-01',
  legalDocumentRef: '漳严违〔2026〕1号',
  sourceUnit: '漳州市市场监督管理局',
  originNode: 'zz-centre',
  node: 'zz-centre',
};
const peers: InterceptPeers = {
  centres: () => [
    { nodeId: 'qz-centre', city: 'QZ' },
    { nodeId: 'zz-centre', city: 'ZZ' },
  ],
  async listings(node, req, options) {
    asked.push([node, ...req.subtypes]);
    if (node === 'qz-centre') qzTimeouts.push(options.timeoutMs);
    if (node === 'qz-centre' && qzDown) throw new PeerUnavailableError('qz-centre did not answer in time');
    const i = req.usccs.indexOf(ZZ);
    return { hits: node === 'zz-centre' && i >= 0 ? [[i, [zzListing]]] : [] };
  },
};

async function put(facts: CreditFact[]) {
  const records: IngestRecord[] = facts.map((record) => ({ kind: 'fact', record }));
  await db.batch(profiles.writeOps(records, await profiles.existing(records)));
}

beforeEach(async () => {
  db = await openDatabase({ memory: true });
  profiles = createProfileStore({ db });
  events = [];
  qzDown = false;
  asked.length = 0;
  qzTimeouts.length = 0;
  await put([
    {
      id: 'XM-DD-1',
      uscc: XM,
      category: 'JUDICIAL',
      subtype: 'DISHONEST_DEBTOR',
      polarity: 'NEGATIVE',
      legalDocumentRef: '(2026)闽0203执1号',
      sourceUnit: '厦门市思明区人民法院',
      decisionDate: '2026-05-01',
      usageRange: 'PUBLIC',
      status: 'ACTIVE',
      payload: { caseNo: 'x', court: 'x', obligation: 'x', performance: '全部未履行' },
      originNode: 'xm-centre',
      version: 1,
      updatedAt: '2026-05-01T00:00:00Z',
    },
  ]);
  service = createInterceptService(
    { db, profiles, log, nodeId: 'xm-centre', city: 'XM', peers: () => peers, logger: silentLogger() },
    { now: () => NOW },
  );
  await service.start();
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'NO_ERROR';
};
const counters = () => service.counters(staff, { from: '2026-11-01', to: '2026-11-30' });

describe('check-and-intercept at a centre', () => {
  it('decides each enterprise from the local and the other centres’ listings and logs each one', async () => {
    const r = await service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [XM, ZZ, QZ], correlationId: 'corr-0001' });
    expect(r.results.map((x) => x.decision)).toEqual(['BLOCK', 'BLOCK', 'PASS']);
    expect(r.results[1].reasons[0]).toMatchObject({ measure: 'P-SUBSIDY-01', listing: { node: 'zz-centre' } });
    expect(r.results[0].reasons[0].listing).toMatchObject({ node: 'xm-centre', factId: 'XM-DD-1' });
    expect(r).toMatchObject({ centres: ['xm-centre', 'qz-centre', 'zz-centre'], unavailable: [] });
    expect(asked.map((a) => a[0]).sort()).toEqual(['qz-centre', 'zz-centre']);
    expect(asked[0]).toContain('SERIOUS_DISHONESTY');
    const logged = events.filter((e) => e.action === 'CHECK_AND_INTERCEPT');
    expect(logged.map((e) => [e.subject, e.reason, e.decision])).toEqual([
      [XM, 'DECISION:BLOCK', 'ALLOW'],
      [ZZ, 'DECISION:BLOCK', 'ALLOW'],
      [QZ, 'DECISION:PASS', 'ALLOW'],
    ]);
    expect(logged[0].actor).toEqual({
      node: 'xm-centre',
      principal: 'gov-system:xm-finance/subsidy-system',
      role: 'gov-system',
    });
  });

  it('never PASSes silently when a centre does not answer: INCOMPLETE naming it', async () => {
    qzDown = true;
    const r = await service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [QZ, ZZ], correlationId: 'corr-0002' });
    expect(r.unavailable).toEqual(['qz-centre']);
    expect(r.results[0]).toMatchObject({ decision: 'INCOMPLETE', unavailable: ['qz-centre'] });
    expect(r.results[1]).toMatchObject({ decision: 'BLOCK', unavailable: ['qz-centre'] });
    const [row] = await counters();
    expect(row).toMatchObject({
      matter: 'FINANCE_SUBSIDY',
      department: 'xm-finance',
      INCOMPLETE: 1,
      BLOCK: 1,
      hits: 1,
    });
  });

  it('a centre that failed gets the short limit on the next checks until it answers again', async () => {
    qzDown = true;
    const check = (n: number) =>
      service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [QZ], correlationId: `corr-slow-${n}` });
    expect((await check(1)).unavailable).toEqual(['qz-centre']);
    expect((await check(2)).unavailable).toEqual(['qz-centre']);
    qzDown = false;
    expect((await check(3)).unavailable).toEqual([]);
    expect((await check(4)).unavailable).toEqual([]);
    expect(qzTimeouts).toEqual([
      DEFAULT_PEER_TIMEOUT_MS,
      SLOW_PEER_TIMEOUT_MS,
      SLOW_PEER_TIMEOUT_MS,
      DEFAULT_PEER_TIMEOUT_MS,
    ]);
  });

  it('takes feedback from the department that checked, counts it, and shows it in the metrics', async () => {
    const r = await service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [XM, QZ], correlationId: 'corr-0003' });
    const fb = await service.feedback(gov, {
      checkId: r.checkId,
      items: [
        { uscc: XM, outcome: 'OVERRIDDEN', reason: '法院已出具履行完毕证明' },
        { uscc: QZ, outcome: 'APPLIED' },
      ],
      correlationId: 'corr-0004',
    });
    expect(fb).toEqual({ checkId: r.checkId, accepted: 2 });
    expect(await counters()).toEqual([
      expect.objectContaining({
        day: '2026-11-20',
        requests: 1,
        checks: 2,
        hits: 1,
        BLOCK: 1,
        PASS: 1,
        APPLIED: 1,
        OVERRIDDEN: 1,
        NOT_APPLICABLE: 0,
      }),
    ]);
    const text = service.metrics();
    expect(text).toContain('credit_intercept_checks_total{matter="FINANCE_SUBSIDY",department="xm-finance"} 2');
    expect(text).toContain(
      'credit_intercept_feedback_total{matter="FINANCE_SUBSIDY",department="xm-finance",outcome="OVERRIDDEN"} 1',
    );
    expect(text).toContain('# TYPE credit_intercept_decisions_total counter');
    expect(events.filter((e) => e.reason?.startsWith('FEEDBACK:')).map((e) => e.subject)).toEqual([XM, QZ]);
    // Counters survive a restart of the service.
    const again = createInterceptService(
      { db, profiles, log, nodeId: 'xm-centre', logger: silentLogger() },
      { now: () => NOW },
    );
    await again.start();
    expect(again.metrics()).toBe(text);
  });

  it('refuses bad input with a clear code, logs the refusal and keeps nothing', async () => {
    const before = events.length;
    const refusals: Array<[Promise<unknown>, string]> = [
      [
        service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [XM, '91350200ABC'], correlationId: 'c-00000001' }),
        'BAD_USCC',
      ],
      [service.check(gov, { matter: 'NO_SUCH_MATTER', usccs: [XM], correlationId: 'c-00000002' }), 'UNKNOWN_MATTER'],
      [service.check(gov, { matter: 'constructor', usccs: [XM], correlationId: 'c-00000008' }), 'UNKNOWN_MATTER'],
      [
        service.check(gov, {
          matter: 'FINANCE_SUBSIDY',
          usccs: new Array(10_001).fill(XM),
          correlationId: 'c-00000003',
        }),
        'BATCH_TOO_LARGE',
      ],
      [service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [], correlationId: 'c-00000004' }), 'BATCH_TOO_LARGE'],
      [service.check(staff, { matter: 'FINANCE_SUBSIDY', usccs: [XM], correlationId: 'c-00000005' }), 'FORBIDDEN'],
      [
        service.check(
          { sub: 'e', role: 'enterprise', uscc: XM },
          { matter: 'FINANCE_SUBSIDY', usccs: [XM], correlationId: 'c-6' },
        ),
        'FORBIDDEN',
      ],
      [
        service.feedback(gov, {
          checkId: 'no-such-check',
          items: [{ uscc: XM, outcome: 'APPLIED' }],
          correlationId: 'c-7',
        }),
        'CHECK_NOT_FOUND',
      ],
    ];
    for (const [p, code] of refusals) expect(await codeOf(p)).toBe(code);
    expect(await counters()).toEqual([]);
    const denied = events.slice(before);
    expect(denied).toHaveLength(refusals.length);
    for (const e of denied) expect(e).toMatchObject({ decision: 'DENY', action: 'CHECK_AND_INTERCEPT' });
    expect(denied.every((e) => e.subject === undefined)).toBe(true);
    const unknown = denied.filter((e) => e.reason === 'UNKNOWN_MATTER').map((e) => e.scopes);
    expect(unknown).toEqual([['intercept:unknown'], ['intercept:unknown']]);
    expect(asked).toEqual([]);
  });

  it('refuses feedback that does not fit its check, and a second feedback, changing nothing', async () => {
    const r = await service.check(gov, { matter: 'FINANCE_SUBSIDY', usccs: [XM], correlationId: 'corr-0010' });
    const fb = (items: unknown[], as = gov) =>
      codeOf(service.feedback(as, { checkId: r.checkId, items: items as never, correlationId: 'corr-0011' }));
    expect(await fb([{ uscc: XM, outcome: 'OVERRIDDEN' }])).toBe('BAD_USER_INPUT');
    expect(await fb([{ uscc: ZZ, outcome: 'APPLIED' }])).toBe('BAD_USER_INPUT');
    expect(await fb([{ uscc: XM, outcome: 'IGNORED' }])).toBe('BAD_USER_INPUT');
    expect(
      await fb([
        { uscc: XM, outcome: 'APPLIED' },
        { uscc: XM, outcome: 'APPLIED' },
      ]),
    ).toBe('BAD_USER_INPUT');
    expect(await fb([{ uscc: XM, outcome: 'APPLIED' }], otherDept)).toBe('CHECK_NOT_FOUND');
    expect(await fb([])).toBe('BATCH_TOO_LARGE');
    expect((await counters())[0]).toMatchObject({ APPLIED: 0, OVERRIDDEN: 0, NOT_APPLICABLE: 0 });
    expect(await fb([{ uscc: XM, outcome: 'NOT_APPLICABLE' }])).toBe('NO_ERROR');
    expect(await fb([{ uscc: XM, outcome: 'APPLIED' }])).toBe('FEEDBACK_EXISTS');
    expect((await counters())[0]).toMatchObject({ APPLIED: 0, NOT_APPLICABLE: 1 });
  });

  it('shows counters to centre staff and auditors only, within a bounded range', async () => {
    expect(await codeOf(service.counters(gov))).toBe('FORBIDDEN');
    expect(await codeOf(service.counters(staff, { from: '2025-01-01', to: '2026-11-30' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(service.counters(staff, { from: '2026-13-01', to: '2026-11-30' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(service.counters(staff, { matter: 'NOPE' }))).toBe('UNKNOWN_MATTER');
    expect(await service.counters({ sub: 'r', role: 'auditor' })).toEqual([]);
  });

  it('answers another centre with its listings, logging each enterprise, and refuses a malformed request', async () => {
    const answer = await service.serveListings(
      { nodeId: 'zz-centre' },
      {
        matter: 'FINANCE_SUBSIDY',
        department: 'zz-finance',
        principal: 'sys',
        usccs: [ZZ, XM],
        subtypes: ['DISHONEST_DEBTOR'],
        correlationId: 'corr-0020',
      },
    );
    expect(answer.hits).toHaveLength(1);
    expect(answer.hits[0][0]).toBe(1);
    expect(answer.hits[0][1][0]).toMatchObject({ factId: 'XM-DD-1', node: 'xm-centre' });
    expect(events.map((e) => [e.subject, e.actor.principal])).toEqual([
      [ZZ, 'zz-centre/zz-finance/sys'],
      [XM, 'zz-centre/zz-finance/sys'],
    ]);
    const bad = service.serveListings(
      { nodeId: 'zz-centre' },
      { matter: 'X', department: 'd', principal: 'p', usccs: ['bad'], subtypes: [], correlationId: 'corr-0021' },
    );
    expect(await codeOf(bad)).toBe('BAD_USER_INPUT');
  });
});
