/**
 * Where the consent service keeps its records, shared by its parts (changes at the home, the
 * access decision, replication): the stored records and their indexes, a cache of records and of
 * the grantee index, the per-consent lock, the change listeners, and the queries.
 *
 * Storage (sublevel `authz`): `c!<id>` record, `g!<grantee>!<uscc>!<id>` and `u!<uscc>!<id>`
 * indexes, `n!<uscc>!<nonce>` replay guard; key bindings in `bindings.ts`.
 */
import type { Logger } from 'pino';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import type { BindingStore } from './bindings.ts';
import type { KeyBinding } from './documents.ts';
import type { ConsentRecord, ConsentStatus, Transition } from './lifecycle.ts';
import type { Principal } from './principals.ts';

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

/** Records kept in the cache at most; past it the cache starts afresh. */
const CACHE_LIMIT = 100_000;
/** Consents of one grantee for one enterprise looked at, at most. */
const PER_ENTERPRISE = 200;
/** Index keys read per step of a prefetch's seeking iterator, and records per `getMany`. */
const PREFETCH_CHUNK = 1024;

interface SeekingKeys {
  nextv(n: number): Promise<string[]>;
  seek(target: string): void;
  close(): Promise<void>;
}

/** The consent records of one node: storage, cache, indexes, lock and queries. */
export class ConsentStore {
  readonly nodeId: string;
  readonly now: () => number;
  readonly #sub: Sublevel<unknown>;
  #listeners: Array<(r: ConsentRecord, t: Transition) => void> = [];
  /** One lock map for every part of the service: see {@link ConsentStore.locked}. */
  #locks = new Map<string, Promise<unknown>>();
  /** Records by id, and ids by grantee and enterprise: every change goes through `save`, which keeps them current. */
  #records = new Map<string, ConsentRecord>();
  #byGrantee = new Map<string, string[]>();
  /** Grantee index keys saved while a prefetch reads the index (it must not cache those keys' old state). */
  #savedDuringPrefetch: Set<string> | undefined;
  #prefetching = 0;

  constructor(components: ConsentServiceComponents) {
    this.nodeId = components.nodeId;
    this.now = components.now ?? Date.now;
    this.#sub = jsonSublevel<unknown>(components.db, 'authz');
  }

  /** Serialises work on one consent, so that uses and transitions never race. */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
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

