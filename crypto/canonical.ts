/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the bytes every node signs and verifies.
 * Delegates to the `canonicalize` package, the reference implementation by the RFC's authors.
 */
import canonicalizeJson from 'canonicalize';
import { toUtf8 } from './encoding.ts';

/** The JCS text of a JSON value. @throws TypeError for values JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  const text = canonicalizeJson(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** The UTF-8 bytes of the JCS text of a JSON value. */
export function canonicalBytes(value: unknown): Uint8Array {
  return toUtf8(canonicalJson(value));
}
