/**
 * Check-and-intercept over real nodes (the three centres of 厦漳泉 and a bank; libp2p on loopback,
 * Level, generated data): a business system at the Xiamen centre checks enterprises listed in
 * Quanzhou and Zhangzhou, gets BLOCK with the listing, measure and legal basis, posts feedback
 * that shows in the counters and /metrics; every check is logged at both ends; bad input is
 * refused with its code and nothing kept; a centre that is down makes the decision say so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../authz/index.ts';
import { composeUscc } from '../model/index.ts';
import { type Centres, codeOf, fact, startCentres } from './intercept-fixtures.ts';
import { INTERCEPT_PROTOCOL } from './intercept-protocol.ts';

const gov: Principal = { sub: 'subsidy-system', role: 'gov-system', department: 'xm-finance' };
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
const CLEAN = composeUscc('9', '1', '350203', 'MA2Y0E01');
let c: Centres;
let qzListed: string;
let zzListed: string;

const CHECK = `mutation($m: String!, $u: [String!]!) { interceptCheck(matter: $m, usccs: $u) {
  checkId matter measures centres unavailable
  results { uscc decision rewards unavailable reasons { measure action legalBasis ownerDepartment list node originNode factId disputed } } } }`;
const FEEDBACK = `mutation($id: ID!, $items: [InterceptFeedbackInput!]!) { interceptFeedback(checkId: $id, items: $items) { checkId accepted } }`;
const COUNTERS = `query($m: String) { interceptCounters(matter: $m) { day matter department requests checks hits block pass incomplete applied overridden notApplicable } }`;

beforeAll(async () => {
  c = await startCentres(80);
  qzListed = c.firms.QZ[0];
  zzListed = c.firms.ZZ[0];
  await c.put('qz-centre', [fact('qz-centre', qzListed, 'DISHONEST_DEBTOR')]);
  await c.put('zz-centre', [fact('zz-centre', zzListed, 'SERIOUS_DISHONESTY')]);
}, 180_000);

afterAll(async () => {
  await c?.fed.stop();
});

describe('check-and-intercept across the centres of 厦漳泉', () => {
  it('BLOCKs a subsidy in Xiamen for enterprises listed in Quanzhou and Zhangzhou, with the reasons, logged at both ends', async () => {
    const a = await c.gql('xm-centre', CHECK, { m: 'FINANCE_SUBSIDY', u: [qzListed, zzListed, CLEAN] }, gov);
    expect(a.errors).toBeUndefined();
    const r = a.data!.interceptCheck;
    expect(r).toMatchObject({ matter: 'FINANCE_SUBSIDY', measures: 'xzq-joint-measures@1.0.0', unavailable: [] });
    expect(r.centres).toEqual(['xm-centre', 'qz-centre', 'zz-centre']);
    expect(r.results.map((x: { decision: string }) => x.decision)).toEqual(['BLOCK', 'BLOCK', 'PASS']);
    const qz = r.results[0].reasons.find((x: { node: string }) => x.node === 'qz-centre');
    expect(qz).toMatchObject({
      measure: 'P-SUBSIDY-01',
      action: 'BLOCK',
      list: 'dishonest-debtor',
      originNode: 'qz-centre',
      ownerDepartment: '市财政局',
      disputed: false,
    });
    expect(qz.legalBasis).toContain('失信被执行人');
    expect(
      r.results[1].reasons.some(
        (x: { node: string; list: string }) => x.node === 'zz-centre' && x.list === 'serious-dishonesty',
      ),
    ).toBe(true);
    // Logged where the check was made and where the listings were read, the enterprise as subject.
    const here = await c.n['xm-centre'].accessLog.entriesFor(qzListed);
    expect(here.some((e) => e.entry.action === 'CHECK_AND_INTERCEPT' && e.entry.reason === 'DECISION:BLOCK')).toBe(
      true,
    );
    const there = await c.n['qz-centre'].accessLog.entriesFor(qzListed);
    const served = there.find((e) => e.entry.action === 'CHECK_AND_INTERCEPT');
    expect(served?.entry).toMatchObject({
      reason: 'LISTINGS_SERVED',
      actor: { node: 'qz-centre', principal: 'xm-centre/xm-finance/subsidy-system', role: 'gov-system' },
    });
  }, 60_000);

  it('takes the business system’s feedback into the counters per matter and department, and into /metrics', async () => {
    const a = await c.gql('xm-centre', CHECK, { m: 'FINANCE_SUBSIDY', u: [qzListed, zzListed] }, gov);
    const id = a.data!.interceptCheck.checkId;
    const fb = await c.gql(
      'xm-centre',
      FEEDBACK,
      {
        id,
        items: [
          { uscc: qzListed, outcome: 'APPLIED' },
          { uscc: zzListed, outcome: 'OVERRIDDEN', reason: '申请人已提交信用修复决定书' },
        ],
      },
      gov,
    );
    expect(fb.data?.interceptFeedback).toEqual({ checkId: id, accepted: 2 });
    const counters = await c.gql('xm-centre', COUNTERS, { m: 'FINANCE_SUBSIDY' }, staff);
    expect(counters.data!.interceptCounters).toEqual([
      expect.objectContaining({
        department: 'xm-finance',
        requests: 2,
        checks: 5,
        block: 4,
        pass: 1,
        hits: 4,
        applied: 1,
        overridden: 1,
      }),
    ]);
    expect(codeOf(await c.gql('xm-centre', COUNTERS, {}, gov))).toBe('FORBIDDEN');
    const metrics = await (await fetch(`${c.n['xm-centre'].url}/metrics`)).text();
    expect(metrics).toContain('credit_intercept_checks_total{matter="FINANCE_SUBSIDY",department="xm-finance"} 5');
    expect(metrics).toContain(
      'credit_intercept_feedback_total{matter="FINANCE_SUBSIDY",department="xm-finance",outcome="OVERRIDDEN"} 1',
    );
    expect(metrics).toContain('credit_objections_pending 0');
    // A second feedback on the same enterprise is refused.
    const again = await c.gql('xm-centre', FEEDBACK, { id, items: [{ uscc: qzListed, outcome: 'APPLIED' }] }, gov);
    expect(codeOf(again)).toBe('FEEDBACK_EXISTS');
  }, 60_000);

  it('checks a batch of 10,000 across the three centres', async () => {
    const usccs = Array.from({ length: 10_000 }, (_, i) =>
      i === 0 ? qzListed : i === 1 ? zzListed : composeUscc('9', '1', '350203', `MA${String(i).padStart(6, '0')}`),
    );
    const r = await c.n['xm-centre'].intercept!.check(gov, {
      matter: 'GOV_PROCUREMENT',
      usccs,
      correlationId: 'corr-batch-10k',
    });
    expect(r.results).toHaveLength(10_000);
    expect(r.unavailable).toEqual([]);
    expect(r.results.filter((x) => x.decision === 'BLOCK').map((x) => x.uscc)).toEqual([qzListed, zzListed]);
  }, 120_000);

  it('refuses bad input with a clear code and keeps nothing', async () => {
    const before = (await c.gql('xm-centre', COUNTERS, {}, staff)).data!.interceptCounters;
    const check = (as: Principal, m: string, u: string[], node = 'xm-centre') => c.gql(node, CHECK, { m, u }, as);
    expect(codeOf(await check(gov, 'FINANCE_SUBSIDY', [CLEAN, '91350200ABCDEFGH1X']))).toBe('BAD_USCC');
    expect(codeOf(await check(gov, 'BUILD_A_ROCKET', [CLEAN]))).toBe('UNKNOWN_MATTER');
    expect(codeOf(await check(staff, 'FINANCE_SUBSIDY', [CLEAN]))).toBe('FORBIDDEN');
    expect(codeOf(await check({ sub: 'rep', role: 'enterprise', uscc: CLEAN }, 'FINANCE_SUBSIDY', [CLEAN]))).toBe(
      'FORBIDDEN',
    );
    const fb = await c.gql(
      'xm-centre',
      FEEDBACK,
      { id: 'no-such-check', items: [{ uscc: CLEAN, outcome: 'APPLIED' }] },
      gov,
    );
    expect(codeOf(fb)).toBe('CHECK_NOT_FOUND');
    const badOutcome = await c.gql(
      'xm-centre',
      FEEDBACK,
      { id: 'x', items: [{ uscc: CLEAN, outcome: 'IGNORED' }] },
      gov,
    );
    expect(codeOf(badOutcome)).toBe('BAD_REQUEST');
    // Over the limit: refused by the service (and, over HTTP, by the body limit first).
    const many = new Array(10_001).fill(CLEAN);
    await expect(
      c.n['xm-centre'].intercept!.check(gov, {
        matter: 'FINANCE_SUBSIDY',
        usccs: many,
        correlationId: 'corr-too-many',
      }),
    ).rejects.toMatchObject({ code: 'BATCH_TOO_LARGE' });
    // Over HTTP the batch fits the body limit and is refused by the service for its size.
    expect(codeOf(await check(gov, 'FINANCE_SUBSIDY', many))).toBe('BATCH_TOO_LARGE');
    // Business systems sign in at the credit centres only; a bank node checks no one.
    expect(() => c.n['bank-a'].tokens.issue(gov)).toThrow(/credit centre/);
    expect(codeOf(await check(gov, 'FINANCE_SUBSIDY', []))).toBe('BATCH_TOO_LARGE');
    expect((await c.gql('xm-centre', COUNTERS, {}, staff)).data!.interceptCounters).toEqual(before);
    // Between centres: a malformed frame is refused, and only centres may open the protocol.
    const zz = c.n['zz-centre'].federation!.host;
    await expect(zz.request('xm-centre', INTERCEPT_PROTOCOL, { op: 'listings', usccs: ['x'] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const bank = c.n['bank-a'].federation!.host;
    await expect(
      bank.request('xm-centre', INTERCEPT_PROTOCOL, { op: 'listings', matter: 'FINANCE_SUBSIDY' }),
    ).rejects.toMatchObject({ code: 'PEER_UNAVAILABLE' });
  }, 60_000);

  it('says INCOMPLETE, naming Quanzhou, when the Quanzhou centre does not answer (never a silent PASS)', async () => {
    await c.n['qz-centre'].stop();
    const a = await c.gql('xm-centre', CHECK, { m: 'FINANCE_SUBSIDY', u: [qzListed, zzListed, CLEAN] }, gov);
    const r = a.data!.interceptCheck;
    expect(r.unavailable).toEqual(['qz-centre']);
    expect(r.results.map((x: { decision: string }) => x.decision)).toEqual(['INCOMPLETE', 'BLOCK', 'INCOMPLETE']);
    expect(r.results[0].unavailable).toEqual(['qz-centre']);
  }, 60_000);
});
