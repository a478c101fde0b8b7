/**
 * The list holder's prepared list and the querying node's mirror of it.
 *
 * The holder turns each list entry y into a key F_k(y)[:16] once ({@link prepareList}), then
 * keeps it current with {@link PreparedList.add} and {@link PreparedList.remove}; every change
 * raises the version by one and extends a hash chain. A mirror loads a {@link ListSnapshot}
 * (sorted keys, checked against their digest) and follows with {@link ListDelta}s (changes since
 * its version, checked against the chain); the holder signs the statement of each. The mirror
 * answers `has(F_k(x))` for values the querier obtained through the OPRF.
 *
 * The list is a set: an enterprise listed twice is one key. Keep one prepared list per list
 * (dishonest debtors, serious dishonesty) under one OPRF key, so one evaluation checks all.
 */
import { createHash } from 'node:crypto';
import { bytesEqual, fromHex, toUtf8 } from '../encoding.ts';
import { PsiInputError, PsiListError } from './errors.ts';
import { KEY_LENGTH, KeySet } from './keyset.ts';
import { type OprfServer, SUITE } from './oprf.ts';

/** Bytes of a list key: the first 16 bytes of the finalised PRF value. */
export const LIST_KEY_LENGTH = KEY_LENGTH;
/** Changes a prepared list keeps for deltas by default; older mirrors load a snapshot. */
export const DEFAULT_MAX_HISTORY = 100_000;

/** An entry of a list: a canonical identifier (e.g. an upper-case USCC) as text or bytes. */
export type ListEntry = string | Uint8Array;

/** One change of a list. */
export interface ListChange {
  readonly op: 'add' | 'remove';
  /** The 16-byte list key. */
  readonly key: Uint8Array;
}

/** The whole list at one version, as a mirror loads it. */
export interface ListSnapshot {
  /** OPRF key the keys were made under ({@link OprfPublicInfo.keyId}). */
  readonly keyId: string;
  readonly version: number;
  readonly count: number;
  /** Head of the change chain at this version. */
  readonly head: Uint8Array;
  /** SHA-256 over the sorted keys (see {@link setDigest}). */
  readonly setDigest: Uint8Array;
  /** `count` keys of 16 bytes in strictly increasing order. */
  readonly keys: Uint8Array;
  /** Holder's signature over {@link snapshotStatement}, when it signs. */
  readonly signature?: Uint8Array;
}

/** The changes from one version to a later one. */
export interface ListDelta {
  readonly keyId: string;
  readonly fromVersion: number;
  /** `fromVersion + changes.length`. */
  readonly toVersion: number;
  /** Number of keys at `toVersion`. */
  readonly count: number;
  /** Head of the change chain at `toVersion`. */
  readonly head: Uint8Array;
  readonly changes: readonly ListChange[];
  /** Holder's signature over {@link deltaStatement}, when it signs. */
  readonly signature?: Uint8Array;
}

