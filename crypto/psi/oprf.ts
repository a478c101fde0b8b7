/**
 * The oblivious PRF of the private list check, in the shape of RFC 9497 (blind / evaluate /
 * finalize) over X25519 in OpenSSL:
 *
 *   F_k(x) = SHA-256( DST_FIN ‖ len(x) ‖ x ‖ len(W) ‖ W ‖ "Finalize" ),  W = X25519(k, H(x))
 *
 * with H(x) = SHA-256(DST_H2G ‖ len(x) ‖ x ‖ counter), top bit cleared, first counter giving a
 * canonical u of large order (the "hash as point x" suite of the PPCA ECDH-PSI interconnection
 * standard, with domain separation). H(x) lies on Curve25519 or on its twist with probability ½
 * each; both are prime-order groups after cofactor clearing, and X25519 evaluates on both.
 *
 * The client blinds each side with its own fresh clamped scalar per batch, deduplicates its
 * inputs, pads each side with random points of that side up to a size that depends only on the
 * number of inputs, and shuffles: the server sees equally many curve and twist points, each a
 * random element of its group under DDH, whatever the inputs. See docs/privacy/list-check.md.
 */
import { createHash, hash, randomBytes, randomInt } from 'node:crypto';
import { toHex, toUtf8 } from '../encoding.ts';
import {
  clamp,
  clampedInverse,
  isCanonicalPoint,
  multiply,
  POINT_LENGTH,
  publicPoint,
  randomScalar,
  type Side,
  scalarKey,
  sideOf,
} from './curve.ts';
import { PsiInputError } from './errors.ts';
import type { PsiPool } from './pool.ts';

/** Identifier of this construction; prefixes every domain-separation string. */
export const SUITE = 'credit-data-space/list-check/v1';
/** Most inputs one client batch may hold. */
export const MAX_BATCH = 10_000;
/** Most points a server evaluates per request (a full batch with the worst-case padding). */
export const MAX_POINTS = 2 * MAX_BATCH;
/** Bytes of a finalised PRF value. */
export const OUTPUT_LENGTH = 32;
/** Longest input in bytes (lengths are framed in two bytes, as in RFC 9497). */
export const MAX_INPUT_LENGTH = 0xffff;

const frame = (s: string) => {
  const b = toUtf8(s);
  return Buffer.concat([u16(b.length), b]);
};
const u16 = (n: number) => Buffer.from([n >>> 8, n & 0xff]);
const DST_H2G = frame(`${SUITE}/hash-to-group`);
const DST_FIN = frame(`${SUITE}/finalize`);
const DST_KEY = frame(`${SUITE}/key-id`);
const FINALIZE = toUtf8('Finalize');
const ELEMENT_LENGTH = u16(POINT_LENGTH);

