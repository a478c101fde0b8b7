/**
 * Indicator models (评价指标体系) as versioned data: a scheme names its city, its indicators with
 * their weights and scoring rules, the declared total and the grade thresholds. Schemes are JSON
 * files in `evaluation/schemes/`, checked by {@link parseScheme} before use: every indicator kind
 * must be known, weights must sum to the declared total, no indicator can score above its weight,
 * its best case must reach it, and thresholds must be ordered. Points are integers, so indicator
 * points add up exactly to the score.
 */
import { z } from 'zod';
import { SchemeInvalidError } from './errors.ts';

/** The canonical grade scale (国办发〔2026〕8号, GB/T 45255-2025). */
export const GRADES = ['A', 'B', 'C', 'D'] as const;
/** A grade. */
export type Grade = (typeof GRADES)[number];

/** Format tag of a scheme file. */
export const SCHEME_FORMAT = 'credit-data-space/evaluation-scheme@1';

/** Indicator kinds the engine computes (see `indicators.ts`); a scheme may use only these. */
export const INDICATOR_KINDS = [
  'registrationAge',
  'registrationStatus',
  'taxGrade',
  'socialInsuranceArrears',
  'utilityArrears',
  'penalties',
  'abnormalList',
  'dishonestDebtor',
  'seriousDishonesty',
  'honours',
  'commitments',
] as const;
/** An indicator kind. */
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

const points = z.number().int().min(0).max(100_000);
const base = {
  id: z.string().regex(/^[a-z][A-Za-z0-9]{0,39}$/, 'must be a camelCase identifier'),
  name: z.string().min(1).max(100),
  weight: z.number().int().min(1).max(100_000),
};

const IndicatorSchema = z.discriminatedUnion('kind', [
  z
    .object({
      ...base,
      kind: z.literal('registrationAge'),
      /** Points from the highest band reached (full years since establishment); the first band starts at 0. */
      bands: z
        .array(z.object({ minYears: z.number().int().min(0).max(200), points }).strict())
        .min(1)
        .max(20),
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('registrationStatus'),
      points: z.object({ EXISTING: points, REVOKED: points, CANCELLED: points, MOVED_OUT: points }).strict(),
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('taxGrade'),
      /** Points of the latest tax credit grade. M is not a quality grade and has no entry here. */
      points: z.object({ A: points, B: points, C: points, D: points }).strict(),
      /** Points when the latest grade is M (insufficient history) or there is none. */
      neutral: points,
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('socialInsuranceArrears'),
      months: z.number().int().min(1).max(24),
      deductPerMonth: points,
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('utilityArrears'),
      periods: z.number().int().min(1).max(24),
      deductPerMonth: points,
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('penalties'),
      /** Points deducted per administrative penalty within its publicity window, by severity. */
      deduct: z.object({ MINOR: points, GENERAL: points, SERIOUS: points }).strict(),
    })
    .strict(),
  z.object({ ...base, kind: z.literal('abnormalList'), deductPerEntry: points }).strict(),
  z.object({ ...base, kind: z.literal('dishonestDebtor'), deductPerEntry: points }).strict(),
  z.object({ ...base, kind: z.literal('seriousDishonesty'), deductPerEntry: points }).strict(),
  z
    .object({
      ...base,
      kind: z.literal('honours'),
      withinYears: z.number().int().min(0).max(20),
      pointsPerHonour: points,
    })
    .strict(),
  z
    .object({
      ...base,
      kind: z.literal('commitments'),
      /** Points with no commitment kept or broken. */
      base: points,
      perKept: points,
      perBroken: points,
    })
    .strict(),
]);
/** One indicator of a scheme. */
export type IndicatorSpec = z.infer<typeof IndicatorSchema>;

const SchemeSchema = z
  .object({
    format: z.literal(SCHEME_FORMAT),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be lower-case letters, digits and dashes'),
    version: z.string().regex(/^\d{1,4}\.\d{1,4}\.\d{1,4}$/, 'must be MAJOR.MINOR.PATCH'),
    city: z.enum(['XM', 'ZZ', 'QZ']),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    effectiveFrom: z.iso.date(),
    /** What the indicator weights must add up to (the best possible score). */
    totalWeight: z.number().int().min(1).max(100_000),
    /** Lowest score of each grade above D. */
    thresholds: z.object({ A: points, B: points, C: points }).strict(),
    /** How long an attestation of this scheme is valid after its evaluation. */
    validityDays: z.number().int().min(1).max(1100),
    indicators: z.array(z.unknown()).min(1).max(64),
  })
  .strict();

/** A checked indicator model. */
export interface Scheme extends Omit<z.infer<typeof SchemeSchema>, 'indicators'> {
  indicators: readonly IndicatorSpec[];
}

