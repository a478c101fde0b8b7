/**
 * Named errors of check-and-intercept (联合奖惩). Each carries a stable `code` that the API and the
 * federation protocol pass on unchanged (DESIGN §10); messages name the problem, never an
 * enterprise's data.
 */
import { CreditError } from '../model/errors.ts';

export { ForbiddenError, InvalidInputError, NotFoundError } from '../model/errors.ts';

/** A measures list is malformed or inconsistent (unknown subtype, list, matter or action; a measure without a legal basis). */
export class MeasuresInvalidError extends CreditError {
  static override name = 'MeasuresInvalidError';
  override readonly code = 'MEASURES_INVALID';
}

/** The matter checked for is not on the measures list in force. */
export class UnknownMatterError extends CreditError {
  static override name = 'UnknownMatterError';
  override readonly code = 'UNKNOWN_MATTER';
}

/** A check or feedback names more enterprises than one call may (or none). */
export class BatchSizeError extends CreditError {
  static override name = 'BatchSizeError';
  override readonly code = 'BATCH_TOO_LARGE';
}

/** A USCC of a check is malformed; `indexes` says which (positions in the batch, never the codes). */
export class BadUsccError extends CreditError {
  static override name = 'BadUsccError';
  override readonly code = 'BAD_USCC';
  readonly indexes: number[];
  constructor(message: string, indexes: number[]) {
    super(message);
    this.indexes = indexes;
  }
}

/** Feedback names a check this node did not run (or that another department ran). */
export class CheckNotFoundError extends CreditError {
  static override name = 'CheckNotFoundError';
  override readonly code = 'CHECK_NOT_FOUND';
}

/** Feedback for an enterprise of a check was already posted. */
export class FeedbackExistsError extends CreditError {
  static override name = 'FeedbackExistsError';
  override readonly code = 'FEEDBACK_EXISTS';
}

/** The node is not a credit centre: it checks nothing. */
export class NotACentreError extends CreditError {
  static override name = 'NotACentreError';
  override readonly code = 'NOT_A_CENTRE';
}
