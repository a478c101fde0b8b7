/**
 * The signed request of a bank's node for profile sections. The bank's node signs what its
 * officer asked (who, which enterprise, which sections, purpose, consent, when) with its roster
 * key; the gateway forwards that signed request unchanged to the holders, and every holder
 * checks the bank's signature itself. So a gateway carries a bank's request but cannot make one
 * up, widen it, or act for a bank that did not ask; a holder refuses a copy it has already
 * served (replay) or one older than the freshness window.
 */
import { z } from 'zod';
import {
  canonicalBytes,
  concatBytes,
  type Ed25519Signer,
  ed25519Verify,
  fromBase64,
  toBase64,
  toUtf8,
} from '../crypto/index.ts';
import { SECTIONS } from '../model/index.ts';

const DOMAIN = toUtf8('credit-data-space/sections-request/v1\n');
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How long a signed request stays acceptable (either side of the holder's clock). */
export const REQUEST_FRESHNESS_MS = 120_000;

/** What the bank's node signs. */
export const SectionRequestSchema = z
  .object({
    v: z.literal(1),
    bank: z.string().regex(NODE_ID),
    principal: z.string().min(1).max(128),
    uscc: z.string().length(18),
    sections: z.array(z.enum(SECTIONS)).min(1).max(SECTIONS.length),
    purpose: z.string().min(1).max(64),
    consentId: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    /** Home node of the consent, where a holder that has not heard of it fetches it. */
    consentHome: z.string().regex(NODE_ID),
    correlationId: z.string().min(8).max(64),
    issuedAt: z.iso.datetime(),
  })
  .strict();
/** A bank's request for sections. */
export type SectionRequest = z.infer<typeof SectionRequestSchema>;

/** A request with the bank node's signature. */
export const SignedSectionRequestSchema = z
  .object({ request: SectionRequestSchema, signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/) })
  .strict();
/** A request with the bank node's signature. */
export type SignedSectionRequest = z.infer<typeof SignedSectionRequestSchema>;

/** Signs a request with the bank node's identity. */
export function signSectionRequest(request: SectionRequest, signer: Ed25519Signer): SignedSectionRequest {
  return { request, signature: toBase64(signer.sign(concatBytes(DOMAIN, canonicalBytes(request)))) };
}

/** Checks the bank's signature over a request. */
export function sectionRequestSignedBy(signed: SignedSectionRequest, bankKey: Uint8Array): boolean {
  const sig = fromBase64(signed.signature);
  return sig !== undefined && ed25519Verify(bankKey, concatBytes(DOMAIN, canonicalBytes(signed.request)), sig);
}

/**
 * Remembers the signatures of requests already served within the freshness window, so a copy
 * presented again is refused. Bounded: entries older than the window are dropped.
 */
export function createReplayGuard(windowMs = REQUEST_FRESHNESS_MS, maxEntries = 200_000) {
  const seen = new Map<string, number>();
  return {
    /** True the first time a signature is seen within the window. */
    first(signature: string, now = Date.now()): boolean {
      // Insertion order is time order: drop from the oldest until one is still inside the window.
      for (const [k, at] of seen) {
        if (now - at <= 2 * windowMs) break;
        seen.delete(k);
      }
      if (seen.has(signature)) return false;
      if (seen.size >= maxEntries) return false;
      seen.set(signature, now);
      return true;
    },
  };
}