function checkInput(input: Uint8Array, what = 'input'): void {
  if (!(input instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (input.length > MAX_INPUT_LENGTH) throw new TypeError(`${what} must be at most ${MAX_INPUT_LENGTH} bytes`);
}

/** SHA-256 of `prefix ‖ len(input) ‖ input ‖ suffix`, assembled in one reusable buffer (one-shot hash). */
let scratch = Buffer.allocUnsafe(1024);
function framedHash(prefix: Uint8Array, input: Uint8Array, suffix: readonly Uint8Array[]): Buffer {
  const size = prefix.length + 2 + input.length + suffix.reduce((n, s) => n + s.length, 0);
  if (size > scratch.length) scratch = Buffer.allocUnsafe(size);
  scratch.set(prefix, 0);
  let at = scratch.writeUInt16BE(input.length, prefix.length);
  scratch.set(input, at);
  at += input.length;
  for (const s of suffix) {
    scratch.set(s, at);
    at += s.length;
  }
  return hash('sha256', scratch.subarray(0, at), 'buffer');
}

/**
 * Hashes an input to a canonical X25519 u-coordinate of large order (on the curve or its twist).
 * Try-and-increment over a counter byte; the first try succeeds except with probability ~2^-250.
 * Variable time only in that negligible case.
 */
export function hashToCurve(input: Uint8Array): Uint8Array {
  checkInput(input);
  for (let counter = 0; counter < 256; counter++) {
    const u = framedHash(DST_H2G, input, [Uint8Array.of(counter)]);
    u[31] &= 0x7f;
    if (isCanonicalPoint(u)) return new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
  }
  throw new Error('hashToCurve: no canonical point in 256 tries'); // probability ~2^-64000
}

/** The finalised PRF value of `input` given its unblinded element W = [k]·H(input). */
export function finalizeOutput(input: Uint8Array, element: Uint8Array): Uint8Array {
  const h = framedHash(DST_FIN, input, [ELEMENT_LENGTH, element, FINALIZE]);
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

/**
 * Points per side a client sends for `n` distinct inputs: at least as many as it has on either
 * side except with probability ≤ 2·e^-32 (Hoeffding), never more than n.
 */
export function paddedPerSide(n: number): number {
  return n === 0 ? 0 : Math.min(n, Math.ceil(n / 2 + 4 * Math.sqrt(n)));
}

/** Points a client sends for `n` distinct inputs (both sides, padding included). */
export const blindedBatchSize = (n: number): number => 2 * paddedPerSide(n);

/** A fresh 32-byte OPRF key (the server keeps it secret; the same key must prepare and evaluate). */
export const generateOprfKey = (): Uint8Array => new Uint8Array(randomBytes(32));

/** What the server publishes about its key and limits. */
export interface OprfPublicInfo {
  /** The construction, {@link SUITE}. */
  readonly suite: string;
  /** Hex of 16 bytes identifying the key (hash of its X25519 public point); lists carry it too. */
  readonly keyId: string;
  /** Most points accepted per {@link OprfServer.evaluate} call. */
  readonly maxPoints: number;
}

/** The list holder's side of the OPRF. */
export interface OprfServer {
  /** Key identifier and limits, for clients and list mirrors. */
  readonly publicInfo: OprfPublicInfo;
  /**
   * Multiplies each blinded point by the key. All points are checked before any is evaluated.
   * @throws PsiInputError BATCH_TOO_LARGE above `maxPoints`; BAD_POINT (with `index`) for a point
   *   that is not 32 bytes, not canonical (top bit set, ≥ p) or of small order.
   */
  evaluate(blinded: readonly Uint8Array[]): Uint8Array[];
  /** {@link evaluate} with the multiplications on a PSI pool's worker threads (same checks, same result). */
  evaluateOn(pool: PsiPool, blinded: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** The server's own finalised value F_k(input), for preparing its list. */
  prf(input: Uint8Array): Uint8Array;
}

/** Options of {@link createOprfServer}. */
export interface OprfServerInit {
  /** 32-byte key ({@link generateOprfKey}); a fresh random key when absent. */
  key?: Uint8Array;
  /** Points per evaluate call; default {@link MAX_POINTS}. */
  maxPoints?: number;
}

class Server implements OprfServer {
  readonly publicInfo: OprfPublicInfo;
  readonly #key;
  readonly #raw: Uint8Array;
  constructor(key: Uint8Array, maxPoints: number) {
    this.#raw = clamp(Uint8Array.from(key));
    this.#key = scalarKey(this.#raw);
    const keyId = createHash('sha256').update(DST_KEY).update(publicPoint(this.#key)).digest().subarray(0, 16);
    this.publicInfo = Object.freeze({ suite: SUITE, keyId: toHex(keyId), maxPoints });
  }

  #check(blinded: readonly Uint8Array[]): void {
    if (!Array.isArray(blinded)) throw new TypeError('blinded must be an array');
    if (blinded.length > this.publicInfo.maxPoints)
      throw new PsiInputError(
        `batch of ${blinded.length} points exceeds ${this.publicInfo.maxPoints}`,
        'BATCH_TOO_LARGE',
      );
    blinded.forEach((u, i) => {
      if (!isCanonicalPoint(u)) throw new PsiInputError(`point ${i} is not a canonical point`, 'BAD_POINT', i);
    });
  }

  evaluate(blinded: readonly Uint8Array[]): Uint8Array[] {
    this.#check(blinded);
    return blinded.map((u, i) => multiply(this.#key, u, i));
  }

  async evaluateOn(pool: PsiPool, blinded: readonly Uint8Array[]): Promise<Uint8Array[]> {
    this.#check(blinded);
    return pool.multiply(this.#raw, blinded);
  }

  prf(input: Uint8Array): Uint8Array {
    return finalizeOutput(input, multiply(this.#key, hashToCurve(input)));
  }
}

/** Creates the list holder's OPRF evaluator. */
export function createOprfServer(init: OprfServerInit = {}): OprfServer {
  const key = init.key ?? generateOprfKey();
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('key must be 32 bytes');
  const maxPoints = init.maxPoints ?? MAX_POINTS;
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new TypeError('maxPoints must be a positive integer');
  return new Server(key, maxPoints);
}

/** One blinded batch, waiting for the server's evaluation. */
export interface BlindedBatch {
  /** What to send to the server: shuffled, padded, equally many points of each side. */
  readonly blinded: readonly Uint8Array[];
  /**
   * Unblinds the server's answer (same order as `blinded`) and returns F_k(x) for each input, in
   * input order (duplicates get the same value).
   * @throws PsiInputError BAD_ENCODING when the count differs; BAD_POINT (with `index`) for a
   *   point that is not canonical or of small order.
   */
  finalize(evaluated: readonly Uint8Array[]): Uint8Array[];
}

/** The querying side of the OPRF. */
export interface OprfClient {
  /**
   * Blinds a batch of inputs (callers canonicalise them first, e.g. upper-case USCCs).
   * @throws PsiInputError BATCH_TOO_LARGE above `maxBatch` inputs
   */
  blind(inputs: readonly Uint8Array[]): BlindedBatch;
}

/** Options of {@link createOprfClient}. */
export interface OprfClientInit {
  /** Inputs per batch; default {@link MAX_BATCH}. */
  maxBatch?: number;
}

/** @internal One point of a client batch. */
export interface Item {
  u: Uint8Array;
  side: Side;
  /** Index of the distinct input, or -1 for padding. */
  slot: number;
}

/** @internal A blinding scalar with a clamped inverse on its side (redrawn until one exists, ~2 or ~4 draws). */
export function blindingKeys(side: Side) {
  for (let i = 0; i < 256; i++) {
    const r = randomScalar();
    const t = clampedInverse(r, side);
    if (t) return { r: scalarKey(r), t: scalarKey(t), rRaw: r, tRaw: t };
  }
  throw new Error('no invertible blinding scalar in 256 draws'); // probability < 2^-100
}

/** @internal A random canonical point of a side (padding). */
export function randomPoint(side: Side): Uint8Array {
  for (;;) {
    const u = new Uint8Array(randomBytes(32));
    u[31] &= 0x7f;
    if (isCanonicalPoint(u) && sideOf(u) === side) return u;
  }
}

/**
 * @internal A client batch's inputs checked and deduplicated: the distinct inputs, the slot of
 * each input among them, and the first input of each slot.
 * @throws PsiInputError BATCH_TOO_LARGE above `maxBatch` inputs
 */
export function distinctInputs(inputs: readonly Uint8Array[], maxBatch: number) {
  if (!Array.isArray(inputs)) throw new TypeError('inputs must be an array');
  if (inputs.length > maxBatch)
    throw new PsiInputError(`batch of ${inputs.length} inputs exceeds ${maxBatch}`, 'BATCH_TOO_LARGE');
  const slots = new Map<string, number>();
  const distinct: Uint8Array[] = [];
  const firstIndex: number[] = [];
  const slotOf = inputs.map((x, i) => {
    checkInput(x, `input ${i}`);
    const id = toHex(x);
    let s = slots.get(id);
    if (s === undefined) {
      s = distinct.length;
      slots.set(id, s);
      distinct.push(x);
      firstIndex.push(i);
    }
    return s;
  });
  return { distinct, slotOf, firstIndex };
}

function blind(inputs: readonly Uint8Array[], maxBatch: number): BlindedBatch {
  const { distinct, slotOf } = distinctInputs(inputs, maxBatch);
  const items: Item[] = distinct.map((x, slot) => {
    const u = hashToCurve(x);
    return { u, side: sideOf(u), slot };
  });
  const onCurve = items.filter((it) => it.side === 'curve').length;
  let perSide = paddedPerSide(distinct.length);
  if (Math.max(onCurve, distinct.length - onCurve) > perSide) perSide = distinct.length; // p ≤ 2e^-32
  for (let i = onCurve; i < perSide; i++) items.push({ u: randomPoint('curve'), side: 'curve', slot: -1 });
  for (let i = distinct.length - onCurve; i < perSide; i++)
    items.push({ u: randomPoint('twist'), side: 'twist', slot: -1 });
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  const keys = { curve: blindingKeys('curve'), twist: blindingKeys('twist') };
  const blinded = Object.freeze(items.map((it) => multiply(keys[it.side].r, it.u)));

  return {
    blinded,
    finalize(evaluated) {
      if (!Array.isArray(evaluated) || evaluated.length !== items.length)
        throw new PsiInputError(`expected ${items.length} evaluated points`, 'BAD_ENCODING');
      evaluated.forEach((z, i) => {
        if (!isCanonicalPoint(z)) throw new PsiInputError(`point ${i} is not a canonical point`, 'BAD_POINT', i);
      });
      const outputs: Uint8Array[] = new Array(distinct.length);
      items.forEach((it, i) => {
        if (it.slot >= 0)
          outputs[it.slot] = finalizeOutput(distinct[it.slot], multiply(keys[it.side].t, evaluated[i], i));
      });
      return slotOf.map((s) => outputs[s]);
    },
  };
}

/** Creates a client that blinds batches and finalises the server's answers. */
export function createOprfClient(init: OprfClientInit = {}): OprfClient {
  const maxBatch = init.maxBatch ?? MAX_BATCH;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError('maxBatch must be a positive integer');
  return { blind: (inputs) => blind(inputs, maxBatch) };
}
