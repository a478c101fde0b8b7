/**
 * Objections and credit repair over real nodes (the three centres of 厦漳泉; libp2p on loopback,
 * Level, generated data), through the GraphQL API: an objection filed in Xiamen against a fact
 * determined in Zhangzhou makes it DISPUTED on every node that serves it within seconds (profiles,
 * grades and checks treat it as such), is decided by Zhangzhou's staff with reasons and the
 * decision reaches Xiamen; a repair in Quanzhou is refused before the minimum publicity period and
 * after it removes the listing from profiles, grades and checks on every node. Every bad input is
 * refused with its code and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSectionSource, type Principal } from '../authz/index.ts';
import { addMonths, type CreditFact, type Section } from '../model/index.ts';
import { until } from '../testkit/wait.ts';
import { type Centres, codeOf, daysAgo, fact, startCentres } from './intercept-fixtures.ts';
import { OBJECTION_PROTOCOL } from './objection-protocol.ts';

const gov: Principal = { sub: 'procurement-system', role: 'gov-system', department: 'xm-finance' };
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
const TRIGGERS = new Set(['DISHONEST_DEBTOR', 'SERIOUS_DISHONESTY', 'ABNORMAL_LIST', 'ADMIN_PENALTY', 'HONOUR']);
let c: Centres;
let zzFirm: Principal;
let qzFirm: Principal;
let stranger: Principal;

const CHECK = `mutation($m: String!, $u: [String!]!) { interceptCheck(matter: $m, usccs: $u) {
  results { decision reasons { measure action disputed factId node } } } }`;
const OBJECTION_FIELDS =
  'id status originNode receivedBy deadline overdue workingDaysLeft decision { outcome resolution reasons by }';
const FILE = `mutation($f: String!) { fileObjection(factId: $f, reason: "该处罚已被行政复议撤销", evidence: ["漳政复〔2026〕7号"]) { ${OBJECTION_FIELDS} } }`;
const DECIDE = `mutation($id: ID!, $o: ObjectionOutcome!, $r: ObjectionResolution, $why: String!) {
  decideObjection(id: $id, outcome: $o, resolution: $r, reasons: $why) { ${OBJECTION_FIELDS} } }`;
const APPLY = `mutation($f: String!, $c: Boolean!) { applyForRepair(factId: $f, evidence: ["缴款凭证 2026-0042"], commitment: $c) { id status tier eligibleFrom } }`;
const DECIDE_REPAIR = `mutation($id: ID!, $ok: Boolean!) { decideRepair(id: $id, approve: $ok, reasons: "已履行义务并作出信用承诺") { id status decision { by } } }`;

/** How a node's profile source serves a fact (as every profile read gets it), or `undefined` when it is left out. */
async function served(node: string, f: CreditFact, section: Section) {
  const p = await localSectionSource(c.n[node].profiles, node).read(f.uscc, [section], {
    principal: staff,
    purpose: 'test',
    correlationId: 'corr-served',
  });
  return (p.facts[section as Exclude<Section, 'registration'>] ?? []).find((x) => x.id === f.id)?.status;
}
const decisionFor = async (matter: string, uscc: string) =>
  (await c.gql('xm-centre', CHECK, { m: matter, u: [uscc] }, gov)).data!.interceptCheck.results[0];
/** A stored enterprise of the city with no fact that a measure looks at. */
async function cleanFirm(node: string, list: string[]) {
  for (const uscc of list)
    if (!(await c.n[node].profiles.getFacts(uscc)).some((f) => TRIGGERS.has(f.subtype))) return uscc;
  throw new Error(`no clean enterprise at ${node}`);
}

beforeAll(async () => {
  c = await startCentres(120);
  zzFirm = { sub: 'rep-zz', role: 'enterprise', uscc: await cleanFirm('zz-centre', c.firms.ZZ) };
  qzFirm = { sub: 'rep-qz', role: 'enterprise', uscc: await cleanFirm('qz-centre', c.firms.QZ) };
  stranger = { sub: 'rep-x', role: 'enterprise', uscc: c.firms.XM[0] };
}, 180_000);

afterAll(async () => {
  await c?.fed.stop();
});

