/**
 * Consents and their lifecycle (DESIGN §5): REQUESTED → ACTIVE ⇄ PAUSED → REVOKED | EXPIRED, and
 * REJECTED. Every transition is recorded with who, when and why. The decision function is the one
 * place that says whether a principal may see which sections of which enterprise, for what.
 *
 * One authority per consent: the home node named in the signed body. Only the home grants,
 * approves, rejects, pauses, resumes, revokes and expires a consent; every other node refuses
 * those with `WRONG_NODE` and adopts the home's copies (see `lifecycle.ts`). A bank's request
 * for consent is created at the home of the enterprise's consents, wherever the officer asks.
 *
 * Storage (sublevel `authz`): `c!<id>` record, `g!<grantee>!<uscc>!<id>` and `u!<uscc>!<id>`
 * indexes, `n!<uscc>!<nonce>` replay guard; key bindings in `bindings.ts`.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { toBase64Url } from '../crypto/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import type { BindingStore } from './bindings.ts';
import {
  consentId,
  consentSignatureValid,
  type KeyBinding,
  parseConsentBody,
  type SignedConsent,
} from './documents.ts';
import {
  ConsentInvalidError,
  ConsentStateError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  WrongNodeError,
} from './errors.ts';
import {
  ALLOWED_TRANSITIONS,
  CONSENT_STATUSES,
  type ConsentRecord,
  type ConsentStatus,
  historyProblem,
  mergeOutcome,
  type Transition,
} from './lifecycle.ts';
import type { Principal } from './principals.ts';
import { purposeById, type Scope } from './purposes.ts';

export type { ConsentRecord, ConsentStatus, Transition } from './lifecycle.ts';
export { CONSENT_STATUSES } from './lifecycle.ts';

/** Outcome of a decision. */
export type Decision =
  | { allowed: true; consent: ConsentRecord }
  | { allowed: false; reason: string; missing: string[]; consentId?: string };

/** A request to see sections of an enterprise. */
export interface AccessRequest {
  principal: Principal;
  uscc: string;
  scopes: readonly Scope[];
  purpose: string;
  consentId?: string;
  /** Count this access against `maxUses` (false for checks that release no data). */
  consume?: boolean;
}

/**
 * How the consent service reaches other nodes (supplied by the federation; absent on a
 * stand-alone node, which is then the home of every consent it keeps).
 */
export interface ConsentRouting {
  /** Whether a node may be the home of consents (a credit centre, city peer or the easy-loan platform). */
  mayBeHome(nodeId: string): boolean;
  /** The home for a new request when the enterprise's binding names none (the federation's gateway). */
  defaultHome(): string | undefined;
  /** Creates a REQUESTED record at its home node and returns the home's copy. */
  submitRequest(record: ConsentRecord): Promise<ConsentRecord>;
  /** The home's current copy of a consent (and the enterprise's binding), or undefined. */
  fetch(id: string, home: string): Promise<{ record: ConsentRecord; binding?: KeyBinding } | undefined>;
}

/** What the consent service needs. */
export interface ConsentServiceComponents {
  db: RootDb;
  nodeId: string;
  bindings: BindingStore;
  /** Reaches other nodes; resolved on each use because the federation is wired after this service. */
  routing?: () => ConsentRouting | undefined;
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
  /** Where the consent lives (default: the centre that bound the enterprise's key, else the gateway). */
  home?: string;
}

