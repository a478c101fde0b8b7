/**
 * The published multi-source credit score (多源联合评分), version 1: a linear model over features
 * held by different nodes (tax, social insurance and utilities by the process-data source,
 * judicial facts by the credit centre). It is data, versioned, and the same on every node: holders
 * compute their features from their own facts, the coordinator applies the weights to encrypted
 * features, and only the requesting bank learns the score (DESIGN §7.2).
 *
 * Fixed point: every feature is an integer, every weight has at most three decimals, so
 * `score × SCALE` is an exact integer whether computed in plaintext or under BFV. Features are
 * centred on their neutral value (missing data = neutral = 0), so a holder that does not hold an
 * enterprise contributes nothing and the score falls back to the neutral value of that feature.
 */
import type { CreditFact, Section } from './types.ts';

/** One feature of the model. */
export interface ScoreFeature {
  name: string;
  description: string;
  /** The profile section (and so the holder) the feature is computed from. */
  section: Exclude<Section, 'registration'>;
  /** Value meaning "no information"; the feature enters the score as `value − neutral`. */
  neutral: number;
  /** Range of the raw value (checked before encryption). */
  min: number;
  max: number;
  /** Score points per unit of the feature (at most three decimals). */
  weight: number;
}

/** A versioned linear model. */
export interface ScoreModel {
  id: string;
  version: string;
  /** Fixed-point factor of weights and scores. */
  scale: number;
  /** Score of an enterprise whose every feature is neutral. */
  intercept: number;
  features: readonly ScoreFeature[];
}

/** Fixed-point factor of score model v1 (weights to 1/1000 of a point). */
export const SCORE_SCALE = 1000;

/** The model in force. */
export const SCORE_MODEL_V1: ScoreModel = Object.freeze({
  id: 'credit-easy-loan-score',
  version: '1.0.0',
  scale: SCORE_SCALE,
  intercept: 600,
  features: Object.freeze([
    {
      name: 'taxGrade',
      description: 'Latest tax credit grade ×10 (A 40, B 30, C 10, D 0; M, insufficient history, is neutral)',
      section: 'tax',
      neutral: 25,
      min: 0,
      max: 40,
      weight: 4,
    },
    {
      name: 'socialInsuranceArrears',
      description: 'Months with social-insurance arrears among the latest three',
      section: 'socialInsurance',
      neutral: 0,
      min: 0,
      max: 3,
      weight: -25,
    },
    {
      name: 'insuredEmployeesLog2',
      description: 'floor(log2(1 + insured employees)) in the latest month',
      section: 'socialInsurance',
      neutral: 4,
      min: 0,
      max: 20,
      weight: 6.5,
    },
    {
      name: 'utilityArrearsMonths',
      description: 'Months of utility arrears over the latest three periods',
      section: 'utilities',
      neutral: 0,
      min: 0,
      max: 9,
      weight: -12.5,
    },
    {
      name: 'judicialCases',
      description: 'Active dishonest-debtor and enforcement cases (capped at 5)',
      section: 'judicial',
      neutral: 0,
      min: 0,
      max: 5,
      weight: -40,
    },
  ]) as readonly ScoreFeature[],
});

const TAX_POINTS: Record<string, number | undefined> = { A: 40, B: 30, C: 10, D: 0 };

const latest = (facts: CreditFact[], subtype: string) =>
  facts
    .filter((f) => f.subtype === subtype && f.status !== 'REPAIRED' && f.status !== 'EXPIRED')
    .sort((a, b) => b.decisionDate.localeCompare(a.decisionDate));

type Extractor = (facts: CreditFact[]) => number | undefined;

/** How each feature of v1 is computed from the holder's facts about one enterprise (undefined: no data). */
const EXTRACTORS: Record<string, Extractor> = {
  taxGrade: (facts) => {
    const grade = (latest(facts, 'TAX_GRADE')[0]?.payload as { grade?: string } | undefined)?.grade;
    return grade === undefined ? undefined : TAX_POINTS[grade];
  },
  socialInsuranceArrears: (facts) => {
    const months = latest(facts, 'SOCIAL_INSURANCE').slice(0, 3);
    if (months.length === 0) return undefined;
    return months.filter((f) => Number((f.payload as { arrearsYuan?: number }).arrearsYuan ?? 0) > 0).length;
  },
  insuredEmployeesLog2: (facts) => {
    const last = latest(facts, 'SOCIAL_INSURANCE')[0];
    if (!last) return undefined;
    const n = Math.max(0, Number((last.payload as { insuredEmployees?: number }).insuredEmployees ?? 0));
    return Math.min(20, Math.floor(Math.log2(1 + n)));
  },
  utilityArrearsMonths: (facts) => {
    const periods = latest(facts, 'UTILITY').slice(0, 3);
    if (periods.length === 0) return undefined;
    return Math.min(
      9,
      periods.reduce(
        (s, f) => s + Math.max(0, Number((f.payload as { arrearsMonths?: number }).arrearsMonths ?? 0)),
        0,
      ),
    );
  },
  judicialCases: (facts) => {
    const cases = facts.filter(
      (f) =>
        (f.subtype === 'DISHONEST_DEBTOR' || f.subtype === 'ENFORCEMENT') &&
        f.status !== 'REPAIRED' &&
        f.status !== 'EXPIRED',
    );
    return Math.min(5, cases.length);
  },
};

/**
 * The centred features (`value − neutral`, integers) a holder computes from its facts about one
 * enterprise, for the features of `sections` it serves. A feature without data is neutral (0).
 */
export function centredFeatures(
  model: ScoreModel,
  facts: CreditFact[],
  sections: readonly Section[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of model.features) {
    if (!sections.includes(f.section)) continue;
    const extract = EXTRACTORS[f.name];
    if (!extract) throw new TypeError(`model ${model.id}@${model.version}: no extractor for feature ${f.name}`);
    const raw = extract(facts);
    const value = raw === undefined ? f.neutral : Math.min(f.max, Math.max(f.min, Math.round(raw)));
    out[f.name] = value - f.neutral;
  }
  return out;
}

/** Weights and intercept as fixed-point integers (`× model.scale`). @throws TypeError on a weight finer than the scale */
export function fixedPointModel(model: ScoreModel): { intercept: bigint; weights: Record<string, bigint> } {
  const fixed = (v: number, what: string) => {
    const scaled = v * model.scale;
    if (!Number.isSafeInteger(Math.round(scaled)) || Math.abs(scaled - Math.round(scaled)) > 1e-9)
      throw new TypeError(`${what} ${v} has more decimals than the model scale ${model.scale} allows`);
    return BigInt(Math.round(scaled));
  };
  return {
    intercept: fixed(model.intercept, 'intercept'),
    weights: Object.fromEntries(model.features.map((f) => [f.name, fixed(f.weight, `weight of ${f.name}`)])),
  };
}

/** The score in plaintext from all centred features of an enterprise (the reference the encrypted path must equal). */
export function plainScore(model: ScoreModel, features: Record<string, number>): number {
  const { intercept, weights } = fixedPointModel(model);
  let total = intercept;
  for (const f of model.features) total += weights[f.name] * BigInt(features[f.name] ?? 0);
  return Number(total) / model.scale;
}

/** Sections whose facts the model reads. */
export function modelSections(model: ScoreModel): Section[] {
  return [...new Set(model.features.map((f) => f.section))];
}
