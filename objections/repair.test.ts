/**
 * Credit repair between two nodes joined in process, with the clock moved through the minimum
 * publicity period: refused before it with the date it ends, applied for after it at the
 * determining node, decided by its staff, and the repaired fact `REPAIRED` on every copy.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../authz/principals.ts';
import { until } from '../testkit/wait.ts';
import { parseRepairPolicy, REPAIR_POLICY, repairRule } from './repair-policy.ts';
import {
  codeOf,
  debtorFact,
  OTHER_FIRM,
  penaltyFact,
  type TestNode,
  type TestNodes,
  testNodes,
  ZZ_FIRM,
} from './test-helpers.ts';

const firm: Principal = { sub: 'rep-1', role: 'enterprise', uscc: ZZ_FIRM };
const other: Principal = { sub: 'rep-2', role: 'enterprise', uscc: OTHER_FIRM };
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
let t: TestNodes;
let zz: TestNode;
let xm: TestNode;

beforeEach(async () => {
  t = await testNodes(['zz-centre', 'xm-centre']);
  zz = t.nodes['zz-centre'];
  xm = t.nodes['xm-centre'];
});
afterEach(() => t.stop());

const apply = (as: Principal, factId: string, node = zz, over: Record<string, unknown> = {}) =>
  node.redress.repairs.apply(as, {
    factId,
    evidence: ['罚款缴纳凭证 No.2026-0042', '整改完成报告'],
    commitment: true,
    correlationId: 'corr-rep-1',
    ...over,
  } as never);

describe('credit repair', () => {
  it('is refused before the minimum publicity period of the fact’s tier, with the date it ends, and accepted after it', async () => {
    // A general penalty decided on 2026-10-01: minimum publicity 3 months, so from 2027-01-01.
    const f = penaltyFact('zz-centre', '2026-10-01');
    await zz.put([f]);
    await xm.put([f]);
    let err: unknown;
    await apply(firm, f.id).catch((e) => {
      err = e;
    });
    expect(err).toMatchObject({ code: 'REPAIR_TOO_EARLY', eligibleFrom: '2027-01-01' });
    expect(await zz.redress.repairs.list(staff)).toEqual([]);
    t.clock.now = Date.parse('2027-01-01T01:00:00Z');
    const r = await apply(firm, f.id);
    expect(r).toMatchObject({ status: 'APPLIED', tier: 'GENERAL', eligibleFrom: '2027-01-01', node: 'zz-centre' });
    expect(await codeOf(apply(firm, f.id))).toBe('REPAIR_PENDING');
    expect(await zz.status(f.id)).toBe('ACTIVE');

    expect(
      await codeOf(zz.redress.repairs.decide(firm, { id: r.id, approve: true, reasons: 'x', correlationId: 'c-1' })),
    ).toBe('FORBIDDEN');
    expect(
      await codeOf(xm.redress.repairs.decide(staff, { id: r.id, approve: true, reasons: 'x', correlationId: 'c-2' })),
    ).toBe('NOT_FOUND');
    const done = await zz.redress.repairs.decide(staff, {
      id: r.id,
      approve: true,
      reasons: '已履行法定义务并作出信用承诺',
      correlationId: 'corr-rep-2',
    });
    expect(done).toMatchObject({ status: 'APPROVED', decision: { by: 'centre-staff:staff-01' } });
    expect(await zz.status(f.id)).toBe('REPAIRED');
    await until('repaired on the copy', async () => (await xm.status(f.id)) === 'REPAIRED');
    expect(xm.changes.map((c) => [c.to, c.reason, c.ref])).toEqual([['REPAIRED', 'REPAIRED', r.id]]);
    expect((await zz.redress.repairs.mine(firm)).map((x) => x.status)).toEqual(['APPROVED']);
    expect(zz.events.filter((e) => e.action === 'REPAIR').map((e) => `${e.decision}:${e.reason}`)).toEqual([
      'DENY:REPAIR_TOO_EARLY',
      'ALLOW:APPLIED',
      'DENY:REPAIR_PENDING',
      'DENY:FORBIDDEN',
      'ALLOW:APPROVED',
    ]);
    expect(xm.events.map((e) => [e.action, e.reason])).toContainEqual(['REPAIR', 'REPAIRED:REPAIRED']);
    expect(await codeOf(apply(firm, f.id))).toBe('NOT_ACTIVE');
  });

  it('refuses what cannot be repaired here, changing nothing', async () => {
    t.clock.now = Date.parse('2027-06-01T01:00:00Z');
    const f = penaltyFact('zz-centre', '2026-01-10');
    const court = debtorFact('zz-centre');
    await zz.put([f, court]);
    await xm.put([f]);
    expect(await codeOf(apply(firm, court.id))).toBe('NOT_REPAIRABLE');
    expect(await codeOf(apply(firm, f.id, xm))).toBe('WRONG_NODE');
    expect(await codeOf(apply(other, f.id))).toBe('NOT_FOUND');
    expect(await codeOf(apply(firm, 'NO-SUCH'))).toBe('NOT_FOUND');
    expect(await codeOf(apply(firm, f.id, zz, { commitment: false }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(apply(firm, f.id, zz, { evidence: [] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(apply(staff, f.id))).toBe('FORBIDDEN');
    // A fact under objection is decided first.
    await zz.redress.objections.file(firm, { factId: f.id, reason: '金额有误', correlationId: 'c-00000003' });
    expect(await codeOf(apply(firm, f.id))).toBe('OBJECTION_PENDING');
    expect(await zz.redress.repairs.list(staff)).toEqual([]);
    expect(await zz.status(court.id)).toBe('ACTIVE');
  });

  it('records a refusal with its reasons and leaves the fact as it was', async () => {
    t.clock.now = Date.parse('2027-06-01T01:00:00Z');
    const f = penaltyFact('zz-centre', '2026-01-10');
    await zz.put([f]);
    const r = await apply(firm, f.id);
    const no = await zz.redress.repairs.decide(staff, {
      id: r.id,
      approve: false,
      reasons: '未提交罚款缴纳凭证原件',
      correlationId: 'corr-rep-3',
    });
    expect(no).toMatchObject({ status: 'REFUSED', decision: { reasons: '未提交罚款缴纳凭证原件' } });
    expect(await zz.status(f.id)).toBe('ACTIVE');
    expect(
      await codeOf(zz.redress.repairs.decide(staff, { id: r.id, approve: true, reasons: 'x', correlationId: 'c-4' })),
    ).toBe('ALREADY_DECIDED');
    expect((await apply(firm, f.id)).status).toBe('APPLIED');
  });
});

describe('delivery of a repair to a copy', () => {
  it('reaches a node that was down once it is back (durable outbox, retried)', async () => {
    t.clock.now = Date.parse('2027-06-01T01:00:00Z');
    const f = penaltyFact('zz-centre', '2026-01-10');
    await zz.put([f]);
    await xm.put([f]);
    t.down.add('xm-centre');
    const r = await apply(firm, f.id);
    await zz.redress.repairs.decide(staff, { id: r.id, approve: true, reasons: '已履行', correlationId: 'corr-rep-4' });
    expect(await zz.status(f.id)).toBe('REPAIRED');
    await until('the delivery waiting for xm-centre', async () => (await zz.redress.pending())['xm-centre'] === 1);
    expect(await xm.status(f.id)).toBe('ACTIVE');
    t.down.delete('xm-centre');
    await until('repaired at xm-centre once it is back', async () => (await xm.status(f.id)) === 'REPAIRED', {
      timeoutMs: 20_000,
    });
    await until('the outbox empty', async () => Object.keys(await zz.redress.pending()).length === 0);
  });
});

describe('the repair policy', () => {
  it('takes the tier from the severity of a penalty, lists count from their listing date', () => {
    const p = penaltyFact('zz-centre', '2026-03-31', { severity: 'SERIOUS', publicUntil: '2028-03-31' });
    expect(repairRule(REPAIR_POLICY, p)).toMatchObject({ tier: 'SERIOUS', minMonths: 12, eligibleFrom: '2027-03-31' });
    const minor = penaltyFact('zz-centre', '2026-03-31', { severity: 'MINOR', publicUntil: '2026-06-30' });
    expect(repairRule(REPAIR_POLICY, minor)).toMatchObject({ tier: 'MINOR', eligibleFrom: '2026-03-31' });
    expect(repairRule(REPAIR_POLICY, debtorFact('zz-centre'))).toBeUndefined();
  });

  it('refuses an inconsistent policy', () => {
    const bad = structuredClone(REPAIR_POLICY) as Record<string, unknown> & typeof REPAIR_POLICY;
    bad.tiers.GENERAL.minMonths = 13;
    expect(() => parseRepairPolicy(bad)).toThrow(/minimum above maximum/);
    const honour = structuredClone(REPAIR_POLICY);
    (honour.repairable as Record<string, unknown>).HONOUR = { tier: 'MINOR' };
    expect(() => parseRepairPolicy(honour)).toThrow(/cannot be repaired/);
  });
});
