/**
 * Independent verification of access-log artefacts from files alone: a checkpoint's signature
 * and its witnesses' cosignatures, an entry's inclusion proof (a proof bundle) and the
 * consistency of two checkpoints. Each function names the first check that failed.
 *
 * A witness policy (which cosigner keys count, how many are needed) is what makes a fork
 * visible to a client: a log that shows a client another history than the one its peers
 * witnessed cannot get that history cosigned by a majority of honest witnesses.
 */
import {
  bytesEqual,
  checkConsistency,
  formatVerifierKey,
  fromBase64,
  leafHash,
  NoteError,
  type NoteVerifier,
  noteVerifier,
  openCheckpoint,
  parseVerifierKey,
  rootFromInclusionProof,
  SIG_COSIGNATURE_V1,
  toBase64,
  toUtf8,
  verifyNote,
} from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import { consentCommitment, logOrigin, subjectCommitment } from './log.ts';

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

/** Which witnesses' cosignatures count, and how many a checkpoint needs. */
export interface WitnessPolicy {
  /** Cosigner keys (c2sp.org/tlog-cosignature, type 0x04). */
  witnesses: NoteVerifier[];
  minWitnesses: number;
}

/** What a witness policy found on a checkpoint. */
export interface WitnessCheck {
  /** Names of the policy's witnesses with a valid cosignature. */
  valid: string[];
  required: number;
}

/**
 * The default number of witnesses a checkpoint needs: a majority of the log's peers (the roster
 * members other than the log's own node); 0 when it has none.
 */
export function defaultWitnessQuorum(others: number): number {
  return others <= 0 ? 0 : Math.floor(others / 2) + 1;
}

/** Parses a witness's cosigner verifier key (`name+keyid+base64(0x04 ‖ key)`). @throws VerificationError */
export function parseWitnessKey(vkey: string): NoteVerifier {
  let v: NoteVerifier;
  try {
    v = parseVerifierKey(vkey.trim());
  } catch (err) {
    fail(`witness key: ${(err as Error).message}`, err);
  }
  if (v.type !== SIG_COSIGNATURE_V1) fail(`witness key ${v.name}: not a cosignature (type 0x04) key`);
  return v;
}

/**
 * A witness policy from a roster (the signed roster document, or its body): every member other
 * than the log's own node is a witness, named `credit-data-space/<nodeId>` with its signing key;
 * `minWitnesses` defaults to a majority of them. Also gives the log's own verifier key, so that a
 * roster pins the log key as well. The roster's authority signatures are not checked here: the
 * file is trusted as given. @throws VerificationError
 */
export function rosterWitnessPolicy(
  roster: unknown,
  origin: string,
  minWitnesses?: number,
): { policy: WitnessPolicy; logKey: string } {
  const r = roster as { roster?: { members?: unknown }; members?: unknown } | null;
  const members = r?.roster?.members ?? r?.members;
  if (!Array.isArray(members)) fail('roster: no members list');
  let logKey: string | undefined;
  const witnesses: NoteVerifier[] = [];
  for (const [i, m] of members.entries()) {
    const { nodeId, signingKey } = (m ?? {}) as { nodeId?: unknown; signingKey?: unknown };
    const pub = typeof signingKey === 'string' ? fromBase64(signingKey) : undefined;
    if (typeof nodeId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(nodeId) || pub?.length !== 32)
      fail(`roster: member ${i} needs a nodeId and a base64 Ed25519 signingKey`);
    if (logOrigin(nodeId) === origin) logKey = formatVerifierKey(noteVerifier(origin, pub));
    else witnesses.push(noteVerifier(logOrigin(nodeId), pub, SIG_COSIGNATURE_V1));
  }
  if (!logKey) fail(`roster: the log ${origin} is not a member of this roster`);
  return { policy: { witnesses, minWitnesses: minWitnesses ?? defaultWitnessQuorum(witnesses.length) }, logKey };
}

/**
 * Checks a checkpoint's cosignatures against a witness policy (c2sp.org/tlog-cosignature): counts
 * the distinct policy witnesses whose cosignature verifies; a cosignature by a policy witness that
 * does not verify fails the whole checkpoint. The log cannot witness itself: a witness key named
 * like the log is ignored. @throws VerificationError naming how many valid cosignatures it found and needed
 */
