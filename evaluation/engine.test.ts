import { describe, expect, it } from 'vitest';
import { evaluateEnterprise, explanationDigest } from './engine.ts';
import { fullYears } from './indicators.ts';
import { schemeForCity } from './schemes.ts';
import { fact, penalty, registration, seriousListing, taxGrade } from './test-helpers.ts';

const zz = schemeForCity('ZZ');
const TODAY = '2026-12-01';
const points = (e: ReturnType<typeof evaluateEnterprise>, id: string) =>
  e.explanation.indicators.find((i) => i.id === id)!;
const sum = (e: ReturnType<typeof evaluateEnterprise>) => e.explanation.indicators.reduce((s, i) => s + i.points, 0);

describe('evaluation of one enterprise', () => {
  it('lists every indicator with value, points and facts; the points add up to the score', () => {
    const t = taxGrade('A');
    const e = evaluateEnterprise(zz, registration(), [t], TODAY);
    expect(e.explanation.indicators.map((i) => i.id)).toEqual(zz.indicators.map((i) => i.id));
    expect(sum(e)).toBe(e.score);
    expect(points(e, 'taxGrade')).toMatchObject({ value: 'A', points: 20, facts: [t.id] });
    expect(e.explanation).toMatchObject({ maxScore: 100, scheme: { id: 'zz-public-credit', version: '1.0.0' } });
    expect(explanationDigest(e.explanation)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('treats tax grade M as insufficient history: the neutral points, never a quality grade', () => {
    const m = evaluateEnterprise(zz, registration(), [taxGrade('B', 2024), taxGrade('M', 2025)], TODAY);
    const none = evaluateEnterprise(zz, registration(), [], TODAY);
    expect(points(m, 'taxGrade')).toMatchObject({ value: 'M', points: 12 });
    expect(points(m, 'taxGrade').note).toMatch(/insufficient/);
    expect(points(none, 'taxGrade').points).toBe(12);
  });

  it('counts penalties by severity only within their publicity window, and says when one ends', () => {
    const live = penalty('GENERAL', '2026-06-01', '2027-02-01');
    const over = penalty('SERIOUS', '2023-01-01', '2025-01-01');
    const future = penalty('MINOR', '2027-01-01', '2027-03-01');
    const e = evaluateEnterprise(zz, registration(), [live, over, future], TODAY);
    expect(points(e, 'penalties')).toMatchObject({
      value: { MINOR: 0, GENERAL: 1, SERIOUS: 0 },
      points: 18 - 7,
      facts: [live.id],
      changesOn: '2027-01-01',
    });
    expect(e.stableUntil).toBe('2027-01-01');
    // On the day the window ends the penalty no longer counts.
    expect(points(evaluateEnterprise(zz, registration(), [live], '2027-02-01'), 'penalties').points).toBe(18);
  });

  it('ignores repaired, expired and corrected facts; counts disputed ones and marks them', () => {
    const repaired = penalty('SERIOUS', '2026-06-01', '2028-06-01', { status: 'REPAIRED' });
    const disputed = penalty('GENERAL', '2026-06-01', '2027-06-01', { status: 'DISPUTED' });
    const corrected = taxGrade('D', 2025, { status: 'CORRECTED' });
    const e = evaluateEnterprise(zz, registration(), [repaired, disputed, corrected, taxGrade('B', 2024)], TODAY);
    expect(points(e, 'penalties')).toMatchObject({ facts: [disputed.id], disputed: [disputed.id] });
    expect(points(e, 'taxGrade').value).toBe('B');
  });

  it('caps the grade at D for an active serious-dishonesty listing, whatever the score', () => {
    const listing = seriousListing('2026-06-01');
    const e = evaluateEnterprise(zz, registration(), [taxGrade('A'), listing], TODAY);
    expect(e.explanation.scoreGrade).not.toBe('D');
    expect(e.grade).toBe('D');
    expect(e.explanation.cap).toEqual({ grade: 'D', reason: 'SERIOUS_DISHONESTY', facts: [listing.id] });
    expect(sum(e)).toBe(e.score);
    // A repaired listing no longer caps.
    const repaired = evaluateEnterprise(zz, registration(), [taxGrade('A'), { ...listing, status: 'REPAIRED' }], TODAY);
    expect(repaired.explanation.cap).toBeUndefined();
    expect(repaired.grade).toBe('A');
  });

  it('scores registration age and status, arrears, lists, honours and commitments', () => {
    const reg = registration({ establishedOn: '2024-12-15', status: 'REVOKED' });
    const facts = [
      fact('SOCIAL_INSURANCE', { payload: { period: '2026-10', insuredEmployees: 5, arrearsYuan: 100 } }),
      fact('SOCIAL_INSURANCE', { payload: { period: '2026-09', insuredEmployees: 5, arrearsYuan: 0 } }),
      fact('SOCIAL_INSURANCE', { payload: { period: '2026-08', insuredEmployees: 5, arrearsYuan: 50 } }),
      fact('SOCIAL_INSURANCE', { payload: { period: '2026-07', insuredEmployees: 5, arrearsYuan: 50 } }),
      fact('UTILITY', { payload: { period: '2026-10', utility: 'water', volume: 1, arrearsMonths: 1 } }),
      fact('ABNORMAL_LIST', { polarity: 'NEGATIVE', payload: { reason: 'x', listedOn: '2026-01-01', authority: 'x' } }),
      fact('ABNORMAL_LIST', {
        polarity: 'NEGATIVE',
        payload: { reason: 'x', listedOn: '2025-01-01', authority: 'x', removedOn: '2025-06-01' },
      }),
      fact('DISHONEST_DEBTOR', { polarity: 'NEGATIVE', payload: {} }),
      fact('HONOUR', { polarity: 'POSITIVE', payload: { title: 'x', grantor: 'x', year: 2025 } }),
      fact('HONOUR', { polarity: 'POSITIVE', payload: { title: 'x', grantor: 'x', year: 2019 } }),
      fact('COMMITMENT', { payload: { fulfilment: 'FULFILLED' } }),
      fact('COMMITMENT', { payload: { fulfilment: 'BROKEN' } }),
      fact('COMMITMENT', { payload: { fulfilment: 'PENDING' } }),
    ];
    const e = evaluateEnterprise(zz, reg, facts, TODAY);
    expect(points(e, 'registrationAge')).toMatchObject({ value: 1, points: 1, changesOn: '2027-12-15' });
    expect(points(e, 'registrationStatus')).toMatchObject({ value: 'REVOKED', points: 0 });
    expect(points(e, 'socialInsuranceArrears')).toMatchObject({ value: 2, points: 0 });
    expect(points(e, 'utilityArrears')).toMatchObject({ value: 1, points: 3 });
    expect(points(e, 'abnormalList')).toMatchObject({ value: 1, points: 0 });
    expect(points(e, 'dishonestDebtor')).toMatchObject({ value: 1, points: 0 });
    expect(points(e, 'honours')).toMatchObject({ value: 1, points: 2, changesOn: '2029-01-01' });
    expect(points(e, 'commitments')).toMatchObject({ value: { kept: 1, broken: 1 }, points: 1 });
    expect(sum(e)).toBe(e.score);
    expect(e.grade).toBe('D');
    expect(e.explanation.cap).toBeUndefined();
  });

  it('counts full years across leap days and anniversaries', () => {
    expect(fullYears('2020-02-29', '2021-02-28')).toBe(0);
    expect(fullYears('2020-02-29', '2021-03-01')).toBe(1);
    expect(fullYears('2010-12-01', '2026-12-01')).toBe(16);
    expect(fullYears('2010-12-02', '2026-12-01')).toBe(15);
  });

  it('grades differently per city for the same facts', () => {
    const facts = [taxGrade('B'), penalty('GENERAL', '2026-06-01', '2027-06-01')];
    const by = (c: 'XM' | 'ZZ' | 'QZ') => evaluateEnterprise(schemeForCity(c), registration(), facts, TODAY);
    expect(by('XM').explanation.indicators.some((i) => i.id === 'taxGrade')).toBe(false);
    expect(by('QZ').explanation.maxScore).toBe(1000);
    for (const c of ['XM', 'ZZ', 'QZ'] as const) expect(sum(by(c))).toBe(by(c).score);
  });
});