describe('objections across the centres', () => {
  it('disputes a Zhangzhou fact on every node that serves it, decided by Zhangzhou with reasons, seen in Xiamen', async () => {
    // A serious penalty determined in Zhangzhou, of which the Xiamen centre holds a copy.
    const p = fact('zz-centre', zzFirm.uscc!, 'ADMIN_PENALTY');
    await c.put('zz-centre', [p]);
    await c.put('xm-centre', [p]);
    expect(await decisionFor('GOV_PROCUREMENT', p.uscc)).toMatchObject({ decision: 'BLOCK' });

    const filed = await c.gql('xm-centre', FILE, { f: p.id }, zzFirm);
    expect(filed.errors).toBeUndefined();
    const o = filed.data!.fileObjection;
    expect(o).toMatchObject({
      status: 'PENDING',
      originNode: 'zz-centre',
      receivedBy: 'xm-centre',
      workingDaysLeft: 20,
    });
    await until('the fact disputed on both nodes', async () =>
      (await Promise.all(['zz-centre', 'xm-centre'].map((n) => c.status(n, p.id)))).every((s) => s === 'DISPUTED'),
    );
    expect([await served('zz-centre', p, 'penalties'), await served('xm-centre', p, 'penalties')]).toEqual([
      'DISPUTED',
      'DISPUTED',
    ]);
    // The measures list: a disputed serious penalty calls for a WARN, not a BLOCK.
    const d = await decisionFor('GOV_PROCUREMENT', p.uscc);
    expect(d.decision).toBe('WARN');
    expect(d.reasons[0]).toMatchObject({ measure: 'P-PROC-01', action: 'WARN', disputed: true, factId: p.id });

    // Refused, changing nothing: a second objection, another enterprise's, decisions elsewhere or by non-staff.
    expect(codeOf(await c.gql('xm-centre', FILE, { f: p.id }, zzFirm))).toBe('ALREADY_DISPUTED');
    expect(codeOf(await c.gql('xm-centre', FILE, { f: p.id }, stranger))).toBe('NOT_FOUND');
    const reject = { id: o.id, o: 'REJECT', why: '经核查，处罚事实清楚、证据确凿' };
    const wrong = await c.gql('xm-centre', DECIDE, reject, staff);
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'WRONG_NODE', home: 'zz-centre' });
    expect(codeOf(await c.gql('zz-centre', DECIDE, reject, zzFirm))).toBe('FORBIDDEN');
    expect(codeOf(await c.gql('zz-centre', DECIDE, { ...reject, why: '' }, staff))).toBe('BAD_USER_INPUT');
    expect(await c.status('zz-centre', p.id)).toBe('DISPUTED');

    const rejected = await c.gql('zz-centre', DECIDE, reject, staff);
    expect(rejected.data!.decideObjection).toMatchObject({ status: 'REJECTED', decision: { outcome: 'REJECTED' } });
    await until('the fact active again in Xiamen', async () => (await c.status('xm-centre', p.id)) === 'ACTIVE');
    const seen = await until('the decision seen where it was filed', async () => {
      const mine = (await c.gql('xm-centre', `{ myObjections { ${OBJECTION_FIELDS} } }`, {}, zzFirm)).data!
        .myObjections;
      return mine[0]?.status === 'REJECTED' && mine[0];
    });
    expect(seen.decision).toMatchObject({ reasons: '经核查，处罚事实清楚、证据确凿', by: 'centre-staff:staff-01' });
    expect((await decisionFor('GOV_PROCUREMENT', p.uscc)).decision).toBe('BLOCK');

    // A new objection, accepted: the fact is withdrawn on every node and leaves checks.
    const again = (await c.gql('zz-centre', FILE, { f: p.id }, zzFirm)).data!.fileObjection;
    const accepted = await c.gql(
      'zz-centre',
      DECIDE,
      { id: again.id, o: 'ACCEPT', r: 'WITHDRAW', why: '复议已撤销原处罚' },
      staff,
    );
    expect(accepted.data!.decideObjection.decision).toMatchObject({ outcome: 'ACCEPTED', resolution: 'WITHDRAWN' });
    await until('withdrawn in Xiamen', async () => (await c.status('xm-centre', p.id)) === 'CORRECTED');
    expect(await decisionFor('GOV_PROCUREMENT', p.uscc)).toMatchObject({ decision: 'PASS', reasons: [] });
    // A withdrawn (corrected) fact leaves profiles.
    expect(await served('xm-centre', p, 'penalties')).toBeUndefined();
    const history = await c.gql('zz-centre', `{ factHistory(factId: "${p.id}") { from to reason } }`, {}, staff);
    expect(history.data!.factHistory.map((h: { from: string; to: string }) => `${h.from}>${h.to}`)).toEqual([
      'ACTIVE>DISPUTED',
      'DISPUTED>ACTIVE',
      'ACTIVE>DISPUTED',
      'DISPUTED>CORRECTED',
    ]);
    expect(codeOf(await c.gql('zz-centre', `{ factHistory(factId: "${p.id}") { to } }`, {}, stranger))).toBe(
      'NOT_FOUND',
    );
    // Every step is in the log of the node that took it, the enterprise as subject.
    const zzLog = (await c.n['zz-centre'].accessLog.entriesFor(p.uscc)).filter((e) => e.entry.action === 'OBJECTION');
    expect(zzLog.map((e) => e.entry.reason)).toEqual(
      expect.arrayContaining(['FILED', 'DECIDED:REJECTED', 'DECIDED:WITHDRAWN']),
    );
  }, 120_000);
});

