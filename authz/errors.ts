/** Named errors of authorisation; the API maps their `code` to `extensions.code`. */
import { CreditError } from '../model/errors.ts';

export { ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError } from '../model/errors.ts';

/** No live consent covers the request; `missing` lists the scopes not covered. */
export class ConsentRequiredError extends CreditError {
  static override name = 'ConsentRequiredError';
  override readonly code = 'CONSENT_REQUIRED';
  readonly missing: string[];
  readonly reason: string;
  constructor(message: string, missing: string[], reason: string) {
    super(message);
    this.missing = missing;
    this.reason = reason;
  }
}

/** A consent document is forged, altered, replayed or otherwise unacceptable. */
export class ConsentInvalidError extends CreditError {
  static override name = 'ConsentInvalidError';
  override readonly code = 'BAD_USER_INPUT';
}

/** A lifecycle transition that the consent's state does not allow. */
export class ConsentStateError extends CreditError {
  static override name = 'ConsentStateError';
  override readonly code = 'CONFLICT';
}

/** The consent is kept by another node (its home); lifecycle changes are made there only. */
export class WrongNodeError extends CreditError {
  static override name = 'WrongNodeError';
  override readonly code = 'WRONG_NODE';
  /** Node id of the consent's home. */
  readonly home: string;
  constructor(message: string, home: string) {
    super(message);
    this.home = home;
  }
}
