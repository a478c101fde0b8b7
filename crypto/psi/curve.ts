/**
 * The group of the list check: x-only Curve25519 *and its quadratic twist*, every scalar
 * multiplication done by OpenSSL's X25519 through `node:crypto` (≈ 20,000/s per core, ~30× the
 * pure-JS rate).
 *
 * Every canonical u-coordinate is the x of a point on Curve25519 E (#E = 8·L) or on its twist
 * E' (#E' = 4·L_TWIST); L and L_TWIST are primes of 253 bits, and Curve25519 was chosen to be
 * twist-secure (discrete logarithms cost ~2^125 on both). X25519 runs the same ladder on both.
 *
 * Scalars are X25519 private keys, which OpenSSL clamps: a multiple of 8 in [2^254, 2^255).
 * A clamped scalar clears the cofactor of both groups, so `[s]u` always lands in the prime-order
 * subgroup of u's side, and a scalar acts there as `s mod L` (curve) or `s mod L_TWIST` (twist).
 * Unblinding needs the inverse of a clamped scalar as a clamped scalar: {@link clampedInverse}
 * finds one when it exists (half the time on the curve, a quarter on the twist) and callers
 * draw a new blinding scalar otherwise.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';
import { PsiInputError } from './errors.ts';

/** The field prime 2^255 − 19. */
export const P = 2n ** 255n - 19n;
/** Order of the prime-order subgroup of Curve25519 (#E = 8·L). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** Order of the prime-order subgroup of the twist (#E' = 2p + 2 − #E = 4·L_TWIST). */
export const L_TWIST = (P + 1n) / 2n - 2n * L;
/** Bytes of an encoded point (a little-endian u-coordinate) and of a scalar. */
export const POINT_LENGTH = 32;

/** Which group a u-coordinate belongs to: Curve25519 itself or its quadratic twist. */
export type Side = 'curve' | 'twist';

const A = 486662n;
const TWO_251 = 2n ** 251n;
const TWO_252 = 2n ** 252n;

/** Little-endian bytes → bigint. */
export function fromLittleEndian(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
}

