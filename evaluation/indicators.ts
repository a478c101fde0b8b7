/**
 * How each indicator kind is computed from one enterprise's one-table facts (credit.md §3, §4.1).
 *
 * Which facts count: `ACTIVE` and `DISPUTED` ones (an objection marks a fact but does not take it
 * out of evaluations; only a repair does, DESIGN §9); `REPAIRED`, `EXPIRED` and `CORRECTED` facts
 * never count. Penalties and listings count only within their publicity window (from `publicFrom`,
 * or the decision date, until `publicUntil`; a penalty without `publicUntil` stays public for the
 * longest window of its severity). Every result names the facts behind it and, when time alone
 * will change its value (a publicity window ends, an anniversary passes), the date it changes on.
 */
import { addMonths, type CreditFact, type LegalPerson, PUBLICITY_MONTHS, type Severity } from '../model/index.ts';
import type { IndicatorSpec } from './scheme.ts';

/** An indicator's value as the explanation shows it. */
export type IndicatorValue = number | string | null | Record<string, number>;

/**
 * One indicator of one enterprise's evaluation. Its name, kind and weight are the scheme's (the
 * explanation names the scheme and version); see {@link describeIndicators} for a reader's view.
 */
export interface IndicatorResult {
  id: string;
  value: IndicatorValue;
  /** Integer points in [0, weight]; the points of all indicators add up to the score. */
  points: number;
  /** Ids of the facts the value was computed from. */
  facts: string[];
  /** Those of `facts` under objection (counted until the objection is decided). */
  disputed?: string[];
  /** A short note, e.g. why there is no value. */
  note?: string;
  /** Date (`YYYY-MM-DD`) on which the value changes by the passing of time alone. */
  changesOn?: string;
}

/** What an indicator is computed from. */
export interface IndicatorInputs {
  registration: LegalPerson;
  /** The enterprise's facts, any status; EVALUATION facts are not inputs. */
  facts: readonly CreditFact[];
  /** The evaluation date, `YYYY-MM-DD`. */
  today: string;
  /** The facts of one subtype (grouped once per enterprise). */
  of(subtype: string): readonly CreditFact[];
}

const NONE: readonly CreditFact[] = Object.freeze([]);

/** Indicator inputs with the facts grouped by subtype. */
export function indicatorInputs(
  registration: LegalPerson,
  facts: readonly CreditFact[],
  today: string,
): IndicatorInputs {
  const by = new Map<string, CreditFact[]>();
  for (const f of facts) {
    const list = by.get(f.subtype);
    if (list) list.push(f);
    else by.set(f.subtype, [f]);
  }
  return { registration, facts, today, of: (subtype) => by.get(subtype) ?? NONE };
}

/** Whether a fact counts in evaluations (not repaired, expired or corrected). */
export const counts = (f: CreditFact) => f.status === 'ACTIVE' || f.status === 'DISPUTED';

/** Start and end (exclusive) of a fact's publicity window; `until` undefined means open-ended. */
export function publicityWindow(f: CreditFact): { from: string; until?: string } {
  const from = f.publicFrom ?? f.decisionDate;
  if (f.publicUntil) return { from, until: f.publicUntil };
  if (f.subtype === 'ADMIN_PENALTY')
    return { from, until: addMonths(from, PUBLICITY_MONTHS[f.severity ?? 'GENERAL'][1]) };
  return { from };
}

/** Whether a listing or penalty is in force on `today` (counted and within its publicity window). */
export function inForce(f: CreditFact, today: string): boolean {
  if (!counts(f)) return false;
  const w = publicityWindow(f);
  return w.from <= today && (w.until === undefined || today < w.until);
}

/** Active serious-dishonesty listings: they cap the grade at D whatever the score. */
export function activeSeriousDishonesty(facts: readonly CreditFact[], today: string): CreditFact[] {
  return facts.filter((f) => f.subtype === 'SERIOUS_DISHONESTY' && inForce(f, today));
}

const earliest = (dates: Array<string | undefined>) =>
  dates.filter((d): d is string => d !== undefined).sort()[0] as string | undefined;

/** The next date on which a windowed fact enters or leaves its window. */
function windowChange(facts: readonly CreditFact[], today: string): string | undefined {
  return earliest(
    facts.filter(counts).map((f) => {
      const w = publicityWindow(f);
      if (w.from > today) return w.from;
      return w.until !== undefined && w.until > today ? w.until : undefined;
    }),
  );
}

