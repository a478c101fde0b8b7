/**
 * Objections between two nodes (the Zhangzhou centre determined the fact; the Xiamen centre holds
 * a copy and receives the enterprise's objection), joined in process: routing to the determining
 * node, the disputed mark on every copy, decisions with reasons, deadlines and reminders, and
 * every bad input refused with its code and nothing changed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../authz/principals.ts';
import { until } from '../testkit/wait.ts';
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
const DAY = 86_400_000;
let t: TestNodes;
let zz: TestNode;
let xm: TestNode;

beforeEach(async () => {
  t = await testNodes(['zz-centre', 'xm-centre']);
  zz = t.nodes['zz-centre'];
  xm = t.nodes['xm-centre'];
});
afterEach(() => t.stop());

const statuses = async (id: string) => [await zz.status(id), await xm.status(id)];
const file = (as: Principal, factId: string, node = xm) =>
  node.redress.objections.file(as, {
    factId,
    reason: '该处罚决定已被复议撤销',
    evidence: ['复议决定书 漳政复〔2026〕3号'],
    correlationId: 'corr-obj-1',
  });

describe('objections across two nodes', () => {
  it('routes an objection to the determining node, disputes the fact on every copy, and shows it to the enterprise', async () => {
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    await xm.put([f]);
    const o = await file(firm, f.id);
    expect(o).toMatchObject({
      status: 'PENDING',
      originNode: 'zz-centre',
      receivedBy: 'xm-centre',
      deadline: '2026-12-18',
      workingDaysLeft: 20,
      overdue: false,
      copy: true,
    });
    expect(await zz.status(f.id)).toBe('DISPUTED');
    await until('the copy at xm-centre disputed', async () => (await xm.status(f.id)) === 'DISPUTED');
    expect(xm.changes.map((c) => [c.to, c.origin, c.ref])).toEqual([['DISPUTED', 'zz-centre', o.id]]);
    expect((await xm.redress.objections.mine(firm)).map((x) => x.id)).toEqual([o.id]);
    expect((await zz.redress.objections.list(staff, { status: 'PENDING' })).map((x) => x.id)).toEqual([o.id]);
    // Logged where it was received, where it was decided to be disputed, and where the copy changed.
    expect(xm.events.map((e) => [e.action, e.reason, e.subject])).toEqual([
      ['OBJECTION', 'FILED_AT:zz-centre', ZZ_FIRM],
      ['OBJECTION', 'OBJECTION_FILED:DISPUTED', ZZ_FIRM],
    ]);
    expect(zz.events.map((e) => [e.action, e.reason, e.decision])).toEqual([['OBJECTION', 'FILED', 'ALLOW']]);
  });

  it('refuses a second objection, another enterprise’s objection, and decisions elsewhere or by non-staff, changing nothing', async () => {
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    await xm.put([f]);
    const o = await file(firm, f.id);
    const before = await zz.redress.objections.list(staff);
    expect(await codeOf(file(firm, f.id))).toBe('ALREADY_DISPUTED');
    expect(await codeOf(file(other, f.id))).toBe('NOT_FOUND');
    expect(await codeOf(file(other, f.id, zz))).toBe('NOT_FOUND');
    expect(await codeOf(file(firm, 'NO-SUCH-FACT'))).toBe('NOT_FOUND');
    expect(await codeOf(file(staff, f.id))).toBe('FORBIDDEN');
    expect(
      await codeOf(xm.redress.objections.file(firm, { factId: f.id, reason: ' ', correlationId: 'c-0000001' })),
    ).toBe('BAD_USER_INPUT');
    const decide = (as: Principal, node: TestNode, extra: Record<string, unknown> = {}) =>
      codeOf(
        node.redress.objections.decide(as, {
          id: o.id,
          outcome: 'REJECT',
          reasons: '处罚事实清楚',
          correlationId: 'c-0000002',
          ...extra,
        }),
      );
    expect(await decide(staff, xm)).toBe('WRONG_NODE');
    expect(await decide(firm, zz)).toBe('FORBIDDEN');
    expect(await decide({ sub: 'sys', role: 'gov-system', department: 'x' }, zz)).toBe('FORBIDDEN');
    expect(await decide(staff, zz, { reasons: '' })).toBe('BAD_USER_INPUT');
    expect(await decide(staff, zz, { outcome: 'ACCEPT' })).toBe('BAD_USER_INPUT');
    expect(await decide(staff, zz, { correction: { severity: 'MINOR' } })).toBe('BAD_USER_INPUT');
    expect(await decide(staff, zz, { id: 'no-such-objection' })).toBe('NOT_FOUND');
    expect(await zz.redress.objections.list(staff)).toEqual(before);
    expect(await statuses(f.id)).toEqual(['DISPUTED', 'DISPUTED']);
    expect(xm.events.filter((e) => e.decision === 'DENY').map((e) => e.reason)).toEqual([
      'ALREADY_DISPUTED',
      'NOT_FOUND',
      'NOT_FOUND',
      'FORBIDDEN',
      'BAD_USER_INPUT',
      'WRONG_NODE',
    ]);
    expect(zz.events.filter((e) => e.decision === 'DENY').map((e) => e.reason)).toEqual([
      'ALREADY_DISPUTED',
      'NOT_FOUND',
      'FORBIDDEN',
      'FORBIDDEN',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'NOT_FOUND',
    ]);
  });

  it('rejects with reasons: the fact is active again everywhere and the enterprise sees the decision where it filed', async () => {
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    await xm.put([f]);
    const o = await file(firm, f.id);
    await until('xm-centre disputed', async () => (await xm.status(f.id)) === 'DISPUTED');
    const d = await zz.redress.objections.decide(staff, {
      id: o.id,
      outcome: 'REJECT',
      reasons: '经核查，处罚事实清楚、证据确凿',
      correlationId: 'corr-obj-2',
    });
    expect(d).toMatchObject({ status: 'REJECTED', decision: { outcome: 'REJECTED', by: 'centre-staff:staff-01' } });
    await until('the copy active again', async () => (await xm.status(f.id)) === 'ACTIVE');
    expect(await zz.status(f.id)).toBe('ACTIVE');
    const seen = await until('the decision at xm-centre', async () => {
      const [mine] = await xm.redress.objections.mine(firm);
      return mine.status === 'REJECTED' && mine;
    });
    expect(seen.decision?.reasons).toBe('经核查，处罚事实清楚、证据确凿');
    expect(
      await codeOf(
        zz.redress.objections.decide(staff, { ...d, outcome: 'REJECT', reasons: 'x', correlationId: 'c-0000003' }),
      ),
    ).toBe('ALREADY_DECIDED');
    expect((await zz.facts.history(f.id)).map((h) => `${h.from}>${h.to}:${h.reason}`)).toEqual([
      'ACTIVE>DISPUTED:OBJECTION_FILED',
      'DISPUTED>ACTIVE:OBJECTION_REJECTED',
    ]);
  });

  it('accepts by withdrawing the fact (CORRECTED everywhere) or correcting it (checked against the one-table rules)', async () => {
    const a = penaltyFact('zz-centre', '2026-06-01');
    const b = penaltyFact('zz-centre', '2026-06-02');
    await zz.put([a, b]);
    await xm.put([a, b]);
    const oa = await file(firm, a.id);
    await zz.redress.objections.decide(staff, {
      id: oa.id,
      outcome: 'ACCEPT',
      resolution: 'WITHDRAW',
      reasons: '处罚决定已被撤销',
      correlationId: 'corr-obj-3',
    });
    await until('withdrawn at xm-centre', async () => (await xm.status(a.id)) === 'CORRECTED');
    const ob = await file(firm, b.id);
    const correct = (correction: unknown) =>
      zz.redress.objections.decide(staff, {
        id: ob.id,
        outcome: 'ACCEPT',
        resolution: 'CORRECT',
        correction: correction as Record<string, unknown>,
        reasons: '处罚种类登记有误，予以更正',
        correlationId: 'corr-obj-4',
      });
    expect(await codeOf(correct({ severity: 'MINOR' }))).toBe('BAD_USER_INPUT'); // a 12-month window is not minor
    expect(await codeOf(correct({ uscc: OTHER_FIRM }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(correct({ payload: { idNumber: '350203199001011234' } }))).toBe('BAD_USER_INPUT');
    expect(await zz.status(b.id)).toBe('DISPUTED');
    const done = await correct({ payload: { penaltyCategory: '警告' } });
    expect(done.decision).toMatchObject({ resolution: 'CORRECTED', fields: [{ field: 'payload' }] });
    const fixed = await until('the correction at xm-centre', async () => {
      const f = await xm.facts.get(b.id);
      return f?.status === 'ACTIVE' && f.payload.penaltyCategory === '警告' && f;
    });
    expect(fixed.version).toBe(3);
  });

  it('keeps the deadline in working days, reminds when it is close and lists overdue objections', async () => {
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    const o = await file(firm, f.id, zz);
    expect(o.copy).toBeUndefined();
    expect(await zz.redress.sweep()).toEqual({ pending: 1, dueSoon: 0, overdue: 0, reminded: 0, repairs: 0 });
    t.clock.now = Date.parse('2026-12-15T02:00:00Z'); // 3 working days left
    expect(await zz.redress.sweep()).toEqual({ pending: 1, dueSoon: 1, overdue: 0, reminded: 1, repairs: 0 });
    expect(zz.redress.metrics()).toContain('credit_objections_due_soon 1');
    expect(await zz.redress.sweep()).toMatchObject({ reminded: 0 });
    expect((await zz.redress.objections.list(staff, { dueSoon: true }))[0]).toMatchObject({
      id: o.id,
      workingDaysLeft: 3,
    });
    t.clock.now += 7 * DAY;
    const overdue = await zz.redress.objections.list(staff, { overdue: true });
    expect(overdue.map((x) => [x.id, x.overdue, x.workingDaysLeft])).toEqual([[o.id, true, -2]]);
    await zz.redress.sweep();
    expect(zz.redress.metrics()).toContain('credit_objections_overdue 1');
    expect(await codeOf(zz.redress.objections.list(firm))).toBe('FORBIDDEN');
  });

  it('says the node is unavailable when the fact cannot be located, and refuses a grade as a fact', async () => {
    const f = debtorFact('zz-centre');
    await zz.put([f]);
    t.down.add('zz-centre');
    expect(await codeOf(file(firm, f.id))).toBe('PEER_UNAVAILABLE');
    t.down.clear();
    const grade = { ...debtorFact('zz-centre'), subtype: 'EVALUATION' as const, category: 'EVALUATION' as const };
    await zz.put([grade]);
    expect(await codeOf(file(firm, grade.id))).toBe('BAD_USER_INPUT');
    expect(await zz.status(grade.id)).toBe('ACTIVE');
  });
});