/** The consent service. */
export interface ConsentService {
  registerKey(actor: Principal, uscc: string, publicKey: string): Promise<KeyBinding>;
  /** Stores a binding issued elsewhere (verified against the centres trusted for the enterprise). */
  importBinding(binding: KeyBinding): Promise<boolean>;
  bindingFor(uscc: string): Promise<KeyBinding | undefined>;
  request(actor: Principal, input: ConsentRequestInput): Promise<ConsentRecord>;
  /** At the home: stores a REQUESTED record that grantee bank `from` created at its own node. */
  acceptRequest(record: ConsentRecord, from: string): Promise<ConsentRecord>;
  approve(actor: Principal, id: string, signature: string): Promise<ConsentRecord>;
  reject(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  grant(actor: Principal, consent: SignedConsent): Promise<ConsentRecord>;
  pause(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  resume(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  revoke(actor: Principal, id: string, reason?: string): Promise<ConsentRecord>;
  get(id: string): Promise<ConsentRecord | undefined>;
  /**
   * The consent, fetched from its home when this node has never heard of it (a holder asked
   * under a consent whose propagation has not arrived yet). `home` is where to ask.
   */
  resolve(id: string, home?: string): Promise<ConsentRecord | undefined>;
  /** Consents visible to `actor`: an enterprise its own, a bank those granted to it, staff and auditors all. */
  list(actor: Principal, filter?: { uscc?: string; status?: ConsentStatus; limit?: number }): Promise<ConsentRecord[]>;
  decide(request: AccessRequest): Promise<Decision>;
  /**
   * Adopts a copy of a consent sent by node `from`, which must be its home: verified against the
   * enterprise's binding and the lifecycle rules. Returns whether it changed anything.
   * @throws ConsentInvalidError when the copy is not acceptable
   */
  importRecord(record: ConsentRecord, from: string): Promise<boolean>;
  /** Called after every change made here as the home (for propagation and logging). */
  onChange(listener: (record: ConsentRecord, transition: Transition) => void): void;
  /** Called after every key binding stored here (for propagation). */
  onBindingChange(listener: (binding: KeyBinding) => void): void;
}

class Consents implements ConsentService {
  readonly #c: ConsentServiceComponents;
  readonly #sub;
  readonly #now: () => number;
  readonly #log: Logger;
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
    this.#log = components.logger.child({ component: 'consents' });
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

  onBindingChange(listener: (binding: KeyBinding) => void) {
    this.#c.bindings.onChange(listener);
  }

  #by(actor: Principal) {
    return { sub: actor.sub, role: actor.role, node: this.#c.nodeId };
  }

  registerKey(actor: Principal, uscc: string, publicKey: string) {
    return this.#c.bindings.register(actor, uscc, publicKey);
  }

  importBinding(binding: KeyBinding) {
    return this.#c.bindings.import(binding);
  }

  bindingFor(uscc: string) {
    return this.#c.bindings.get(uscc);
  }

  /** Refuses a lifecycle change at a node that is not the consent's home. */
  #mustBeHome(body: { home?: string }) {
    if (body.home !== this.#c.nodeId)
      throw new WrongNodeError(
        `this consent is kept by node ${body.home ?? '(none)'}; its lifecycle changes are made there`,
        body.home ?? '',
      );
  }

  async #store(
    record: ConsentRecord,
    transition: Transition,
    extra: Array<{ key: string; value: unknown }> = [],
    notify = true,
  ) {
    const ops = [
      { type: 'put' as const, key: `c!${record.id}`, value: record },
      { type: 'put' as const, key: `g!${record.body.grantee.node}!${record.body.enterprise}!${record.id}`, value: '' },
      { type: 'put' as const, key: `u!${record.body.enterprise}!${record.id}`, value: '' },
      ...extra.map((e) => ({ type: 'put' as const, ...e })),
    ];
    await this.#sub.batch(ops);
    this.#cache(record);
    if (notify) for (const l of this.#listeners) l(record, transition);
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
    const routing = this.#c.routing?.();
    const binding = typeof input.enterprise === 'string' ? await this.bindingFor(input.enterprise) : undefined;
    const home = input.home ?? binding?.body.issuer ?? routing?.defaultHome() ?? this.#c.nodeId;
    if (routing ? !routing.mayBeHome(home) : home !== this.#c.nodeId)
      throw new InvalidInputError(`node ${home} does not keep consents`);
    const now = this.#now();
    const body = parseConsentBody(
      {
        v: 1,
        enterprise: input.enterprise,
        home,
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
    const record: ConsentRecord = { id: consentId(body), body, status: 'REQUESTED', history: [t], uses: 0, seq: 1 };
    if (home !== this.#c.nodeId) {
      // Created at the home, which tells every node (this one included) through consent sync.
      if (!routing) throw new InvalidInputError(`node ${home} cannot be reached from a stand-alone node`);
      return routing.submitRequest(record);
    }
    await this.#locked(record.id, () => this.#store(record, t));
    return record;
  }

  acceptRequest(record: ConsentRecord, from: string) {
    const body = parseConsentBody(record?.body, this.#now());
    this.#mustBeHome(body);
    const id = consentId(body);
    const t = record.history?.[0];
    if (id !== record.id || record.status !== 'REQUESTED' || record.seq !== 1 || historyProblem(record))
      throw new ConsentInvalidError('a consent request must be a fresh REQUESTED record matching its body');
    if (body.grantee.node !== from || t.by.node !== from || t.by.role !== 'bank-officer')
      throw new ForbiddenError('a bank requests consent only for itself');
    return this.#locked(id, async () => {
      if (await this.get(id)) throw new ConsentStateError('this consent request already exists');
      const clean: ConsentRecord = { id, body, status: 'REQUESTED', history: [t], uses: 0, seq: 1 };
      await this.#store(clean, t);
      return clean;
    });
  }

  /** The consent, if `actor` is its enterprise and this node its home. */
  async #own(actor: Principal, id: string): Promise<ConsentRecord> {
    const r = await this.get(id);
    if (!r) throw new NotFoundError('no such consent');
    if (actor.role !== 'enterprise' || actor.uscc !== r.body.enterprise)
      throw new ForbiddenError('only the enterprise itself may do this');
    this.#mustBeHome(r.body);
    return r;
  }

  async #transition(
    r: ConsentRecord,
    actor: Principal,
    to: ConsentStatus,
    reason?: string,
    patch: Partial<ConsentRecord> = {},
  ) {
    if (this.#withExpiry(r).status === 'EXPIRED' && r.status !== 'EXPIRED' && r.status !== 'REQUESTED') {
      await this.#markExpired(r);
      throw new ConsentStateError(`the consent has expired and cannot become ${to}`);
    }
    if (!ALLOWED_TRANSITIONS[r.status].includes(to))
      throw new ConsentStateError(`a ${r.status} consent cannot become ${to}`);
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
      if (!consentSignatureValid(signed, await this.#c.bindings.enterpriseKey(r.body.enterprise)))
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
    // A signed document names its home: any other node refuses it, so a replay elsewhere creates nothing.
    this.#mustBeHome(body);
    if (Date.parse(body.expiresAt) <= this.#now()) throw new ConsentInvalidError('invalid consent: already expired');
    if (
      !consentSignatureValid(
        { body, signature: consent.signature },
        await this.#c.bindings.enterpriseKey(body.enterprise),
      )
    )
      throw new ConsentInvalidError('the consent signature does not verify with the enterprise key');
    const id = consentId(body);
    return this.#locked(id, async () => {
      if ((await this.#sub.get(`n!${body.enterprise}!${body.nonce}`)) !== undefined || (await this.get(id)))
        throw new ConsentInvalidError('this consent was already submitted (replay)');
      const t: Transition = { to: 'ACTIVE', at: new Date(this.#now()).toISOString(), by: this.#by(actor) };
      const record: ConsentRecord = {
        id,
        body,
        signature: consent.signature,
        status: 'ACTIVE',
        history: [t],
        uses: 0,
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
      for (const r of matching) if (r.status === 'EXPIRED') await this.#markExpired(r);
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

  /** Records the expiry of a consent past its end; only its home does (the others derive it from the time). */
  async #markExpired(record: ConsentRecord) {
    if (record.body.home !== this.#c.nodeId) return;
    await this.#locked(record.id, async () => {
      const r = await this.get(record.id);
      if (!r || (r.status !== 'ACTIVE' && r.status !== 'PAUSED')) return;
      const t: Transition = {
        to: 'EXPIRED',
        at: new Date(this.#now()).toISOString(),
        by: { sub: 'system', role: 'system', node: this.#c.nodeId },
      };
      await this.#store({ ...r, status: 'EXPIRED', history: [...r.history, t], seq: r.seq + 1 }, t);
    });
  }

  async importRecord(record: ConsentRecord, from: string) {
    const body = parseConsentBody(record?.body, Number.MAX_SAFE_INTEGER);
    const id = consentId(body);
    if (body.home !== from) throw new ConsentInvalidError('only the home node of a consent may publish it');
    if (body.home === this.#c.nodeId) throw new ConsentInvalidError('this node is the home of that consent');
    if (id !== record.id || !CONSENT_STATUSES.includes(record.status))
      throw new ConsentInvalidError('consent record does not match its body');
    const problem = historyProblem(record);
    if (problem) throw new ConsentInvalidError(`consent record has an impossible history: ${problem}`);
    const everActive = record.history.some((t) => t.to === 'ACTIVE');
    if (everActive && record.signature === undefined)
      throw new ConsentInvalidError('a consent that was ever active needs the enterprise signature');
    if (
      record.signature !== undefined &&
      !consentSignatureValid(
        { body, signature: record.signature },
        await this.#c.bindings.enterpriseKey(body.enterprise),
      )
    )
      throw new ConsentInvalidError('consent signature does not verify with the enterprise key');
    return this.#locked(id, async () => {
      const mine = await this.get(id);
      const outcome = mergeOutcome(mine, record);
      if (!outcome.apply) {
        if (outcome.why === 'CONFLICT' || outcome.why === 'HISTORY_REWRITTEN')
          this.#log.warn({ consent: id, home: from, why: outcome.why }, 'home sent a contradicting consent record');
        return false;
      }
      const clean: ConsentRecord = {
        id,
        body,
        ...(record.signature !== undefined ? { signature: record.signature } : {}),
        status: record.status,
        history: record.history.map((t) => ({
          to: t.to,
          at: t.at,
          by: { sub: t.by.sub, role: t.by.role, node: t.by.node },
          ...(t.reason !== undefined ? { reason: t.reason } : {}),
        })),
        uses: mine?.uses ?? 0,
        seq: record.seq,
      };
      await this.#store(clean, clean.history[clean.history.length - 1], [], false);
      return true;
    });
  }

  async resolve(id: string, home?: string) {
    const known = await this.get(id);
    const routing = this.#c.routing?.();
    if (known || !home || !routing || home === this.#c.nodeId || !routing.mayBeHome(home)) return known;
    const fetched = await routing.fetch(id, home);
    if (!fetched) return undefined;
    if (fetched.binding) await this.importBinding(fetched.binding).catch(() => false);
    await this.importRecord(fetched.record, home);
    return this.get(id);
  }
}

/** Creates the consent service. */
export function createConsentService(components: ConsentServiceComponents): ConsentService {
  return new Consents(components);
}
