/** SHA-256 and HMAC-SHA-256 through node:crypto (OpenSSL). */
import { createHmac, hash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts` (one-shot: cheaper than a Hash object per call). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  return new Uint8Array(hash('sha256', data, 'buffer'));
}

/** HMAC-SHA-256 of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
