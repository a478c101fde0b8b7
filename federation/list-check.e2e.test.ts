/**
 * The private list check across real nodes: a bank's results equal plaintext membership of the
 * centres' lists for a batch with planted hits; a repaired listing leaves the list incrementally;
 * the centres log how many codes were evaluated, never which; malformed input and a centre that
 * does not answer give clear answers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { fromBase64 } from '../crypto/index.ts';
import type { CreditFact } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { until } from '../testkit/wait.ts';
import type { PeerError } from './host.ts';
import { LIST_CHECK_PROTOCOL, LISTS } from './list-check.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

let fed: TestFederation;
let n: Record<string, CreditNode>;
const officer: Principal = { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' };
const usccs: string[] = [];

/** Writes a fact straight into a centre's store (as ingest would) and has the centre rescan its lists. */
async function putFact(node: string, fact: CreditFact) {
  const profiles = n[node].profiles;
  const [previous] = await profiles.existing([{ kind: 'fact', record: fact }]);
  await n[node].db.batch(profiles.writeOps([{ kind: 'fact', record: fact }], [previous]) as never);
  await n[node].federation!.listCheck.refresh();
}

const listing = (uscc: string, subtype: 'DISHONEST_DEBTOR' | 'SERIOUS_DISHONESTY', status = 'ACTIVE'): CreditFact =>
  ({
    id: `planted-${subtype}-${uscc}`,
    uscc,
    category: subtype === 'DISHONEST_DEBTOR' ? 'JUDICIAL' : 'SERIOUS_DISHONESTY',
    subtype,
    polarity: 'NEGATIVE',
    legalDocumentRef: '(2026)闽0203执1号',
    sourceUnit: '厦门市思明区人民法院',
    decisionDate: '2026-06-01',
    usageRange: 'PUBLIC',
    status,
    payload: {},
    originNode: 'xm-centre',
    version: status === 'ACTIVE' ? 1 : 2,
    updatedAt: new Date().toISOString(),
  }) as CreditFact;

/** Plaintext membership: the lists each centre's own facts put the enterprise on. */
async function plaintext(uscc: string) {
  const out: Array<{ centre: string; list: string }> = [];
  for (const centre of ['xm-centre', 'zz-centre'])
    for (const [list, subtype] of Object.entries(LISTS)) {
      const facts = await n[centre].profiles.getFacts(uscc);
      if (facts.some((f) => f.subtype === subtype && f.status !== 'REPAIRED' && f.status !== 'EXPIRED'))
        out.push({ centre, list });
    }
  return out;
}

