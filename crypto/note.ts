/**
 * C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and Ed25519
 * cosignatures (c2sp.org/tlog-cosignature, cosignature/v1). Parsing is strict: anything the
 * formats do not allow is rejected with a reason.
 */
import { type Ed25519Signer, ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519.ts';
import { bytesEqual, concatBytes, fromBase64, fromHex, toBase64, toHex, toUtf8 } from './encoding.ts';
import { sha256 } from './hash.ts';

/** Signature types of signed notes. */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;

/** A note or checkpoint that does not verify or parse; `message` says why. */
export class NoteError extends Error {
  static override name = 'NoteError';
  readonly code = 'NOTE_INVALID';
}

const NAME_RE = /^[^\s+—]+$/;
const SIG_LINE_RE = /^— (\S+) ([A-Za-z0-9+/]+={0,2})$/;

/** The 4-byte key id of a key: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]. */
export function keyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  return sha256(toUtf8(name), new Uint8Array([0x0a, type]), publicKey).subarray(0, 4);
}

/** A public key that verifies note signatures. */
export interface NoteVerifier {
  name: string;
  type: number;
  keyId: Uint8Array;
  publicKey: Uint8Array;
}

/** Builds a verifier for an Ed25519 key (type 0x01 for logs, 0x04 for cosigners). */
export function noteVerifier(name: string, publicKey: Uint8Array, type = SIG_ED25519): NoteVerifier {
  if (!NAME_RE.test(name)) throw new TypeError('key name must be non-empty without spaces, plus signs or em dashes');
  return { name, type, keyId: keyId(name, type, publicKey), publicKey };
}

/** The verifier key string `name+hexkeyid+base64(type ‖ public key)`. */
export function formatVerifierKey(v: NoteVerifier): string {
  return `${v.name}+${toHex(v.keyId)}+${toBase64(concatBytes(new Uint8Array([v.type]), v.publicKey))}`;
}

/** Parses a verifier key string. @throws NoteError */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new NoteError('verifier key must be name+keyid+key');
  const name = vkey.slice(0, first);
  const id = fromHex(vkey.slice(first + 1, second));
  const key = fromBase64(vkey.slice(second + 1));
  if (!NAME_RE.test(name)) throw new NoteError('verifier key has an invalid name');
  if (id?.length !== 4) throw new NoteError('verifier key id must be 8 hex digits');
  if (key?.length !== 33) throw new NoteError('verifier key must hold a type byte and a 32-byte Ed25519 key');
  const v = noteVerifier(name, key.subarray(1), key[0]);
  if (v.type !== SIG_ED25519 && v.type !== SIG_COSIGNATURE_V1)
    throw new NoteError(`unsupported key type 0x${key[0].toString(16)}`);
  if (!bytesEqual(v.keyId, id)) throw new NoteError('verifier key id does not match its name and key');
  return v;
}

/** Signs note text (which must end in a newline) under `name`, with an Ed25519 seed or a reusable signer. */
export function signNote(text: string, name: string, key: Uint8Array | Ed25519Signer): string {
  checkText(text);
  const signer = key instanceof Uint8Array ? undefined : key;
  const v = noteVerifier(name, signer ? signer.publicKey : ed25519PublicKey(key as Uint8Array));
  const sig = signer ? signer.sign(toUtf8(text)) : ed25519Sign(key as Uint8Array, toUtf8(text));
  return `${text}\n— ${name} ${toBase64(concatBytes(v.keyId, sig))}\n`;
}

function checkText(text: string) {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the format forbids control characters
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw new NoteError('note text contains control characters');
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** Signature bytes after the key id. */
  signature: Uint8Array;
}