/** Signs list statements (e.g. an Ed25519 signer from `crypto/ed25519.ts`). */
export interface ListSigner {
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies a holder's signature over a list statement; false when it does not verify. */
export type ListVerifier = (message: Uint8Array, signature: Uint8Array) => boolean;

/** The holder's prepared list. */
export interface PreparedList {
  readonly keyId: string;
  /** Raised by one for every change of membership. */
  readonly version: number;
  readonly size: number;
  /** Lists an entry; true when membership changed (a new version). */
  add(entry: ListEntry): boolean;
  /** Removes an entry (repaired, delisted); true when membership changed (a new version). */
  remove(entry: ListEntry): boolean;
  /** The list at the current version (cached until the next change; its key buffer is a copy). */
  snapshot(): ListSnapshot;
  /**
   * The changes since `version`, or undefined when the kept history does not reach back that far
   * or `version` is not one of this list's (serve a snapshot then).
   */
  deltaSince(version: number): ListDelta | undefined;
}

/** Options of {@link prepareList} and {@link openList}. */
export interface PrepareListOptions {
  /** Called with the number of entries prepared so far, every `progressEvery` entries and at the end. */
  onProgress?: (prepared: number) => void;
  /** Default 10,000. */
  progressEvery?: number;
  /** Stops preparation (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Signs snapshots and deltas. */
  signer?: ListSigner;
  /** Changes kept for deltas; default {@link DEFAULT_MAX_HISTORY}. */
  maxHistory?: number;
}

const frame = (s: string) => {
  const b = toUtf8(s);
  return Buffer.concat([Buffer.from([b.length >>> 8, b.length & 0xff]), b]);
};
const DST_SET = frame(`${SUITE}/list-set`);
const DST_HEAD = frame(`${SUITE}/list-head`);
const DST_SNAPSHOT = frame(`${SUITE}/list-snapshot`);
const DST_DELTA = frame(`${SUITE}/list-delta`);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const OP_BYTE = { add: 1, remove: 2 } as const;
const entryBytes = (e: ListEntry) => (typeof e === 'string' ? toUtf8(e) : e);
const digest = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function keyIdBytes(keyId: string): Uint8Array {
  const b = fromHex(keyId);
  if (b?.length !== 16) throw new PsiInputError('keyId must be 32 hex digits', 'BAD_ENCODING');
  return b;
}

/** SHA-256 over a key set: DST ‖ keyId ‖ count ‖ sorted keys. */
export function setDigest(keyId: string, sortedKeys: Uint8Array): Uint8Array {
  return digest(DST_SET, keyIdBytes(keyId), u32(sortedKeys.length / KEY_LENGTH), sortedKeys);
}

/** Head of the chain before any change: binds the prepared set. */
export const genesisHead = (keyId: string, digestOfSet: Uint8Array): Uint8Array =>
  digest(DST_HEAD, Uint8Array.of(0), keyIdBytes(keyId), digestOfSet);

/** Head after the change that makes `version`. */
export const nextHead = (head: Uint8Array, version: number, change: ListChange): Uint8Array =>
  digest(DST_HEAD, Uint8Array.of(1), head, u64(version), Uint8Array.of(OP_BYTE[change.op]), change.key);

/** The bytes a holder signs for a snapshot. */
export const snapshotStatement = (s: Omit<ListSnapshot, 'keys' | 'signature'>): Uint8Array =>
  Buffer.concat([DST_SNAPSHOT, keyIdBytes(s.keyId), u64(s.version), u32(s.count), s.head, s.setDigest]);

/** The bytes a holder signs for a delta (the changes are bound through the chain head). */
export const deltaStatement = (d: Omit<ListDelta, 'changes' | 'signature'>): Uint8Array =>
  Buffer.concat([DST_DELTA, keyIdBytes(d.keyId), u64(d.fromVersion), u64(d.toVersion), u32(d.count), d.head]);

interface ListState {
  keys: KeySet;
  version: number;
  head: Uint8Array;
}

class Prepared implements PreparedList {
  readonly keyId: string;
  readonly #server: OprfServer;
  readonly #signer: ListSigner | undefined;
  readonly #maxHistory: number;
  readonly #state: ListState;
  /** Changes that made versions version − history.length + 1 … version. */
  #history: ListChange[] = [];
  #snapshot: ListSnapshot | undefined;

  constructor(server: OprfServer, state: ListState, options: PrepareListOptions) {
    this.keyId = server.publicInfo.keyId;
    this.#server = server;
    this.#signer = options.signer;
    this.#maxHistory = options.maxHistory ?? DEFAULT_MAX_HISTORY;
    this.#state = state;
  }

  get version(): number {
    return this.#state.version;
  }

  get size(): number {
    return this.#state.keys.size;
  }

  #change(op: ListChange['op'], entry: ListEntry): boolean {
    const key = this.#server.prf(entryBytes(entry)).slice(0, KEY_LENGTH);
    const changed = op === 'add' ? this.#state.keys.add(key) : this.#state.keys.delete(key);
    if (!changed) return false;
    const change = { op, key };
    this.#state.version++;
    this.#state.head = nextHead(this.#state.head, this.#state.version, change);
    this.#history.push(change);
    if (this.#history.length > this.#maxHistory * 2) this.#history = this.#history.slice(-this.#maxHistory);
    this.#snapshot = undefined;
    return true;
  }

  add(entry: ListEntry): boolean {
    return this.#change('add', entry);
  }

  remove(entry: ListEntry): boolean {
    return this.#change('remove', entry);
  }

  snapshot(): ListSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const keys = this.#state.keys.sorted();
    const body = {
      keyId: this.keyId,
      version: this.#state.version,
      count: keys.length / KEY_LENGTH,
      head: this.#state.head,
      setDigest: setDigest(this.keyId, keys),
    };
    const signature = this.#signer?.sign(snapshotStatement(body));
    // A copy: callers (transports) may hold or reuse the buffer without touching the live set.
    this.#snapshot = Object.freeze({ ...body, keys: keys.slice(), ...(signature ? { signature } : {}) });
    return this.#snapshot;
  }