describe('forged or malformed fact changes between nodes', () => {
  it('are refused: only the determining node changes a fact, only the receiving node hands over an objection', async () => {
    const p = fact('zz-centre', zzFirm.uscc!, 'DISHONEST_DEBTOR');
    await c.put('zz-centre', [p]);
    await c.put('xm-centre', [p]);
    const qz = c.n['qz-centre'].federation!.host;
    const change = {
      factId: p.id,
      uscc: p.uscc,
      from: 'ACTIVE',
      to: 'REPAIRED',
      version: 9,
      at: new Date().toISOString(),
      by: 'centre-staff:x',
      reason: 'REPAIRED',
      origin: 'qz-centre',
    };
    const send = (body: unknown, host = qz) => host.request('xm-centre', OBJECTION_PROTOCOL, body);
    const forged = { ...p, status: 'REPAIRED', version: 9 };
    await expect(send({ op: 'status', fact: forged, change, correlationId: 'corr-forged-1' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const spoofed = { ...change, origin: 'zz-centre' };
    await expect(
      send({ op: 'status', fact: forged, change: spoofed, correlationId: 'corr-forged-2' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const invalid = { ...forged, originNode: 'qz-centre', decisionDate: 'yesterday' };
    await expect(send({ op: 'status', fact: invalid, change, correlationId: 'corr-forged-3' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(send({ op: 'steal' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const filing = {
      id: '00000000-0000-4000-8000-000000000001',
      factId: p.id,
      uscc: p.uscc,
      principal: 'rep',
      reason: 'x',
      evidence: [],
      receivedBy: 'xm-centre',
      receivedAt: new Date().toISOString(),
      correlationId: 'corr-forged-4',
    };
    const zzFromQz = qz.request('zz-centre', OBJECTION_PROTOCOL, { op: 'file', filing });
    await expect(zzFromQz).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // A bank may not open the protocol at all.
    await expect(
      send({ op: 'locate', factId: p.id, uscc: p.uscc }, c.n['bank-a'].federation!.host),
    ).rejects.toMatchObject({
      code: 'PEER_UNAVAILABLE',
    });
    expect([await c.status('zz-centre', p.id), await c.status('xm-centre', p.id)]).toEqual(['ACTIVE', 'ACTIVE']);
  }, 60_000);
});

describe('credit repair across the centres', () => {
  it('is refused before the minimum period; after it, the repaired listing leaves profiles, grades and checks everywhere', async () => {
    const q = qzFirm.uscc!;
    // Listed 400 days ago in Quanzhou (serious: minimum 12 months), a copy held in Xiamen; a recent general penalty; an honour.
    const listing = fact('qz-centre', q, 'SERIOUS_DISHONESTY', {
      decisionDate: daysAgo(400),
      payload: { listName: '严重违法失信名单', authority: 'x', basis: 'x', listedOn: daysAgo(400) },
    });
    const recent = fact('qz-centre', q, 'ADMIN_PENALTY', {
      severity: 'GENERAL',
      decisionDate: daysAgo(10),
      publicUntil: daysAgo(-300),
    });
    const honour = fact('qz-centre', q, 'HONOUR');
    await c.put('qz-centre', [listing, recent, honour]);
    await c.put('xm-centre', [listing]);
    const ev = c.n['qz-centre'].evaluation!;
    expect((await ev.reevaluate(q))?.grade).toBe('D');
    expect(await decisionFor('FINANCE_SUBSIDY', q)).toMatchObject({ decision: 'BLOCK' });

    const tooEarly = await c.gql('qz-centre', APPLY, { f: recent.id, c: true }, qzFirm);
    expect(tooEarly.errors?.[0]).toMatchObject({ extensions: { code: 'REPAIR_TOO_EARLY' } });
    expect(tooEarly.errors?.[0]?.message).toContain(`ends on ${addMonths(recent.decisionDate, 3)}`);
    expect(codeOf(await c.gql('qz-centre', APPLY, { f: honour.id, c: true }, qzFirm))).toBe('NOT_REPAIRABLE');
    const elsewhere = await c.gql('xm-centre', APPLY, { f: listing.id, c: true }, qzFirm);
    expect(elsewhere.errors?.[0]?.extensions).toMatchObject({ code: 'WRONG_NODE', home: 'qz-centre' });
    expect(codeOf(await c.gql('qz-centre', APPLY, { f: listing.id, c: true }, stranger))).toBe('NOT_FOUND');
    expect(codeOf(await c.gql('qz-centre', APPLY, { f: listing.id, c: false }, qzFirm))).toBe('BAD_USER_INPUT');
    expect((await c.gql('qz-centre', '{ repairApplications { id } }', {}, staff)).data!.repairApplications).toEqual([]);

    const applied = (await c.gql('qz-centre', APPLY, { f: listing.id, c: true }, qzFirm)).data!.applyForRepair;
    expect(applied).toMatchObject({ status: 'APPLIED', tier: 'SERIOUS' });
    expect(codeOf(await c.gql('qz-centre', DECIDE_REPAIR, { id: applied.id, ok: true }, qzFirm))).toBe('FORBIDDEN');
    expect(codeOf(await c.gql('xm-centre', DECIDE_REPAIR, { id: applied.id, ok: true }, staff))).toBe('NOT_FOUND');
    expect(await c.status('qz-centre', listing.id)).toBe('ACTIVE');
    const approved = await c.gql('qz-centre', DECIDE_REPAIR, { id: applied.id, ok: true }, staff);
    expect(approved.data!.decideRepair).toMatchObject({
      status: 'APPROVED',
      decision: { by: 'centre-staff:staff-01' },
    });

    await until('repaired on both nodes', async () =>
      (await Promise.all(['qz-centre', 'xm-centre'].map((n) => c.status(n, listing.id)))).every(
        (s) => s === 'REPAIRED',
      ),
    );
    expect([
      await served('qz-centre', listing, 'seriousDishonesty'),
      await served('xm-centre', listing, 'seriousDishonesty'),
    ]).toEqual([undefined, undefined]);
    const grade = await ev.evaluator.current(q);
    expect(grade?.explanation.cap).toBeUndefined();
    expect(grade?.grade).not.toBe('D');
    expect(await decisionFor('FINANCE_SUBSIDY', q)).toMatchObject({ decision: 'PASS', reasons: [] });
    const qzLog = (await c.n['qz-centre'].accessLog.entriesFor(q)).filter((e) => e.entry.action === 'REPAIR');
    expect(qzLog.map((e) => `${e.entry.decision}:${e.entry.reason}`)).toEqual(
      expect.arrayContaining(['DENY:REPAIR_TOO_EARLY', 'DENY:NOT_REPAIRABLE', 'ALLOW:APPLIED', 'ALLOW:APPROVED']),
    );
    const xmLog = (await c.n['xm-centre'].accessLog.entriesFor(q)).filter((e) => e.entry.action === 'REPAIR');
    expect(xmLog.map((e) => e.entry.reason)).toEqual(expect.arrayContaining(['WRONG_NODE', 'REPAIRED:REPAIRED']));
  }, 120_000);
});