/** Splits a note into its text and signature lines. @throws NoteError */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string' || !note.endsWith('\n')) throw new NoteError('a note must end with a newline');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new NoteError('a note needs a blank line before its signatures');
  const text = note.slice(0, cut + 1);
  checkText(text);
  const lines = note.slice(cut + 2, -1).split('\n');
  if (lines.length > 100) throw new NoteError('too many signatures');
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const m = SIG_LINE_RE.exec(line);
    const blob = m ? fromBase64(m[2]) : undefined;
    if (!m || !blob || blob.length < 5) throw new NoteError('malformed signature line');
    signatures.push({ name: m[1], keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  return { text, signatures };
}

/**
 * Verifies a note: at least one known key must have signed it, and every signature by a known
 * key must verify. Unknown keys are ignored. Returns the text and who signed. @throws NoteError
 */
export function verifyNote(note: string, verifiers: readonly NoteVerifier[]): { text: string; signedBy: string[] } {
  const { text, signatures } = parseNote(note);
  const signedBy: string[] = [];
  for (const s of signatures) {
    const v = verifiers.find((x) => x.name === s.name && bytesEqual(x.keyId, s.keyId));
    if (!v) continue;
    if (v.type === SIG_ED25519) {
      if (!ed25519Verify(v.publicKey, toUtf8(text), s.signature))
        throw new NoteError(`signature by ${s.name} does not verify`);
    } else if (v.type === SIG_COSIGNATURE_V1) {
      verifyCosignatureBlob(text, v, s.signature);
    }
    signedBy.push(s.name);
  }
  if (signedBy.length === 0) throw new NoteError('no signature by a known key');
  return { text, signedBy };
}

/** A checkpoint body (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

/** The text of a checkpoint body. */
export function formatCheckpoint(c: Checkpoint): string {
  if (!c.origin || c.origin.includes('\n')) throw new TypeError('origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new TypeError('size must be a non-negative integer');
  if (c.root.length !== 32) throw new TypeError('root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${toBase64(c.root)}\n`;
}

/** Parses a checkpoint body; extension lines are refused. @throws NoteError */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '')
    throw new NoteError('a checkpoint must have exactly three lines: origin, size, root');
  const [origin, sizeText, rootText] = lines;
  if (origin === '') throw new NoteError('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw new NoteError('checkpoint size must be a decimal number without leading zeros');
  const root = fromBase64(rootText);
  if (root?.length !== 32) throw new NoteError('checkpoint root must be 32 bytes in base64');
  return { origin, size: Number(sizeText), root };
}

/** Signs a checkpoint as a signed note whose key name is the origin. */
export function signCheckpoint(c: Checkpoint, key: Uint8Array | Ed25519Signer): string {
  return signNote(formatCheckpoint(c), c.origin, key);
}

/** Verifies a signed checkpoint against the log's key and parses it. @throws NoteError */
export function openCheckpoint(note: string, log: NoteVerifier, cosigners: readonly NoteVerifier[] = []) {
  const { text, signedBy } = verifyNote(note, [log, ...cosigners]);
  if (!signedBy.includes(log.name)) throw new NoteError('the checkpoint is not signed by the log key');
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== log.name) throw new NoteError('checkpoint origin does not match the log key name');
  return { checkpoint, text, cosignedBy: signedBy.filter((n) => n !== log.name) };
}

function cosignedMessage(body: string, time: number): Uint8Array {
  return toUtf8(`cosignature/v1\ntime ${time}\n${body}`);
}

/** A cosignature line (cosignature/v1) by a witness over a checkpoint body, at `time` (Unix seconds). */
export function cosignCheckpoint(body: string, name: string, seed: Uint8Array, time: number): string {
  parseCheckpoint(body);
  if (!Number.isSafeInteger(time) || time < 0) throw new TypeError('time must be a non-negative integer');
  const v = noteVerifier(name, ed25519PublicKey(seed), SIG_COSIGNATURE_V1);
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(time));
  const sig = ed25519Sign(seed, cosignedMessage(body, time));
  return `— ${name} ${toBase64(concatBytes(v.keyId, ts, sig))}\n`;
}

function verifyCosignatureBlob(body: string, v: NoteVerifier, blob: Uint8Array): number {
  if (blob.length !== 72) throw new NoteError(`cosignature by ${v.name} has the wrong length`);
  const time = Number(new DataView(blob.buffer, blob.byteOffset, 8).getBigUint64(0));
  if (!ed25519Verify(v.publicKey, cosignedMessage(body, time), blob.subarray(8)))
    throw new NoteError(`cosignature by ${v.name} does not verify`);
  return time;
}

/** Verifies one cosignature line for a checkpoint body; returns its time. @throws NoteError */
export function verifyCosignature(body: string, line: string, witness: NoteVerifier): number {
  const m = SIG_LINE_RE.exec(line.replace(/\n$/, ''));
  const blob = m ? fromBase64(m[2]) : undefined;
  if (!m || !blob || blob.length < 5) throw new NoteError('malformed cosignature line');
  if (m[1] !== witness.name || !bytesEqual(blob.subarray(0, 4), witness.keyId))
    throw new NoteError('cosignature is by another key');
  return verifyCosignatureBlob(body, witness, blob.subarray(4));
}
