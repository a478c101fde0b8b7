/**
 * The evaluation of one enterprise under a scheme: every indicator's value, points and facts, the
 * score (the exact sum of the indicator points), the grade by the scheme's thresholds, and the cap:
 * an active serious-dishonesty listing makes the grade D whatever the score (credit.md §3.3, rule 1).
 */
import { sha256, toHex, toUtf8 } from '../crypto/index.ts';
import type { CreditFact, LegalPerson } from '../model/index.ts';
import { fastCanonicalJson } from './canonical.ts';
import { activeSeriousDishonesty, computeIndicator, type IndicatorResult } from './indicators.ts';
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
  const inputs = { registration, facts: facts.filter((f) => f.subtype !== 'EVALUATION'), today };
  const indicators = scheme.indicators.map((spec) => computeIndicator(spec, inputs));
  let score = 0;
  for (const i of indicators) {
    if (!Number.isInteger(i.points) || i.points < 0 || i.points > i.weight)
      throw new RangeError(`indicator ${i.id} gave ${i.points} points outside [0, ${i.weight}]`);
    score += i.points;
  }
  const scoreGrade = gradeOfScore(scheme, score);
  const listings = activeSeriousDishonesty(inputs.facts, today);
  const cap: GradeCap | undefined =
    listings.length > 0 ? { grade: 'D', reason: 'SERIOUS_DISHONESTY', facts: listings.map((f) => f.id) } : undefined;
  const grade: Grade = cap ? 'D' : scoreGrade;
  const changes = indicators.map((i) => i.changesOn).filter((d): d is string => d !== undefined && d > today);
  return {
    grade,
    score,
    explanation: {
      scheme: { id: scheme.id, version: scheme.version },
      asOf: today,
      score,
      maxScore: scheme.totalWeight,
      thresholds: scheme.thresholds,
      scoreGrade,
      grade,
      ...(cap ? { cap } : {}),
      indicators,
    },
    ...(changes.length > 0 ? { stableUntil: changes.sort()[0] } : {}),
  };
}

/** Hex SHA-256 of an explanation's RFC 8785 canonical JSON (what an attestation commits to). */
export function explanationDigest(e: Explanation): string {
  return toHex(sha256(toUtf8(fastCanonicalJson(e))));
}
