/**
 * Reading authorised profiles (DESIGN §5, §6): decide consent for every requested section
 * before touching any data, record the access (allowed or denied) in the signed log, and release
 * data only once its log entry is durable (fail closed).
 */
import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import type { AccessLogPort } from '../accesslog/port.ts';
import {
  canonicalJson,
  ed25519Signer,
  ed25519Verify,
  fromBase64,
  sha256,
  toBase64,
  toHex,
  toUtf8,
} from '../crypto/index.ts';
import {
  type CreditFact,
  FACT_SECTION,
  type LegalPerson,
  SECTIONS,
  type Section,
  validateUscc,
} from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { ConsentRecord, ConsentService } from './consents.ts';
import type { ConsentBody } from './documents.ts';
import { ConsentRequiredError, ForbiddenError, InvalidInputError } from './errors.ts';
import { type Principal, principalLabel } from './principals.ts';
import { purposeById } from './purposes.ts';

/** Sections of one enterprise as released to a caller. */
export interface ProfileSections {
  uscc: string;
  registration?: LegalPerson | null;
  facts: Partial<Record<Exclude<Section, 'registration'>, CreditFact[]>>;
  /** Node that served each section. */
  servedBy: Partial<Record<Section, string>>;
  /** Sections that could not be fetched (a peer was down). */
  unavailable: Section[];
  /** False when the node that answered holds nothing about this enterprise. */
  held?: boolean;
}

/** Where sections come from: this node's store, or (with federation) the nodes that hold them. */
export interface SectionSource {
  read(
    uscc: string,
    sections: readonly Section[],
    ctx: {
      principal: Principal;
      purpose: string;
      consent?: ConsentRecord;
      correlationId: string;
      /** The bank's signed request, which a gateway forwards to the holders (opaque here). */
      forward?: unknown;
    },
  ): Promise<ProfileSections>;
}

/**
 * A source reading this node's own store. Registration records of concurrent reads are fetched
 * in one batched `getMany` (DataLoader, no cache: revocations and updates apply at once).
 */
export function localSectionSource(profiles: ProfileStore, nodeId: string): SectionSource {
  const registrations = new DataLoader<string, LegalPerson | undefined>((usccs) => profiles.getEnterprises(usccs), {
    cache: false,
    maxBatchSize: 500,
  });
  return {
    async read(uscc, sections) {
      const out: ProfileSections = { uscc, facts: {}, servedBy: {}, unavailable: [] };
      const registration = await registrations.load(uscc);
      if (sections.includes('registration')) {
        out.registration = registration ?? null;
        out.servedBy.registration = nodeId;
      }
      const factSections = sections.filter((s): s is Exclude<Section, 'registration'> => s !== 'registration');
      let found = 0;
      if (factSections.length > 0) {
        const facts = await profiles.getFacts(uscc, factSections);
        found = facts.length;
        for (const s of factSections) {
          out.facts[s] = [];
          out.servedBy[s] = nodeId;
        }
        for (const f of facts) {
          // Repaired, expired and withdrawn (corrected) facts leave profiles; their history stays in the log.
          if (f.status === 'REPAIRED' || f.status === 'EXPIRED' || f.status === 'CORRECTED') continue;
          out.facts[FACT_SECTION[f.subtype]]?.push(f);
        }
      }
      // A node holds an enterprise when it has its registration record or any fact about it.
      out.held = registration !== undefined || found > 0;
      return out;
    },
  };
}

/** One profile request. */
export interface ProfileRequest {
  principal: Principal;
  uscc: string;
  sections: readonly Section[];
  purpose: string;
  consentId?: string;
  /** Home node of `consentId`, where a node that has not heard of the consent yet fetches it. */
  consentHome?: string;
  correlationId: string;
  /** The bank's signed request, forwarded by a gateway to the holders (opaque here). */
  forward?: unknown;
}

/** A signed credit report a bank can archive and later prove the origin of. */
export interface SignedReport {
  /** The canonical JSON of the report: what was signed. */
  document: string;
  /** Base64 Ed25519 signature by the issuing node over `document`. */
  signature: string;
  /** Base64 public key of the issuing node (its roster signing key). */
  signedBy: string;
}

