/** Browser build of crypto/hash.ts (same exports) on @noble/hashes; substituted by the console's Vite config. */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC-SHA-256 of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(nobleSha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
}
