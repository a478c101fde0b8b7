/**
 * Signed documents of authorisation: consent artefacts (signed by the enterprise) and enterprise
 * key bindings (signed by the credit centre). Both are signed over a domain-separated RFC 8785
 * canonical encoding, so every node checks the same bytes, offline.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  canonicalBytes,
  concatBytes,
  ed25519Sign,
  ed25519Verify,
  fromBase64,
  sha256,
  toBase64,
  toBase64Url,
  toUtf8,
} from '../crypto/index.ts';
import { validateUscc } from '../model/index.ts';
import { ConsentInvalidError } from './errors.ts';
import { purposeById, SCOPES } from './purposes.ts';

const iso = z.iso.datetime({ offset: true });
const b64key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key');
const b64sig = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature');

/** The body of a consent artefact: immutable; a change is a new consent. */
export const ConsentBodySchema = z
  .object({
    v: z.literal(1),
    enterprise: z.string().length(18),
    /**
     * The node that keeps this consent's lifecycle (its home): the only node where it is granted,
     * approved, paused, resumed or revoked, and the only one whose status changes other nodes accept.
     * Fixed by the enterprise's signature, so no other node can adopt the document as its own.
     */
    home: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    grantee: z
      .object({ node: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), officer: z.string().max(128).optional() })
      .strict(),
    scopes: z.array(z.string()).min(1).max(SCOPES.length),
    purpose: z.string().max(64),
    notBefore: iso,
    expiresAt: iso,
    maxUses: z.number().int().min(1).max(100_000).optional(),
    dataRange: z.object({ from: z.iso.date().optional(), to: z.iso.date().optional() }).strict().optional(),
    retentionDays: z.number().int().min(0).max(3650),
    issuedAt: iso,
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be 16–64 base64url characters'),
  })
  .strict();
export type ConsentBody = z.infer<typeof ConsentBodySchema>;

/** A consent body with the enterprise's signature. */
export interface SignedConsent {
  body: ConsentBody;
  /** Base64 Ed25519 signature by the enterprise's bound key. */
  signature: string;
}

const CONSENT_DOMAIN = toUtf8('credit-data-space/consent/v1\n');
const BINDING_DOMAIN = toUtf8('credit-data-space/key-binding/v1\n');

/** The bytes an enterprise signs for a consent. */
export function consentSigningBytes(body: ConsentBody): Uint8Array {
  return concatBytes(CONSENT_DOMAIN, canonicalBytes(body));
}

/** The id of a consent: base64url SHA-256 of its canonical body. Same body, same id, on every node. */
export function consentId(body: ConsentBody): string {
  return toBase64Url(sha256(canonicalBytes(body)));
}

/** Clock skew tolerated on `issuedAt`. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Parses and checks a consent body against the data model and the purpose registry.
 * @throws ConsentInvalidError naming the problem
 */
