/**
 * Named errors of the private list check. Both extend the project's `CreditError`, so the API
 * boundary maps them by `code`; messages name positions and rules, never inputs, points or keys.
 */
import { CreditError } from '../../model/errors.ts';

/** Why a message from the other party was refused. */
export type PsiInputCode =
  /** A point is not a canonical 32-byte X25519 u-coordinate, or has small order (identity after cofactor clearing). */
  | 'BAD_POINT'
  /** A batch holds more inputs or points than the limit. */
  | 'BATCH_TOO_LARGE'
  /** A frame, snapshot or delta does not parse, or a response does not match its request. */
  | 'BAD_ENCODING';

/** A point, batch or frame received from the other party that the list check refuses; nothing changed. */
export class PsiInputError extends CreditError {
  static override name = 'PsiInputError';
  override readonly code: PsiInputCode;
  /** Position of the offending point in its batch, when one point is at fault. */
  readonly index: number | undefined;
  constructor(message: string, code: PsiInputCode, index?: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.index = index;
  }
}

/** Why a list snapshot or delta was refused by a mirror. */
export type PsiListCode =
  /** The snapshot or delta was prepared under another OPRF key than the mirror follows. */
  | 'LIST_KEY_MISMATCH'
  /** A delta does not start at the mirror's version (fetch a snapshot or the missing delta). */
  | 'LIST_VERSION_GAP'
  /** The keys, the change chain or the count do not match the signed statement. */
  | 'LIST_DIGEST_MISMATCH'
  /** The signature is missing or does not verify. */
  | 'LIST_BAD_SIGNATURE';

/** A list snapshot or delta that a mirror refuses; the mirror keeps its previous state. */
export class PsiListError extends CreditError {
  static override name = 'PsiListError';
  override readonly code: PsiListCode;
  constructor(message: string, code: PsiListCode, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
