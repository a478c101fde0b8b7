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
 * The service is assembled here from its parts, which share one {@link ConsentStore} (records,
 * cache, indexes and the per-consent lock, so that uses and transitions on one consent are
 * serialised whichever part makes them): changes at the home (`consent-transitions.ts`), the
 * access decision (`consent-decision.ts`) and copies from the home (`consent-replication.ts`).
 * Storage layout: `consent-store.ts`.
 */
import { type AccessRequest, type Decision, decide } from './consent-decision.ts';
import { importRecord, resolve } from './consent-replication.ts';
import { type ConsentServiceComponents, ConsentStore } from './consent-store.ts';
import { type ConsentRequestInput, ConsentTransitions } from './consent-transitions.ts';
import type { KeyBinding, SignedConsent } from './documents.ts';
import type { ConsentRecord, ConsentStatus, Transition } from './lifecycle.ts';
import type { Principal } from './principals.ts';

export type { AccessRequest, Decision } from './consent-decision.ts';
export type { ConsentRouting, ConsentServiceComponents } from './consent-store.ts';
export type { ConsentRequestInput } from './consent-transitions.ts';
export type { ConsentRecord, ConsentStatus, Transition } from './lifecycle.ts';
export { CONSENT_STATUSES } from './lifecycle.ts';

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
   * Loads what deciding a batch will read in bulk: the consents granted to `bank` for each of
   * `usccs`, and the records `ids` (called before thousands of decisions on a possibly cold cache).
   */
  prefetch(bank: string, usccs: readonly string[], ids?: readonly string[]): Promise<void>;
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

/** Creates the consent service. */
export function createConsentService(components: ConsentServiceComponents): ConsentService {
  const { bindings } = components;
  const store = new ConsentStore(components);
  const home = new ConsentTransitions(components, store);
  const decision = { store, markExpired: (r: ConsentRecord) => home.markExpired(r) };
  const replication = {
    store,
    bindings,
    routing: components.routing,
    logger: components.logger.child({ component: 'consents' }),
  };
  return {
    registerKey: (actor, uscc, publicKey) => bindings.register(actor, uscc, publicKey),
    importBinding: (binding) => bindings.import(binding),
    bindingFor: (uscc) => bindings.get(uscc),
    request: (actor, input) => home.request(actor, input),
    acceptRequest: (record, from) => home.acceptRequest(record, from),
    approve: (actor, id, signature) => home.approve(actor, id, signature),
    reject: (actor, id, reason) => home.reject(actor, id, reason),
    grant: (actor, consent) => home.grant(actor, consent),
    pause: (actor, id, reason) => home.pause(actor, id, reason),
    resume: (actor, id, reason) => home.resume(actor, id, reason),
    revoke: (actor, id, reason) => home.revoke(actor, id, reason),
    get: (id) => store.get(id),
    resolve: (id, home) => resolve(replication, id, home),
    list: (actor, filter) => store.list(actor, filter),
    decide: (request) => decide(decision, request),
    prefetch: (bank, usccs, ids) => store.prefetch(bank, usccs, ids),
    importRecord: (record, from) => importRecord(replication, record, from),
    onChange: (listener) => store.onChange(listener),
    onBindingChange: (listener) => bindings.onChange(listener),
  };
}
