/**
 * Proof verification in the browser: an access-log proof bundle, or a checkpoint, checked against
 * the federation's log keys (GET /log-keys.json: every roster member's Ed25519 key) with the same
 * primitives the node and `credit-node verify bundle --roster` use (crypto/merkle.ts and
 * crypto/note.ts, bundled for the browser with the shims of ../crypto/). The log's key is pinned
 * by the roster (the bundle's own `logKey` must match it), a majority of the other members must
 * have cosigned the checkpoint, the entry's leaf hash must lead to the checkpoint's root through
 * the inclusion proof, and the opening must open the entry's commitments to the signed-in
 * enterprise. What the console shows of an entry is read from the verified bytes.
 */
import { bytesEqual, fromBase64, toBase64, toUtf8 } from '../../../crypto/encoding.ts';
import { sha256 } from '../../../crypto/hash.ts';
import { leafHash, rootFromInclusionProof } from '../../../crypto/merkle.ts';
import {
  formatVerifierKey,
  type NoteVerifier,
  noteVerifier,
  openCheckpoint,
  SIG_COSIGNATURE_V1,
  verifyNote,
} from '../../../crypto/note.ts';

/** The federation's log keys as a node serves them at /log-keys.json. */
export interface LogKeys {
  federation?: string;
  version: number;
  members: Array<{ nodeId: string; signingKey: string }>;
}

/** An access-log entry as it stands in the leaf (canonical JSON). */
export interface LeafEntry {
  time: string;
  actor: { node: string; principal: string; role: string };
  action: string;
  decision: string;
  reason?: string;
  purpose?: string;
  scopes: string[];
  subject?: string;
  consent?: string;
  correlationId: string;
}

/** A verification outcome. `unwitnessed`: everything checks except the witnesses' quorum. */
export type Verdict =
  | { status: 'verified'; origin: string; size: number; witnesses: string[]; required: number }
  | { status: 'unwitnessed'; origin: string; size: number; witnesses: string[]; required: number; reason: string }
  | { status: 'failed'; reason: string };

/** A verified (or not) bundle, with what it proves. */
export interface BundleCheck {
  verdict: Verdict;
  entry?: LeafEntry;
  index?: number;
  consentId?: string;
}

class Failure extends Error {}
const fail = (message: string): never => {
  throw new Failure(message);
};

/** Checkpoint origin of a node's log (accesslog/entry.ts `logOrigin`). */
export const logOrigin = (nodeId: string) => `credit-data-space/${nodeId}`;

const commitment = (domain: string) => (value: string, opening: Uint8Array) =>
  sha256(toUtf8(domain), toUtf8(value), new Uint8Array([0]), opening);
/** accesslog/entry.ts `subjectCommitment`. */
export const subjectCommitment = commitment('credit-data-space/subject/v1\0');
/** accesslog/entry.ts `consentCommitment`. */
export const consentCommitment = commitment('credit-data-space/consent-ref/v1\0');

/** The log key and witness policy of one log, from the roster's members (as `rosterWitnessPolicy`). */
export function policyFor(
  keys: LogKeys,
  origin: string,
): { log: NoteVerifier; witnesses: NoteVerifier[]; required: number } {
  let log: NoteVerifier | undefined;
  const witnesses: NoteVerifier[] = [];
  for (const m of keys.members) {
    const pub = fromBase64(m.signingKey);
    if (pub?.length !== 32) fail(`log keys: member ${m.nodeId} has no Ed25519 key`);
    if (logOrigin(m.nodeId) === origin) log = noteVerifier(origin, pub as Uint8Array);
    else witnesses.push(noteVerifier(logOrigin(m.nodeId), pub as Uint8Array, SIG_COSIGNATURE_V1));
  }
  if (!log) return fail(`the log ${origin} is not a member of the federation`);
  return { log, witnesses, required: witnesses.length === 0 ? 0 : Math.floor(witnesses.length / 2) + 1 };
}

const originOf = (note: unknown): string => {
  const end = typeof note === 'string' ? note.indexOf('\n') : -1;
  return end > 0 ? (note as string).slice(0, end) : fail('checkpoint: unreadable');
};

/** Checks a signed checkpoint's signature and cosignatures; `cosigned: false` marks a bundle the node says is not yet witnessed. */
function checkpointVerdict(note: string, keys: LogKeys) {
  const origin = originOf(note);
  const { log, witnesses, required } = policyFor(keys, origin);
  let opened: ReturnType<typeof openCheckpoint>;
  let signedBy: string[];
  try {
    opened = openCheckpoint(note, log);
    signedBy = verifyNote(note, [log, ...witnesses]).signedBy;
  } catch (err) {
    return fail(`checkpoint: ${(err as Error).message}`);
  }
  const valid = [...new Set(signedBy.filter((n) => n !== log.name))].sort();
  const cp = opened.checkpoint;
  return { log, origin, size: cp.size, root: cp.root, witnesses: valid, required };
}

