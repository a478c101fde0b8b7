/**
 * Check-and-intercept (联合奖惩, DESIGN §9): the measures list as versioned data, the decisions it
 * gives for an enterprise's listings, and the service a centre runs for government business
 * systems (checks, feedback, counters). Start from {@link createInterceptService}.
 */
export * from './decide.ts';
export * from './errors.ts';
export { checkFeedback, type FeedbackItem, MAX_REASON_LENGTH } from './feedback.ts';
export { isLive, readListings, toListing } from './listings.ts';
export * from './measures.ts';
export * from './measures-list.ts';
export { renderInterceptMetrics } from './metrics.ts';
export type { InterceptPeers, ListingsAnswer, ListingsRequest } from './ports.ts';
export * from './service.ts';
export {
  type CheckRecord,
  type CounterRow,
  type Counts,
  FEEDBACK_OUTCOMES,
  type FeedbackOutcome,
  type FeedbackRecord,
} from './store.ts';
