import { describe, expect, it } from 'vitest';
import { centredFeatures, fixedPointModel, modelSections, plainScore, SCORE_MODEL_V1 } from './scoring.ts';
import type { CreditFact } from './types.ts';

const fact = (subtype: string, decisionDate: string, payload: Record<string, unknown>, status = 'ACTIVE') =>
  ({ subtype, decisionDate, payload, status }) as unknown as CreditFact;

describe('score model v1', () => {
  it('has fixed-point weights and reads the tax, social-insurance, utilities and judicial sections', () => {
    const { intercept, weights } = fixedPointModel(SCORE_MODEL_V1);
    expect(intercept).toBe(600_000n);
    expect(weights.insuredEmployeesLog2).toBe(6500n);
    expect(modelSections(SCORE_MODEL_V1).sort()).toEqual(['judicial', 'socialInsurance', 'tax', 'utilities']);
    expect(() => fixedPointModel({ ...SCORE_MODEL_V1, intercept: 1.0001 })).toThrow(/decimals/);
  });

  it('an enterprise with no data scores the intercept; M is neutral, never a quality grade', () => {
    expect(plainScore(SCORE_MODEL_V1, centredFeatures(SCORE_MODEL_V1, [], ['tax', 'judicial']))).toBe(600);
    const m = centredFeatures(SCORE_MODEL_V1, [fact('TAX_GRADE', '2026-04-15', { year: 2025, grade: 'M' })], ['tax']);
    expect(m).toEqual({ taxGrade: 0 });
  });

  it('computes each feature from the holder facts, latest first, repaired facts ignored', () => {
    const facts = [
      fact('TAX_GRADE', '2025-04-15', { year: 2024, grade: 'D' }),
      fact('TAX_GRADE', '2026-04-15', { year: 2025, grade: 'A' }),
      fact('SOCIAL_INSURANCE', '2026-10-28', { insuredEmployees: 31, arrearsYuan: 500 }),
      fact('SOCIAL_INSURANCE', '2026-09-28', { insuredEmployees: 30, arrearsYuan: 0 }),
      fact('UTILITY', '2026-10-28', { arrearsMonths: 2 }),
      fact('DISHONEST_DEBTOR', '2026-01-01', {}),
      fact('ENFORCEMENT', '2026-02-01', {}, 'REPAIRED'),
    ];
    const all = centredFeatures(SCORE_MODEL_V1, facts, ['tax', 'socialInsurance', 'utilities', 'judicial']);
    expect(all).toEqual({
      taxGrade: 15,
      socialInsuranceArrears: 1,
      insuredEmployeesLog2: 1,
      utilityArrearsMonths: 2,
      judicialCases: 1,
    });
    // 600 + 4·15 − 25·1 + 6.5·1 − 12.5·2 − 40·1
    expect(plainScore(SCORE_MODEL_V1, all)).toBe(576.5);
  });
});
