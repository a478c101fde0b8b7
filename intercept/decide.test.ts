import { describe, expect, it } from 'vitest';
import { type CreditFact, FACT_STATUSES } from '../model/index.ts';
import { decide, type Listing } from './decide.ts';
import { isLive, toListing } from './listings.ts';
import { measuresInForce } from './measures-list.ts';

const m = measuresInForce();
const U = '91350200776049653A';
const listing = (subtype: Listing['subtype'], over: Partial<Listing> = {}): Listing => ({
  factId: `F-${subtype}-${over.node ?? 'zz-centre'}`,
  subtype,
  status: 'ACTIVE',
  decisionDate: '2026-03-01',
  sourceUnit: '漳州市市场监督管理局',
  originNode: 'zz-centre',
  node: 'zz-centre',
  legalDocumentRef: '漳市监〔2026〕1号',
  ...over,
});

describe('decisions of check-and-intercept', () => {
  it('BLOCKs a subsidy for a serious-dishonesty listing, naming the listing, measure and legal basis', () => {
    const d = decide(m, 'FINANCE_SUBSIDY', U, [listing('SERIOUS_DISHONESTY', { severity: 'SERIOUS' })]);
    expect(d.decision).toBe('BLOCK');
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatchObject({
      measure: 'P-SUBSIDY-01',
      action: 'BLOCK',
      list: 'serious-dishonesty',
      listName: '严重失信主体名单',
      ownerDepartment: '市财政局',
      disputed: false,
      listing: { node: 'zz-centre', subtype: 'SERIOUS_DISHONESTY', legalDocumentRef: '漳市监〔2026〕1号' },
    });
    expect(d.reasons[0].legalBasis).toContain('国发〔2016〕33号');
  });

  it('PASSes an enterprise with no listing, and one whose listings no measure of the matter names', () => {
    expect(decide(m, 'FINANCE_SUBSIDY', U, [])).toMatchObject({ decision: 'PASS', reasons: [], rewards: [] });
    const honour = [listing('HONOUR')];
    expect(decide(m, 'FINANCE_SUBSIDY', U, honour)).toMatchObject({ decision: 'PASS', reasons: [] });
    const general = [listing('ADMIN_PENALTY', { severity: 'GENERAL' })];
    expect(decide(m, 'GOV_PROCUREMENT', U, general).decision).toBe('PASS');
  });

  it('takes the most severe measure: BLOCK over WARN, with every reason listed', () => {
    const d = decide(m, 'GOV_PROCUREMENT', U, [
      listing('ABNORMAL_LIST'),
      listing('ADMIN_PENALTY', { severity: 'SERIOUS', factId: 'P1' }),
    ]);
    expect(d.decision).toBe('BLOCK');
    expect(d.reasons.map((r) => `${r.measure}:${r.action}`).sort()).toEqual(['P-PROC-01:BLOCK', 'P-PROC-02:WARN']);
  });

  it('rewards an A grade or an honour with a fast track, but not a subject under a punishment', () => {
    const a = decide(m, 'ADMIN_LICENCE', U, [listing('EVALUATION', { grade: 'A' }), listing('HONOUR')]);
    expect(a).toMatchObject({ decision: 'REWARD', rewards: ['FAST_TRACK'] });
    expect(a.reasons).toHaveLength(2);
    const b = decide(m, 'ADMIN_LICENCE', U, [listing('EVALUATION', { grade: 'A' }), listing('DISHONEST_DEBTOR')]);
    expect(b).toMatchObject({ decision: 'WARN', rewards: [] });
    expect(b.reasons.map((r) => r.measure)).toEqual(['P-LIC-01']);
    expect(decide(m, 'ADMIN_LICENCE', U, [listing('EVALUATION', { grade: 'B' })]).decision).toBe('PASS');
  });

  it('treats a disputed fact as the measures list says: a BLOCK becomes a WARN, a reward is not granted', () => {
    const d = decide(m, 'FINANCE_SUBSIDY', U, [listing('SERIOUS_DISHONESTY', { status: 'DISPUTED' })]);
    expect(d.decision).toBe('WARN');
    expect(d.reasons[0]).toMatchObject({ action: 'WARN', measureAction: 'BLOCK', disputed: true });
    const r = decide(m, 'ADMIN_LICENCE', U, [listing('HONOUR', { status: 'DISPUTED' })]);
    expect(r).toMatchObject({ decision: 'PASS', rewards: [] });
  });

  it('says INCOMPLETE, naming the centres, when one did not answer, unless it already BLOCKs', () => {
    expect(decide(m, 'FINANCE_SUBSIDY', U, [], ['qz-centre'])).toMatchObject({
      decision: 'INCOMPLETE',
      unavailable: ['qz-centre'],
    });
    const warn = decide(m, 'FINANCE_SUBSIDY', U, [listing('ABNORMAL_LIST')], ['qz-centre']);
    expect(warn.decision).toBe('INCOMPLETE');
    expect(warn.reasons[0].action).toBe('WARN');
    const block = decide(m, 'FINANCE_SUBSIDY', U, [listing('DISHONEST_DEBTOR')], ['qz-centre']);
    expect(block).toMatchObject({ decision: 'BLOCK', unavailable: ['qz-centre'] });
  });

  it('counts a fact served by two nodes (a copy) once', () => {
    const d = decide(m, 'FINANCE_SUBSIDY', U, [
      listing('DISHONEST_DEBTOR', { factId: 'X1' }),
      listing('DISHONEST_DEBTOR', { factId: 'X1', node: 'xm-centre' }),
    ]);
    expect(d.reasons).toHaveLength(1);
  });
});