/** The access service. */
export interface AccessService {
  /**
   * Reads sections under consent. Consent is decided first, from this node's own copy of the
   * consent and independently of what any node holds; every outcome (allowed, refused, failed)
   * is logged before anything is returned, and data only once its entry is durable.
   * `source` overrides where sections come from (federation handlers).
   */
  readProfile(req: ProfileRequest, options?: { source?: SectionSource }): Promise<ProfileSections>;
  /** Several enterprises at once (batched reads); a denied one becomes an error in its slot. */
  readProfiles(reqs: ProfileRequest[]): Promise<Array<ProfileSections | Error>>;
  report(req: Omit<ProfileRequest, 'sections'>): Promise<{ report: Record<string, unknown>; signed: SignedReport }>;
}

/** What the access service needs. */
export interface AccessServiceComponents {
  consents: ConsentService;
  source: SectionSource;
  log: AccessLogPort;
  nodeId: string;
  identitySeed: Uint8Array;
  /** Skip consent checks and logging (benchmark baseline only; never in a running node). */
  unchecked?: boolean;
}

/** Stable correlation id of a request: the caller's if well-formed, else a new one. */
export function correlationIdFrom(header: string | null | undefined): string {
  return header && /^[A-Za-z0-9._:-]{8,64}$/.test(header) ? header : randomUUID();
}

/** A digest of released data, recorded in the log entry. */
export function resultDigest(data: unknown): string {
  return toHex(sha256(toUtf8(canonicalJson(data))));
}

const REPORT_DOMAIN = 'credit-data-space/report/v1\n';

/** Verifies a signed report against a node's public key. */
export function verifyReport(signed: SignedReport, publicKey: string): boolean {
  const key = fromBase64(publicKey);
  const sig = fromBase64(signed?.signature ?? '');
  return (
    !!key &&
    !!sig &&
    typeof signed.document === 'string' &&
    ed25519Verify(key, toUtf8(REPORT_DOMAIN + signed.document), sig)
  );
}

/** The facts of a profile that fall within a consent's data range (by decision date); registration is not dated. */
export function withinDataRange(data: ProfileSections, range: ConsentBody['dataRange']): ProfileSections {
  if (!range?.from && !range?.to) return data;
  const inside = (f: CreditFact) =>
    (!range.from || f.decisionDate >= range.from) && (!range.to || f.decisionDate.slice(0, 10) <= range.to);
  const facts: ProfileSections['facts'] = {};
  for (const [s, list] of Object.entries(data.facts) as Array<[keyof ProfileSections['facts'], CreditFact[]]>)
    facts[s] = list.filter(inside);
  return { ...data, facts };
}

const CONSENT_ID = /^[A-Za-z0-9_-]{43}$/;

/** The stable code a refusal is logged with. */
function refusalCode(err: unknown): string {
  if (err instanceof ConsentRequiredError) return err.reason;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : 'ERROR';
}

class Access implements AccessService {
  readonly #c: AccessServiceComponents;
  readonly #signer;
  constructor(components: AccessServiceComponents) {
    this.#c = components;
    this.#signer = ed25519Signer(components.identitySeed);
  }

