/** Checking the feedback of a business system on a check, item by item, before anything is kept. */
import { validateUscc } from '../model/index.ts';
import { FEEDBACK_OUTCOMES, type FeedbackOutcome, type FeedbackRecord } from './store.ts';

/** Longest feedback reason. */
export const MAX_REASON_LENGTH = 500;

/** One feedback item. */
export interface FeedbackItem {
  uscc: string;
  outcome: FeedbackOutcome;
  /** Required when the decision was overridden. */
  reason?: string;
}

/** A problem with one item, named by its position (never by the code). */
export interface FeedbackProblem {
  field: string;
  rule: string;
  message: string;
}

/**
 * The records to keep for `items`, or the problems of the items that are wrong: each names an
 * enterprise of the check once, with a known outcome, and a reason of at most
 * {@link MAX_REASON_LENGTH} characters when the decision was overridden.
 */
export function checkFeedback(
  items: readonly FeedbackItem[],
  checked: readonly string[],
  principal: string,
  at: string,
): { records: Array<[uscc: string, record: FeedbackRecord]>; problems: FeedbackProblem[] } {
  const inCheck = new Set(checked);
  const seen = new Set<string>();
  const problems: FeedbackProblem[] = [];
  const records: Array<[string, FeedbackRecord]> = [];
  for (const [i, item] of items.entries()) {
    const field = `items[${i}]`;
    const v = validateUscc(typeof item?.uscc === 'string' ? item.uscc : '');
    const code = v.valid ? v.code : undefined;
    const reason = typeof item?.reason === 'string' ? item.reason.trim() || undefined : undefined;
    const problem = (f: string, rule: string, message: string) =>
      problems.push({ field: `${field}.${f}`, rule, message });
    if (!code || !inCheck.has(code)) problem('uscc', 'NOT_IN_CHECK', 'not an enterprise of this check');
    else if (seen.has(code)) problem('uscc', 'DUPLICATE', 'named twice in this feedback');
    else if (!(FEEDBACK_OUTCOMES as readonly string[]).includes(item.outcome))
      problem('outcome', 'ENUM', `one of ${FEEDBACK_OUTCOMES.join(', ')}`);
    else if (item.outcome === 'OVERRIDDEN' && !reason)
      problem('reason', 'REQUIRED', 'an overridden decision needs a reason');
    else if (reason !== undefined && reason.length > MAX_REASON_LENGTH)
      problem('reason', 'LENGTH', `at most ${MAX_REASON_LENGTH} characters`);
    else {
      seen.add(code);
      records.push([code, { outcome: item.outcome, ...(reason ? { reason } : {}), at, principal }]);
    }
  }
  return { records, problems };
}