describe('live listings', () => {
  const fact = (over: Partial<CreditFact>): CreditFact => ({
    id: 'F1',
    uscc: U,
    category: 'ADMINISTRATIVE',
    subtype: 'ADMIN_PENALTY',
    polarity: 'NEGATIVE',
    severity: 'SERIOUS',
    legalDocumentRef: '罚〔2026〕1号',
    sourceUnit: 'x',
    decisionDate: '2026-03-01',
    publicUntil: '2027-03-01',
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: { decisionNo: 'x', penaltyCategory: '罚款', content: 'x', authority: 'x' },
    originNode: 'zz-centre',
    version: 1,
    updatedAt: '2026-03-01T00:00:00Z',
    ...over,
  });

  it('are ACTIVE or DISPUTED facts whose publicity has started and not ended', () => {
    const live = FACT_STATUSES.filter((s) => isLive(fact({ status: s }), '2026-06-01'));
    expect(live).toEqual(['ACTIVE', 'DISPUTED']);
    expect(isLive(fact({}), '2027-03-01')).toBe(true);
    expect(isLive(fact({}), '2027-03-02')).toBe(false);
    expect(isLive(fact({}), '2026-02-28')).toBe(false);
    expect(isLive(fact({ publicFrom: '2026-04-01' }), '2026-03-15')).toBe(false);
    const removed = fact({ subtype: 'ABNORMAL_LIST', publicUntil: undefined, payload: { removedOn: '2026-05-01' } });
    expect(isLive(removed, '2026-04-30')).toBe(true);
    expect(isLive(removed, '2026-05-01')).toBe(false);
  });

  it('carry no payload beyond a grade', () => {
    const l = toListing(fact({}), 'zz-centre');
    expect(Object.keys(l).sort()).toEqual(
      [
        'decisionDate',
        'factId',
        'legalDocumentRef',
        'node',
        'originNode',
        'publicUntil',
        'severity',
        'sourceUnit',
        'status',
        'subtype',
      ].sort(),
    );
    const g = toListing(fact({ subtype: 'EVALUATION', payload: { grade: 'A', scheme: 's', evaluatedAt: 'x' } }), 'n');
    expect(g.grade).toBe('A');
  });
});