/** `id@version` of a scheme. */
export const schemeKey = (s: { id: string; version: string }) => `${s.id}@${s.version}`;

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** The best score an indicator can reach and the highest points any rule of it gives. */
function reach(i: IndicatorSpec): { best: number; highest: number } {
  switch (i.kind) {
    case 'registrationAge': {
      const highest = Math.max(...i.bands.map((b) => b.points));
      return { best: highest, highest };
    }
    case 'registrationStatus': {
      const highest = Math.max(...Object.values(i.points));
      return { best: highest, highest };
    }
    case 'taxGrade': {
      const highest = Math.max(i.neutral, ...Object.values(i.points));
      return { best: highest, highest };
    }
    case 'honours':
      return { best: i.pointsPerHonour > 0 ? i.weight : 0, highest: i.weight };
    case 'commitments':
      return { best: i.perKept > 0 ? i.weight : i.base, highest: i.base };
    default:
      // Deductions from the full weight: no deduction gives the weight.
      return { best: i.weight, highest: i.weight };
  }
}

/**
 * Parses and checks a scheme.
 * @throws SchemeInvalidError naming the problem: malformed field, unknown indicator kind, repeated
 *   indicator id, a tax grade M given points, points above an indicator's weight or a best case
 *   below it, weights not summing to `totalWeight`, thresholds out of order.
 */
export function parseScheme(input: unknown): Scheme {
  const r = SchemeSchema.safeParse(input);
  if (!r.success) throw new SchemeInvalidError(`invalid scheme: ${issues(r.error)}`);
  const where = `scheme ${r.data.id}@${r.data.version}`;
  const indicators: IndicatorSpec[] = [];
  const ids = new Set<string>();
  for (const [n, raw] of r.data.indicators.entries()) {
    const kind = (raw as { kind?: unknown })?.kind;
    const label = `indicator ${n} (${String((raw as { id?: unknown })?.id ?? '?')})`;
    if (typeof kind !== 'string' || !(INDICATOR_KINDS as readonly string[]).includes(kind))
      throw new SchemeInvalidError(
        `${where}: ${label} has unknown kind "${String(kind)}" (known: ${INDICATOR_KINDS.join(', ')})`,
      );
    if (kind === 'taxGrade' && (raw as { points?: Record<string, unknown> }).points?.M !== undefined)
      throw new SchemeInvalidError(
        `${where}: ${label}: tax grade M means insufficient history, not a quality grade; it takes the neutral points`,
      );
    const p = IndicatorSchema.safeParse(raw);
    if (!p.success) throw new SchemeInvalidError(`${where}: ${label}: ${issues(p.error)}`);
    const i = p.data;
    if (ids.has(i.id)) throw new SchemeInvalidError(`${where}: indicator id ${i.id} is repeated`);
    ids.add(i.id);
    const { best, highest } = reach(i);
    if (highest > i.weight)
      throw new SchemeInvalidError(`${where}: indicator ${i.id} gives ${highest} points, above its weight ${i.weight}`);
    if (best !== i.weight)
      throw new SchemeInvalidError(
        `${where}: indicator ${i.id} can reach only ${best} of its weight ${i.weight}; its best case must equal its weight`,
      );
    if (i.kind === 'registrationAge') {
      if (i.bands[0].minYears !== 0) throw new SchemeInvalidError(`${where}: ${i.id}: the first band must start at 0`);
      for (let k = 1; k < i.bands.length; k++)
        if (i.bands[k].minYears <= i.bands[k - 1].minYears)
          throw new SchemeInvalidError(`${where}: ${i.id}: bands must be in increasing order of minYears`);
    }
    indicators.push(i);
  }
  const sum = indicators.reduce((s, i) => s + i.weight, 0);
  if (sum !== r.data.totalWeight)
    throw new SchemeInvalidError(
      `${where}: indicator weights sum to ${sum}, the scheme declares ${r.data.totalWeight}`,
    );
  const { A, B, C } = r.data.thresholds;
  if (!(r.data.totalWeight >= A && A > B && B > C && C >= 0))
    throw new SchemeInvalidError(
      `${where}: thresholds out of order: need totalWeight (${r.data.totalWeight}) ≥ A (${A}) > B (${B}) > C (${C}) ≥ 0`,
    );
  return Object.freeze({ ...r.data, indicators: Object.freeze(indicators) });
}

/** The grade of a score under a scheme's thresholds (before any cap). */
export function gradeOfScore(scheme: Scheme, score: number): Grade {
  const t = scheme.thresholds;
  return score >= t.A ? 'A' : score >= t.B ? 'B' : score >= t.C ? 'C' : 'D';
}