const clamp = (n: number, max: number) => Math.max(0, Math.min(max, n));
const ids = (facts: readonly CreditFact[]) => facts.map((f) => f.id);
const disputedOf = (facts: readonly CreditFact[]) => {
  const d = facts.filter((f) => f.status === 'DISPUTED').map((f) => f.id);
  return d.length > 0 ? { disputed: d } : {};
};

/** Full years from `from` to `to` (both `YYYY-MM-DD`). */
export function fullYears(from: string, to: string): number {
  const years = Number(to.slice(0, 4)) - Number(from.slice(0, 4));
  return to.slice(5) >= from.slice(5) ? years : years - 1;
}

/** `date` plus `years` years, `YYYY-MM-DD` (29 February becomes 1 March in common years). */
function plusYears(date: string, years: number): string {
  return addMonths(date, years * 12);
}

/** A windowed deduction: `deductEach(f)` points per fact in force. */
function deductions(
  spec: IndicatorSpec,
  inputs: IndicatorInputs,
  subtype: string,
  deductEach: (f: CreditFact) => number,
  extra: (f: CreditFact) => boolean = () => true,
): Computed {
  const all = inputs.of(subtype).filter(extra);
  const live = all.filter((f) => inForce(f, inputs.today));
  const deducted = live.reduce((s, f) => s + deductEach(f), 0);
  const changesOn = all.length > 0 ? windowChange(all, inputs.today) : undefined;
  return {
    value: live.length,
    points: clamp(spec.weight - deducted, spec.weight),
    facts: ids(live),
    ...disputedOf(live),
    ...(changesOn ? { changesOn } : {}),
  };
}

/** Latest facts of a subtype by their payload period (`YYYY-MM`), newest first. */
function latestPeriods(inputs: IndicatorInputs, subtype: string, n: number): CreditFact[] {
  return inputs
    .of(subtype)
    .filter(counts)
    .sort((a, b) =>
      String(b.payload.period ?? b.decisionDate).localeCompare(String(a.payload.period ?? a.decisionDate)),
    )
    .slice(0, n);
}

type Computed = Omit<IndicatorResult, 'id'>;

/**
 * Computes one indicator. The result is built with its keys in sorted order, so that its
 * canonical JSON (RFC 8785) is its `JSON.stringify` (see `canonical.ts`).
 */
export function computeIndicator(spec: IndicatorSpec, inputs: IndicatorInputs): IndicatorResult {
  return indicatorResult(spec.id, compute(spec, inputs));
}

/** An indicator result with its keys in sorted order (its canonical JSON is its JSON). */
export function indicatorResult(id: string, r: Omit<IndicatorResult, 'id'>): IndicatorResult {
  const out = {} as IndicatorResult;
  if (r.changesOn !== undefined) out.changesOn = r.changesOn;
  if (r.disputed !== undefined) out.disputed = r.disputed;
  out.facts = r.facts;
  out.id = id;
  if (r.note !== undefined) out.note = r.note;
  out.points = r.points;
  out.value = r.value;
  return out;
}

/** An indicator as a reader sees it: its result with the scheme's name, kind and weight. */
export type IndicatorView = IndicatorResult & Pick<IndicatorSpec, 'name' | 'kind' | 'weight'>;

/** The results of an explanation with the scheme's name, kind and weight of each indicator. */
export function describeIndicators(
  specs: readonly IndicatorSpec[],
  results: readonly IndicatorResult[],
): IndicatorView[] {
  return results.map((r) => {
    const spec = specs.find((s) => s.id === r.id);
    return { ...r, name: spec?.name ?? r.id, kind: spec?.kind ?? 'registrationStatus', weight: spec?.weight ?? 0 };
  });
}

