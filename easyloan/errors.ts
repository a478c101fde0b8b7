/**
 * Named errors of the Credit Easy-Loan platform (信易贷), the banks' lending desks and post-loan
 * monitoring (信用波动预警). Each carries a stable `code` that the API and the federation protocols
 * pass on unchanged (DESIGN §10); messages name the problem, never an enterprise's data.
 */
import { CreditError } from '../model/errors.ts';

export { ForbiddenError, InvalidInputError, NotFoundError } from '../model/errors.ts';

/** No published product offers the amount and term asked for. */
export class NoMatchingProductError extends CreditError {
  static override name = 'NoMatchingProductError';
  override readonly code = 'NO_MATCHING_PRODUCT';
}

/** Products offer the amount and term, but none admits this enterprise (city, industry, minimum grade). */
export class NotEligibleError extends CreditError {
  static override name = 'NotEligibleError';
  override readonly code = 'NOT_ELIGIBLE';
}

/** The enterprise has not registered on the platform yet. */
export class NotRegisteredError extends CreditError {
  static override name = 'NotRegisteredError';
  override readonly code = 'NOT_REGISTERED';
}

/** A decision (or a forwarded application) names an application that was not forwarded to this bank. */
export class NotForwardedError extends CreditError {
  static override name = 'NotForwardedError';
  override readonly code = 'NOT_FORWARDED';
}

/** The bank already decided this application: one decision per bank and application. */
export class AlreadyDecidedError extends CreditError {
  static override name = 'AlreadyDecidedError';
  override readonly code = 'ALREADY_DECIDED';
}

/** A decision outside what the product and the application allow (amount, term, rate, reason). */
export class DecisionInvalidError extends CreditError {
  static override name = 'DecisionInvalidError';
  override readonly code = 'DECISION_INVALID';
}

/** The node plays no part in this: e.g. a product published at a node that is not a bank. */
export class WrongRoleError extends CreditError {
  static override name = 'WrongRoleError';
  override readonly code = 'WRONG_ROLE';
}

/** No live consent with the purpose `post-loan-monitoring` covers the subscription. */
export class MonitoringConsentRequiredError extends CreditError {
  static override name = 'MonitoringConsentRequiredError';
  override readonly code = 'MONITORING_CONSENT_REQUIRED';
  /** Why: `NO_CONSENT`, or the consent's status (`REVOKED`, `EXPIRED`, `PAUSED`, `REQUESTED`, `REJECTED`). */
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

/** The bank does not lend to the enterprise (no loan on its book that is not settled). */
export class NotABorrowerError extends CreditError {
  static override name = 'NotABorrowerError';
  override readonly code = 'NOT_A_BORROWER';
}

/** An alert for a subscription that has ended (consent revoked or expired, or unsubscribed). */
export class MonitoringEndedError extends CreditError {
  static override name = 'MonitoringEndedError';
  override readonly code = 'MONITORING_ENDED';
}

/** An alert id the bank does not hold. */
export class AlertNotFoundError extends CreditError {
  static override name = 'AlertNotFoundError';
  override readonly code = 'ALERT_NOT_FOUND';
}

/** A fact recorded while the node runs has an id this node already holds (changes go through objections and repair). */
export class FactExistsError extends CreditError {
  static override name = 'FactExistsError';
  override readonly code = 'FACT_EXISTS';
}
