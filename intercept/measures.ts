/**
 * The joint rewards and punishments measures list (联合奖惩措施清单) as versioned data: which lists
 * exist (each the fact subtypes, severities or grades that put an enterprise on it), the business
 * matters a department checks before acting, and per matter the measures with their action,
 * legal basis and owner department. Lists are JSON files in `intercept/measures/`, checked by
 * {@link parseMeasures} before use (credit.md §4.3: measures rest on law, localities add none).
 *
 * Actions: `BLOCK` (a category-1 measure with a legal basis: the business system must not
 * proceed), `WARN` (reference: an officer records a reason to proceed), `PASS` (noted only), and
 * rewards (`FAST_TRACK`, `TOLERANCE`, `DEPOSIT_WAIVER`). A disputed fact (under objection) takes
 * the measure's `onDisputed` action, which is never more severe than its action.
 */
import { z } from 'zod';
import { FACT_SUBTYPES, type FactSubtype, SEVERITIES, type Severity } from '../model/index.ts';
import { MeasuresInvalidError } from './errors.ts';

/** Format tag of a measures file. */
export const MEASURES_FORMAT = 'credit-data-space/joint-measures@1';
/** Punishment actions, most severe first. */
export const PUNISHMENTS = ['BLOCK', 'WARN'] as const;
/** Reward (incentive) actions. */
export const REWARDS = ['FAST_TRACK', 'TOLERANCE', 'DEPOSIT_WAIVER'] as const;
/** Every action a measure can take. */
export const ACTIONS = [...PUNISHMENTS, ...REWARDS, 'PASS'] as const;
/** A measure's action. */
export type Action = (typeof ACTIONS)[number];
/** A reward action. */
export type Reward = (typeof REWARDS)[number];

/** How severe an action is: BLOCK 3, WARN 2, a reward 1, PASS 0. */
export function severityOf(action: Action): number {
  return action === 'BLOCK' ? 3 : action === 'WARN' ? 2 : action === 'PASS' ? 0 : 1;
}
/** Whether an action is a reward. */
export const isReward = (a: Action): a is Reward => (REWARDS as readonly string[]).includes(a);

/** Grades a list may name (of EVALUATION facts: A–D; of TAX_GRADE facts: A, B, M, C, D). */
const GRADED: ReadonlySet<FactSubtype> = new Set(['EVALUATION', 'TAX_GRADE']);

const text = (max: number) => z.string().trim().min(1).max(max);
const ListSchema = z
  .object({
    name: text(100),
    subtypes: z.array(z.enum(FACT_SUBTYPES as [FactSubtype, ...FactSubtype[]])).min(1),
    severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
    grades: z
      .array(z.enum(['A', 'B', 'C', 'D', 'M']))
      .min(1)
      .optional(),
  })
  .strict();
const MeasureSchema = z
  .object({
    id: z.string().regex(/^[A-Z][A-Z0-9-]{1,39}$/, 'must be an upper-case code'),
    matter: z.string(),
    name: text(200),
    lists: z.array(z.string()).min(1),
    action: z.enum(ACTIONS),
    onDisputed: z.enum(ACTIONS).optional(),
    /** Category of the national basic list: 1 reduces rights, 2 management, 3 voluntary / incentive. */
    category: z.number().int().min(1).max(3).optional(),
    legalBasis: text(500),
    ownerDepartment: text(100),
  })
  .strict();
const MeasuresSchema = z
  .object({
    format: z.literal(MEASURES_FORMAT),
    id: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    title: text(200),
    basis: text(1000),
    effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    onDisputed: z.object({ punishment: z.enum(ACTIONS), reward: z.enum(ACTIONS) }).strict(),
    lists: z.record(z.string().regex(/^[a-z][a-z0-9-]{1,39}$/), ListSchema),
    matters: z.record(z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/), z.object({ name: text(100) }).strict()),
    measures: z.array(MeasureSchema).min(1),
  })
  .strict();

/** A list an enterprise can be on, defined over facts. */
export type ListDef = z.infer<typeof ListSchema>;
/** One measure, with its `onDisputed` action resolved. */
export type Measure = z.infer<typeof MeasureSchema> & { onDisputed: Action };
/** A checked measures list. */
export type MeasuresList = Omit<z.infer<typeof MeasuresSchema>, 'measures'> & { measures: Measure[] };

/**
 * Checks a measures list: known subtypes, severities and grades; every measure names a known
 * matter and known lists, has a legal basis and an owner department, and an `onDisputed` action no
 * more severe than its action; ids unique; every matter has a measure.
 * @throws MeasuresInvalidError naming the first problem
 */
export function parseMeasures(raw: unknown): MeasuresList {
  const parsed = MeasuresSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MeasuresInvalidError(`measures list: ${issue?.path.join('.') || 'root'}: ${issue?.message}`);
  }
  const m = parsed.data;
  const fail = (why: string): never => {
    throw new MeasuresInvalidError(`measures list ${m.id}@${m.version}: ${why}`);
  };
  for (const [id, l] of Object.entries(m.lists)) {
    if (l.grades && !l.subtypes.every((s) => GRADED.has(s))) fail(`list ${id} names grades of facts without grades`);
    if (l.severities && l.grades) fail(`list ${id} names both severities and grades`);
  }
  const ids = new Set<string>();
  const measures: Measure[] = m.measures.map((x) => {
    if (ids.has(x.id)) fail(`measure ${x.id} appears twice`);
    ids.add(x.id);
    if (!(x.matter in m.matters)) fail(`measure ${x.id} names an unknown matter ${x.matter}`);
    for (const l of x.lists) if (!(l in m.lists)) fail(`measure ${x.id} names an unknown list ${l}`);
    if (new Set(x.lists).size !== x.lists.length) fail(`measure ${x.id} names a list twice`);
    const onDisputed = x.onDisputed ?? (isReward(x.action) ? m.onDisputed.reward : m.onDisputed.punishment);
    const within = isReward(x.action)
      ? onDisputed === x.action || onDisputed === 'PASS'
      : !isReward(onDisputed) && severityOf(onDisputed) <= severityOf(x.action);
    if (!within) fail(`measure ${x.id}: a disputed fact cannot call for more than the measure itself`);
    return { ...x, onDisputed };
  });
  for (const matter of Object.keys(m.matters))
    if (!measures.some((x) => x.matter === matter)) fail(`matter ${matter} has no measure`);
  return Object.freeze({ ...m, measures });
}

/** What a list looks at in a fact (see `Listing`). */
export interface ListedFact {
  subtype: FactSubtype;
  severity?: Severity;
  grade?: string;
}

/** Whether a fact puts an enterprise on a list. */
export function onList(def: ListDef, f: ListedFact): boolean {
  if (!def.subtypes.includes(f.subtype)) return false;
  if (def.severities && (!f.severity || !def.severities.includes(f.severity))) return false;
  if (def.grades && (!f.grade || !(def.grades as string[]).includes(f.grade))) return false;
  return true;
}

/** The measures of a matter. @throws nothing: an unknown matter has none. */
export const measuresOf = (m: MeasuresList, matter: string): Measure[] => m.measures.filter((x) => x.matter === matter);

/** The fact subtypes whose facts can trigger a measure of the matter (what a check must read). */
export function triggerSubtypes(m: MeasuresList, matter: string): FactSubtype[] {
  const out = new Set<FactSubtype>();
  for (const x of measuresOf(m, matter)) for (const l of x.lists) for (const s of m.lists[l].subtypes) out.add(s);
  return [...out].sort();
}
