import { describe, expect, it } from 'vitest';
import xzq from './measures/xzq-joint-measures-1.0.0.json' with { type: 'json' };
import { ACTIONS, measuresOf, onList, parseMeasures, REWARDS, triggerSubtypes } from './measures.ts';
import { MEASURES_LISTS, measuresInForce } from './measures-list.ts';

const clone = () => JSON.parse(JSON.stringify(xzq)) as typeof xzq & Record<string, unknown>;
const refused = (raw: unknown, pattern: RegExp) => {
  let err: unknown;
  try {
    parseMeasures(raw);
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ name: 'MeasuresInvalidError', code: 'MEASURES_INVALID' });
  expect((err as Error).message).toMatch(pattern);
};

describe('the measures list in force (联合奖惩措施清单)', () => {
  it('is the shipped list, checked, with a measure for every matter and a legal basis and owner for every measure', () => {
    const m = measuresInForce();
    expect(MEASURES_LISTS).toHaveLength(1);
    expect(`${m.id}@${m.version}`).toBe('xzq-joint-measures@1.0.0');
    for (const matter of Object.keys(m.matters)) expect(measuresOf(m, matter).length).toBeGreaterThan(0);
    for (const x of m.measures) {
      expect(x.legalBasis.length).toBeGreaterThan(5);
      expect(x.ownerDepartment.length).toBeGreaterThan(1);
      expect(ACTIONS).toContain(x.action);
    }
    // Every BLOCK is a category-1 measure (rights reduced on a legal basis).
    for (const x of m.measures.filter((y) => y.action === 'BLOCK')) expect(x.category).toBe(1);
  });

  it('resolves what a disputed fact calls for: punishments warn, rewards are not granted', () => {
    const m = measuresInForce();
    for (const x of m.measures) {
      if ((REWARDS as readonly string[]).includes(x.action)) expect(x.onDisputed).toBe('PASS');
      else expect(x.onDisputed).toBe('WARN');
    }
  });

  it('names the subtypes a matter reads and puts facts on lists by subtype, severity and grade', () => {
    const m = measuresInForce();
    expect(triggerSubtypes(m, 'FINANCE_SUBSIDY')).toEqual([
      'ABNORMAL_LIST',
      'ADMIN_PENALTY',
      'DISHONEST_DEBTOR',
      'EVALUATION',
      'SERIOUS_DISHONESTY',
    ]);
    expect(triggerSubtypes(m, 'NO_SUCH_MATTER')).toEqual([]);
    expect(onList(m.lists['serious-penalty'], { subtype: 'ADMIN_PENALTY', severity: 'SERIOUS' })).toBe(true);
    expect(onList(m.lists['serious-penalty'], { subtype: 'ADMIN_PENALTY', severity: 'GENERAL' })).toBe(false);
    expect(onList(m.lists['serious-penalty'], { subtype: 'ADMIN_PENALTY' })).toBe(false);
    expect(onList(m.lists['grade-a'], { subtype: 'EVALUATION', grade: 'A' })).toBe(true);
    expect(onList(m.lists['grade-a'], { subtype: 'EVALUATION', grade: 'B' })).toBe(false);
    expect(onList(m.lists['dishonest-debtor'], { subtype: 'SERIOUS_DISHONESTY' })).toBe(false);
  });
});

describe('a malformed measures list is refused (MEASURES_INVALID), naming the problem', () => {
  it('unknown fact subtype in a list', () => {
    const raw = clone();
    (raw.lists['dishonest-debtor'] as { subtypes: string[] }).subtypes = ['NO_SUCH_SUBTYPE'];
    refused(raw, /lists\.dishonest-debtor\.subtypes/);
  });
  it('a measure naming an unknown list or matter', () => {
    const a = clone();
    a.measures[0].lists = ['no-such-list'];
    refused(a, /unknown list no-such-list/);
    const b = clone();
    b.measures[0].matter = 'NO_SUCH_MATTER';
    refused(b, /unknown matter NO_SUCH_MATTER/);
  });
  it('a measure without a legal basis or owner department', () => {
    const a = clone();
    a.measures[0].legalBasis = '  ';
    refused(a, /legalBasis/);
    const b = clone();
    delete (b.measures[0] as Partial<(typeof b.measures)[0]>).ownerDepartment;
    refused(b, /ownerDepartment/);
  });
  it('an unknown action, a duplicate id, a matter without measures', () => {
    const a = clone();
    (a.measures[0] as { action: string }).action = 'DESTROY';
    refused(a, /action/);
    const b = clone();
    b.measures[1].id = b.measures[0].id;
    refused(b, /appears twice/);
    const d = clone();
    (d.matters as Record<string, { name: string }>).NEW_MATTER = { name: '新事项' };
    refused(d, /NEW_MATTER has no measure/);
  });
  it('a disputed fact calling for more than the measure, grades on facts without grades', () => {
    const a = clone();
    const warn = a.measures.find((x) => x.action === 'WARN')!;
    (warn as Record<string, unknown>).onDisputed = 'BLOCK';
    refused(a, /disputed fact cannot call for more/);
    const b = clone();
    (b.lists as Record<string, unknown>).odd = { name: 'x', subtypes: ['HONOUR'], grades: ['A'] };
    refused(b, /list odd names grades/);
    refused({ ...clone(), format: 'other' }, /format/);
  });
});
