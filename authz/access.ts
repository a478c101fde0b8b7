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
import { ConsentRequiredError, ForbiddenError, InvalidInputError } from './errors.ts';
import type { Principal } from './principals.ts';

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
    ctx: { principal: Principal; purpose: string; consent?: ConsentRecord; correlationId: string },
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
          if (f.status === 'REPAIRED' || f.status === 'EXPIRED') continue;
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
  correlationId: string;
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
  /** Reads sections under consent; `source` overrides where they come from (federation handlers). */
  /**
   * Reads sections under consent. `source` overrides where they come from (federation handlers);
   * `delegate` (default: the node's setting, and never with an explicit source) lets the holders
   * decide when this node knows no consent at all.
   */
  readProfile(req: ProfileRequest, options?: { source?: SectionSource; delegate?: boolean }): Promise<ProfileSections>;
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
  /** With no consent known here, forward to the holders and let them decide (federated nodes). */
  delegate?: boolean;
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

class Access implements AccessService {
  readonly #c: AccessServiceComponents;
  readonly #signer;
  constructor(components: AccessServiceComponents) {
    this.#c = components;
    this.#signer = ed25519Signer(components.identitySeed);
  }

  #check(req: ProfileRequest) {
    const r = validateUscc(req.uscc);
    if (!r.valid) throw new InvalidInputError(`uscc is not a valid USCC (${r.error.toLowerCase()})`);
    if (req.principal.role !== 'bank-officer') throw new ForbiddenError('only bank officers read enterprise profiles');
    const unknown = req.sections.filter((s) => !(SECTIONS as readonly string[]).includes(s));
    if (unknown.length > 0 || req.sections.length === 0)
      throw new InvalidInputError('select at least one known section');
    return r.code;
  }

  #event(
    req: ProfileRequest,
    uscc: string,
    decision: 'ALLOW' | 'DENY',
    extra: { reason?: string; consentId?: string; resultDigest?: string },
  ) {
    return {
      time: new Date().toISOString(),
      actor: {
        node: this.#c.nodeId,
        principal: `${req.principal.bank}/${req.principal.sub}`,
        role: req.principal.role,
      },
      action: 'PROFILE_READ' as const,
      decision,
      purpose: req.purpose,
      scopes: [...req.sections],
      subject: uscc,
      correlationId: req.correlationId,
      ...extra,
    };
  }

  async readProfile(
    req: ProfileRequest,
    options: { source?: SectionSource; delegate?: boolean } = {},
  ): Promise<ProfileSections> {
    const source = options.source ?? this.#c.source;
    const uscc = this.#check(req);
    if (this.#c.unchecked) return source.read(uscc, req.sections, req);
    const d = await this.#c.consents.decide({
      principal: req.principal,
      uscc,
      scopes: req.sections,
      purpose: req.purpose,
      consentId: req.consentId,
    });
    // A node that knows no consent at all for this bank and enterprise lets the holders decide:
    // the request is then refused, and logged, at the holding node as well as here.
    const delegate = options.delegate ?? (options.source === undefined && this.#c.delegate === true);
    const unknownHere = !d.allowed && d.reason === 'NO_CONSENT' && delegate;
    if (!d.allowed && !unknownHere) {
      await this.#c.log.append(
        this.#event(req, uscc, 'DENY', { reason: d.reason, ...(d.consentId ? { consentId: d.consentId } : {}) }),
      );
      throw new ConsentRequiredError(
        `no live consent covers ${d.missing.join(', ')} for purpose ${req.purpose}`,
        d.missing,
        d.reason,
      );
    }
    const consent = d.allowed ? d.consent : undefined;
    let data: ProfileSections;
    try {
      data = await source.read(uscc, req.sections, { ...req, consent });
    } catch (err) {
      if (err instanceof ConsentRequiredError)
        await this.#c.log.append(
          this.#event(req, uscc, 'DENY', { reason: err.reason, ...(consent ? { consentId: consent.id } : {}) }),
        );
      throw err;
    }
    await this.#c.log.append(
      this.#event(req, uscc, 'ALLOW', {
        ...(consent ? { consentId: consent.id } : {}),
        resultDigest: resultDigest(data),
      }),
    );
    return data;
  }

  readProfiles(reqs: ProfileRequest[]) {
    return Promise.all(reqs.map((r) => this.readProfile(r).catch((e: Error) => e)));
  }

  async report(req: Omit<ProfileRequest, 'sections'>) {
    let sections: Section[];
    if (req.consentId) {
      const c = await this.#c.consents.get(req.consentId);
      sections = (c?.body.scopes as Section[] | undefined) ?? ['registration'];
    } else {
      const own = await this.#c.consents.list(req.principal, { uscc: validateUscc(req.uscc).code, status: 'ACTIVE' });
      sections = (own.find((c) => c.body.purpose === req.purpose)?.body.scopes as Section[] | undefined) ?? [
        'registration',
      ];
    }
    const data = await this.readProfile({ ...req, sections });
    const report = {
      format: 'credit-data-space/credit-report@1',
      reportId: randomUUID(),
      generatedAt: new Date().toISOString(),
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
