/**
 * A correction of a fact after an accepted objection: only the fields a determining unit may
 * correct, and the corrected fact must pass the same one-table rules as at ingest (payload fields
 * of its subtype, publicity windows by severity, no prohibited personal fields).
 */
import { type CreditFact, validateRecord } from '../model/index.ts';
import { InvalidInputError } from './errors.ts';
import type { FactUpdate } from './fact-changes.ts';

/** Fields a correction may change (`payload` is merged into the fact's payload). */
export const CORRECTABLE: ReadonlySet<string> = new Set([
  'severity',
  'decisionDate',
  'publicFrom',
  'publicUntil',
  'legalDocumentRef',
  'payload',
]);

/**
 * The corrected fields of `fact`, checked.
 * @throws InvalidInputError naming the field and rule that fail
 */
export function correctedFields(fact: CreditFact, correction: unknown, originNode: string): FactUpdate['fields'] {
  if (typeof correction !== 'object' || correction === null || Array.isArray(correction))
    throw new InvalidInputError('a correction names the corrected fields');
  const keys = Object.keys(correction);
  if (keys.length === 0 || keys.some((k) => !CORRECTABLE.has(k)))
    throw new InvalidInputError(`a correction may change ${[...CORRECTABLE].join(', ')}`);
  const fix = correction as Record<string, unknown>;
  const payload = fix.payload;
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload)))
    throw new InvalidInputError('payload must be an object of corrected payload fields');
  const candidate = { ...fact, ...fix, payload: { ...fact.payload, ...(payload as object) }, status: 'ACTIVE' };
  const v = validateRecord('fact', candidate, {
    originNode,
    tokenise: () => {
      throw new InvalidInputError('a fact carries no ID numbers');
    },
  });
  if (!v.ok) throw new InvalidInputError(`the corrected fact is invalid: ${v.errors[0].message}`, v.errors);
  const rec = v.value.record as CreditFact;
  const out: Record<string, unknown> = {};
  for (const k of CORRECTABLE) out[k] = rec[k as keyof CreditFact];
  if (keys.every((k) => JSON.stringify(out[k]) === JSON.stringify(fact[k as keyof CreditFact])))
    throw new InvalidInputError('the correction changes nothing');
  return out as FactUpdate['fields'];
}
