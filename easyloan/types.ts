/**
 * The shapes of the Credit Easy-Loan platform: loan products (published by banks), enterprises
 * registered on the platform, financing applications with their matches and the banks' decisions,
 * and the checks each input passes (zod; messages name fields and rules, never values).
 */
import { z } from 'zod';
import { purposeById } from '../authz/purposes.ts';
import { GRADES, type Grade } from '../evaluation/scheme.ts';
import type { CityId } from '../model/index.ts';
import { InvalidInputError } from './errors.ts';

/** Purpose of the consents a loan application asks for. */
export const LOAN_PURPOSE = 'loan-application';
/** Purpose of the consents post-loan monitoring runs under. */
export const MONITORING_PURPOSE = 'post-loan-monitoring';
/** Largest amount in yuan (the joint exposure query's bound: 2^47 − 1). */
export const MAX_AMOUNT_YUAN = 2 ** 47 - 1;
/** Longest term in months. */
export const MAX_TERM_MONTHS = 360;
/** Highest yearly rate in percent (the judicial protection ceiling is far below). */
export const MAX_RATE_PCT = 36;
/** Closed list of reasons a bank gives for refusing an application. */
export const REFUSAL_REASONS = [
  'LISTED',
  'HIGH_EXPOSURE',
  'LOW_SCORE',
  'LOW_GRADE',
  'CONSENT_NOT_GIVEN',
  'INSUFFICIENT_DATA',
  'OUTSIDE_POLICY',
] as const;
/** Why a bank refused. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
/** The three cities of 厦漳泉. */
export const CITY_IDS = ['XM', 'ZZ', 'QZ'] as const satisfies readonly CityId[];

const NODE_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const INDUSTRY_RE = /^[A-T](\d{2,4})?$/;
const amount = z.number().int().min(1).max(MAX_AMOUNT_YUAN);
const term = z.number().int().min(1).max(MAX_TERM_MONTHS);
/** A yearly rate in percent, at most two decimals. */
const rate = z
  .number()
  .gt(0)
  .max(MAX_RATE_PCT)
  .refine((r) => Math.abs(Math.round(r * 100) - r * 100) < 1e-6, 'at most two decimals');
const text = (max: number) => z.string().trim().min(1).max(max);

/** What a bank officer publishes. */
export const ProductInputSchema = z
  .object({
    code: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1–40 letters, digits, _ or -'),
    name: text(100),
    minAmountYuan: amount,
    maxAmountYuan: amount,
    minTermMonths: term,
    maxTermMonths: term,
    minRatePct: rate,
    maxRatePct: rate,
    /** Cities whose enterprises may apply (empty: all of 厦漳泉). */
    cities: z.array(z.enum(CITY_IDS)).max(3).default([]),
    /** GB/T 4754 sections or classes admitted (e.g. `C`, `C33`; empty: all). */
    industries: z.array(z.string().regex(INDUSTRY_RE, 'must be a GB/T 4754 code such as C or C33')).max(40).default([]),
    /** Lowest public credit grade admitted (A best; absent: none required). */
    minGrade: z.enum(GRADES).optional(),
    /** The consent scopes the bank needs to decide (sections and joint queries). */
    scopes: z.array(z.string()).min(1).max(20),
    /** Validity of the consent asked for, in days. */
    consentDays: z.number().int().min(1).max(90).default(30),
  })
  .strict();
/** What a bank officer publishes. */
export type ProductInput = z.input<typeof ProductInputSchema>;

/** A loan product as the platform keeps it. */
export interface Product extends Omit<z.output<typeof ProductInputSchema>, 'minGrade'> {
  /** `<bank>:<code>`. */
  id: string;
  bank: string;
  minGrade?: Grade;
  status: 'ACTIVE' | 'WITHDRAWN';
  /** Officer who published (pseudonymous id). */
  publishedBy: string;
  publishedAt: string;
  /** 1 for the first publication, +1 for each republication. */
  version: number;
}

/**
 * Checks a product as published by `bank`'s officer `by`.
 * @throws InvalidInputError naming the fields at fault
 */
export function parseProduct(input: unknown, bank: string, by: string, at: string, version = 1): Product {
  const r = ProductInputSchema.safeParse(input);
  if (!r.success) throw invalid('invalid product', r.error);
  const p = r.data;
  const problems: Array<{ field: string; rule: string; message: string }> = [];
  if (p.minAmountYuan > p.maxAmountYuan)
    problems.push({ field: 'minAmountYuan', rule: 'RANGE', message: 'minAmountYuan must not exceed maxAmountYuan' });
  if (p.minTermMonths > p.maxTermMonths)
    problems.push({ field: 'minTermMonths', rule: 'RANGE', message: 'minTermMonths must not exceed maxTermMonths' });
  if (p.minRatePct > p.maxRatePct)
    problems.push({ field: 'minRatePct', rule: 'RANGE', message: 'minRatePct must not exceed maxRatePct' });
  const allowed = purposeById(LOAN_PURPOSE)?.scopes ?? [];
  const bad = p.scopes.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length > 0)
    problems.push({ field: 'scopes', rule: 'SCOPE', message: `unknown or not allowed for ${LOAN_PURPOSE}: ${bad}` });
  if (new Set(p.scopes).size !== p.scopes.length)
    problems.push({ field: 'scopes', rule: 'REPEATED', message: 'scopes repeat' });
  if (!NODE_RE.test(bank)) problems.push({ field: 'bank', rule: 'NODE', message: 'not a node id' });
  if (problems.length > 0) throw new InvalidInputError(`invalid product: ${problems[0].message}`, problems);
  const { minGrade, ...rest } = p;
  return {
    ...rest,
    ...(minGrade ? { minGrade } : {}),
    id: `${bank}:${p.code}`,
    bank,
    status: 'ACTIVE',
    publishedBy: by,
    publishedAt: at,
    version,
  };
}

