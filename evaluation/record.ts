/**
 * How a grade is stored: compactly (what it was computed from and each indicator's result, in the
 * scheme's order), and rebuilt into the full record when read. The explanation, its digest and the
 * attestation document are deterministic functions of what is stored and of the scheme version
 * (kept in the repository as data), so they are rebuilt byte for byte instead of stored: a grade
 * takes ~0.5 KB, and a full run serialises and writes less than it reads.
 */

import type { CityId } from '../model/index.ts';
import type { AttestationBody } from './attestation.ts';
import { sortedTreeJson } from './canonical.ts';
import { assembleExplanation, type Evaluation, explanationDigest, explanationJson } from './engine.ts';
import { type IndicatorResult, type IndicatorValue, indicatorResult } from './indicators.ts';
import { schemeById } from './schemes.ts';
import type { GradeRecord } from './store.ts';

/** One indicator's result, without its id (the scheme's order gives it): points, value, facts, extras. */
type PackedIndicator =
  | [number, IndicatorValue, string[]]
  | [number, IndicatorValue, string[], { c?: string; d?: string[]; n?: string }];

/** A grade as stored under `h!<uscc>!<seq>`. */
export interface StoredGrade {
  /** evaluatedAt */
  t: string;
  /** validUntil */
  v: string;
  /** inputsDigest */
  d: string;
  /** industry section letter */
  i: string;
  /** stableUntil */
  u?: string;
  /** scheme `id@version` */
  s: string;
  /** evaluator node */
  n: string;
  /** evaluator city */
  c: CityId;
  /** the listings that capped the grade */
  k?: string[];
  /** indicator results in the scheme's order */
  x: PackedIndicator[];
}

/** What a stored grade is made of, besides its evaluation. */
export interface GradeMeta {
  evaluatedAt: string;
  validUntil: string;
  inputsDigest: string;
  industry: string;
  node: string;
  city: CityId;
}

/** The stored form of an evaluation. */
export function packGrade(ev: Evaluation, m: GradeMeta): StoredGrade {
  const e = ev.explanation;
  return {
    t: m.evaluatedAt,
    v: m.validUntil,
    d: m.inputsDigest,
    i: m.industry,
    ...(ev.stableUntil ? { u: ev.stableUntil } : {}),
    s: `${e.scheme.id}@${e.scheme.version}`,
    n: m.node,
    c: m.city,
    ...(e.cap ? { k: e.cap.facts } : {}),
    x: e.indicators.map((r): PackedIndicator => {
      const extra = {
        ...(r.changesOn !== undefined ? { c: r.changesOn } : {}),
        ...(r.disputed !== undefined ? { d: r.disputed } : {}),
        ...(r.note !== undefined ? { n: r.note } : {}),
      };
      return Object.keys(extra).length > 0 ? [r.points, r.value, r.facts, extra] : [r.points, r.value, r.facts];
    }),
  };
}

/**
 * The full record of a stored grade, with its explanation, explanation digest and attestation
 * document rebuilt.
 * @throws TypeError when the scheme version it was graded with is not in the repository
 */
export function unpackGrade(uscc: string, seq: number, g: StoredGrade): GradeRecord {
  const at = g.s.lastIndexOf('@');
  const scheme = schemeById(g.s.slice(0, at), g.s.slice(at + 1));
  if (!scheme) throw new TypeError(`grade ${seq} was made with scheme ${g.s}, which is not in the repository`);
  const indicators: IndicatorResult[] = g.x.map(([points, value, facts, extra], k) =>
    indicatorResult(scheme.indicators[k].id, {
      points,
      value,
      facts,
      ...(extra?.c !== undefined ? { changesOn: extra.c } : {}),
      ...(extra?.d !== undefined ? { disputed: extra.d } : {}),
      ...(extra?.n !== undefined ? { note: extra.n } : {}),
    }),
  );
  const explanation = assembleExplanation(scheme, g.t.slice(0, 10), indicators, g.k ?? []);
  const digest = explanationDigest(explanation, explanationJson(explanation));
  const body: AttestationBody = {
    ...(explanation.cap ? { cap: 'SERIOUS_DISHONESTY' as const } : {}),
    evaluatedAt: g.t,
    evaluator: { city: g.c, node: g.n },
    explanationDigest: digest,
    format: 'credit-data-space/evaluation-attestation@1',
    grade: explanation.grade,
    inputsDigest: g.d,
    maxScore: scheme.totalWeight,
    scheme: { id: scheme.id, version: scheme.version },
    score: explanation.score,
    seq,
    subject: uscc,
    validUntil: g.v,
  };
  return {
    uscc,
    seq,
    grade: explanation.grade,
    score: explanation.score,
    maxScore: scheme.totalWeight,
    scheme: { id: scheme.id, version: scheme.version },
    evaluator: g.n,
    city: g.c,
    evaluatedAt: g.t,
    validUntil: g.v,
    ...(g.u ? { stableUntil: g.u } : {}),
    inputsDigest: g.d,
    explanationDigest: digest,
    industry: g.i,
    explanation,
    document: sortedTreeJson(body),
  };
}
