/**
 * Browser build of crypto/ed25519.ts (same exports) on @noble/curves; substituted by the console's
 * Vite config. Verification is RFC 8032 strict (no ZIP-215 leniency), as OpenSSL's is.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

/** An Ed25519 key pair as raw bytes. */
export interface Ed25519KeyPair {
  /** 32-byte seed (the RFC 8032 private key). */
  seed: Uint8Array;
  /** 32-byte public key. */
  publicKey: Uint8Array;
}

function checkSeed(seed: Uint8Array) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('seed must be 32 bytes');
}

/** Derives the public key of a seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return ed25519.getPublicKey(seed);
}

/** Generates a fresh key pair (or derives one from a given seed). */
export function ed25519KeyPair(seed: Uint8Array = crypto.getRandomValues(new Uint8Array(32))): Ed25519KeyPair {
  return { seed, publicKey: ed25519PublicKey(seed) };
}

/** A reusable signer for one seed. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Creates a signer bound to one seed. */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const publicKey = ed25519PublicKey(seed);
  return { publicKey, sign: (message) => ed25519.sign(message, seed) };
}

/** Signs a message with a seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  checkSeed(seed);
  return ed25519.sign(message, seed);
}

/** Verifies a signature; false (never throws) on any malformed input. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
