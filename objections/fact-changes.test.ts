import { afterEach, describe, expect, it } from 'vitest';
import { penaltyFact, type TestNodes, testNodes } from './test-helpers.ts';
import { addWorkingDays, chinaDate, workingDaysBetween } from './working-days.ts';

let t: TestNodes | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('fact changes on a node', () => {
  it('writes the new version, its history and the caller’s writes in one batch, then tells the listeners', async () => {
    t = await testNodes(['zz-centre']);
    const zz = t.nodes['zz-centre'];
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    const { fact, change } = await zz.facts.change(
      f.id,
      { status: 'DISPUTED', expect: ['ACTIVE'] },
      { by: 'enterprise:rep-1', reason: 'OBJECTION_FILED', ref: 'obj-1' },
    );
    expect(fact).toMatchObject({ status: 'DISPUTED', version: 2 });
    expect(change).toMatchObject({ from: 'ACTIVE', to: 'DISPUTED', version: 2, origin: 'zz-centre', ref: 'obj-1' });
    expect(await zz.status(f.id)).toBe('DISPUTED');
    expect((await zz.profiles.getFacts(f.uscc, ['penalties']))[0]).toMatchObject({ id: f.id, status: 'DISPUTED' });
    expect(zz.changes).toEqual([change]);
    expect(await zz.facts.history(f.id)).toEqual([change]);
  });

  it('refuses a change whose status precondition fails, and a fact determined elsewhere, changing nothing', async () => {
    t = await testNodes(['zz-centre', 'xm-centre']);
    const zz = t.nodes['zz-centre'];
    const xm = t.nodes['xm-centre'];
    const f = penaltyFact('zz-centre', '2026-06-01', { status: 'DISPUTED' });
    await zz.put([f]);
    await xm.put([f]);
    const meta = { by: 'x', reason: 'REPAIRED' as const };
    await expect(zz.facts.change(f.id, { status: 'REPAIRED', expect: ['ACTIVE'] }, meta)).rejects.toMatchObject({
      code: 'ALREADY_DISPUTED',
    });
    await expect(xm.facts.change(f.id, { status: 'ACTIVE' }, meta)).rejects.toMatchObject({
      code: 'WRONG_NODE',
      home: 'zz-centre',
    });
    await expect(zz.facts.change('NOPE', { status: 'ACTIVE' }, meta)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect([await zz.status(f.id), await xm.status(f.id)]).toEqual(['DISPUTED', 'DISPUTED']);
    expect(await zz.facts.history(f.id)).toEqual([]);
  });

  it('applies a copy’s update only from the determining node and only when newer', async () => {
    t = await testNodes(['zz-centre', 'xm-centre']);
    const zz = t.nodes['zz-centre'];
    const xm = t.nodes['xm-centre'];
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    await xm.put([f]);
    const { fact, change } = await zz.facts.change(f.id, { status: 'REPAIRED' }, { by: 's', reason: 'REPAIRED' });
    await expect(xm.facts.apply('qz-centre', fact, change)).rejects.toMatchObject({ code: 'WRONG_NODE' });
    await expect(xm.facts.apply('zz-centre', { ...fact, uscc: 'X' }, change)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await xm.status(f.id)).toBe('ACTIVE');
    expect(await xm.facts.apply('zz-centre', fact, change)).toMatchObject({ to: 'REPAIRED', version: 2 });
    expect(await xm.facts.apply('zz-centre', fact, change)).toBeUndefined();
    expect(
      await xm.facts.apply('zz-centre', { ...fact, id: 'NOT-HELD' }, { ...change, factId: 'NOT-HELD' }),
    ).toBeUndefined();
    expect(await xm.status(f.id)).toBe('REPAIRED');
    expect(xm.changes.map((c) => c.to)).toEqual(['REPAIRED']);
  });

  it('removes a listener when asked', async () => {
    t = await testNodes(['zz-centre']);
    const zz = t.nodes['zz-centre'];
    const f = penaltyFact('zz-centre', '2026-06-01');
    await zz.put([f]);
    let told = 0;
    const off = zz.facts.onChange(() => {
      told++;
    });
    off();
    await zz.facts.change(f.id, { status: 'DISPUTED' }, { by: 'x', reason: 'OBJECTION_FILED' });
    expect(told).toBe(0);
  });
});

describe('working days', () => {
  it('skip weekends (the holiday calendar is a parameter)', () => {
    expect(addWorkingDays('2026-11-20', 1)).toBe('2026-11-23');
    expect(addWorkingDays('2026-11-20', 20)).toBe('2026-12-18');
    expect(addWorkingDays('2026-11-21', 0)).toBe('2026-11-21');
    expect(workingDaysBetween('2026-11-20', '2026-12-18')).toBe(20);
    expect(workingDaysBetween('2026-12-18', '2026-12-15')).toBe(-3);
    expect(workingDaysBetween('2026-11-21', '2026-11-22')).toBe(0);
    const holiday = (d: string) => d !== '2026-11-23' && ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());
    expect(addWorkingDays('2026-11-20', 1, holiday)).toBe('2026-11-24');
    expect(chinaDate(Date.parse('2026-11-20T17:00:00Z'))).toBe('2026-11-21');
    expect(() => addWorkingDays('2026-11-20', -1)).toThrow(TypeError);
  });
});