  /** Checks the request's shape and the caller's role; returns the normalised USCC. */
  #check(req: ProfileRequest) {
    if (req.principal.role !== 'bank-officer') throw new ForbiddenError('only bank officers read enterprise profiles');
    const r = validateUscc(req.uscc);
    if (!r.valid) throw new InvalidInputError(`uscc is not a valid USCC (${r.error.toLowerCase()})`);
    const unknown = req.sections.filter((s) => !(SECTIONS as readonly string[]).includes(s));
    if (unknown.length > 0 || req.sections.length === 0)
      throw new InvalidInputError('select at least one known section');
    if (typeof req.purpose !== 'string' || !purposeById(req.purpose))
      throw new InvalidInputError('purpose is not a registered purpose');
    return r.code;
  }

  #event(
    req: ProfileRequest,
    uscc: string | undefined,
    decision: 'ALLOW' | 'DENY',
    extra: { reason?: string; consentId?: string; resultDigest?: string; scopes?: string[] },
  ) {
    const p = req.principal;
    return {
      time: new Date().toISOString(),
      actor: {
        node: this.#c.nodeId,
        principal: principalLabel(p),
        role: p.role,
      },
      action: 'PROFILE_READ' as const,
      decision,
      purpose: typeof req.purpose === 'string' ? req.purpose.slice(0, 64) : undefined,
      scopes: extra.scopes ?? req.sections.filter((s) => (SECTIONS as readonly string[]).includes(s)),
      ...(uscc ? { subject: uscc } : {}),
      correlationId: req.correlationId,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.consentId ? { consentId: extra.consentId } : {}),
      ...(extra.resultDigest ? { resultDigest: extra.resultDigest } : {}),
    };
  }

  async readProfile(req: ProfileRequest, options: { source?: SectionSource } = {}): Promise<ProfileSections> {
    const source = options.source ?? this.#c.source;
    if (this.#c.unchecked) return source.read(this.#check(req), req.sections, req);
    const valid = validateUscc(req.uscc);
    const subject = valid.valid ? valid.code : undefined;
    let consent: ConsentRecord | undefined;
    let data: ProfileSections;
    try {
      const uscc = this.#check(req);
      // The consent decides before anything is read: no consent, no answer, whatever any node holds.
      if (req.consentId) await this.#c.consents.resolve(req.consentId, req.consentHome);
      const d = await this.#c.consents.decide({
        principal: req.principal,
        uscc,
        scopes: req.sections,
        purpose: req.purpose,
        consentId: req.consentId,
      });
      if (!d.allowed)
        throw new ConsentRequiredError(
          `no live consent covers ${d.missing.join(', ')} for purpose ${req.purpose}`,
          d.missing,
          d.reason,
        );
      consent = d.consent;
      data = withinDataRange(await source.read(uscc, req.sections, { ...req, consent }), consent.body.dataRange);
    } catch (err) {
      await this.#c.log.append(
        this.#event(req, subject, 'DENY', {
          reason: refusalCode(err),
          consentId: consent?.id ?? (CONSENT_ID.test(req.consentId ?? '') ? req.consentId : undefined),
        }),
      );
      throw err;
    }
    const released = req.sections.filter((s) => !data.unavailable.includes(s));
    await this.#c.log.append(
      this.#event(req, subject, 'ALLOW', {
        consentId: consent.id,
        resultDigest: resultDigest(data),
        scopes: released,
        ...(released.length < req.sections.length ? { reason: 'PARTIAL' } : {}),
      }),
    );
    return data;
  }

  readProfiles(reqs: ProfileRequest[]) {
    return Promise.all(reqs.map((r) => this.readProfile(r).catch((e: Error) => e)));
  }

  async report(req: Omit<ProfileRequest, 'sections'>) {
    let basis: ConsentRecord | undefined;
    if (req.consentId) basis = await this.#c.consents.get(req.consentId);
    else {
      const own = await this.#c.consents.list(req.principal, { uscc: validateUscc(req.uscc).code, status: 'ACTIVE' });
      basis = own.find((c) => c.body.purpose === req.purpose);
    }
    const scopes = basis?.body.scopes;
    // The report covers the consent's profile sections (its joint-query scopes are not sections).
    const covered = (scopes ?? []).filter((s): s is Section => (SECTIONS as readonly string[]).includes(s));
    const sections: Section[] = covered.length > 0 ? covered : ['registration'];
    const data = await this.readProfile({ ...req, sections });
    const generatedAt = new Date();
    const report = {
      format: 'credit-data-space/credit-report@1',
      reportId: randomUUID(),
      generatedAt: generatedAt.toISOString(),
      // The grantee's obligation under the consent: keep this report no longer than this.
      ...(basis
        ? {
            consentId: basis.id,
            retainUntil: new Date(generatedAt.getTime() + basis.body.retentionDays * 86_400_000).toISOString(),
          }
        : {}),
      issuer: this.#c.nodeId,
      uscc: data.uscc,
      purpose: req.purpose,
      requestedBy: `${req.principal.bank}/${req.principal.sub}`,
      sections,
      summary: sections.map((s) => ({
        section: s,
        count: s === 'registration' ? (data.registration ? 1 : 0) : (data.facts[s]?.length ?? 0),
      })),
      data,
    };
    const document = canonicalJson(report);
    const signature = toBase64(this.#signer.sign(toUtf8(REPORT_DOMAIN + document)));
    return { report, signed: { document, signature, signedBy: toBase64(this.#signer.publicKey) } };
  }
}

/** Creates the access service. */
export function createAccessService(components: AccessServiceComponents): AccessService {
  return new Access(components);
}
