/**
 * The federation roster (DESIGN §4): a signed membership document issued by the federation
 * authority (the Xiamen credit centre by default; k-of-n authorities supported). Nodes accept
 * protocol streams only from members whose role allows the protocol.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { z } from 'zod';
import { canonicalBytes, type Ed25519Signer, ed25519Verify, fromBase64, toBase64 } from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import { SECTIONS } from '../model/types.ts';

/** Roles a member may have (DESIGN §1). */
export const MEMBER_ROLES = ['credit-centre', 'bank', 'easy-loan', 'city-peer', 'source'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const b64key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key');
const isoTime = z.iso.datetime({ offset: true });

/** One member of the federation. */
export const RosterMemberSchema = z
  .object({
    nodeId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    name: z.string().min(1).max(200),
    role: z.enum(MEMBER_ROLES),
    city: z.enum(['XM', 'ZZ', 'QZ']).optional(),
    peerId: z.string().min(1).max(128),
    addresses: z.array(z.string().min(1).max(256)).max(16),
    /** Base64 Ed25519 identity key: signs checkpoints, bindings and reports; derives `peerId`. */
    signingKey: b64key,
    /** Profile sections the member holds (data holders only); absent means every section. */
    serves: z.array(z.enum(SECTIONS)).min(1).optional(),
    /** Base URL of the member's HTTP API, if it exposes one. */
    apiUrl: z.url().optional(),
    validFrom: isoTime,
    validUntil: isoTime,
  })
  .strict();
export type RosterMember = z.infer<typeof RosterMemberSchema>;

/** The signed body of a roster. */
export const RosterBodySchema = z
  .object({
    federation: z.string().min(1).max(100),
    version: z.number().int().min(1),
    issuedAt: isoTime,
    members: z.array(RosterMemberSchema).max(1000),
  })
  .strict();
export type RosterBody = z.infer<typeof RosterBodySchema>;

/** A roster with the authorities' signatures over the canonical (RFC 8785) body. */
export const SignedRosterSchema = z
  .object({
    roster: RosterBodySchema,
    signatures: z.array(z.object({ publicKey: b64key, signature: z.string().min(1).max(200) }).strict()).max(32),
  })
  .strict();
export type SignedRoster = z.infer<typeof SignedRosterSchema>;

/** Who may sign rosters and how many of them must. */
export interface RosterTrust {
  authorityKeys: readonly string[];
  threshold: number;
}

/** A roster that fails validation or verification. */
export class RosterError extends CreditError {
  static override name = 'RosterError';
  override readonly code = 'ROSTER_INVALID';
}

/** Domain separation prefix of roster signatures. */
const CONTEXT = 'credit-data-space/roster/v1\n';

function signedBytes(body: RosterBody): Uint8Array {
  const c = canonicalBytes(body);
  const prefix = new TextEncoder().encode(CONTEXT);
  const out = new Uint8Array(prefix.length + c.length);
  out.set(prefix);
  out.set(c, prefix.length);
  return out;
}

/** The libp2p peer id string of an Ed25519 identity public key. */
export function peerIdOfKey(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

/**
 * Parses and checks a roster's structure: unique node ids, peer ids and keys; each `peerId`
 * derived from its `signingKey`; validity intervals ordered.
 * @throws RosterError naming the problem.
 */
export function parseRoster(input: unknown): SignedRoster {
  const r = SignedRosterSchema.safeParse(input);
  if (!r.success)
    throw new RosterError(
      `invalid roster: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const seen = new Set<string>();
  for (const m of r.data.roster.members) {
    for (const k of [`id:${m.nodeId}`, `peer:${m.peerId}`, `key:${m.signingKey}`]) {
      if (seen.has(k)) throw new RosterError(`invalid roster: duplicate ${k.split(':')[0]} for member ${m.nodeId}`);
      seen.add(k);
    }
    if (peerIdOfKey(fromBase64(m.signingKey)!) !== m.peerId)
      throw new RosterError(`invalid roster: member ${m.nodeId} has a peerId that does not match its signing key`);
    if (Date.parse(m.validUntil) <= Date.parse(m.validFrom))
      throw new RosterError(`invalid roster: member ${m.nodeId} has validUntil before validFrom`);
  }
  return r.data;
}

/**
 * Verifies a roster against the trusted authorities: at least `threshold` distinct trusted keys
 * must have signed the canonical body. Returns the parsed roster.
 * @throws RosterError when the structure is invalid or the signatures do not reach the threshold.
 */
export function verifyRoster(input: unknown, trust: RosterTrust): SignedRoster {
  const roster = parseRoster(input);
  const msg = signedBytes(roster.roster);
  const valid = new Set<string>();
  for (const s of roster.signatures) {
    if (!trust.authorityKeys.includes(s.publicKey)) continue;
    const sig = fromBase64(s.signature);
    if (sig && ed25519Verify(fromBase64(s.publicKey)!, msg, sig)) valid.add(s.publicKey);
  }
  if (valid.size < trust.threshold)
    throw new RosterError(
      `roster version ${roster.roster.version} carries ${valid.size} valid authority signature(s); ${trust.threshold} required`,
    );
  return roster;
}

/** Adds (or replaces) the signature of `signer` on a roster. */
export function signRoster(roster: SignedRoster, signer: Ed25519Signer): SignedRoster {
  const body = parseRoster({ roster: roster.roster, signatures: [] }).roster;
  const publicKey = toBase64(signer.publicKey);
  const signature = toBase64(signer.sign(signedBytes(body)));
  return {
    roster: body,
    signatures: [...roster.signatures.filter((s) => s.publicKey !== publicKey), { publicKey, signature }],
  };
}

/** True when `now` lies in the member's validity interval. */
export function isActive(m: RosterMember, now = Date.now()): boolean {
  return Date.parse(m.validFrom) <= now && now < Date.parse(m.validUntil);
}