  deltaSince(version: number): ListDelta | undefined {
    const { version: now } = this.#state;
    const kept = Math.min(this.#history.length, this.#maxHistory);
    if (!Number.isSafeInteger(version) || version > now || version < now - kept) return undefined;
    const body = {
      keyId: this.keyId,
      fromVersion: version,
      toVersion: now,
      count: this.#state.keys.size,
      head: this.#state.head,
    };
    const changes = this.#history.slice(this.#history.length - (now - version));
    const signature = this.#signer?.sign(deltaStatement(body));
    return Object.freeze({ ...body, changes, ...(signature ? { signature } : {}) });
  }
}

/**
 * Builds a prepared list at version 0 from keys already computed (by {@link prepareList} or the
 * worker-thread preparation); `keys` holds `count` 16-byte keys in any order.
 */
export function listFromKeys(
  keys: Uint8Array,
  count: number,
  server: OprfServer,
  options: PrepareListOptions = {},
): PreparedList {
  const set = KeySet.fromUnsorted(keys, count);
  const keyId = server.publicInfo.keyId;
  const head = genesisHead(keyId, setDigest(keyId, set.sorted()));
  return new Prepared(server, { keys: set, version: 0, head }, options);
}

/**
 * Reopens a list the holder saved as a snapshot (e.g. after a restart) under the same key; the
 * version and chain continue from it, deltas reach back to it at most.
 * @throws PsiListError LIST_KEY_MISMATCH for another key, LIST_DIGEST_MISMATCH when the keys do not match the digest
 */
export function openList(snapshot: ListSnapshot, server: OprfServer, options: PrepareListOptions = {}): PreparedList {
  const state = loadSnapshot(snapshot, server.publicInfo.keyId, undefined);
  return new Prepared(server, state, options);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Prepares a list from a stream of entries: F_k(y)[:16] for each, on this thread (see
 * `prepareListParallel` for worker threads). Yields to the event loop every 2,048 entries.
 * Duplicate entries count once.
 */
export async function prepareList(
  entries: Iterable<ListEntry> | AsyncIterable<ListEntry>,
  server: OprfServer,
  options: PrepareListOptions = {},
): Promise<PreparedList> {
  const every = options.progressEvery ?? 10_000;
  let keys = new Uint8Array(65_536 * KEY_LENGTH);
  let n = 0;
  /** Adds one entry; true when it is time to yield to the event loop. */
  const add = (entry: ListEntry) => {
    if (n * KEY_LENGTH === keys.length) {
      const grown = new Uint8Array(keys.length * 2);
      grown.set(keys);
      keys = grown;
    }
    keys.set(server.prf(entryBytes(entry)).subarray(0, KEY_LENGTH), n * KEY_LENGTH);
    n++;
    if (n % every === 0) options.onProgress?.(n);
    if (n % 2048 !== 0) return false;
    options.signal?.throwIfAborted();
    return true;
  };
  // A plain iterable is read without an await per entry (`for await` costs one on every entry).
  if (Symbol.iterator in entries) {
    for (const entry of entries) if (add(entry)) await tick();
  } else for await (const entry of entries) if (add(entry)) await tick();
  options.signal?.throwIfAborted();
  if (n % every !== 0) options.onProgress?.(n);
  return listFromKeys(keys, n, server, options);
}

/** What a mirror follows. */
export interface ListMirrorInit {
  /** Accept only lists under this OPRF key (from the server's {@link OprfPublicInfo}). */
  keyId?: string;
  /** Verifies the holder's signatures; when given, unsigned snapshots and deltas are refused. */
  verify?: ListVerifier;
}

/** The querier's copy of a prepared list. */
export interface ListMirror {
  /** Key of the loaded list, undefined before the first snapshot. */
  readonly keyId: string | undefined;
  /** Version of the loaded list, undefined before the first snapshot. */
  readonly version: number | undefined;
  readonly size: number;
  /**
   * Replaces the mirror's content with a snapshot.
   * @throws PsiListError (LIST_KEY_MISMATCH, LIST_BAD_SIGNATURE, LIST_DIGEST_MISMATCH), PsiInputError BAD_ENCODING; the mirror is unchanged
   */
  applySnapshot(snapshot: ListSnapshot): void;
  /**
   * Applies the changes since the mirror's version.
   * @throws PsiListError (LIST_VERSION_GAP, LIST_KEY_MISMATCH, LIST_BAD_SIGNATURE, LIST_DIGEST_MISMATCH), PsiInputError BAD_ENCODING; the mirror is unchanged
   */
  applyDelta(delta: ListDelta): void;
  /** Whether a finalised PRF value (32 bytes, or its 16-byte key) is on the list. */
  has(value: Uint8Array): boolean;
}

function checkSignature(verify: ListVerifier | undefined, statement: Uint8Array, signature: Uint8Array | undefined) {
  if (!verify) return;
  if (!signature || !verify(statement, signature))
    throw new PsiListError('list signature missing or invalid', 'LIST_BAD_SIGNATURE');
}

function loadSnapshot(s: ListSnapshot, keyId: string | undefined, verify: ListVerifier | undefined): ListState {
  if (keyId !== undefined && s.keyId !== keyId)
    throw new PsiListError('snapshot was made under another key', 'LIST_KEY_MISMATCH');
  if (!Number.isSafeInteger(s.version) || s.version < 0 || s.head?.length !== 32 || s.setDigest?.length !== 32)
    throw new PsiInputError('snapshot header is malformed', 'BAD_ENCODING');
  checkSignature(verify, snapshotStatement(s), s.signature);
  const keys = KeySet.fromSorted(s.keys);
  if (keys.size !== s.count || !bytesEqual(setDigest(s.keyId, s.keys), s.setDigest))
    throw new PsiListError('snapshot keys do not match their digest', 'LIST_DIGEST_MISMATCH');
  return { keys, version: s.version, head: Uint8Array.from(s.head) };
}

class Mirror implements ListMirror {
  readonly #init: ListMirrorInit;
  #state: (ListState & { keyId: string }) | undefined;

  constructor(init: ListMirrorInit) {
    this.#init = init;
  }

  get keyId() {
    return this.#state?.keyId;
  }

  get version() {
    return this.#state?.version;
  }

  get size() {
    return this.#state?.keys.size ?? 0;
  }

  applySnapshot(snapshot: ListSnapshot): void {
    this.#state = { ...loadSnapshot(snapshot, this.#init.keyId, this.#init.verify), keyId: snapshot.keyId };
  }

  applyDelta(d: ListDelta): void {
    const state = this.#state;
    if (!state) throw new PsiListError('no snapshot loaded', 'LIST_VERSION_GAP');
    if (d.keyId !== state.keyId) throw new PsiListError('delta was made under another key', 'LIST_KEY_MISMATCH');
    if (d.fromVersion !== state.version)
      throw new PsiListError(`delta starts at ${d.fromVersion}, mirror is at ${state.version}`, 'LIST_VERSION_GAP');
    if (!Array.isArray(d.changes) || d.toVersion - d.fromVersion !== d.changes.length || d.head?.length !== 32)
      throw new PsiInputError('delta is malformed', 'BAD_ENCODING');
    for (const c of d.changes)
      if ((c.op !== 'add' && c.op !== 'remove') || c.key?.length !== KEY_LENGTH)
        throw new PsiInputError('delta change is malformed', 'BAD_ENCODING');
    checkSignature(this.#init.verify, deltaStatement(d), d.signature);
    let head = state.head;
    d.changes.forEach((c, i) => {
      head = nextHead(head, d.fromVersion + i + 1, c);
    });
    // Every change must flip membership, and the count must come out right, before anything is applied.
    const pending = new Map<string, boolean>();
    let size = state.keys.size;
    let consistent = bytesEqual(head, d.head);
    for (const c of d.changes) {
      const id = Buffer.from(c.key).toString('latin1');
      const present = pending.get(id) ?? state.keys.has(c.key);
      if (present === (c.op === 'add')) consistent = false;
      pending.set(id, c.op === 'add');
      size += c.op === 'add' ? 1 : -1;
    }
    if (!consistent || size !== d.count)
      throw new PsiListError('delta does not match the signed chain head or count', 'LIST_DIGEST_MISMATCH');
    for (const c of d.changes) {
      if (c.op === 'add') state.keys.add(c.key);
      else state.keys.delete(c.key);
    }
    state.version = d.toVersion;
    state.head = Uint8Array.from(d.head);
  }

  has(value: Uint8Array): boolean {
    if (!(value instanceof Uint8Array) || value.length < KEY_LENGTH)
      throw new TypeError('value must be a finalised PRF value or a 16-byte key');
    return this.#state?.keys.has(value) ?? false;
  }
}

/** Creates an empty mirror; load a snapshot before deltas. */
export function createListMirror(init: ListMirrorInit = {}): ListMirror {
  return new Mirror(init);
}