export function parseConsentBody(input: unknown, now = Date.now()): ConsentBody {
  const r = ConsentBodySchema.safeParse(input);
  if (!r.success)
    throw new ConsentInvalidError(
      `invalid consent: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const b = r.data;
  const uscc = validateUscc(b.enterprise);
  if (!uscc.valid || uscc.code !== b.enterprise)
    throw new ConsentInvalidError('invalid consent: enterprise is not a valid USCC');
  const unknown = b.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new ConsentInvalidError(`invalid consent: unknown scopes ${unknown.join(', ')}`);
  if (new Set(b.scopes).size !== b.scopes.length) throw new ConsentInvalidError('invalid consent: repeated scopes');
  const purpose = purposeById(b.purpose);
  if (!purpose) throw new ConsentInvalidError(`invalid consent: unknown purpose ${b.purpose}`);
  const outside = b.scopes.filter((s) => !(purpose.scopes as readonly string[]).includes(s));
  if (outside.length > 0)
    throw new ConsentInvalidError(`invalid consent: purpose ${b.purpose} does not allow ${outside.join(', ')}`);
  const from = Date.parse(b.notBefore);
  const to = Date.parse(b.expiresAt);
  if (to <= from) throw new ConsentInvalidError('invalid consent: expiresAt must be after notBefore');
  if (to - from > purpose.maxDays * 86_400_000)
    throw new ConsentInvalidError(`invalid consent: purpose ${b.purpose} allows at most ${purpose.maxDays} days`);
  if (b.retentionDays > purpose.maxRetentionDays)
    throw new ConsentInvalidError(
      `invalid consent: purpose ${b.purpose} allows at most ${purpose.maxRetentionDays} days of retention`,
    );
  if (b.dataRange?.from && b.dataRange.to && b.dataRange.from > b.dataRange.to)
    throw new ConsentInvalidError('invalid consent: dataRange.from must not be after dataRange.to');
  if (Date.parse(b.issuedAt) > now + MAX_CLOCK_SKEW_MS)
    throw new ConsentInvalidError('invalid consent: issuedAt is in the future');
  return b;
}

/** Signs a consent body with an enterprise seed (used by enterprise tools, tests and the demo). */
export function signConsent(body: ConsentBody, enterpriseSeed: Uint8Array): SignedConsent {
  return { body, signature: toBase64(ed25519Sign(enterpriseSeed, consentSigningBytes(body))) };
}

/** Checks a consent signature against the enterprise's public key. */
export function consentSignatureValid(c: SignedConsent, enterpriseKey: Uint8Array): boolean {
  const sig =
    typeof c.signature === 'string' && b64sig.safeParse(c.signature).success ? fromBase64(c.signature) : undefined;
  return sig !== undefined && ed25519Verify(enterpriseKey, consentSigningBytes(c.body), sig);
}

/** A credit centre's statement that a public key belongs to an enterprise. */
export const KeyBindingBodySchema = z
  .object({
    v: z.literal(1),
    uscc: z.string().length(18),
    publicKey: b64key,
    issuer: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    issuedAt: iso,
  })
  .strict();
export type KeyBindingBody = z.infer<typeof KeyBindingBodySchema>;

/** A key binding with the issuing centre's signature. */
export interface KeyBinding {
  body: KeyBindingBody;
  signature: string;
}

/** Signs a key binding with the centre's identity seed. */
export function signBinding(body: KeyBindingBody, centreSeed: Uint8Array): KeyBinding {
  return { body, signature: toBase64(ed25519Sign(centreSeed, concatBytes(BINDING_DOMAIN, canonicalBytes(body)))) };
}

/** Verifies a key binding against the issuing centre's public key; false on any defect. */
export function bindingValid(b: KeyBinding, centreKey: Uint8Array): boolean {
  if (!KeyBindingBodySchema.safeParse(b?.body).success || typeof b.signature !== 'string') return false;
  const sig = fromBase64(b.signature);
  return sig !== undefined && ed25519Verify(centreKey, concatBytes(BINDING_DOMAIN, canonicalBytes(b.body)), sig);
}

/** What a consent draft needs; the rest gets sensible values. */
export interface ConsentDraft {
  enterprise: string;
  /** Node that keeps the consent's lifecycle (the enterprise's credit centre or the easy-loan platform). */
  home: string;
  grantee: string;
  scopes: string[];
  purpose?: string;
  /** Validity in days from now (default 30). */
  days?: number;
  officer?: string;
  maxUses?: number;
  retentionDays?: number;
  /** Reference time in ms (default now). */
  now?: number;
}

/**
 * A fresh consent body (random nonce, valid from a minute ago): what an enterprise's wallet or
 * the easy-loan platform would put before the enterprise to sign. Not yet checked against policy.
 */
export function draftConsent(d: ConsentDraft): ConsentBody {
  const now = d.now ?? Date.now();
  return {
    v: 1,
    enterprise: d.enterprise,
    home: d.home,
    grantee: { node: d.grantee, ...(d.officer ? { officer: d.officer } : {}) },
    scopes: d.scopes,
    purpose: d.purpose ?? 'loan-application',
    notBefore: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + (d.days ?? 30) * 86_400_000).toISOString(),
    ...(d.maxUses !== undefined ? { maxUses: d.maxUses } : {}),
    retentionDays: d.retentionDays ?? 365,
    issuedAt: new Date(now - 1000).toISOString(),
    nonce: toBase64Url(new Uint8Array(randomBytes(18))),
  };
}
