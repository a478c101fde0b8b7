/**
 * Named errors of the homomorphic-encryption core. Messages name the argument, the slot index or
 * the rule that failed, never a figure, a key or a ciphertext byte (DESIGN §12).
 *
 * `crypto/` imports no other subsystem; `model/errors.ts` is the one exception, for the shared
 * `CreditError` base whose `code` the API maps at its boundary.
 */
import { CreditError } from '../../model/errors.ts';

/** What a refused serialized input was meant to be. */
export type HeInputKind = 'ciphertext' | 'publicKey';

/**
 * A serialized ciphertext or public key that is refused before use: wrong size, not a SEAL
 * object, saved under other encryption parameters, or an object of the wrong shape.
 */
export class HeInputError extends CreditError {
  static override name = 'HeInputError';
  override readonly code = 'BAD_CIPHERTEXT';
  /** Which input was refused. */
  readonly input: HeInputKind;
  constructor(input: HeInputKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.input = input;
  }
}

/**
 * A plaintext figure, a feature, a weight or a scoring model that could leave the range in which
 * BFV arithmetic modulo t is exact. Refused, never wrapped around.
 */
export class HeRangeError extends CreditError {
  static override name = 'HeRangeError';
  override readonly code = 'HE_VALUE_OUT_OF_RANGE';
}

/**
 * A decrypted result outside the range the protocol can produce: a contribution encrypted under
 * another key, a missing contributor (masks that do not cancel) or a tampered ciphertext.
 */
export class HeResultError extends CreditError {
  static override name = 'HeResultError';
  override readonly code = 'HE_RESULT_OUT_OF_RANGE';
}

/** Inputs of the pairwise mask derivation that would give no or a predictable mask. */
export class HeMaskError extends CreditError {
  static override name = 'HeMaskError';
  override readonly code = 'BAD_MASK_INPUT';
}

/** The encryption parameters the library builds differ from the pinned parameter set. */
export class HeParameterError extends CreditError {
  static override name = 'HeParameterError';
  override readonly code = 'HE_PARAMETERS';
}

/** The worker pool's queue is full; retry later. */
export class HeBusyError extends CreditError {
  static override name = 'HeBusyError';
  override readonly code = 'HE_BUSY';
}

/** The worker pool was closed before the operation could run or finish. */
export class HePoolClosedError extends CreditError {
  static override name = 'HePoolClosedError';
  override readonly code = 'HE_POOL_CLOSED';
}

/** A worker thread failed (crashed or exited) while running an operation. */
export class HeWorkerError extends CreditError {
  static override name = 'HeWorkerError';
  override readonly code = 'HE_WORKER_FAILED';
}

/** A key handle that names no live key pair (released, or lost with its worker). */
export class HeKeyHandleError extends CreditError {
  static override name = 'HeKeyHandleError';
  override readonly code = 'HE_UNKNOWN_KEY';
}

/** Every error class of this module by name, to rebuild errors that crossed a thread. */
export const HE_ERROR_CLASSES = {
  HeInputError,
  HeRangeError,
  HeResultError,
  HeMaskError,
  HeParameterError,
  HeBusyError,
  HePoolClosedError,
  HeWorkerError,
  HeKeyHandleError,
} as const;