export function checkCosignatures(note: string, log: NoteVerifier, policy: WitnessPolicy): WitnessCheck {
  const witnesses = policy.witnesses.filter((w) => w.name !== log.name);
  let signedBy: string[];
  try {
    signedBy = verifyNote(note, [log, ...witnesses]).signedBy;
  } catch (err) {
    fail(`witnesses: ${err instanceof NoteError ? err.message : 'unreadable checkpoint'}`, err);
  }
  const valid = [...new Set(signedBy.filter((n) => n !== log.name))].sort();
  const required = Math.max(0, policy.minWitnesses);
  if (valid.length < required)
    fail(
      `witnesses: the checkpoint carries ${valid.length} valid cosignature${valid.length === 1 ? '' : 's'} from ` +
        `the ${witnesses.length} accepted witness${witnesses.length === 1 ? '' : 'es'}` +
        `${valid.length > 0 ? ` (${valid.join(', ')})` : ''}; ${required} needed`,
    );
  return { valid, required };
}

/**
 * Verifies a signed checkpoint against a log key and, given a policy, its witnesses'
 * cosignatures; returns its contents. @throws VerificationError
 */
export function verifyCheckpointNote(note: string, vkey: string, policy?: WitnessPolicy) {
  const v = key(vkey);
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(note, v);
  } catch (err) {
    fail(`checkpoint: ${err instanceof NoteError ? err.message : 'unreadable'}`, err);
  }
  const { checkpoint, cosignedBy } = opened;
  const witnesses = policy ? checkCosignatures(note, v, policy) : undefined;
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    root: toBase64(checkpoint.root),
    cosignedBy: witnesses?.valid ?? cosignedBy,
    ...(witnesses ? { witnesses } : {}),
  };
}

/** The origin line of a checkpoint note (its first line), without verifying anything. */
export function checkpointOrigin(note: unknown): string | undefined {
  if (typeof note !== 'string') return undefined;
  const end = note.indexOf('\n');
  return end > 0 ? note.slice(0, end) : undefined;
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
 * when none is pinned), the witnesses' cosignatures on it when a `policy` is given, the entry's
 * leaf hash and inclusion proof, and the subject opening. Without a policy a bundle from a forked
 * log passes: only its own signature is checked.
 * @throws VerificationError
 */
export function verifyBundle(input: unknown, vkey?: string, policy?: WitnessPolicy) {
  const b = input as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || b.format !== 'credit-data-space/proof-bundle@1')
    fail('bundle: not a credit-data-space/proof-bundle@1 document');
  if (typeof b.logKey !== 'string' || typeof b.checkpoint !== 'string' || typeof b.entry !== 'string')
    fail('bundle: logKey, checkpoint and entry must be strings');
  if (vkey !== undefined && b.logKey.trim() !== vkey.trim())
    fail('bundle: signed by a different log key than the one given');
  const cp = verifyCheckpointNote(b.checkpoint, vkey ?? b.logKey, policy);
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
  let consentId: string | undefined;
  if (b.opening !== undefined) {
    const o = b.opening as { uscc?: unknown; consentId?: unknown; opening?: unknown };
    const opening = typeof o?.opening === 'string' ? fromBase64(o.opening) : undefined;
    if (opening?.length !== 32) fail('opening: must hold 32 bytes of base64');
    if (o.uscc !== undefined) {
      if (typeof o.uscc !== 'string' || entry.subject !== toBase64(subjectCommitment(o.uscc, opening)))
        fail('opening: does not open the entry subject commitment');
      subject = o.uscc;
    }
    if (o.consentId !== undefined) {
      if (typeof o.consentId !== 'string' || entry.consent !== toBase64(consentCommitment(o.consentId, opening)))
        fail('opening: does not open the entry consent commitment');
      consentId = o.consentId;
    }
    if (subject === undefined && consentId === undefined) fail('opening: opens nothing (no USCC, no consent id)');
  }
  return {
    ...cp,
    index,
    entry,
    ...(subject ? { subject } : {}),
    ...(consentId ? { consentId } : {}),
    keyPinned: vkey !== undefined,
  };
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
