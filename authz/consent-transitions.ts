/**
 * Lifecycle changes made at a consent's home (DESIGN §5): a bank's request (created at the home,
 * wherever the officer asks), the enterprise's approval, rejection, grant, pause, resumption and
 * revocation, and the expiry the home records. Every other node refuses these with `WRONG_NODE`
 * and adopts the home's copies (`consent-replication.ts`). Each change runs under the consent's
 * lock in the shared {@link ConsentStore}.
 */
import { randomBytes } from 'node:crypto';
import { toBase64Url } from '../crypto/index.ts';
import type { ConsentServiceComponents, ConsentStore } from './consent-store.ts';
import { consentId, consentSignatureValid, parseConsentBody, type SignedConsent } from './documents.ts';
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
  type ConsentRecord,
  type ConsentStatus,
  historyProblem,
  type Transition,
} from './lifecycle.ts';
import type { Principal } from './principals.ts';
import { purposeById } from './purposes.ts';

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

/** The changes a home makes to the consents it keeps. */
export class ConsentTransitions {
  readonly #c: ConsentServiceComponents;
  readonly #store: ConsentStore;

  constructor(components: ConsentServiceComponents, store: ConsentStore) {
    this.#c = components;
    this.#store = store;
  }

  #by(actor: Principal) {
    return { sub: actor.sub, role: actor.role, node: this.#c.nodeId };
  }

  /** Refuses a lifecycle change at a node that is not the consent's home. */
  #mustBeHome(body: { home?: string }) {
    if (body.home !== this.#c.nodeId)
      throw new WrongNodeError(
        `this consent is kept by node ${body.home ?? '(none)'}; its lifecycle changes are made there`,
        body.home ?? '',
      );
  }

