/** Byte helpers: base64, base64url, hex, UTF-8, constant-time comparison. */
import { timingSafeEqual } from 'node:crypto';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export const toUtf8 = (s: string): Uint8Array => utf8.encode(s);
/** Decodes strict UTF-8; throws TypeError on invalid input. */
export const fromUtf8 = (b: Uint8Array): string => utf8d.decode(b);
/** Standard base64 with padding. */
export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
/** base64url without padding. */
export const toBase64Url = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
/** Lower-case hex. */
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict standard base64 (canonical padding); undefined when malformed. */
export function fromBase64(s: string): Uint8Array | undefined {
  if (typeof s !== 'string') return undefined;
  // Node's decoder skips characters outside the alphabet; the round trip refuses them (and any
  // non-canonical padding) without a regular expression, which costs more than decoding on large inputs.
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : undefined;
}
/** Strict unpadded base64url; undefined when malformed. */
export function fromBase64Url(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !B64URL_RE.test(s) || s.length % 4 === 1) return undefined;
  const b = new Uint8Array(Buffer.from(s, 'base64url'));
  return toBase64Url(b) === s ? b : undefined;
}
/** Strict hex; undefined when malformed. */
export function fromHex(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !HEX_RE.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** Constant-time equality of two byte strings (false when lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
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
