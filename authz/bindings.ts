/**
 * Enterprise key bindings (DESIGN §4): a credit centre's signed statement that an Ed25519 public
 * key belongs to an enterprise. The binding's issuer is its authority: other nodes accept a
 * binding only when it is signed by a centre they trust for that enterprise, and keep the newest
 * one per enterprise. Bindings spread on their own (not only with a consent), so an enterprise
 * can approve a request at any node that knows it.
 *
 * Storage (sublevel `authz`): `b!<uscc>` → the binding.
 */
import { fromBase64, toBase64 } from '../crypto/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { bindingValid, type KeyBinding, signBinding } from './documents.ts';
import { ConsentInvalidError, ForbiddenError, InvalidInputError } from './errors.ts';
import type { Principal } from './principals.ts';

/** What the binding store needs. */
export interface BindingStoreComponents {
  db: RootDb;
  nodeId: string;
  /** This node's identity seed, to sign bindings (credit centres only). */
  identitySeed: Uint8Array;
  /**
   * Public keys of the centres whose bindings this node accepts for `uscc`, by node id (a city
   * centre binds the enterprises registered in its city).
   */
  trustedIssuers: (uscc: string) => ReadonlyMap<string, Uint8Array>;
  now?: () => number;
}

/** The binding store. */
export interface BindingStore {
  /** A centre's staff registers an enterprise key; the binding is signed by this node. */
  register(actor: Principal, uscc: string, publicKey: string): Promise<KeyBinding>;
  /**
   * Stores a binding issued elsewhere (whoever relays it: the issuer's signature is what counts).
   * Returns false when an equal or newer binding is already held.
   * @throws ConsentInvalidError when not signed by a centre trusted for that enterprise
   */
  import(binding: KeyBinding): Promise<boolean>;
  get(uscc: string): Promise<KeyBinding | undefined>;
  /** The enterprise's public key from a binding this node trusts. @throws ConsentInvalidError */
  enterpriseKey(uscc: string): Promise<Uint8Array>;
  /** Called after every binding stored (for propagation). */
  onChange(listener: (binding: KeyBinding) => void): void;
}

/** Verified bindings remembered (~0.5 KB each). */
const VERIFIED_LIMIT = 50_000;

/** Creates the binding store. */
export function createBindingStore(c: BindingStoreComponents): BindingStore {
  const sub = jsonSublevel<KeyBinding>(c.db, 'authz');
  const now = c.now ?? Date.now;
  const listeners: Array<(b: KeyBinding) => void> = [];
  /**
   * Bindings whose signature verified, by issuer key, signature and body: a binding is checked
   * each time its key is used (consents arriving by the thousand), and an Ed25519 verification
   * (~100 µs) costs far more than this lookup. Whether the issuer is trusted is asked every time.
   */
  const verified = new Set<string>();
  const trusted = (b: KeyBinding) => {
    const key = c.trustedIssuers(b?.body?.uscc ?? '').get(b?.body?.issuer);
    if (key === undefined || typeof b.signature !== 'string') return false;
    const id = `${toBase64(key)}\n${b.signature}\n${JSON.stringify(b.body)}`;
    if (verified.has(id)) return true;
    if (!bindingValid(b, key)) return false;
    if (verified.size >= VERIFIED_LIMIT) verified.clear();
    verified.add(id);
    return true;
  };
  const store = async (b: KeyBinding) => {
    await sub.put(`b!${b.body.uscc}`, b);
    for (const l of listeners) l(b);
  };
  return {
    async register(actor, uscc, publicKey) {
      if (actor.role !== 'centre-staff') throw new ForbiddenError('only credit-centre staff register enterprise keys');
      if (!c.trustedIssuers(uscc).has(c.nodeId))
        throw new ForbiddenError('this centre does not register keys of enterprises of another city');
      const key = fromBase64(publicKey);
      if (key?.length !== 32) throw new InvalidInputError('publicKey must be a base64 Ed25519 public key');
      const binding = signBinding(
        { v: 1, uscc, publicKey, issuer: c.nodeId, issuedAt: new Date(now()).toISOString() },
        c.identitySeed,
      );
      await store(binding);
      return binding;
    },
    async import(binding) {
      if (!trusted(binding)) throw new ConsentInvalidError('key binding is not signed by a trusted credit centre');
      const mine = await sub.get(`b!${binding.body.uscc}`);
      if (mine && trusted(mine) && mine.body.issuedAt >= binding.body.issuedAt) return false;
      await store(binding);
      return true;
    },
    get: (uscc) => sub.get(`b!${uscc}`),
    async enterpriseKey(uscc) {
      const b = await sub.get(`b!${uscc}`);
      if (!b || !trusted(b)) throw new ConsentInvalidError('no trusted key binding for this enterprise');
      return fromBase64(b.body.publicKey)!;
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