beforeAll(async () => {
  fed = await startTestFederation(
    { 'xm-centre': 'credit-centre', 'zz-centre': 'city-peer', 'bank-a': 'bank' },
    { cities: { 'xm-centre': 'XM', 'zz-centre': 'ZZ' }, enterprises: 60 },
  );
  n = fed.nodes;
  const keys = (await readFile(join(fed.dataDir!, 'keys/enterprises.ndjson'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { uscc: string; publicKey: string; seed: string });
  // Twelve Xiamen enterprises with a consent for the list check.
  for (const k of keys) {
    if (usccs.length === 12) break;
    if (!(await n['xm-centre'].profiles.getEnterprise(k.uscc))) continue;
    const centre = n['xm-centre'].consents;
    await centre.registerKey({ sub: 'staff', role: 'centre-staff' }, k.uscc, k.publicKey);
    const r = await centre.grant(
      { sub: 'rep', role: 'enterprise', uscc: k.uscc },
      signConsent(
        draftConsent({ enterprise: k.uscc, home: 'xm-centre', grantee: 'bank-a', scopes: ['joint:listCheck'] }),
        fromBase64(k.seed)!,
      ),
    );
    await until(`consent at bank-a`, async () => (await n['bank-a'].consents.get(r.id)) !== undefined, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    usccs.push(k.uscc);
  }
  // Planted hits: two on the dishonest-debtor list, one on the serious-dishonesty list.
  await putFact('xm-centre', listing(usccs[1], 'DISHONEST_DEBTOR'));
  await putFact('xm-centre', listing(usccs[4], 'DISHONEST_DEBTOR'));
  await putFact('xm-centre', listing(usccs[4], 'SERIOUS_DISHONESTY'));
  await n['zz-centre'].federation!.listCheck.refresh();
}, 180_000);

afterAll(() => fed?.stop());

describe('private list check', () => {
  it('results equal plaintext membership for a batch with planted hits; the centres log counts, never codes', async () => {
    const centreLog = n['xm-centre'].accessLog.size();
    const r = await n['bank-a'].federation!.listCheck.check(officer, usccs, 'loan-application', {
      correlationId: 'corr-list-check-1',
    });
    expect(r.unavailable).toEqual([]);
    expect(r.centres.map((c) => c.centre).sort()).toEqual(['xm-centre', 'zz-centre']);
    for (const row of r.rows) {
      expect(row.status).toBe('OK');
      expect(row.listed.sort((a, b) => (a.list + a.centre).localeCompare(b.list + b.centre))).toEqual(
        (await plaintext(row.uscc)).sort((a, b) => (a.list + a.centre).localeCompare(b.list + b.centre)),
      );
    }
    expect(r.rows[4].listed.map((l) => l.list).sort()).toEqual(['dishonest-debtor', 'serious-dishonesty']);
    const logged = (await n['xm-centre'].accessLog.query({ action: 'JOINT_QUERY', limit: 10 })).entries.filter(
      (e) => e.index >= centreLog,
    );
    expect(logged).toHaveLength(1);
    expect(logged[0].entry.subject).toBeUndefined();
    expect(logged[0].entry.reason).toMatch(/^EVALUATED:\d+$/);
  }, 120_000);

  it('a repaired listing leaves the list (an incremental update the mirror applies), and consent is decided first', async () => {
    const before = await n['bank-a'].federation!.listCheck.check(officer, [usccs[1]], 'loan-application', {
      correlationId: 'corr-list-check-2',
    });
    expect(before.rows[0].listed).toEqual([{ centre: 'xm-centre', list: 'dishonest-debtor' }]);
    await putFact('xm-centre', listing(usccs[1], 'DISHONEST_DEBTOR', 'REPAIRED'));
    const after = await n['bank-a'].federation!.listCheck.check(officer, [usccs[1]], 'loan-application', {
      correlationId: 'corr-list-check-3',
    });
    expect(after.rows[0].listed).toEqual([]);
    // Without consent: refused at the bank, logged there, nothing sent.
    const stranger = '91350200776049653A';
    const centreLog = n['xm-centre'].accessLog.size();
    const refused = await n['bank-a'].federation!.listCheck.check(officer, [stranger], 'loan-application', {
      correlationId: 'corr-list-check-4',
    });
    expect(refused.rows[0]).toMatchObject({ status: 'REFUSED', reason: 'NO_CONSENT', listed: [] });
    expect(n['xm-centre'].accessLog.size()).toBe(centreLog);
  }, 120_000);

  it('malformed frames and points are refused; only banks may ask; a centre that does not answer is named', async () => {
    const bank = n['bank-a'].federation!.host;
    const code = async (p: Promise<unknown>) =>
      (
        (await p.then(
          () => undefined,
          (e) => e,
        )) as PeerError
      )?.code;
    expect(await code(bank.request('xm-centre', LIST_CHECK_PROTOCOL, { op: 'steal' }))).toBe('BAD_REQUEST');
    expect(
      await code(
        bank.request('xm-centre', LIST_CHECK_PROTOCOL, {
          op: 'evaluate',
          principal: 'x',
          purpose: 'loan-application',
          correlationId: 'corr-bad-points',
          points: Buffer.from('garbage').toString('base64'),
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      // A centre may not open the protocol at all (refused before a byte of payload is read).
      await code(n['zz-centre'].federation!.host.request('xm-centre', LIST_CHECK_PROTOCOL, { op: 'info' })),
    ).toBe('PEER_UNAVAILABLE');
    await n['zz-centre'].stop();
    const r = await n['bank-a'].federation!.listCheck.check(officer, usccs.slice(0, 3), 'loan-application', {
      correlationId: 'corr-list-check-5',
    });
    expect(r.unavailable).toEqual(['zz-centre']);
    expect(r.centres.map((c) => c.centre)).toEqual(['xm-centre']);
  }, 120_000);
});
