/**
 * Named errors of objections (信用异议), credit repair (信用修复) and fact changes. Each carries a
 * stable `code` that the API and the federation protocol pass on unchanged (DESIGN §10);
 * messages never carry an enterprise's data.
 */
import { CreditError } from '../model/errors.ts';

export { WrongNodeError } from '../authz/errors.ts';
export { ForbiddenError, InvalidInputError, NotFoundError } from '../model/errors.ts';

/** A repair policy file is malformed or inconsistent. */
export class RepairPolicyInvalidError extends CreditError {
  static override name = 'RepairPolicyInvalidError';
  override readonly code = 'REPAIR_POLICY_INVALID';
}

/** The fact is already under objection: one objection at a time, until it is decided. */
export class AlreadyDisputedError extends CreditError {
  static override name = 'AlreadyDisputedError';
  override readonly code = 'ALREADY_DISPUTED';
}

/** The fact is no longer in force (repaired, expired or withdrawn): nothing to object to or repair. */
export class FactNotActiveError extends CreditError {
  static override name = 'FactNotActiveError';
  override readonly code = 'NOT_ACTIVE';
}

/** The objection or repair application was already decided. */
export class AlreadyDecidedError extends CreditError {
  static override name = 'AlreadyDecidedError';
  override readonly code = 'ALREADY_DECIDED';
}

/** The fact cannot be repaired (a kind of fact the repair policy does not cover, or a grade). */
export class NotRepairableError extends CreditError {
  static override name = 'NotRepairableError';
  override readonly code = 'NOT_REPAIRABLE';
}

/** The minimum publicity period of the fact's tier has not passed; `eligibleFrom` says when it does. */
export class RepairTooEarlyError extends CreditError {
  static override name = 'RepairTooEarlyError';
  override readonly code = 'REPAIR_TOO_EARLY';
  readonly eligibleFrom: string;
  constructor(message: string, eligibleFrom: string) {
    super(message);
    this.eligibleFrom = eligibleFrom;
  }
}

/** A repair application for the fact is already waiting for a decision. */
export class RepairPendingError extends CreditError {
  static override name = 'RepairPendingError';
  override readonly code = 'REPAIR_PENDING';
}

/** The fact is under objection: the objection is decided before any repair. */
export class ObjectionPendingError extends CreditError {
  static override name = 'ObjectionPendingError';
  override readonly code = 'OBJECTION_PENDING';
}

/** A node the request depends on (the determining node, or every holder asked) did not answer. */
export class NodeUnavailableError extends CreditError {
  static override name = 'NodeUnavailableError';
  override readonly code = 'PEER_UNAVAILABLE';
}
