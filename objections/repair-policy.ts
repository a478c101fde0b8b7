/**
 * The credit repair policy as versioned configuration (credit.md §4.1): publicity periods by tier
 * (minor, general, serious; minimum and maximum months), which kinds of fact a centre repairs and
 * from which date their publicity counts, whether a credit commitment is required, and the
 * objection deadline. Shipped as `objections/policies/*.json`, checked by {@link parseRepairPolicy}.
 *
 * Not repairable here: dishonest-debtor listings (the court removes them once the judgment is
 * performed), positive and neutral facts, and grades (re-evaluated, not repaired).
 */
import { z } from 'zod';
import {
  addMonths,
  type CreditFact,
  FACT_SUBTYPES,
  type FactSubtype,
  SEVERITIES,
  type Severity,
} from '../model/index.ts';
import { RepairPolicyInvalidError } from './errors.ts';
import shipped from './policies/credit-repair-1.0.0.json' with { type: 'json' };

const months = z.number().int().min(0).max(120);
const PolicySchema = z
  .object({
    format: z.literal('credit-data-space/repair-policy@1'),
    id: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    basis: z.string().min(1).max(1000),
    tiers: z.object(
      Object.fromEntries(
        SEVERITIES.map((s) => [
          s,
          z.object({ name: z.string().min(1), minMonths: months, maxMonths: months }).strict(),
        ]),
      ) as Record<Severity, z.ZodObject<{ name: z.ZodString; minMonths: typeof months; maxMonths: typeof months }>>,
    ),
    repairable: z.partialRecord(
      z.enum(FACT_SUBTYPES as [FactSubtype, ...FactSubtype[]]),
      z
        .object({
          tier: z.enum([...SEVERITIES, 'BY_SEVERITY']),
          /** A payload date field where publicity starts (default: `publicFrom`, else the decision date). */
          startField: z.string().min(1).max(40).optional(),
        })
        .strict(),
    ),
    commitmentRequired: z.boolean(),
    maxEvidence: z.number().int().min(1).max(50),
    objections: z
      .object({
        deadlineWorkingDays: z.number().int().min(1).max(120),
        reminderWorkingDays: z.number().int().min(0).max(30),
      })
      .strict(),
  })
  .strict();

/** A checked repair policy. */
export type RepairPolicy = z.infer<typeof PolicySchema>;

/** How a fact may be repaired under a policy. */
export interface RepairRule {
  tier: Severity;
  minMonths: number;
  maxMonths: number;
  /** When its publicity started. */
  start: string;
  /** The first day a repair may be applied for (start + minimum period). */
  eligibleFrom: string;
}

/**
 * Checks a repair policy: tiers with minimum ≤ maximum and growing with severity, only negative
 * kinds of fact repairable, the reminder before the deadline.
 * @throws RepairPolicyInvalidError naming the first problem
 */
export function parseRepairPolicy(raw: unknown): RepairPolicy {
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RepairPolicyInvalidError(`repair policy: ${issue?.path.join('.') || 'root'}: ${issue?.message}`);
  }
  const p = parsed.data;
  let before = -1;
  for (const s of SEVERITIES) {
    const t = p.tiers[s];
    if (t.minMonths > t.maxMonths)
      throw new RepairPolicyInvalidError(`repair policy: tier ${s}: minimum above maximum`);
    if (t.minMonths < before)
      throw new RepairPolicyInvalidError(`repair policy: tier ${s} is shorter than a lighter one`);
    before = t.minMonths;
  }
  for (const s of Object.keys(p.repairable))
    if (s === 'EVALUATION' || s === 'HONOUR' || s === 'COMMITMENT' || s === 'ADMIN_LICENCE')
      throw new RepairPolicyInvalidError(`repair policy: ${s} facts are not negative and cannot be repaired`);
  if (p.objections.reminderWorkingDays >= p.objections.deadlineWorkingDays)
    throw new RepairPolicyInvalidError('repair policy: the reminder must come before the deadline');
  return Object.freeze(p);
}

/** The repair policy shipped in the repository. */
export const REPAIR_POLICY: RepairPolicy = parseRepairPolicy(shipped);

/** How a fact may be repaired, or `undefined` when the policy does not repair its kind. */
export function repairRule(policy: RepairPolicy, fact: CreditFact): RepairRule | undefined {
  const r = policy.repairable[fact.subtype];
  if (!r || fact.polarity !== 'NEGATIVE') return undefined;
  // A penalty without a severity is taken as serious (the longest period: never repaired too early).
  const tier: Severity = r.tier === 'BY_SEVERITY' ? (fact.severity ?? 'SERIOUS') : r.tier;
  const field = r.startField ? fact.payload?.[r.startField] : undefined;
  const start =
    typeof field === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(field) ? field : (fact.publicFrom ?? fact.decisionDate);
  const { minMonths, maxMonths } = policy.tiers[tier];
  return { tier, minMonths, maxMonths, start, eligibleFrom: addMonths(start, minMonths) };
}