  async request(actor: Principal, input: ConsentRequestInput) {
    if (actor.role !== 'bank-officer' || !actor.bank) throw new ForbiddenError('only bank officers request consents');
    const purpose = purposeById(input.purpose);
    if (!purpose) throw new InvalidInputError(`unknown purpose ${input.purpose}`);
    if (!Number.isInteger(input.days) || input.days < 1) throw new InvalidInputError('days must be a positive integer');
    const routing = this.#c.routing?.();
    const binding = typeof input.enterprise === 'string' ? await this.#c.bindings.get(input.enterprise) : undefined;
    const home = input.home ?? binding?.body.issuer ?? routing?.defaultHome() ?? this.#c.nodeId;
    if (routing ? !routing.mayBeHome(home) : home !== this.#c.nodeId)
      throw new InvalidInputError(`node ${home} does not keep consents`);
    const now = this.#store.now();
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
    await this.#store.locked(record.id, () => this.#store.save(record, t));
    return record;
  }

  acceptRequest(record: ConsentRecord, from: string) {
    const body = parseConsentBody(record?.body, this.#store.now());
    this.#mustBeHome(body);
    const id = consentId(body);
    const t = record.history?.[0];
    if (id !== record.id || record.status !== 'REQUESTED' || record.seq !== 1 || historyProblem(record))
      throw new ConsentInvalidError('a consent request must be a fresh REQUESTED record matching its body');
    if (body.grantee.node !== from || t.by.node !== from || t.by.role !== 'bank-officer')
      throw new ForbiddenError('a bank requests consent only for itself');
    return this.#store.locked(id, async () => {
      if (await this.#store.get(id)) throw new ConsentStateError('this consent request already exists');
      const clean: ConsentRecord = { id, body, status: 'REQUESTED', history: [t], uses: 0, seq: 1 };
      await this.#store.save(clean, t);
      return clean;
    });
  }

  /** The consent, if `actor` is its enterprise and this node its home. */
  async #own(actor: Principal, id: string): Promise<ConsentRecord> {
    const r = await this.#store.get(id);
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
    if (this.#store.withExpiry(r).status === 'EXPIRED' && r.status !== 'EXPIRED' && r.status !== 'REQUESTED') {
      // Already under this consent's lock: record the expiry directly (taking the lock again would wait for itself).
      await this.#expire(r);
      throw new ConsentStateError(`the consent has expired and cannot become ${to}`);
    }
    if (!ALLOWED_TRANSITIONS[r.status].includes(to))
      throw new ConsentStateError(`a ${r.status} consent cannot become ${to}`);
    const t: Transition = {
      to,
      at: new Date(this.#store.now()).toISOString(),
      by: this.#by(actor),
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    };
    const next: ConsentRecord = { ...r, ...patch, status: to, history: [...r.history, t], seq: r.seq + 1 };
    await this.#store.save(next, t);
    return next;
  }

  approve(actor: Principal, id: string, signature: string) {
    return this.#store.locked(id, async () => {
      const r = await this.#own(actor, id);
      if (r.status !== 'REQUESTED') throw new ConsentStateError(`a ${r.status} consent cannot be approved`);
      const signed = { body: r.body, signature };
      if (!consentSignatureValid(signed, await this.#c.bindings.enterpriseKey(r.body.enterprise)))
        throw new ConsentInvalidError('the signature does not verify with the enterprise key');
      if (Date.parse(r.body.expiresAt) <= this.#store.now())
        throw new ConsentStateError('the requested consent has already expired');
      return this.#transition(r, actor, 'ACTIVE', undefined, { signature });
    });
  }

  reject(actor: Principal, id: string, reason?: string) {
    return this.#store.locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'REJECTED', reason));
  }

  async grant(actor: Principal, consent: SignedConsent) {
    if (actor.role !== 'enterprise') throw new ForbiddenError('only an enterprise grants consent');
    const body = parseConsentBody(consent?.body, this.#store.now());
    if (body.enterprise !== actor.uscc) throw new ForbiddenError('an enterprise grants consent only over its own data');
    // A signed document names its home: any other node refuses it, so a replay elsewhere creates nothing.
    this.#mustBeHome(body);
    if (Date.parse(body.expiresAt) <= this.#store.now())
      throw new ConsentInvalidError('invalid consent: already expired');
    if (
      !consentSignatureValid(
        { body, signature: consent.signature },
        await this.#c.bindings.enterpriseKey(body.enterprise),
      )
    )
      throw new ConsentInvalidError('the consent signature does not verify with the enterprise key');
    const id = consentId(body);
    return this.#store.locked(id, async () => {
      if ((await this.#store.nonceSeen(body.enterprise, body.nonce)) || (await this.#store.get(id)))
        throw new ConsentInvalidError('this consent was already submitted (replay)');
      const t: Transition = { to: 'ACTIVE', at: new Date(this.#store.now()).toISOString(), by: this.#by(actor) };
      const record: ConsentRecord = {
        id,
        body,
        signature: consent.signature,
        status: 'ACTIVE',
        history: [t],
        uses: 0,
        seq: 1,
      };
      await this.#store.save(record, t, { nonce: true });
      return record;
    });
  }

  pause(actor: Principal, id: string, reason?: string) {
    return this.#store.locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'PAUSED', reason));
  }
  resume(actor: Principal, id: string, reason?: string) {
    return this.#store.locked(id, async () => {
      const r = await this.#own(actor, id);
      if (r.status !== 'PAUSED') throw new ConsentStateError(`a ${r.status} consent cannot be resumed`);
      return this.#transition(r, actor, 'ACTIVE', reason);
    });
  }
  revoke(actor: Principal, id: string, reason?: string) {
    return this.#store.locked(id, async () => this.#transition(await this.#own(actor, id), actor, 'REVOKED', reason));
  }

  /** Records the expiry of a consent past its end; only its home does (the others derive it from the time). */
  async markExpired(record: ConsentRecord) {
    if (record.body.home !== this.#c.nodeId) return;
    await this.#store.locked(record.id, () => this.#expire(record));
  }

  /** Records the expiry; the caller holds the consent's lock. */
  async #expire(record: ConsentRecord) {
    if (record.body.home !== this.#c.nodeId) return;
    const r = await this.#store.get(record.id);
    if (!r || (r.status !== 'ACTIVE' && r.status !== 'PAUSED')) return;
    const t: Transition = {
      to: 'EXPIRED',
      at: new Date(this.#store.now()).toISOString(),
      by: { sub: 'system', role: 'system', node: this.#c.nodeId },
    };
    await this.#store.save({ ...r, status: 'EXPIRED', history: [...r.history, t], seq: r.seq + 1 }, t);
  }
}
