/**
 * The evaluation of one enterprise under a scheme: every indicator's value, points and facts, the
 * score (the exact sum of the indicator points), the grade by the scheme's thresholds, and the cap:
 * an active serious-dishonesty listing makes the grade D whatever the score (credit.md §3.3, rule 1).
 */
import { createHash } from 'node:crypto';
import type { CreditFact, LegalPerson } from '../model/index.ts';
import { fastCanonicalJson, sortedTreeJson } from './canonical.ts';
import { activeSeriousDishonesty, computeIndicator, type IndicatorResult, indicatorInputs } from './indicators.ts';
import { type Grade, gradeOfScore, type Scheme } from './scheme.ts';

/** Why a grade is lower than its score gives. */
export interface GradeCap {
  grade: Grade;
  reason: 'SERIOUS_DISHONESTY';
  /** The listings that cap it. */
  facts: string[];
}

/** The explanation of a grade: what an enterprise is shown to understand it. */
export interface Explanation {
  scheme: { id: string; version: string };
  /** The evaluation date, `YYYY-MM-DD`. */
  asOf: string;
  score: number;
  maxScore: number;
  thresholds: Scheme['thresholds'];
  /** The grade the score gives, before any cap. */
  scoreGrade: Grade;
  grade: Grade;
  cap?: GradeCap;
  indicators: IndicatorResult[];
}

/** The outcome of one evaluation. */
export interface Evaluation {
  grade: Grade;
  score: number;
  explanation: Explanation;
  /** Earliest date on which the grade could change by the passing of time alone (`YYYY-MM-DD`). */
  stableUntil?: string;
}

/**
 * Evaluates one enterprise.
 * @param facts its facts, any status (those that do not count are ignored); EVALUATION facts are not inputs
 * @param today the evaluation date, `YYYY-MM-DD`
 */
export function evaluateEnterprise(
  scheme: Scheme,
  registration: LegalPerson,
  facts: readonly CreditFact[],
  today: string,
): Evaluation {
  const inputs = indicatorInputs(registration, facts, today);
  const indicators = scheme.indicators.map((spec) => computeIndicator(spec, inputs));
  const listings = activeSeriousDishonesty(inputs.of('SERIOUS_DISHONESTY'), today);
  const explanation = assembleExplanation(
    scheme,
    today,
    indicators,
    listings.map((f) => f.id),
  );
  const changes = indicators.map((i) => i.changesOn).filter((d): d is string => d !== undefined && d > today);
  return {
    grade: explanation.grade,
    score: explanation.score,
    explanation,
    ...(changes.length > 0 ? { stableUntil: changes.sort()[0] } : {}),
  };
}

/**
 * The explanation of indicator results under a scheme: their points summed into the score, the
 * grade by the thresholds, capped at D when `capFacts` (active serious-dishonesty listings) is not
 * empty. Built with its keys in sorted order: its canonical JSON is its JSON (see canonical.ts).
 * @throws RangeError when an indicator's points are not an integer within its weight
 */
export function assembleExplanation(
  scheme: Scheme,
  asOf: string,
  indicators: IndicatorResult[],
  capFacts: readonly string[],
): Explanation {
  let score = 0;
  for (const [k, i] of indicators.entries()) {
    const weight = scheme.indicators[k]?.weight ?? 0;
    if (!Number.isInteger(i.points) || i.points < 0 || i.points > weight)
      throw new RangeError(`indicator ${i.id} gave ${i.points} points outside [0, ${weight}]`);
    score += i.points;
  }
  const scoreGrade = gradeOfScore(scheme, score);
  const cap: GradeCap | undefined =
    capFacts.length > 0 ? { facts: [...capFacts], grade: 'D', reason: 'SERIOUS_DISHONESTY' } : undefined;
  const grade: Grade = cap ? 'D' : scoreGrade;
  return {
    asOf,
    ...(cap ? { cap } : {}),
    grade,
    indicators,
    maxScore: scheme.totalWeight,
    scheme: { id: scheme.id, version: scheme.version },
    score,
    scoreGrade,
    thresholds: { A: scheme.thresholds.A, B: scheme.thresholds.B, C: scheme.thresholds.C },
  };
}

/** The RFC 8785 canonical JSON of an explanation made by {@link evaluateEnterprise} (built in key order). */
export const explanationJson = (e: Explanation): string => sortedTreeJson(e);

/** Hex SHA-256 of an explanation's canonical JSON (what an attestation commits to). */
export function explanationDigest(e: Explanation, json = fastCanonicalJson(e)): string {
  return createHash('sha256').update(json).digest('hex');
}
