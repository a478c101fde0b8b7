/**
 * Mutual-recognition agreements (厦漳泉 信用评价互认): a signed document between two cities'
 * centres that says which of each other's schemes and versions each recognises, how each grade of
 * the other's scale maps onto its own, how long an attestation stays fresh (12 months by default)
 * and how long the agreement is in force. Both centres sign the same canonical body with their
 * roster keys; an agreement signed by one side only is a proposal, never in force.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  canonicalBytes,
  concatBytes,
  type Ed25519Signer,
  ed25519Verify,
  fromBase64,
  sha256,
  toBase64,
  toBase64Url,
  toUtf8,
} from '../crypto/index.ts';
import type { CityId } from '../model/index.ts';
import { AgreementInvalidError } from './errors.ts';
import { GRADES, type Grade } from './scheme.ts';
import { schemeById } from './schemes.ts';
import type { CentreInfo } from './types.ts';

/** Format tag of an agreement body. */
export const AGREEMENT_FORMAT = 'credit-data-space/recognition-agreement@1';
/** Default freshness of an attestation under an agreement (the annual evaluation cycle). */
export const DEFAULT_FRESHNESS_DAYS = 365;
const DOMAIN = toUtf8('credit-data-space/recognition-agreement/v1\n');

const city = z.enum(['XM', 'ZZ', 'QZ']);
const iso = z.iso.datetime({ offset: true });
const nodeId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const grade = z.enum(GRADES);

/** One direction of recognition: `to` recognises `from`'s scheme versions and maps their grades. */
const RuleSchema = z
  .object({
    from: city,
    to: city,
    scheme: z.string().min(1).max(64),
    versions: z.array(z.string().min(1).max(16)).min(1).max(16),
    /** Each grade of the source scale onto the recognising city's scale. */
    grades: z.object({ A: grade, B: grade, C: grade, D: grade }).strict(),
  })
  .strict();
/** One direction of recognition. */
export type RecognitionRule = z.infer<typeof RuleSchema>;

/** The body both centres sign. */
export const AgreementBodySchema = z
  .object({
    format: z.literal(AGREEMENT_FORMAT),
    parties: z.array(z.object({ node: nodeId, city }).strict()).length(2),
    recognise: z.array(RuleSchema).min(1).max(16),
    freshnessDays: z.number().int().min(1).max(1100),
    validFrom: iso,
    validUntil: iso,
    issuedAt: iso,
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  })
  .strict();
/** The body both centres sign. */
export type AgreementBody = z.infer<typeof AgreementBodySchema>;

/** An agreement with the parties' signatures (one: a proposal; both: in force in its validity). */
export interface SignedAgreement {
  body: AgreementBody;
  signatures: Array<{ node: string; signature: string }>;
}

const SignedSchema = z
  .object({
    body: z.unknown(),
    signatures: z
      .array(z.object({ node: nodeId, signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/) }).strict())
      .max(4),
  })
  .strict();

const signingBytes = (body: AgreementBody) => concatBytes(DOMAIN, canonicalBytes(body));

/** The id of an agreement: base64url SHA-256 of its canonical body. */
export function agreementId(body: AgreementBody): string {
  return toBase64Url(sha256(canonicalBytes(body)));
}

/**
 * Checks an agreement body: two parties of different cities, rules only between them in both
 * directions they name, schemes the repository knows for the source city, a validity interval.
 * @throws AgreementInvalidError (`MALFORMED` or `UNKNOWN_SCHEME`)
 */
