/**
 * Consents and their lifecycle (DESIGN §5): REQUESTED → ACTIVE ⇄ PAUSED → REVOKED | EXPIRED, and
 * REJECTED. Every transition is recorded with who, when and why. The decision function is the one
 * place that says whether a principal may see which sections of which enterprise, for what.
 *
 * Storage (sublevel `authz`): `c!<id>` record, `g!<grantee>!<uscc>!<id>` and `u!<uscc>!<id>`
 * indexes, `n!<uscc>!<nonce>` replay guard, `b!<uscc>` enterprise key binding.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { fromBase64, toBase64Url } from '../crypto/index.ts';
import type { Section } from '../model/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import {
  bindingValid,
  type ConsentBody,
  consentId,
  consentSignatureValid,
  type KeyBinding,
  parseConsentBody,
  type SignedConsent,
  signBinding,
} from './documents.ts';
import { ConsentInvalidError, ConsentStateError, ForbiddenError, InvalidInputError, NotFoundError } from './errors.ts';
import type { Principal } from './principals.ts';
import { purposeById } from './purposes.ts';

/** Lifecycle states. */
export const CONSENT_STATUSES = ['REQUESTED', 'ACTIVE', 'PAUSED', 'REVOKED', 'EXPIRED', 'REJECTED'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** One recorded transition. */
export interface Transition {
  to: ConsentStatus;
  at: string;
  by: { sub: string; role: string; node: string };
  reason?: string;
}

/** A consent as a node holds it. */
export interface ConsentRecord {
  id: string;
  body: ConsentBody;
  /** The enterprise's signature; absent while REQUESTED or REJECTED without one. */
  signature?: string;
  status: ConsentStatus;
  history: Transition[];
  uses: number;
  /** Node where the consent was granted and whose status changes are authoritative. */
  home: string;
  /** Increments with every status change; propagated changes apply only if newer. */
  seq: number;
}

/** Outcome of a decision. */
export type Decision =
  | { allowed: true; consent: ConsentRecord }
  | { allowed: false; reason: string; missing: string[]; consentId?: string };

/** A request to see sections of an enterprise. */
export interface AccessRequest {
  principal: Principal;
  uscc: string;
  scopes: readonly Section[];
  purpose: string;
  consentId?: string;
  /** Count this access against `maxUses` (false for checks that release no data). */
  consume?: boolean;
}

const ALLOWED: Record<ConsentStatus, readonly ConsentStatus[]> = {
  REQUESTED: ['ACTIVE', 'REJECTED'],
  ACTIVE: ['PAUSED', 'REVOKED', 'EXPIRED'],
  PAUSED: ['ACTIVE', 'REVOKED', 'EXPIRED'],
  REVOKED: [],
  EXPIRED: [],
  REJECTED: [],
};

/** What the consent service needs. */
export interface ConsentServiceComponents {
  db: RootDb;
  nodeId: string;
  /** This node's identity seed, to sign key bindings (credit centres only). */
  identitySeed: Uint8Array;
  /** Public keys of credit centres whose key bindings this node accepts, by node id. */
  trustedIssuers: () => ReadonlyMap<string, Uint8Array>;
  logger: Logger;
  now?: () => number;
}

/** Consent requests from a bank officer. */
export interface ConsentRequestInput {
  enterprise: string;
  scopes: string[];
  purpose: string;
  days: number;
  maxUses?: number;
  retentionDays?: number;
  officer?: string;
}

/** The consent service. */
export interface ConsentService {
  registerKey(actor: Principal, uscc: string, publicKey: string): Promise<KeyBinding>;
  importBinding(binding: KeyBinding): Promise<void>;
  bindingFor(uscc: string): Promise<KeyBinding | undefined>;
  request(actor: Principal, input: ConsentRequestInput): Promise<ConsentRecord>;
  approve(actor: Principal, id: string, signature: string): Promise<ConsentRecord>;
  reject(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  grant(actor: Principal, consent: SignedConsent): Promise<ConsentRecord>;
  pause(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  resume(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  revoke(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  get(id: string): Promise<ConsentRecord | undefined>;
  /** Consents visible to `actor`: an enterprise its own, a bank those granted to it, staff and auditors all. */
  list(actor: Principal, filter?: { uscc?: string; status?: ConsentStatus; limit?: number }): Promise<ConsentRecord[]>;
  decide(request: AccessRequest): Promise<Decision>;
  /** Stores a consent record received from its home node (verifying the enterprise signature). */
  importRecord(record: ConsentRecord): Promise<boolean>;
  /** Called after every local change (for propagation and logging). */
  onChange(listener: (record: ConsentRecord, transition: Transition) => void): void;
}

class Consents implements ConsentService {
  readonly #c: ConsentServiceComponents;
  readonly #sub;
  readonly #now: () => number;
  #listeners: Array<(r: ConsentRecord, t: Transition) => void> = [];
  #locks = new Map<string, Promise<unknown>>();
  /** Records by id, and ids by grantee and enterprise: every change goes through #store, which keeps them current. */
  #records = new Map<string, ConsentRecord>();
  #byGrantee = new Map<string, string[]>();
  static readonly CACHE_LIMIT = 100_000;

  constructor(components: ConsentServiceComponents) {
    this.#c = components;
    this.#sub = jsonSublevel<unknown>(components.db, 'authz');
    this.#now = components.now ?? Date.now;
  }

  /** Serialises work on one consent, so that uses and transitions never race. */
  #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return next;
  }

  onChange(listener: (record: ConsentRecord, transition: Transition) => void) {
    this.#listeners.push(listener);
  }

  #by(actor: Principal) {
    return { sub: actor.sub, role: actor.role, node: this.#c.nodeId };
  }

  async registerKey(actor: Principal, uscc: string, publicKey: string) {
    if (actor.role !== 'centre-staff') throw new ForbiddenError('only credit-centre staff register enterprise keys');
    const key = fromBase64(publicKey);
    if (key?.length !== 32) throw new InvalidInputError('publicKey must be a base64 Ed25519 public key');
    const binding = signBinding(
      { v: 1, uscc, publicKey, issuer: this.#c.nodeId, issuedAt: new Date(this.#now()).toISOString() },
      this.#c.identitySeed,
    );
    await this.#sub.put(`b!${uscc}`, binding);
    return binding;
  }

  async importBinding(binding: KeyBinding) {
    const key = this.#c.trustedIssuers().get(binding?.body?.issuer);
    if (!key || !bindingValid(binding, key))
      throw new ConsentInvalidError('key binding is not signed by a trusted credit centre');
    await this.#sub.put(`b!${binding.body.uscc}`, binding);
  }

  async bindingFor(uscc: string) {
    return (await this.#sub.get(`b!${uscc}`)) as KeyBinding | undefined;
  }

  /** The enterprise key of a USCC, from a binding this node trusts. */
  async #enterpriseKey(uscc: string): Promise<Uint8Array> {
    const b = await this.bindingFor(uscc);
    const issuerKey = b ? this.#c.trustedIssuers().get(b.body.issuer) : undefined;
    if (!b || !issuerKey || !bindingValid(b, issuerKey))
      throw new ConsentInvalidError('no trusted key binding for this enterprise');
    return fromBase64(b.body.publicKey)!;
  }

  async #store(record: ConsentRecord, transition: Transition, extra: Array<{ key: string; value: unknown }> = []) {
    const ops = [
      { type: 'put' as const, key: `c!${record.id}`, value: record },
      { type: 'put' as const, key: `g!${record.body.grantee.node}!${record.body.enterprise}!${record.id}`, value: '' },
      { type: 'put' as const, key: `u!${record.body.enterprise}!${record.id}`, value: '' },
      ...extra.map((e) => ({ type: 'put' as const, ...e })),
    ];
    await this.#sub.batch(ops);
    this.#cache(record);
    for (const l of this.#listeners) l(record, transition);
  }

  #cache(record: ConsentRecord) {
    if (this.#records.size >= Consents.CACHE_LIMIT) {
      this.#records.clear();
      this.#byGrantee.clear();
    }
    this.#records.set(record.id, record);
    const key = `${record.body.grantee.node}!${record.body.enterprise}`;
    const ids = this.#byGrantee.get(key);
    if (ids && !ids.includes(record.id)) ids.push(record.id);
  }

  /** Consents granted to a bank for one enterprise (cached index). */
  async #forGrantee(bank: string, uscc: string): Promise<ConsentRecord[]> {
    const key = `${bank}!${uscc}`;
    let ids = this.#byGrantee.get(key);
    if (!ids) {
      ids = (await this.#byIndex(`g!${bank}!${uscc}!`, 200)).map((r) => r.id);
      this.#byGrantee.set(key, ids);
    }
    const out: ConsentRecord[] = [];
    for (const id of ids) {
      const r = await this.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  async request(actor: Principal, input: ConsentRequestInput) {
    if (actor.role !== 'bank-officer' || !actor.bank) throw new ForbiddenError('only bank officers request consents');
    const purpose = purposeById(input.purpose);
    if (!purpose) throw new InvalidInputError(`unknown purpose ${input.purpose}`);
    if (!Number.isInteger(input.days) || input.days < 1) throw new InvalidInputError('days must be a positive integer');
    const now = this.#now();
    const body = parseConsentBody(
      {
        v: 1,
        enterprise: input.enterprise,
        grantee: { node: actor.bank, ...(input.officer ? { officer: input.officer } : {}) },
        scopes: input.scopes,
        purpose: input.purpose,
        notBefore: new Date(now).toISOString(),
        expiresAt: new Date(now + input.days * 86_400_000).toISOString(),
        ...(input.maxUses !== undefined ? { maxUses: input.maxUses } : {}),
        retentionDays: input.retentionDays ?? Math.min(365, purpose.maxRetentionDays),
        issuedAt: new Date(now).toISOString(),
        nonce: toBase64Url(new Uint8Array(randomBytes(18))),
      },
      now,
    );
    const t: Transition = { to: 'REQUESTED', at: new Date(now).toISOString(), by: this.#by(actor) };
    const record: ConsentRecord = {
      id: consentId(body),
      body,
      status: 'REQUESTED',
      history: [t],
      uses: 0,
      home: this.#c.nodeId,
      seq: 1,
    };
    await this.#store(record, t);
    return record;
  }

  async #own(actor: Principal, id: string): Promise<ConsentRecord> {
    const r = await this.get(id);
    if (!r) throw new NotFoundError('no such consent');
    if (actor.role !== 'enterprise' || actor.uscc !== r.body.enterprise)
      throw new ForbiddenError('only the enterprise itself may do this');
    return r;
  }

  async #transition(
    r: ConsentRecord,
    actor: Principal,
    to: ConsentStatus,
    reason?: string,
    patch: Partial<ConsentRecord> = {},
  ) {
    if (!ALLOWED[r.status].includes(to)) throw new ConsentStateError(`a ${r.status} consent cannot become ${to}`);
    const t: Transition = {
      to,
      at: new Date(this.#now()).toISOString(),
      by: this.#by(actor),
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    };
    const next: ConsentRecord = { ...r, ...patch, status: to, history: [...r.history, t], seq: r.seq + 1 };
    await this.#store(next, t);
    return next;
  }

  approve(actor: Principal, id: string, signature: string) {
    return this.#locked(id, async () => {
      const r = await this.#own(actor, id);
      if (r.status !== 'REQUESTED') throw new ConsentStateError(`a ${r.status} consent cannot be approved`);
      const signed = { body: r.body, signature };
      if (!consentSignatureValid(signed, await this.#enterpriseKey(r.body.enterprise)))
        throw new ConsentInvalidError('the signature does not verify with the enterprise key');
      if (Date.parse(r.body.expiresAt) <= this.#now())
        throw new ConsentStateError('the requested consent has already expired');
      return this.#transition(r, actor, 'ACTIVE', undefined, { signature });
    });
  }

  reject(actor: Principal, id: string, reason?: string) {
    return this.#locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'REJECTED', reason));
  }

  async grant(actor: Principal, consent: SignedConsent) {
    if (actor.role !== 'enterprise') throw new ForbiddenError('only an enterprise grants consent');
    const body = parseConsentBody(consent?.body, this.#now());
    if (body.enterprise !== actor.uscc) throw new ForbiddenError('an enterprise grants consent only over its own data');
    if (Date.parse(body.expiresAt) <= this.#now()) throw new ConsentInvalidError('invalid consent: already expired');
    if (!consentSignatureValid({ body, signature: consent.signature }, await this.#enterpriseKey(body.enterprise)))
      throw new ConsentInvalidError('the consent signature does not verify with the enterprise key');
    const id = consentId(body);
    return this.#locked(id, async () => {
      if ((await this.#sub.get(`n!${body.enterprise}!${body.nonce}`)) !== undefined)
        throw new ConsentInvalidError('this consent was already submitted (replay)');
      const t: Transition = { to: 'ACTIVE', at: new Date(this.#now()).toISOString(), by: this.#by(actor) };
      const record: ConsentRecord = {
        id,
        body,
        signature: consent.signature,
        status: 'ACTIVE',
        history: [t],
        uses: 0,
        home: this.#c.nodeId,
        seq: 1,
      };
      await this.#store(record, t, [{ key: `n!${body.enterprise}!${body.nonce}`, value: id }]);
      return record;
    });
  }

  pause(actor: Principal, id: string, reason?: string) {
    return this.#locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'PAUSED', reason));
  }
  resume(actor: Principal, id: string, reason?: string) {
    return this.#locked(id, async () => {
      const r = await this.#own(actor, id);
      if (r.status !== 'PAUSED') throw new ConsentStateError(`a ${r.status} consent cannot be resumed`);
      return this.#transition(r, actor, 'ACTIVE', reason);
    });
  }
  revoke(actor: Principal, id: string, reason?: string) {
    return this.#locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'REVOKED', reason));
  }

  async get(id: string) {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const cached = this.#records.get(id);
    if (cached) return cached;
    const r = (await this.#sub.get(`c!${id}`)) as ConsentRecord | undefined;
    if (r) this.#records.set(id, r);
    return r;
  }

  async #byIndex(prefix: string, limit: number) {
    const ids: string[] = [];
    for await (const k of this.#sub.keys({ gte: prefix, lt: `${prefix}\xff`, limit }))
      ids.push(k.slice(k.lastIndexOf('!') + 1));
    return ((await this.#sub.getMany(ids.map((i) => `c!${i}`))) as Array<ConsentRecord | undefined>).filter(
      (r) => r !== undefined,
    );
  }

  async list(actor: Principal, filter: { uscc?: string; status?: ConsentStatus; limit?: number } = {}) {
    const limit = Math.min(filter.limit ?? 100, 500);
    let records: ConsentRecord[];
    if (actor.role === 'enterprise') records = await this.#byIndex(`u!${actor.uscc}!`, 2000);
    else if (actor.role === 'bank-officer')
      records = await this.#byIndex(filter.uscc ? `g!${actor.bank}!${filter.uscc}!` : `g!${actor.bank}!`, 2000);
    else records = filter.uscc ? await this.#byIndex(`u!${filter.uscc}!`, 2000) : await this.#all(2000);
    return records
      .map((r) => this.#withExpiry(r))
      .filter(
        (r) => (!filter.uscc || r.body.enterprise === filter.uscc) && (!filter.status || r.status === filter.status),
      )
      .slice(0, limit);
  }

  async #all(limit: number) {
    const out: ConsentRecord[] = [];
    for await (const v of this.#sub.values({ gte: 'c!', lt: 'c"', limit })) out.push(v as ConsentRecord);
    return out;
  }

  /** The status a record has now (an ACTIVE or PAUSED consent past its end is EXPIRED). */
  #withExpiry(r: ConsentRecord): ConsentRecord {
    if ((r.status === 'ACTIVE' || r.status === 'PAUSED') && Date.parse(r.body.expiresAt) <= this.#now())
      return { ...r, status: 'EXPIRED' };
    return r;
  }

  async decide(req: AccessRequest): Promise<Decision> {
    const p = req.principal;
    const scopes = [...new Set(req.scopes)];
    if (p.role !== 'bank-officer' || !p.bank) return { allowed: false, reason: 'ROLE', missing: scopes };
    let candidates: ConsentRecord[];
    if (req.consentId) {
      const r = await this.get(req.consentId);
      candidates = r && r.body.enterprise === req.uscc ? [r] : [];
      if (r && r.body.grantee.node !== p.bank)
        return { allowed: false, reason: 'OTHER_GRANTEE', missing: scopes, consentId: r.id };
    } else candidates = await this.#forGrantee(p.bank, req.uscc);
    const matching = candidates
      .map((r) => this.#withExpiry(r))
      .filter(
        (r) =>
          r.body.grantee.node === p.bank &&
          r.body.purpose === req.purpose &&
          (!r.body.grantee.officer || r.body.grantee.officer === p.sub),
      );
    const now = this.#now();
    const live = matching.filter(
      (r) =>
        r.status === 'ACTIVE' &&
        Date.parse(r.body.notBefore) <= now &&
        (r.body.maxUses === undefined || r.uses < r.body.maxUses),
    );
    const covering = live.find((r) => scopes.every((s) => r.body.scopes.includes(s)));
    if (!covering) {
      const granted = new Set(live.flatMap((r) => r.body.scopes));
      const missing = scopes.filter((s) => !granted.has(s));
      // The reason reflects the most recently issued consent the bank holds for this purpose.
      const latest = [...matching]
        .sort((a, b) => b.body.issuedAt.localeCompare(a.body.issuedAt))
        .find((r) => r.status !== 'REQUESTED');
      const reason =
        live.length > 0 ? 'SCOPE' : (latest?.status ?? (matching.length > 0 ? 'NOT_ACTIVE' : 'NO_CONSENT'));
      for (const r of matching) if (r.status === 'EXPIRED') await this.#markExpired(r.id);
      return {
        allowed: false,
        reason: reason === 'ACTIVE' ? 'USED_UP' : reason,
        missing: missing.length > 0 ? missing : scopes,
      };
    }
    // Uses are counted (atomically with the decision) only where the consent caps them.
    if (req.consume === false || covering.body.maxUses === undefined) return { allowed: true, consent: covering };
    return this.#locked(covering.id, async () => {
      const fresh = this.#withExpiry(((await this.get(covering.id)) as ConsentRecord) ?? covering);
      if (fresh.status !== 'ACTIVE' || (fresh.body.maxUses !== undefined && fresh.uses >= fresh.body.maxUses))
        return {
          allowed: false as const,
          reason: fresh.status === 'ACTIVE' ? 'USED_UP' : fresh.status,
          missing: scopes,
        };
      const next = { ...fresh, uses: fresh.uses + 1 };
      await this.#sub.put(`c!${next.id}`, next);
      this.#records.set(next.id, next);
      return { allowed: true as const, consent: next };
    });
  }

  async #markExpired(id: string) {
    await this.#locked(id, async () => {
      const r = await this.get(id);
      if (!r || (r.status !== 'ACTIVE' && r.status !== 'PAUSED')) return;
      const t: Transition = {
        to: 'EXPIRED',
        at: new Date(this.#now()).toISOString(),
        by: { sub: 'system', role: 'system', node: this.#c.nodeId },
      };
      await this.#store({ ...r, status: 'EXPIRED', history: [...r.history, t], seq: r.seq + 1 }, t);
    });
  }

  async importRecord(record: ConsentRecord) {
    const body = parseConsentBody(record?.body, Number.MAX_SAFE_INTEGER);
    const id = consentId(body);
    if (id !== record.id || !CONSENT_STATUSES.includes(record.status) || !Number.isSafeInteger(record.seq))
      throw new ConsentInvalidError('consent record does not match its body');
    if (
      record.signature !== undefined &&
      !consentSignatureValid({ body, signature: record.signature }, await this.#enterpriseKey(body.enterprise))
    )
      throw new ConsentInvalidError('consent signature does not verify with the enterprise key');
    if (record.status !== 'REQUESTED' && record.status !== 'REJECTED' && record.signature === undefined)
      throw new ConsentInvalidError('an active consent needs the enterprise signature');
    return this.#locked(id, async () => {
      const mine = await this.get(id);
      if (mine && mine.seq >= record.seq) return false;
      const clean: ConsentRecord = { ...record, body, uses: mine?.uses ?? 0 };
      await this.#store(clean, record.history[record.history.length - 1]);
      return true;
    });
  }
}

/** Creates the consent service. */
export function createConsentService(components: ConsentServiceComponents): ConsentService {
  return new Consents(components);
}
