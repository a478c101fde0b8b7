/**
 * Binary frames of the list check, for whatever transport carries them (libp2p streams, HTTP).
 * Each frame starts with a type byte and a format version; numbers are big-endian. Decoders
 * check every length against the bytes at hand before allocating and never throw anything but
 * {@link PsiInputError}.
 *
 * | frame    | layout after `type ‖ 0x01`                                                           |
 * |----------|--------------------------------------------------------------------------------------|
 * | points   | u32 n ‖ n × 32-byte point                                                            |
 * | snapshot | keyId 16 ‖ u64 version ‖ u32 count ‖ head 32 ‖ setDigest 32 ‖ count × 16 ‖ u16 s ‖ sig s |
 * | delta    | keyId 16 ‖ u64 from ‖ u64 to ‖ u32 count ‖ head 32 ‖ u32 n ‖ n × (op 1 ‖ key 16) ‖ u16 s ‖ sig s |
 */
import { fromHex, toHex } from '../encoding.ts';
import { POINT_LENGTH } from './curve.ts';
import { PsiInputError } from './errors.ts';
import { KEY_LENGTH } from './keyset.ts';
import type { ListChange, ListDelta, ListSnapshot } from './list.ts';
import { MAX_POINTS } from './oprf.ts';

const FORMAT = 1;
/** Frame type bytes. */
export const FRAME_POINTS = 0x01;
export const FRAME_SNAPSHOT = 0x02;
export const FRAME_DELTA = 0x03;

const OPS: readonly ListChange['op'][] = ['add', 'remove'];

class Writer {
  readonly #parts: Uint8Array[] = [];
  bytes(b: Uint8Array) {
    this.#parts.push(b);
    return this;
  }
  u8(n: number) {
    return this.bytes(Uint8Array.of(n));
  }
  u16(n: number) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return this.bytes(b);
  }
  u32(n: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return this.bytes(b);
  }
  u64(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('versions must be safe non-negative integers');
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return this.bytes(b);
  }
  finish(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#parts));
  }
}

const bad = (what: string) => new PsiInputError(`${what} frame is malformed`, 'BAD_ENCODING');

class Reader {
  #at = 0;
  readonly #b: Buffer;
  readonly #what: string;
  constructor(bytes: Uint8Array, type: number, what: string) {
    if (!(bytes instanceof Uint8Array)) throw bad(what);
    this.#b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
    if (this.u8() !== type || this.u8() !== FORMAT) throw bad(what);
  }
  get left() {
    return this.#b.length - this.#at;
  }
  #take(n: number): number {
    if (n > this.left) throw bad(this.#what);
    const at = this.#at;
    this.#at += n;
    return at;
  }
  u8() {
    return this.#b[this.#take(1)];
  }
  u16() {
    return this.#b.readUInt16BE(this.#take(2));
  }
  u32() {
    return this.#b.readUInt32BE(this.#take(4));
  }
  u64() {
    const v = this.#b.readBigUInt64BE(this.#take(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(this.#what);
    return Number(v);
  }
  bytes(n: number) {
    const at = this.#take(n);
    return new Uint8Array(this.#b.subarray(at, at + n));
  }
  end() {
    if (this.left !== 0) throw bad(this.#what);
  }
}

const writeSignature = (w: Writer, sig: Uint8Array | undefined) => {
  if (sig && sig.length > 0xffff) throw new TypeError('signature too long');
  return sig ? w.u16(sig.length).bytes(sig) : w.u16(0);
};
const readSignature = (r: Reader) => {
  const n = r.u16();
  return n === 0 ? {} : { signature: r.bytes(n) };
};
const readKeyId = (r: Reader) => toHex(r.bytes(16));
const writeKeyId = (w: Writer, keyId: string) => {
  const b = fromHex(keyId);
  if (b?.length !== 16) throw new TypeError('keyId must be 32 hex digits');
  return w.bytes(b);
};

/** Frames a batch of points (blinded or evaluated). */
export function encodePoints(points: readonly Uint8Array[]): Uint8Array {
  const w = new Writer().u8(FRAME_POINTS).u8(FORMAT).u32(points.length);
  for (const p of points) {
    if (!(p instanceof Uint8Array) || p.length !== POINT_LENGTH) throw new TypeError('points must be 32 bytes');
    w.bytes(p);
  }
  return w.finish();
}

/**
 * Reads a batch of points; the points themselves are checked by the OPRF.
 * @throws PsiInputError BATCH_TOO_LARGE above `maxPoints` (before reading them), BAD_ENCODING
 */
export function decodePoints(bytes: Uint8Array, maxPoints = MAX_POINTS): Uint8Array[] {
  const r = new Reader(bytes, FRAME_POINTS, 'points');
  const n = r.u32();
  if (n > maxPoints) throw new PsiInputError(`batch of ${n} points exceeds ${maxPoints}`, 'BATCH_TOO_LARGE');
  if (r.left !== n * POINT_LENGTH) throw bad('points');
  return Array.from({ length: n }, () => r.bytes(POINT_LENGTH));
}

/** Frames a list snapshot. */
export function encodeSnapshot(s: ListSnapshot): Uint8Array {
  const w = writeKeyId(new Writer().u8(FRAME_SNAPSHOT).u8(FORMAT), s.keyId)
    .u64(s.version)
    .u32(s.count)
    .bytes(s.head)
    .bytes(s.setDigest)
    .bytes(s.keys);
  return writeSignature(w, s.signature).finish();
}

/** Reads a list snapshot (the mirror checks keys, digest and signature when it applies it). @throws PsiInputError BAD_ENCODING */
export function decodeSnapshot(bytes: Uint8Array): ListSnapshot {
  const r = new Reader(bytes, FRAME_SNAPSHOT, 'snapshot');
  const keyId = readKeyId(r);
  const version = r.u64();
  const count = r.u32();
  const head = r.bytes(32);
  const setDigest = r.bytes(32);
  if (count * KEY_LENGTH + 2 > r.left) throw bad('snapshot');
  const keys = r.bytes(count * KEY_LENGTH);
  const sig = readSignature(r);
  r.end();
  return { keyId, version, count, head, setDigest, keys, ...sig };
}

/** Frames a list delta. */
export function encodeDelta(d: ListDelta): Uint8Array {
  const w = writeKeyId(new Writer().u8(FRAME_DELTA).u8(FORMAT), d.keyId)
    .u64(d.fromVersion)
    .u64(d.toVersion)
    .u32(d.count)
    .bytes(d.head)
    .u32(d.changes.length);
  for (const c of d.changes) w.u8(OPS.indexOf(c.op) + 1).bytes(c.key);
  return writeSignature(w, d.signature).finish();
}

/** Reads a list delta. @throws PsiInputError BAD_ENCODING */
export function decodeDelta(bytes: Uint8Array): ListDelta {
  const r = new Reader(bytes, FRAME_DELTA, 'delta');
  const keyId = readKeyId(r);
  const fromVersion = r.u64();
  const toVersion = r.u64();
  const count = r.u32();
  const head = r.bytes(32);
  const n = r.u32();
  if (n * (1 + KEY_LENGTH) + 2 > r.left) throw bad('delta');
  const changes: ListChange[] = [];
  for (let i = 0; i < n; i++) {
    const op = OPS[r.u8() - 1];
    if (!op) throw bad('delta');
    changes.push({ op, key: r.bytes(KEY_LENGTH) });
  }
  const sig = readSignature(r);
  r.end();
  return { keyId, fromVersion, toVersion, count, head, changes, ...sig };
}