export function parseAgreementBody(input: unknown): AgreementBody {
  const r = AgreementBodySchema.safeParse(input);
  if (!r.success)
    throw new AgreementInvalidError(
      `malformed agreement: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      'MALFORMED',
    );
  const b = r.data;
  const [p, q] = b.parties;
  if (p.city === q.city || p.node === q.node)
    throw new AgreementInvalidError('malformed agreement: the parties must be two centres of two cities', 'MALFORMED');
  const cities = new Set<string>([p.city, q.city]);
  for (const rule of b.recognise) {
    if (!cities.has(rule.from) || !cities.has(rule.to) || rule.from === rule.to)
      throw new AgreementInvalidError(
        `malformed agreement: a rule must go from one party's city to the other's (${rule.from} → ${rule.to})`,
        'MALFORMED',
      );
    for (const v of rule.versions) {
      const s = schemeById(rule.scheme, v);
      if (!s || s.city !== rule.from)
        throw new AgreementInvalidError(
          `agreement names scheme ${rule.scheme}@${v}, which is not a known scheme of ${rule.from}`,
          'UNKNOWN_SCHEME',
        );
    }
  }
  if (Date.parse(b.validUntil) <= Date.parse(b.validFrom))
    throw new AgreementInvalidError('malformed agreement: validUntil must be after validFrom', 'MALFORMED');
  return b;
}

/** Signs an agreement body as one of its parties (adding to the signatures already there). */
export function signAgreement(
  a: { body: AgreementBody; signatures?: SignedAgreement['signatures'] },
  node: string,
  signer: Ed25519Signer,
): SignedAgreement {
  const signature = toBase64(signer.sign(signingBytes(a.body)));
  return { body: a.body, signatures: [...(a.signatures ?? []).filter((s) => s.node !== node), { node, signature }] };
}

/**
 * Verifies an agreement's signatures against the roster's centres.
 * @param require `both`: in force only with both parties' signatures; `any`: a proposal signed by at least one party
 * @returns the parsed agreement and the parties that signed it
 * @throws AgreementInvalidError: `MALFORMED`, `UNKNOWN_SCHEME`, `UNKNOWN_PARTY` (a party is not a
 *   centre of its city on the roster), `NOT_A_PARTY` (a signature by someone else), `BAD_SIGNATURE`
 *   (a signature does not verify), `ONE_SIDED` (one party only, where both are required)
 */
export function verifyAgreement(
  input: unknown,
  centres: readonly CentreInfo[],
  require: 'both' | 'any',
): { agreement: SignedAgreement; signedBy: string[] } {
  const s = SignedSchema.safeParse(input);
  if (!s.success) throw new AgreementInvalidError('malformed agreement: expected { body, signatures }', 'MALFORMED');
  const body = parseAgreementBody(s.data.body);
  const parties = new Map<string, CentreInfo>();
  for (const p of body.parties) {
    const c = centres.find((x) => x.nodeId === p.node);
    if (!c || c.city !== p.city)
      throw new AgreementInvalidError(`party ${p.node} is not a centre of ${p.city} on the roster`, 'UNKNOWN_PARTY');
    parties.set(p.node, c);
  }
  const signedBy: string[] = [];
  for (const sig of s.data.signatures) {
    const party = parties.get(sig.node);
    if (!party) throw new AgreementInvalidError(`${sig.node} signed but is not a party`, 'NOT_A_PARTY');
    const bytes = fromBase64(sig.signature);
    if (!bytes || !ed25519Verify(party.signingKey, signingBytes(body), bytes))
      throw new AgreementInvalidError(`the signature of ${sig.node} does not verify`, 'BAD_SIGNATURE');
    if (!signedBy.includes(sig.node)) signedBy.push(sig.node);
  }
  if (signedBy.length === 0) throw new AgreementInvalidError('the agreement carries no signature', 'ONE_SIDED');
  if (require === 'both' && signedBy.length < 2)
    throw new AgreementInvalidError(
      `the agreement is signed by ${signedBy[0]} only; both centres must sign it`,
      'ONE_SIDED',
    );
  return { agreement: { body, signatures: s.data.signatures }, signedBy };
}

/** Whether an agreement is in force at `now` (ms). */
export const inForceAt = (b: AgreementBody, now: number) =>
  Date.parse(b.validFrom) <= now && now < Date.parse(b.validUntil);

/** What a centre proposes. */
export interface AgreementDraft {
  /** This centre. */
  self: { node: string; city: CityId };
  /** The other centre. */
  other: { node: string; city: CityId };
  /** Rules; default: each recognises the other's current scheme, grade for grade (no down-weighting). */
  recognise?: RecognitionRule[];
  freshnessDays?: number;
  /** Validity in days from `now` (default 3 years). */
  days?: number;
  now?: number;
}

/** An agreement body ready to sign; the default rules recognise each other's current scheme A→A … D→D. */
export function draftAgreement(
  d: AgreementDraft,
  current: (city: CityId) => { id: string; version: string },
): AgreementBody {
  const now = d.now ?? Date.now();
  const identity = Object.fromEntries(GRADES.map((g) => [g, g])) as Record<Grade, Grade>;
  const rule = (from: CityId, to: CityId): RecognitionRule => ({
    from,
    to,
    scheme: current(from).id,
    versions: [current(from).version],
    grades: { ...identity },
  });
  const parties = [d.self, d.other].sort((a, b) => a.city.localeCompare(b.city));
  return {
    format: AGREEMENT_FORMAT,
    parties,
    recognise: d.recognise ?? [rule(d.other.city, d.self.city), rule(d.self.city, d.other.city)],
    freshnessDays: d.freshnessDays ?? DEFAULT_FRESHNESS_DAYS,
    validFrom: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + (d.days ?? 3 * 365) * 86_400_000).toISOString(),
    issuedAt: new Date(now).toISOString(),
    nonce: toBase64Url(new Uint8Array(randomBytes(18))),
  };
}
