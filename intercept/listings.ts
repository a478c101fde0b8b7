/**
 * Reading listings: the live facts of the given subtypes about each enterprise of a batch, as
 * this node holds them, reduced to what a check needs (no payload beyond a grade). Used for the
 * node's own part of a check and to answer another centre's (`/credit/intercept/1.0.0`).
 *
 * Live: `ACTIVE` or `DISPUTED` (repaired, expired and corrected facts never count, credit.md
 * §4.4), public already (`publicFrom`, else the decision date, not after today), its publicity
 * not ended (`publicUntil` not before today), and for an abnormal-operation listing not removed.
 */
import type { CreditFact, FactSubtype } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { Listing } from './decide.ts';

/** Enterprises read at once (the store's reads run in parallel in the database's threads). */
export const READ_CONCURRENCY = 32;

/** Whether a fact is a live listing on `today` (`YYYY-MM-DD`). */
export function isLive(f: CreditFact, today: string): boolean {
  if (f.status !== 'ACTIVE' && f.status !== 'DISPUTED') return false;
  if ((f.publicFrom ?? f.decisionDate) > today) return false;
  if (f.publicUntil !== undefined && f.publicUntil < today) return false;
  const removed = f.subtype === 'ABNORMAL_LIST' ? f.payload?.removedOn : undefined;
  return !(typeof removed === 'string' && removed <= today);
}

/** A live fact as a listing served by `node`. */
export function toListing(f: CreditFact, node: string): Listing {
  const grade = f.subtype === 'EVALUATION' || f.subtype === 'TAX_GRADE' ? f.payload?.grade : undefined;
  return {
    factId: f.id,
    subtype: f.subtype,
    status: f.status as Listing['status'],
    ...(f.severity ? { severity: f.severity } : {}),
    ...(typeof grade === 'string' ? { grade } : {}),
    decisionDate: f.decisionDate,
    ...(f.publicUntil ? { publicUntil: f.publicUntil } : {}),
    ...(f.legalDocumentRef ? { legalDocumentRef: f.legalDocumentRef } : {}),
    sourceUnit: f.sourceUnit,
    originNode: f.originNode,
    node,
  };
}

/** Runs `work` for every index below `n`, `concurrency` at a time. */
export async function forEachIndex(n: number, concurrency: number, work: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/**
 * The live listings of each enterprise of `usccs` (same order) among facts of `subtypes`.
 * @param today `YYYY-MM-DD`
 */
export async function readListings(
  profiles: ProfileStore,
  usccs: readonly string[],
  subtypes: readonly FactSubtype[],
  node: string,
  today: string,
  signal?: AbortSignal,
): Promise<Listing[][]> {
  const wanted = new Set<string>(subtypes);
  const out: Listing[][] = new Array(usccs.length);
  await forEachIndex(usccs.length, READ_CONCURRENCY, async (i) => {
    signal?.throwIfAborted();
    const found: Listing[] = [];
    // One range per enterprise: a centre holds a few result facts each, cheaper read together
    // than one range per section.
    if (wanted.size > 0)
      for (const f of await profiles.getFacts(usccs[i]))
        if (wanted.has(f.subtype) && isLive(f, today)) found.push(toListing(f, node));
    out[i] = found;
  });
  return out;
}
