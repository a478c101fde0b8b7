/**
 * Ed25519 (RFC 8032) through node:crypto: ~23,000 signatures/s per core, versus ~1,400/s for a
 * pure-JS implementation. Keys travel as raw bytes: a 32-byte seed and a 32-byte public key.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { toBase64Url } from './encoding.ts';

/** An Ed25519 key pair as raw bytes. */
export interface Ed25519KeyPair {
  /** 32-byte seed (the RFC 8032 private key). */
  seed: Uint8Array;
  /** 32-byte public key. */
  publicKey: Uint8Array;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('seed must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const publicCache = new Map<string, KeyObject>();
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = toBase64Url(publicKey);
  let k = publicCache.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicCache.size > 10_000) publicCache.clear();
    publicCache.set(id, k);
  }
  return k;
}

/** Derives the public key of a seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/** Generates a fresh key pair (or derives one from a given seed). */
export function ed25519KeyPair(seed: Uint8Array = new Uint8Array(randomBytes(32))): Ed25519KeyPair {
  return { seed, publicKey: ed25519PublicKey(seed) };
}

/** A reusable signer for one seed (avoids re-importing the key on every signature). */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Creates a signer bound to one seed. */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const key = privateKeyObject(seed);
  const publicKey = ed25519PublicKey(seed);
  return { publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
}

/** Signs a message with a seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKeyObject(seed)));
}

/** Verifies a signature; false (never throws) on any malformed input. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