/** An enterprise registered on the platform. */
export interface PlatformEnterprise {
  uscc: string;
  /** From the USCC's registration region. */
  city: CityId | 'OTHER';
  /** GB/T 4754 code the enterprise declared (its section letter is what figures group by). */
  industry: string;
  registeredAt: string;
}

/** What an enterprise files. */
export const ApplicationInputSchema = z.object({ amountYuan: amount, termMonths: term, purpose: text(200) }).strict();
/** What an enterprise files. */
export type ApplicationInput = z.infer<typeof ApplicationInputSchema>;

/** The grade the platform matched with: the home city centre's current grade, from its signed attestation. */
export interface MatchedGrade {
  grade: Grade;
  evaluator: string;
  city: CityId;
  evaluatedAt: string;
  validUntil: string;
}

/** A bank's answer. */
export interface LoanDecision {
  outcome: 'APPROVED' | 'REFUSED';
  amountYuan?: number;
  termMonths?: number;
  ratePct?: number;
  reasonCode?: RefusalReason;
  /** Officer who decided (pseudonymous id at the bank). */
  officer: string;
  decidedAt: string;
}

/** An application matched to one bank's product. */
export interface LoanMatch {
  bank: string;
  productId: string;
  productCode: string;
  productName: string;
  /** Exactly the scopes the product needs: what the consent request asks for. */
  scopes: string[];
  /** `FORWARDED` once the bank created the consent request; `UNDELIVERED` until the bank answers. */
  status: 'UNDELIVERED' | 'FORWARDED' | 'DECIDED';
  consentId?: string;
  forwardedAt?: string;
  decision?: LoanDecision;
}

/** A financing application on the platform. */
export interface LoanApplication extends ApplicationInput {
  id: string;
  uscc: string;
  city: PlatformEnterprise['city'];
  industry: string;
  filedAt: string;
  grade?: MatchedGrade;
  /** Why no grade was used (`UNAVAILABLE`: the home centre did not answer; `NOT_GRADED`). */
  gradeMissing?: string;
  matches: LoanMatch[];
}

/** What a bank's decision says, as the officer gives it. */
export const DecisionInputSchema = z
  .object({
    applicationId: z.string().regex(/^[A-Za-z0-9_-]{16,43}$/, 'not an application id'),
    approve: z.boolean(),
    amountYuan: amount.optional(),
    termMonths: term.optional(),
    ratePct: rate.optional(),
    reasonCode: z.enum(REFUSAL_REASONS).optional(),
  })
  .strict();
/** What a bank's decision says, as the officer gives it. */
export type DecisionInput = z.infer<typeof DecisionInputSchema>;

/**
 * Checks a decision against the application and the product it was matched to: the problem, or
 * `undefined` when the decision is within bounds.
 */
export function decisionProblem(
  d: DecisionInput,
  app: Pick<LoanApplication, 'amountYuan' | 'termMonths'>,
  product: Pick<
    Product,
    'minAmountYuan' | 'maxAmountYuan' | 'minTermMonths' | 'maxTermMonths' | 'minRatePct' | 'maxRatePct'
  >,
): string | undefined {
  if (!d.approve) {
    if (!d.reasonCode) return `a refusal needs a reasonCode (${REFUSAL_REASONS.join(', ')})`;
    if (d.amountYuan !== undefined || d.ratePct !== undefined || d.termMonths !== undefined)
      return 'a refusal carries no amount, term or rate';
    return undefined;
  }
  if (d.reasonCode) return 'an approval carries no reasonCode';
  if (d.amountYuan === undefined || d.ratePct === undefined) return 'an approval needs amountYuan and ratePct';
  if (d.amountYuan > app.amountYuan) return 'the approved amount exceeds the amount applied for';
  if (d.amountYuan < product.minAmountYuan || d.amountYuan > product.maxAmountYuan)
    return "the approved amount is outside the product's range";
  const t = d.termMonths ?? app.termMonths;
  if (t < product.minTermMonths || t > product.maxTermMonths) return "the term is outside the product's range";
  if (d.ratePct < product.minRatePct || d.ratePct > product.maxRatePct)
    return "the rate is outside the product's range";
  return undefined;
}

/** The decision as stored, from a checked input. */
export function decisionOf(d: DecisionInput, app: Pick<LoanApplication, 'termMonths'>, officer: string, at: string) {
  const out: LoanDecision = d.approve
    ? {
        outcome: 'APPROVED',
        amountYuan: d.amountYuan,
        termMonths: d.termMonths ?? app.termMonths,
        ratePct: d.ratePct,
        officer,
        decidedAt: at,
      }
    : { outcome: 'REFUSED', reasonCode: d.reasonCode, officer, decidedAt: at };
  return out;
}

/** An InvalidInputError from a zod error, naming fields and rules only. */
export function invalid(what: string, error: z.ZodError): InvalidInputError {
  const details = error.issues.map((i) => ({ field: i.path.join('.') || '(input)', rule: i.code, message: i.message }));
  return new InvalidInputError(`${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, details);
}

/** Whether an industry code is a GB/T 4754 code (`C`, `C33`, `C3311`). */
export const isIndustryCode = (s: unknown): s is string => typeof s === 'string' && INDUSTRY_RE.test(s);
