/**
 * Evaluation attestations: a grade issued as a signed document (credit.md §3.3, rule 3). The
 * document is the RFC 8785 canonical JSON of the body; the evaluator node signs a domain prefix
 * and the document with its identity key (its roster signing key), as credit reports are signed
 * (`authz/access.ts`), so anyone holding the evaluator's public key verifies it offline.
 */
import { z } from 'zod';
import {
  type Ed25519Signer,
  ed25519Verify,
  fromBase64,
  sha256,
  toBase64,
  toBase64Url,
  toUtf8,
} from '../crypto/index.ts';
import { validateUscc } from '../model/index.ts';
import { fastCanonicalJson } from './canonical.ts';
import { AttestationInvalidError } from './errors.ts';
import { GRADES } from './scheme.ts';

/** Format tag of an attestation body. */
export const ATTESTATION_FORMAT = 'credit-data-space/evaluation-attestation@1';
/** Domain separation prefix of attestation signatures. */
export const ATTESTATION_DOMAIN = 'credit-data-space/evaluation-attestation/v1\n';
/** Longest attestation document accepted. */
export const MAX_ATTESTATION_BYTES = 4096;

const iso = z.iso.datetime({ offset: true });
const hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256');
const nodeId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const b64key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key');
const b64sig = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature');

/** What an attestation states. */
export const AttestationBodySchema = z
  .object({
    format: z.literal(ATTESTATION_FORMAT),
    subject: z.string().length(18),
    grade: z.enum(GRADES),
    score: z.number().int().min(0),
    maxScore: z.number().int().min(1),
    scheme: z.object({ id: z.string().min(1).max(64), version: z.string().min(1).max(16) }).strict(),
    evaluator: z.object({ node: nodeId, city: z.enum(['XM', 'ZZ', 'QZ']) }).strict(),
    evaluatedAt: iso,
    validUntil: iso,
    /** Hex SHA-256 over the stored records the grade was computed from. */
    inputsDigest: hex,
    /** Hex SHA-256 of the canonical explanation. */
    explanationDigest: hex,
    /** The grade's sequence number at its evaluator: a higher one supersedes a lower one. */
    seq: z.number().int().min(1),
    /** Set when the grade is capped (an active serious-dishonesty listing). */
    cap: z.literal('SERIOUS_DISHONESTY').optional(),
  })
  .strict();
/** What an attestation states. */
export type AttestationBody = z.infer<typeof AttestationBodySchema>;

/** A signed attestation, as exchanged and archived. */
export interface SignedAttestation {
  /** The canonical JSON of the body: what was signed. */
  document: string;
  /** Base64 Ed25519 signature over the domain prefix and `document`. */
  signature: string;
  /** Base64 public key of the evaluator (informative: verifiers take the key from the roster). */
  signedBy: string;
}

const SignedSchema = z
  .object({ document: z.string().min(2).max(MAX_ATTESTATION_BYTES), signature: b64sig, signedBy: b64key })
  .strict();

/** The document of an attestation: the RFC 8785 canonical JSON of its body. */
export function attestationDocument(body: AttestationBody): string {
  return fastCanonicalJson(body);
}

/**
 * Signs an attestation document with the evaluator node's identity. Ed25519 is deterministic: the
 * same document signed again gives the same bytes, so a grade may be signed when it is issued.
 */
export function signAttestationDocument(document: string, signer: Ed25519Signer): SignedAttestation {
  return {
    document,
    signature: toBase64(signer.sign(toUtf8(ATTESTATION_DOMAIN + document))),
    signedBy: toBase64(signer.publicKey),
  };
}

/** Signs an attestation body with the evaluator node's identity. */
export function signAttestation(body: AttestationBody, signer: Ed25519Signer): SignedAttestation {
  return signAttestationDocument(attestationDocument(body), signer);
}

/** Whether the signature over `document` verifies with `publicKey` (base64 or raw); false on any defect. */
export function attestationSignatureValid(signed: SignedAttestation, publicKey: string | Uint8Array): boolean {
  const key = typeof publicKey === 'string' ? fromBase64(publicKey) : publicKey;
  const sig = typeof signed?.signature === 'string' ? fromBase64(signed.signature) : undefined;
  return (
    !!key &&
    !!sig &&
    typeof signed.document === 'string' &&
    ed25519Verify(key, toUtf8(ATTESTATION_DOMAIN + signed.document), sig)
  );
}

/**
 * Checks an attestation's shape (not its signature): the three fields, a document that is the
 * canonical JSON of a well-formed body, a valid USCC, `validUntil` after `evaluatedAt`, a score
 * within its maximum.
 * @throws AttestationInvalidError naming the problem
 */
export function parseAttestation(input: unknown): { signed: SignedAttestation; body: AttestationBody } {
  const s = SignedSchema.safeParse(input);
  if (!s.success)
    throw new AttestationInvalidError(
      `malformed attestation: ${s.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(s.data.document);
  } catch {
    throw new AttestationInvalidError('malformed attestation: document is not JSON');
  }
  const b = AttestationBodySchema.safeParse(parsed);
  if (!b.success)
    throw new AttestationInvalidError(
      `malformed attestation: ${b.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  if (fastCanonicalJson(b.data) !== s.data.document)
    throw new AttestationInvalidError('malformed attestation: document is not in canonical form');
  const u = validateUscc(b.data.subject);
  if (!u.valid || u.code !== b.data.subject)
    throw new AttestationInvalidError('malformed attestation: subject is not a valid USCC');
  if (Date.parse(b.data.validUntil) <= Date.parse(b.data.evaluatedAt))
    throw new AttestationInvalidError('malformed attestation: validUntil is not after evaluatedAt');
  if (b.data.score > b.data.maxScore) throw new AttestationInvalidError('malformed attestation: score above maxScore');
  return { signed: s.data, body: b.data };
}

/**
 * Parses an attestation and checks its signature against the evaluator's key.
 * @throws AttestationInvalidError when malformed or when the signature does not verify
 */
export function verifyAttestation(
  input: unknown,
  publicKey: string | Uint8Array,
): { signed: SignedAttestation; body: AttestationBody } {
  const a = parseAttestation(input);
  if (!attestationSignatureValid(a.signed, publicKey))
    throw new AttestationInvalidError(
      'the attestation signature does not verify with the evaluator key (altered, or signed by another node)',
    );
  return a;
}

/** The id of an attestation: base64url SHA-256 of its document. */
export function attestationId(signed: Pick<SignedAttestation, 'document'>): string {
  return toBase64Url(sha256(toUtf8(signed.document)));
}

/** What a verifier prints about an attestation whose signature verified. */
export function describeAttestation(body: AttestationBody, now = Date.now()) {
  return {
    subject: body.subject,
    grade: body.grade,
    score: body.score,
    maxScore: body.maxScore,
    scheme: `${body.scheme.id}@${body.scheme.version}`,
    evaluator: `${body.evaluator.node} (${body.evaluator.city})`,
    evaluatedAt: body.evaluatedAt,
    validUntil: body.validUntil,
    /** False once past `validUntil` (the signature still verifies: an archived grade). */
    inForce: now < Date.parse(body.validUntil),
    seq: body.seq,
    inputsDigest: body.inputsDigest,
    explanationDigest: body.explanationDigest,
    ...(body.cap ? { cap: body.cap } : {}),
  };
}
