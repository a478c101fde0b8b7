/**
 * The signed description of a joint query (DESIGN §7): which bank asks, for which officer and
 * purpose, about which enterprises (each with the consent it relies on), under which HE
 * parameters and public key. The requesting bank's node signs it with its roster key; the
 * coordinator forwards it unchanged and every contributor checks the signature itself, so the
 * coordinator can neither make up a query nor widen one, and a contributor can refuse a query it
 * has already served (replay) or one older than the freshness window.
 */
import { z } from 'zod';
import {
  canonicalBytes,
  concatBytes,
  type Ed25519Signer,
  ed25519Verify,
  fromBase64,
  sha256,
  toBase64,
  toHex,
  toUtf8,
} from '../../crypto/index.ts';

const DOMAIN = toUtf8('credit-data-space/joint-query/v1\n');
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Most enterprises in one query (one BFV ciphertext holds 8,192 slots). */
export const MAX_JOINT_BATCH = 8192;
/** How long a signed query stays acceptable (either side of the contributor's clock). */
export const JOINT_FRESHNESS_MS = 5 * 60_000;

/** Kinds of joint queries run through the coordinator. */
export const JOINT_KINDS = ['exposure', 'score'] as const;
/** A kind of joint query. */
export type JointKind = (typeof JOINT_KINDS)[number];

/** What the requesting bank's node signs. */
export const JointQuerySchema = z
  .object({
    v: z.literal(1),
    kind: z.enum(JOINT_KINDS),
    /** Unique id of the query (also its correlation id in every log). */
    id: z.string().regex(/^[A-Za-z0-9._:-]{8,64}$/),
    requester: z.string().regex(NODE_ID),
    principal: z.string().min(1).max(128),
    purpose: z.string().min(1).max(64),
    batch: z
      .array(
        z
          .object({
            uscc: z.string().length(18),
            consentId: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
            consentHome: z.string().regex(NODE_ID),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_JOINT_BATCH),
    /** HE parameter id the requester's key and every ciphertext must use. */
    parameters: z.string().regex(/^[0-9a-f]{64}$/),
    /** Hex SHA-256 of the requester's serialized public key, which travels beside the query. */
    publicKeyHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** The scoring model (`id@version`) of a score query. */
    model: z.string().max(100).optional(),
    issuedAt: z.iso.datetime(),
  })
  .strict();
/** A joint query. */
export type JointQuery = z.infer<typeof JointQuerySchema>;

/** A query with the requester node's signature. */
export const SignedJointQuerySchema = z
  .object({ query: JointQuerySchema, signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/) })
  .strict();
/** A query with the requester node's signature. */
export type SignedJointQuery = z.infer<typeof SignedJointQuerySchema>;

/** Hex SHA-256 of a serialized public key. */
export const publicKeyHash = (publicKey: Uint8Array) => toHex(sha256(publicKey));

/** Signs a query with the requesting bank node's identity. */
export function signJointQuery(query: JointQuery, signer: Ed25519Signer): SignedJointQuery {
  return { query, signature: toBase64(signer.sign(concatBytes(DOMAIN, canonicalBytes(query)))) };
}

/** Checks the requester's signature over a query. */
export function jointQuerySignedBy(signed: SignedJointQuery, key: Uint8Array): boolean {
  const sig = fromBase64(signed.signature);
  return sig !== undefined && ed25519Verify(key, concatBytes(DOMAIN, canonicalBytes(signed.query)), sig);
}
