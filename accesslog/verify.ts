/**
 * Independent verification of access-log artefacts from files alone: a checkpoint's signature,
 * an entry's inclusion proof (a proof bundle) and the consistency of two checkpoints. Each
 * function names the first check that failed.
 */
import {
  bytesEqual,
  checkConsistency,
  fromBase64,
  leafHash,
  NoteError,
  type NoteVerifier,
  openCheckpoint,
  parseVerifierKey,
  rootFromInclusionProof,
  toBase64,
  toUtf8,
} from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import { subjectCommitment } from './log.ts';

/** A verification that failed; `message` says exactly which check. */
export class VerificationError extends CreditError {
  static override name = 'VerificationError';
  override readonly code = 'VERIFICATION_FAILED';
}

function fail(message: string, cause?: unknown): never {
  throw new VerificationError(message, cause ? { cause } : undefined);
}

function key(vkey: string): NoteVerifier {
  try {
    return parseVerifierKey(vkey.trim());
  } catch (err) {
    fail(`log key: ${(err as Error).message}`, err);
  }
}

/** Verifies a signed checkpoint against a log key; returns its contents. @throws VerificationError */
export function verifyCheckpointNote(note: string, vkey: string) {
  const v = key(vkey);
  try {
    const { checkpoint, cosignedBy } = openCheckpoint(note, v);
    return { origin: checkpoint.origin, size: checkpoint.size, root: toBase64(checkpoint.root), cosignedBy };
  } catch (err) {
    fail(`checkpoint: ${err instanceof NoteError ? err.message : 'unreadable'}`, err);
  }
}

function hashes(list: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(list) || list.length > 64) fail(`${what}: must be a list of at most 64 base64 hashes`);
  return list.map((h, i) => {
    const b = typeof h === 'string' ? fromBase64(h) : undefined;
    if (b?.length !== 32) fail(`${what}: hash ${i} is not 32 bytes of base64`);
    return b;
  });
}

/**
 * Verifies a proof bundle: the checkpoint signature (against `vkey`, or the bundle's own key
 * when none is pinned), the entry's leaf hash and inclusion proof, and the subject opening.
 * @throws VerificationError
 */
export function verifyBundle(input: unknown, vkey?: string) {
  const b = input as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || b.format !== 'credit-data-space/proof-bundle@1')
    fail('bundle: not a credit-data-space/proof-bundle@1 document');
  if (typeof b.logKey !== 'string' || typeof b.checkpoint !== 'string' || typeof b.entry !== 'string')
    fail('bundle: logKey, checkpoint and entry must be strings');
  if (vkey !== undefined && b.logKey.trim() !== vkey.trim())
    fail('bundle: signed by a different log key than the one given');
  const cp = verifyCheckpointNote(b.checkpoint, vkey ?? b.logKey);
  const index = b.index;
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    fail('bundle: index must be a non-negative integer');
  const leaf = leafHash(toUtf8(b.entry));
  let root: Uint8Array;
  try {
    root = rootFromInclusionProof(index, cp.size, leaf, hashes(b.proof, 'inclusion proof'));
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    fail(`inclusion proof: ${(err as Error).message}`, err);
  }
  if (!bytesEqual(root, fromBase64(cp.root)!))
    fail('inclusion proof: the entry is not in the checkpointed tree (entry or proof altered)');
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(b.entry);
  } catch (err) {
    fail('entry: not JSON', err);
  }
  let subject: string | undefined;
  if (b.opening !== undefined) {
    const o = b.opening as { uscc?: unknown; opening?: unknown };
    const opening = typeof o?.opening === 'string' ? fromBase64(o.opening) : undefined;
    if (typeof o?.uscc !== 'string' || !opening || opening.length !== 32)
      fail('opening: must hold a USCC and 32 bytes of base64');
    if (entry.subject !== toBase64(subjectCommitment(o.uscc, opening)))
      fail('opening: does not open the entry subject commitment');
    subject = o.uscc;
  }
  return { ...cp, index, entry, ...(subject ? { subject } : {}), keyPinned: vkey !== undefined };
}

/** Verifies that checkpoint `newer` extends checkpoint `older` by the given proof. @throws VerificationError */
export function verifyConsistencyFiles(olderNote: string, newerNote: string, proof: unknown, vkey: string) {
  const a = verifyCheckpointNote(olderNote, vkey);
  const b = verifyCheckpointNote(newerNote, vkey);
  try {
    checkConsistency(a.size, b.size, fromBase64(a.root)!, fromBase64(b.root)!, hashes(proof, 'consistency proof'));
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    fail(`consistency proof: ${(err as Error).message}`, err);
  }
  return { origin: a.origin, size1: a.size, size2: b.size, root1: a.root, root2: b.root };
}