  /**
   * Stores a record with its indexes (and, with `nonce`, the enterprise's replay guard for its
   * body) in one batch, then tells the listeners unless `notify` is false.
   */
  async save(record: ConsentRecord, transition: Transition, options: { nonce?: boolean; notify?: boolean } = {}) {
    const { body } = record;
    const ops = [
      { type: 'put' as const, key: `c!${record.id}`, value: record },
      { type: 'put' as const, key: `g!${body.grantee.node}!${body.enterprise}!${record.id}`, value: '' },
      { type: 'put' as const, key: `u!${body.enterprise}!${record.id}`, value: '' },
      ...(options.nonce ? [{ type: 'put' as const, key: `n!${body.enterprise}!${body.nonce}`, value: record.id }] : []),
    ];
    await this.#sub.batch(ops);
    this.#savedDuringPrefetch?.add(`${body.grantee.node}!${body.enterprise}`);
    this.#cache(record);
    if (options.notify ?? true) for (const l of this.#listeners) l(record, transition);
  }

  /** Stores a record whose use count alone changed (no index, no listener). */
  async saveUses(record: ConsentRecord) {
    await this.#sub.put(`c!${record.id}`, record);
    this.#records.set(record.id, record);
  }

  /** Whether a consent with this enterprise's `nonce` was ever submitted here. */
  async nonceSeen(uscc: string, nonce: string) {
    return (await this.#sub.get(`n!${uscc}!${nonce}`)) !== undefined;
  }

  #cache(record: ConsentRecord) {
    if (this.#records.size >= CACHE_LIMIT) {
      this.#records.clear();
      this.#byGrantee.clear();
    }
    this.#records.set(record.id, record);
    const key = `${record.body.grantee.node}!${record.body.enterprise}`;
    const ids = this.#byGrantee.get(key);
    if (ids && !ids.includes(record.id)) ids.push(record.id);
  }

  /**
   * Loads into the cache, in bulk, what decisions for a batch will read: the consents granted to
   * `bank` for each of `usccs` (one iterator seeking through the sorted codes instead of one index
   * scan each) and the records of those and of `ids` (`getMany`). A batch of 10,000 decided on a
   * cold cache otherwise costs a scan and a read per enterprise.
   */
  async prefetch(bank: string, usccs: readonly string[], ids: readonly string[] = []) {
    const wanted = [...new Set(usccs)].filter((u) => !this.#byGrantee.has(`${bank}!${u}`)).sort();
    if (wanted.length + ids.length > CACHE_LIMIT / 2) return; // a batch this large would only churn the cache
    const index = new Map<string, string[]>(wanted.map((u) => [u, []]));
    if (wanted.length > 0) {
      this.#prefetching++;
      this.#savedDuringPrefetch ??= new Set();
      const saved = this.#savedDuringPrefetch;
      const base = `g!${bank}!`;
      const it = this.#sub.keys({
        gte: `${base}${wanted[0]}!`,
        lt: `${base}${wanted[wanted.length - 1]}!\xff`,
      }) as unknown as SeekingKeys;
      try {
        let buf: string[] = [];
        let i = 0;
        for (const uscc of wanted) {
          const prefix = `${base}${uscc}!`;
          while (i < buf.length && buf[i] < prefix) i++;
          if (i === buf.length) {
            it.seek(prefix); // nothing buffered at or after this enterprise: jump rather than read the gap
            buf = await it.nextv(PREFETCH_CHUNK);
            i = 0;
          }
          const found = index.get(uscc)!;
          while (i < buf.length && buf[i].startsWith(prefix)) {
            if (found.length < PER_ENTERPRISE) found.push(buf[i].slice(prefix.length));
            if (++i === buf.length) {
              buf = await it.nextv(PREFETCH_CHUNK);
              i = 0;
            }
          }
        }
      } finally {
        await it.close();
        if (--this.#prefetching === 0) this.#savedDuringPrefetch = undefined;
      }
      if (this.#byGrantee.size + index.size >= CACHE_LIMIT) this.#byGrantee.clear();
      for (const [uscc, found] of index) {
        const key = `${bank}!${uscc}`;
        // A save while the index was read may be missing from it: leave that key to `forGrantee`.
        if (!saved.has(key) && !this.#byGrantee.has(key)) this.#byGrantee.set(key, found);
      }
    }
    const missing = [...new Set([...ids, ...[...index.values()].flat()])].filter(
      (id) => !this.#records.has(id) && /^[A-Za-z0-9_-]{43}$/.test(id),
    );
    if (this.#records.size + missing.length >= CACHE_LIMIT) this.#records.clear();
    for (let k = 0; k < missing.length; k += PREFETCH_CHUNK) {
      const chunk = missing.slice(k, k + PREFETCH_CHUNK);
      const records = (await this.#sub.getMany(chunk.map((id) => `c!${id}`))) as Array<ConsentRecord | undefined>;
      // A record saved meanwhile is already cached in its newer state: keep that one.
      records.forEach((r, j) => {
        if (r && !this.#records.has(chunk[j])) this.#records.set(chunk[j], r);
      });
    }
  }

  /** Consents granted to a bank for one enterprise (cached index). */
  async forGrantee(bank: string, uscc: string): Promise<ConsentRecord[]> {
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
      .map((r) => this.withExpiry(r))
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
  withExpiry(r: ConsentRecord): ConsentRecord {
    if ((r.status === 'ACTIVE' || r.status === 'PAUSED') && Date.parse(r.body.expiresAt) <= this.now())
      return { ...r, status: 'EXPIRED' };
    return r;
  }
}