/** bigint → 32 little-endian bytes (the value must be below 2^256). */
export function toLittleEndian(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Canonical u-coordinates of the points of small order on both groups (0, 1, p − 1 and the two
 * points of order 8). A clamped scalar sends each of them to the identity, which OpenSSL refuses
 * (all-zero shared secret); they are refused up front as well.
 */
const SMALL_ORDER = new Set([
  0n,
  1n,
  P - 1n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
]);
const SUSPECT_FIRST_BYTE = new Set([...SMALL_ORDER].map((v) => Number(v & 0xffn)));

/**
 * True when `u` is 32 bytes, its top bit is clear, its value is below p and it is not of small
 * order: the only encodings the list check accepts from the other party.
 */
export function isCanonicalPoint(u: Uint8Array): boolean {
  if (!(u instanceof Uint8Array) || u.length !== POINT_LENGTH || (u[31] & 0x80) !== 0) return false;
  if (!SUSPECT_FIRST_BYTE.has(u[0]) && u[31] !== 0x7f) return true; // fast path: neither ≥ p nor small order
  const v = fromLittleEndian(u);
  return v < P && !SMALL_ORDER.has(v);
}

/** Jacobi symbol (a/n) for odd n > 0 (binary algorithm; variable time: use on public or local values only). */
export function jacobi(a: bigint, n: bigint): -1 | 0 | 1 {
  let x = ((a % n) + n) % n;
  let m = n;
  let t: -1 | 1 = 1;
  while (x !== 0n) {
    let z = 0;
    const low = Number(BigInt.asUintN(32, x));
    if (low === 0) {
      while ((x & 1n) === 0n) {
        x >>= 1n;
        z++;
      }
    } else {
      z = 31 - Math.clz32(low & -low);
      if (z > 0) x >>= BigInt(z);
    }
    const m8 = Number(BigInt.asUintN(3, m));
    if ((z & 1) === 1 && (m8 === 3 || m8 === 5)) t = t === 1 ? -1 : 1;
    if (Number(BigInt.asUintN(2, x)) === 3 && (m8 & 3) === 3) t = t === 1 ? -1 : 1;
    const r = m % x;
    m = x;
    x = r;
  }
  return m === 1n ? t : 0;
}

/**
 * The group of a canonical u: Curve25519 when u³ + A·u² + u is a square mod p, the twist
 * otherwise. Variable time (a Jacobi symbol in bigint arithmetic, ~20 µs): the client runs it on
 * its own hashed inputs, locally.
 */
export function sideOf(u: Uint8Array): Side {
  const x = fromLittleEndian(u) % P;
  const g = (x * ((x * x + A * x + 1n) % P)) % P;
  return jacobi(g, P) === -1 ? 'twist' : 'curve';
}

/** Order of the prime-order subgroup on a side. */
export const orderOf = (side: Side): bigint => (side === 'curve' ? L : L_TWIST);

/** True when `s` is already in X25519's clamped form (OpenSSL uses it unchanged). */
export function isClamped(s: Uint8Array): boolean {
  return s.length === 32 && (s[0] & 7) === 0 && (s[31] & 0xc0) === 0x40;
}

/** Clamps 32 bytes in place into an X25519 scalar (multiple of 8 in [2^254, 2^255)) and returns them. */
export function clamp(s: Uint8Array): Uint8Array {
  s[0] &= 0xf8;
  s[31] = (s[31] & 0x7f) | 0x40;
  return s;
}

/** A fresh random clamped scalar. */
export const randomScalar = (): Uint8Array => clamp(new Uint8Array(randomBytes(32)));

/** a⁻¹ mod m for 0 < a < m, m prime (extended Euclid). */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [m, ((a % m) + m) % m];
  let [s0, s1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

/**
 * A clamped scalar T with T·s ≡ 1 modulo the side's subgroup order, or undefined when no clamped
 * scalar has that residue (T = 8·m needs m ≡ (8s)⁻¹ in [2^251, 2^252)).
 */
export function clampedInverse(s: Uint8Array, side: Side): Uint8Array | undefined {
  const order = orderOf(side);
  const residue = fromLittleEndian(s) % order;
  if (residue === 0n) return undefined;
  const m = modInverse((8n * residue) % order, order);
  if (m < TWO_251 || m >= TWO_252) return undefined;
  return toLittleEndian(8n * m);
}

/**
 * How points become KeyObjects. Node ≥ 24.22 (what `npm install` brings on Linux x64) imports raw
 * keys in ~6 µs. Earlier releases test every non-KeyObject argument with a throwing
 * `isKeyObject`, which costs ~30–40 µs per import of an object argument, while a PEM string
 * skips that test (~15 µs); Node 22 has no raw-public import at all.
 */
const RAW_KEYS = (() => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 24 || (major === 24 && minor < 22)) return false;
  try {
    createPublicKey({ key: Buffer.alloc(32, 9), format: 'raw-public', asymmetricKeyType: 'x25519' });
    return true;
  } catch {
    return false;
  }
})();
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** An OpenSSL X25519 private key for a scalar (OpenSSL clamps it; pass clamped scalars). */
export function scalarKey(s: Uint8Array): KeyObject {
  if (!(s instanceof Uint8Array) || s.length !== 32) throw new TypeError('scalar must be 32 bytes');
  return RAW_KEYS
    ? createPrivateKey({ key: buf(s), format: 'raw-private', asymmetricKeyType: 'x25519' })
    : createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, s]), format: 'der', type: 'pkcs8' });
}

function pointKey(u: Uint8Array): KeyObject {
  return RAW_KEYS
    ? createPublicKey({ key: buf(u), format: 'raw-public', asymmetricKeyType: 'x25519' })
    : createPublicKey(
        `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([SPKI_PREFIX, u]).toString('base64')}\n-----END PUBLIC KEY-----\n`,
      );
}

/**
 * [s]u through OpenSSL X25519, for a point already known to be canonical.
 * @throws PsiInputError BAD_POINT when the result is the identity (u of small order)
 */
export function multiply(s: KeyObject, u: Uint8Array, index?: number): Uint8Array {
  try {
    return new Uint8Array(diffieHellman({ privateKey: s, publicKey: pointKey(u) }));
  } catch (cause) {
    throw new PsiInputError('point has small order', 'BAD_POINT', index, { cause });
  }
}

/** The X25519 public key [s]·9 of a private key (identifies a key without revealing it). */
export function publicPoint(s: KeyObject): Uint8Array {
  const jwk = createPublicKey(s).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(String(jwk.x), 'base64url'));
}
