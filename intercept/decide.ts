/**
 * The decision of a check for one enterprise: the measures of the matter matched against the
 * listings found on every centre that answered (credit.md §4.4, steps 2–4).
 *
 * - Each measure of the matter whose list holds one of the enterprise's live listings applies,
 *   with its action, or its `onDisputed` action when the fact is under objection. Each becomes a
 *   reason naming the listing (fact, node, source unit, document), the measure and its legal basis.
 * - The decision is the most severe punishment (`BLOCK` over `WARN`); without one, `REWARD` with
 *   the rewards that apply (a subject under a punishment gets no incentive); otherwise `PASS`.
 * - A centre that did not answer could hold a listing: unless the decision is already `BLOCK`, it
 *   is `INCOMPLETE` and names the centres (never a silent `PASS`).
 */
import type { FactSubtype, Severity } from '../model/index.ts';
import { type Action, isReward, type MeasuresList, measuresOf, onList, type Reward, severityOf } from './measures.ts';

/** A fact that may put an enterprise on a list, as a centre serves it to a check (no payload). */
export interface Listing {
  factId: string;
  subtype: FactSubtype;
  /** Only live facts are listings: ACTIVE, or DISPUTED (under objection). */
  status: 'ACTIVE' | 'DISPUTED';
  severity?: Severity;
  /** The grade of an EVALUATION or TAX_GRADE fact. */
  grade?: string;
  decisionDate: string;
  publicUntil?: string;
  legalDocumentRef?: string;
  sourceUnit: string;
  /** The node that determined the fact. */
  originNode: string;
  /** The node that served it. */
  node: string;
}

/** Why a measure applies. */
export interface Reason {
  measure: string;
  measureName: string;
  /** What the measure calls for here (its `onDisputed` action when the fact is disputed). */
  action: Action;
  /** The measure's action as listed. */
  measureAction: Action;
  disputed: boolean;
  legalBasis: string;
  ownerDepartment: string;
  list: string;
  listName: string;
  listing: Listing;
}

/** A check's outcome for one enterprise. */
export type Decision = 'PASS' | 'WARN' | 'BLOCK' | 'REWARD' | 'INCOMPLETE';
/** Outcomes a check can have. */
export const DECISIONS: readonly Decision[] = ['PASS', 'WARN', 'BLOCK', 'REWARD', 'INCOMPLETE'];

/** One enterprise's decision with its reasons. */
export interface EnterpriseDecision {
  uscc: string;
  decision: Decision;
  /** The rewards that apply (decision `REWARD`). */
  rewards: Reward[];
  reasons: Reason[];
  /** Centres that did not answer: their listings are not reflected. */
  unavailable: string[];
}

/** Decides one enterprise's check for a matter from its live listings. */
export function decide(
  measures: MeasuresList,
  matter: string,
  uscc: string,
  listings: readonly Listing[],
  unavailable: readonly string[] = [],
): EnterpriseDecision {
  const reasons: Reason[] = [];
  const seen = new Set<string>();
  if (listings.length > 0)
    for (const m of measuresOf(measures, matter))
      for (const list of m.lists) {
        const def = measures.lists[list];
        for (const l of listings) {
          // A copy of a fact served by two nodes is one listing.
          const key = `${m.id}\0${list}\0${l.factId}`;
          if (seen.has(key) || !onList(def, l)) continue;
          seen.add(key);
          const disputed = l.status === 'DISPUTED';
          reasons.push({
            measure: m.id,
            measureName: m.name,
            action: disputed ? m.onDisputed : m.action,
            measureAction: m.action,
            disputed,
            legalBasis: m.legalBasis,
            ownerDepartment: m.ownerDepartment,
            list,
            listName: def.name,
            listing: l,
          });
        }
      }
  let worst = 0;
  for (const r of reasons) if (!isReward(r.action)) worst = Math.max(worst, severityOf(r.action));
  let decision: Decision = worst === 3 ? 'BLOCK' : worst === 2 ? 'WARN' : 'PASS';
  let rewards: Reward[] = [];
  let shown = reasons;
  if (worst >= 2) shown = reasons.filter((r) => !isReward(r.action));
  else {
    rewards = [...new Set(reasons.map((r) => r.action).filter(isReward))].sort();
    if (rewards.length > 0) decision = 'REWARD';
  }
  if (unavailable.length > 0 && decision !== 'BLOCK') decision = 'INCOMPLETE';
  return { uscc, decision, rewards, reasons: shown, unavailable: [...unavailable] };
}
