/**
 * Browser build of crypto/encoding.ts (same exports, same strictness) without node:crypto or
 * Buffer. The console's Vite config substitutes it for the original wherever the shared crypto
 * modules (merkle.ts, note.ts) import it; console/browser-crypto.test.ts checks both agree.
 */

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export const toUtf8 = (s: string): Uint8Array => utf8.encode(s);
/** Decodes strict UTF-8; throws TypeError on invalid input. */
export const fromUtf8 = (b: Uint8Array): string => utf8d.decode(b);

function binary(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
}

/** Standard base64 with padding. */
export const toBase64 = (b: Uint8Array): string => btoa(binary(b));
/** base64url without padding. */
export const toBase64Url = (b: Uint8Array): string =>
  toBase64(b).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
/** Lower-case hex. */
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function decodeBase64(s: string): Uint8Array | undefined {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Strict standard base64 (canonical padding); undefined when malformed. */
export function fromBase64(s: string): Uint8Array | undefined {
  if (typeof s !== 'string') return undefined;
  // The round trip refuses whitespace, missing or extra padding and non-zero trailing bits, as the original does.
  const b = decodeBase64(s);
  return b && toBase64(b) === s ? b : undefined;
}

/** Strict unpadded base64url; undefined when malformed. */
export function fromBase64Url(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !B64URL_RE.test(s) || s.length % 4 === 1) return undefined;
  const std = s.replaceAll('-', '+').replaceAll('_', '/');
  const b = decodeBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
  return b && toBase64Url(b) === s ? b : undefined;
}

/** Strict hex; undefined when malformed. */
export function fromHex(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !HEX_RE.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Constant-time equality of two byte strings (false when lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