function compute(spec: IndicatorSpec, inputs: IndicatorInputs): Computed {
  const { registration: reg, today } = inputs;
  switch (spec.kind) {
    case 'registrationAge': {
      const years = Math.max(0, fullYears(reg.establishedOn, today));
      let band = spec.bands[0];
      for (const b of spec.bands) if (years >= b.minYears) band = b;
      const next = spec.bands.find((b) => b.minYears > years);
      return {
        value: years,
        points: band.points,
        facts: [],
        note: `established ${reg.establishedOn}`,
        ...(next ? { changesOn: plusYears(reg.establishedOn, next.minYears) } : {}),
      };
    }
    case 'registrationStatus':
      return { value: reg.status, points: spec.points[reg.status], facts: [] };
    case 'taxGrade': {
      const latest = inputs
        .of('TAX_GRADE')
        .filter(counts)
        .sort(
          (a, b) =>
            Number(b.payload.year ?? 0) - Number(a.payload.year ?? 0) || b.decisionDate.localeCompare(a.decisionDate),
        )[0];
      const grade = latest?.payload.grade as string | undefined;
      if (grade === 'A' || grade === 'B' || grade === 'C' || grade === 'D')
        return { value: grade, points: spec.points[grade], facts: [latest.id], ...disputedOf([latest]) };
      return {
        value: grade ?? null,
        points: spec.neutral,
        facts: latest ? [latest.id] : [],
        note: latest ? 'M: insufficient tax history, neutral' : 'no tax grade held, neutral',
      };
    }
    case 'socialInsuranceArrears': {
      const months = latestPeriods(inputs, 'SOCIAL_INSURANCE', spec.months);
      const arrears = months.filter((f) => Number(f.payload.arrearsYuan ?? 0) > 0);
      return {
        value: months.length === 0 ? null : arrears.length,
        points: clamp(spec.weight - arrears.length * spec.deductPerMonth, spec.weight),
        facts: ids(months),
        ...disputedOf(arrears),
        ...(months.length === 0 ? { note: 'no social-insurance data held' } : {}),
      };
    }
    case 'utilityArrears': {
      const periods = latestPeriods(inputs, 'UTILITY', spec.periods);
      const months = periods.reduce((s, f) => s + Math.max(0, Number(f.payload.arrearsMonths ?? 0)), 0);
      return {
        value: periods.length === 0 ? null : months,
        points: clamp(spec.weight - months * spec.deductPerMonth, spec.weight),
        facts: ids(periods),
        ...disputedOf(periods.filter((f) => Number(f.payload.arrearsMonths ?? 0) > 0)),
        ...(periods.length === 0 ? { note: 'no utility data held' } : {}),
      };
    }
    case 'penalties': {
      const severity = (f: CreditFact): Severity => f.severity ?? 'GENERAL';
      const r = deductions(
        spec,
        inputs,
        'ADMIN_PENALTY',
        (f) => spec.deduct[severity(f)],
        (f) => f.polarity === 'NEGATIVE',
      );
      const live = inputs.of('ADMIN_PENALTY').filter((f) => r.facts.includes(f.id));
      const by = { GENERAL: 0, MINOR: 0, SERIOUS: 0 };
      for (const f of live) by[severity(f)]++;
      return { ...r, value: by };
    }
    case 'abnormalList':
      return deductions(
        spec,
        inputs,
        'ABNORMAL_LIST',
        () => spec.deductPerEntry,
        (f) => !(typeof f.payload.removedOn === 'string' && f.payload.removedOn <= today),
      );
    case 'dishonestDebtor':
      return deductions(spec, inputs, 'DISHONEST_DEBTOR', () => spec.deductPerEntry);
    case 'seriousDishonesty':
      return deductions(spec, inputs, 'SERIOUS_DISHONESTY', () => spec.deductPerEntry);
    case 'honours': {
      const year = Number(today.slice(0, 4));
      const all = inputs.of('HONOUR').filter(counts);
      const recent = all.filter((f) => Number(f.payload.year ?? 0) >= year - spec.withinYears);
      const oldest = Math.min(...recent.map((f) => Number(f.payload.year ?? year)));
      return {
        value: recent.length,
        points: clamp(recent.length * spec.pointsPerHonour, spec.weight),
        facts: ids(recent),
        ...disputedOf(recent),
        ...(recent.length > 0 ? { changesOn: `${oldest + spec.withinYears + 1}-01-01` } : {}),
      };
    }
    case 'commitments': {
      const all = inputs.of('COMMITMENT').filter(counts);
      const kept = all.filter((f) => f.payload.fulfilment === 'FULFILLED');
      const broken = all.filter((f) => f.payload.fulfilment === 'BROKEN');
      return {
        value: { broken: broken.length, kept: kept.length },
        points: clamp(spec.base + kept.length * spec.perKept - broken.length * spec.perBroken, spec.weight),
        facts: ids([...kept, ...broken]),
        ...disputedOf([...kept, ...broken]),
      };
    }
  }
}