/** Verifies a checkpoint note against the federation's keys. */
export function verifyCheckpoint(note: string, keys: LogKeys): Verdict {
  try {
    const c = checkpointVerdict(note, keys);
    const base = { origin: c.origin, size: c.size, witnesses: c.witnesses, required: c.required };
    return c.witnesses.length >= c.required
      ? { status: 'verified', ...base }
      : { status: 'unwitnessed', ...base, reason: `${c.witnesses.length} of ${c.required} cosignatures` };
  } catch (err) {
    return { status: 'failed', reason: err instanceof Failure ? err.message : 'checkpoint: unreadable' };
  }
}

function hashes(list: unknown): Uint8Array[] {
  if (!Array.isArray(list) || list.length > 64) fail('inclusion proof: must be a list of at most 64 hashes');
  return (list as unknown[]).map((h, i) => {
    const b = typeof h === 'string' ? fromBase64(h) : undefined;
    return b?.length === 32 ? b : fail(`inclusion proof: hash ${i} is not 32 bytes of base64`);
  });
}

function checkBundle(input: unknown, keys: LogKeys, uscc: string | undefined): BundleCheck {
  const b = input as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null || b.format !== 'credit-data-space/proof-bundle@1')
    fail('bundle: not a credit-data-space/proof-bundle@1 document');
  const { logKey, checkpoint, entry: text, index, proof, opening } = b as Record<string, unknown>;
  if (typeof logKey !== 'string' || typeof checkpoint !== 'string' || typeof text !== 'string')
    fail('bundle: logKey, checkpoint and entry must be strings');
  const c = checkpointVerdict(checkpoint as string, keys);
  if ((logKey as string).trim() !== formatVerifierKey(c.log))
    fail('bundle: signed by another key than the federation gives for this log');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    fail('bundle: index must be a non-negative integer');
  let root: Uint8Array;
  try {
    root = rootFromInclusionProof(index as number, c.size, leafHash(toUtf8(text as string)), hashes(proof));
  } catch (err) {
    return err instanceof Failure ? fail(err.message) : fail(`inclusion proof: ${(err as Error).message}`);
  }
  if (!bytesEqual(root, c.root))
    fail('inclusion proof: the entry is not in the checkpointed tree (entry or proof altered)');
  let entry: LeafEntry;
  try {
    entry = JSON.parse(text as string) as LeafEntry;
  } catch {
    return fail('entry: not JSON');
  }
  let consentId: string | undefined;
  if (uscc !== undefined) {
    const o = opening as { uscc?: unknown; consentId?: unknown; opening?: unknown } | undefined;
    const bytes = typeof o?.opening === 'string' ? fromBase64(o.opening) : undefined;
    if (bytes?.length !== 32) fail('opening: missing, or not 32 bytes of base64');
    if (o?.uscc !== uscc || entry.subject !== toBase64(subjectCommitment(uscc, bytes as Uint8Array)))
      fail('opening: the entry is not about this enterprise');
    if (o?.consentId !== undefined) {
      if (
        typeof o.consentId !== 'string' ||
        entry.consent !== toBase64(consentCommitment(o.consentId, bytes as Uint8Array))
      )
        fail('opening: does not open the entry consent commitment');
      consentId = o.consentId as string;
    }
  }
  const base = { origin: c.origin, size: c.size, witnesses: c.witnesses, required: c.required };
  const verdict: Verdict =
    c.witnesses.length >= c.required
      ? { status: 'verified', ...base }
      : { status: 'unwitnessed', ...base, reason: `${c.witnesses.length} of ${c.required} cosignatures` };
  return { verdict, entry, index: index as number, ...(consentId ? { consentId } : {}) };
}

/**
 * Verifies a proof bundle against the federation's keys; with `uscc`, also that its opening
 * opens the entry to that enterprise. Never throws: a failure is a verdict naming the check.
 */
export function verifyBundle(bundle: unknown, keys: LogKeys, uscc?: string): BundleCheck {
  try {
    return checkBundle(bundle, keys, uscc);
  } catch (err) {
    return { verdict: { status: 'failed', reason: err instanceof Failure ? err.message : 'bundle: unreadable' } };
  }
}
