/**
 * The enterprise's key in the browser: importing it (a base64 or hex seed, an Ed25519 JWK, or a
 * line of the demo data's keys file) and signing a consent body over exactly the bytes of
 * authz/documents.ts `consentSigningBytes`: the domain line, then RFC 8785 canonical JSON.
 * The seed stays in memory (React state); it is never stored or sent anywhere.
 */
import canonicalize from 'canonicalize';
import { ed25519PublicKey, ed25519Sign } from '../../../crypto/ed25519.ts';
import { concatBytes, fromBase64, fromBase64Url, fromHex, toBase64, toUtf8 } from '../../../crypto/encoding.ts';

const CONSENT_DOMAIN = 'credit-data-space/consent/v1\n';

/** The bytes an enterprise signs for a consent body. */
export function consentSigningBytes(body: unknown): Uint8Array {
  const text = canonicalize(body);
  if (text === undefined) throw new TypeError('consent body has no JSON representation');
  return concatBytes(toUtf8(CONSENT_DOMAIN), toUtf8(text));
}

/** An imported enterprise key. */
export interface EnterpriseKey {
  seed: Uint8Array;
  /** base64, as key bindings carry it. */
  publicKey: string;
}

/** Why a key could not be imported (a message key of the console's dictionary). */
export class KeyImportError extends Error {}

/**
 * Reads an Ed25519 private key: 32 bytes as base64 (standard or url) or hex, a JWK
 * `{ kty: "OKP", crv: "Ed25519", d }`, or a JSON line holding `seed` (the demo data's
 * keys/enterprises.ndjson). A JWK's `x` or a line's `publicKey`, when present, must match.
 * @throws KeyImportError
 */
export function importEnterpriseKey(input: string): EnterpriseKey {
  const text = input.trim();
  let seed: Uint8Array | undefined;
  let claimed: string | undefined;
  if (text.startsWith('{')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new KeyImportError('key.notJson');
    }
    if (typeof o.d === 'string') {
      if (o.kty !== 'OKP' || o.crv !== 'Ed25519') throw new KeyImportError('key.notEd25519');
      seed = fromBase64Url(o.d);
      const x = typeof o.x === 'string' ? fromBase64Url(o.x) : undefined;
      if (x) claimed = toBase64(x);
    } else if (typeof o.seed === 'string') {
      seed = fromBase64(o.seed);
      if (typeof o.publicKey === 'string') claimed = o.publicKey;
    }
  } else {
    seed = /^[0-9a-fA-F]{64}$/.test(text) ? fromHex(text) : (fromBase64(text) ?? fromBase64Url(text));
  }
  if (seed?.length !== 32) throw new KeyImportError('key.badSeed');
  const publicKey = toBase64(ed25519PublicKey(seed));
  if (claimed !== undefined && claimed !== publicKey) throw new KeyImportError('key.mismatch');
  return { seed, publicKey };
}

/** The enterprise's base64 signature of a consent body. */
export function signConsentBody(body: unknown, key: EnterpriseKey): string {
  return toBase64(ed25519Sign(key.seed, consentSigningBytes(body)));
}
