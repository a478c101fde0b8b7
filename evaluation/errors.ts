/**
 * Named errors of evaluation and mutual recognition. Each carries a stable `code` that the API
 * and the federation protocol pass on unchanged (DESIGN §10); messages name the problem, never an
 * enterprise's data.
 */
import { CreditError } from '../model/errors.ts';

export { ForbiddenError, InvalidInputError, NotFoundError } from '../model/errors.ts';

/** An indicator model (scheme) is malformed or inconsistent: unknown indicator, weights, thresholds. */
export class SchemeInvalidError extends CreditError {
  static override name = 'SchemeInvalidError';
  override readonly code = 'SCHEME_INVALID';
}

/** An attestation is malformed, tampered with, or not signed by the evaluator it names. */
export class AttestationInvalidError extends CreditError {
  static override name = 'AttestationInvalidError';
  override readonly code = 'ATTESTATION_INVALID';
}

/** Why an agreement was refused. */
export type AgreementProblem =
  | 'MALFORMED'
  | 'ONE_SIDED'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_PARTY'
  | 'NOT_A_PARTY'
  | 'ALREADY_SIGNED'
  | 'UNKNOWN_SCHEME';

/** A mutual-recognition agreement is malformed, signed by one side only, or badly signed. */
export class AgreementInvalidError extends CreditError {
  static override name = 'AgreementInvalidError';
  override readonly code = 'AGREEMENT_INVALID';
  /** The stable reason, e.g. `ONE_SIDED`. */
  readonly reason: AgreementProblem;
  constructor(message: string, reason: AgreementProblem, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** This node does not grade the enterprise: its domicile is in another city, or it is not held here. */
export class NotResponsibleError extends CreditError {
  static override name = 'NotResponsibleError';
  override readonly code = 'NOT_RESPONSIBLE';
}

/** The node is not a city node (no city in its config): it grades no one. */
export class NotACityNodeError extends CreditError {
  static override name = 'NotACityNodeError';
  override readonly code = 'NOT_A_CITY_NODE';
}
