/**
 * The signed access log (DESIGN §6): an RFC 6962 Merkle tree in the node's Level database.
 *
 * Storage (sublevel `accesslog`):
 * - `m!size` → number of durable entries
 * - `m!scrub` → how far the background scrub got (./scrub.ts)
 * - `e!<index>` → the entry: RFC 8785 canonical JSON, the exact leaf bytes
 * - `n!<level><index>` → hash of each *perfect* subtree, written once when it completes, so a
 *   proof or a root costs O(log n) reads at any size
 * - `c!<size>` → the signed checkpoint (C2SP signed note) issued at that size
 * - `k!<size>!<witness>` → a peer's cosignature line (c2sp.org/tlog-cosignature) on that checkpoint
 * Private store (sublevel `accesslog-private`), never part of the tree:
 * - `o!<index>` → the opening of the entry's subject commitment (USCC + random 32 bytes)
 * - `s!<uscc>!<index>` → index of an enterprise's entries; erasure deletes these and the openings
 *
 * What clients are served (DESIGN §6, one history for everyone): checkpoints and proof bundles
 * carry the witnesses' cosignature lines appended to the log's signed note. A bundle is issued
 * against the newest checkpoint that covers its entry and carries the witness quorum (see
 * {@link AccessLog.setWitnessQuorum}); when none does yet, `bundle` waits up to `waitMs` (3 s by
 * default) for one and otherwise answers with the best it has, marked `cosigned: false`.
 *
 * Appends are group-committed: concurrent calls share one atomic, synced batch, and each resolves
 * only after its batch is durable. A failed batch rejects every append in it (fail closed).
 *
 * Failing closed for real: the database is guarded (storage/guard.ts). After any failed write it
 * refuses writes, so no append is acknowledged and no checkpoint signed, until it has been
 * reopened and the log has reloaded its tree from disk and checked it against the newest signed
 * checkpoint. A tree shorter than, or different from, what the node signed stops the log for good
 * (`state()` failed, alarm `LOG_LOST`): it never signs another tree at a size it already signed.
 *
 * Hand edits: every entry served (`entry`, `entriesFor`, `query`) is hashed from its stored
 * bytes and led through stored nodes to the authenticated root (./integrity.ts), or refused with
 * `AccessLogCorruptError`; a start-up check and a background scrub (./scrub.ts) look for edited
 * entries and nodes. Findings are alarms (`alarms()`).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  canonicalJson,
  consistencyProof,
  EMPTY_ROOT,
  ed25519Signer,
  foldRange,
  formatVerifierKey,
  fromBase64,
  inclusionProof,
  leafHash,
  type NodeId,
  nodeHash,
  noteVerifier,
  openCheckpoint,
  sha256,
  signCheckpoint,
  toBase64,
  toHex,
  toUtf8,
} from '../crypto/index.ts';
import { guardDatabase, type RootDb, type StorageGuard, type Sublevel } from '../storage/index.ts';
import { AuthenticReader, type StoredEntry } from './authentic.ts';
import {
  AccessLogCorruptError,
  type AccessLogState,
  AlarmBook,
  divergence,
  entryKey,
  type Frontier,
  hex12,
  type LogAlarm,
  loadTree,
  nodeKey,
  storedCheckpoint,
} from './integrity.ts';
import { type AccessEvent, type AccessLogPort, AccessLogUnavailableError, type AppendReceipt } from './port.ts';
import { Scrubber, type ScrubStatus } from './scrub.ts';

export { AccessLogCorruptError, type AccessLogState, type LogAlarm, type LogAlarmKind } from './integrity.ts';
export type { ScrubStatus } from './scrub.ts';

/** A leaf of the log as stored and hashed. */
export interface LogEntry {
  v: 1;
  time: string;
  actor: AccessEvent['actor'];
  action: AccessEvent['action'];
  decision: AccessEvent['decision'];
  reason?: string;
  purpose?: string;
  consentId?: string;
  scopes: string[];
  /** Base64 commitment to the enterprise: SHA-256(domain ‖ USCC ‖ 0 ‖ opening). */
  subject?: string;
  resultDigest?: string;
  correlationId: string;
}

/** A signed checkpoint. */
export interface SignedCheckpoint {
  size: number;
  root: string;
  /** The C2SP signed note. */
  note: string;
}

/** A checkpoint as served to clients: the note carries the witnesses' cosignature lines. */
export interface CosignedCheckpoint extends SignedCheckpoint {
  /** Node ids of the witnesses whose cosignature lines follow the log's signature in `note`. */
  witnesses: string[];
}

/** An entry with its position and, for its own enterprise, the commitment opening. */
export interface ListedEntry {
  index: number;
  entry: LogEntry;
  leafHash: string;
  opening?: { uscc: string; opening: string };
}

/** Everything needed to check one entry offline (`credit-node verify --bundle`). */
export interface ProofBundle {
  format: 'credit-data-space/proof-bundle@1';
  /** The log's verifier key (c2sp.org/signed-note). */
  logKey: string;
  index: number;
  /** The exact leaf bytes (canonical JSON). */
  entry: string;
  proof: string[];
  /** The signed checkpoint the proof leads to, with the witnesses' cosignature lines (c2sp.org/tlog-cosignature). */
  checkpoint: string;
  /** Node ids of the witnesses that cosigned `checkpoint`. */
  witnesses?: string[];
  /** Whether `checkpoint` carries the log's witness quorum (at least one cosignature when the quorum is 0). */
  cosigned?: boolean;
  opening?: { uscc: string; opening: string };
}

/** How a proof bundle is issued. */
export interface BundleOptions {
  /** Cosignatures the bundle's checkpoint needs (default: the log's witness quorum). */
  minWitnesses?: number;
  /**
   * How long to wait for a checkpoint covering the entry to be cosigned by that many: a fresh
   * entry is in the next checkpoint within a second, cosigned a moment later. Default 3000 ms when
   * cosignatures are needed, else 0.
   */
  waitMs?: number;
  signal?: AbortSignal;
}

/** Filters of an auditor's query. */
export interface LogQuery {
  actorNode?: string;
  principal?: string;
  purpose?: string;
  action?: string;
  decision?: 'ALLOW' | 'DENY';
  /** ISO times, inclusive. */
  from?: string;
  to?: string;
  limit?: number;
}

/** The access log service. */
export interface AccessLog extends AccessLogPort {
  /** Origin line of checkpoints and name of the log key. */
  readonly origin: string;
  /** Verifier key string of the log (c2sp.org/signed-note). */
  readonly verifierKey: string;
  size(): number;
  latestCheckpoint(): SignedCheckpoint | undefined;
  /** Signs a checkpoint now if entries arrived since the last one. */
  checkpoint(): Promise<SignedCheckpoint | undefined>;
  /**
   * Stored checkpoints, newest first, each note with its cosignature lines appended (unless
   * `withCosignatures` is false). `witnessed` keeps only those carrying the witness quorum: what
   * clients are served.
   */
  checkpoints(options?: {
    limit?: number;
    beforeSize?: number;
    witnessed?: boolean;
    withCosignatures?: boolean;
  }): Promise<CosignedCheckpoint[]>;
  /** The log's own signed checkpoint at exactly `size`, without cosignatures. */
  checkpointAt(size: number): Promise<SignedCheckpoint | undefined>;
  /** Stores a witness's cosignature line for the checkpoint at `size` (verified by the caller). */
  addCosignature(size: number, witness: string, line: string): Promise<void>;
  /**
   * The newest checkpoint carrying at least `minWitnesses` cosignatures (default: the witness
   * quorum), as a note with the cosignature lines appended. With a quorum of 0 (a stand-alone
   * node) it is the latest checkpoint with whatever cosignatures it has.
   */
  cosignedCheckpoint(options?: { minWitnesses?: number }): Promise<CosignedCheckpoint | undefined>;
  /**
   * Sets how many witness cosignatures a checkpoint needs before it is served to clients as
   * witnessed (the federation sets a majority of the other roster members; default 0).
   */
  setWitnessQuorum(quorum: number | (() => number)): void;
  /** The witness quorum in force. */
  witnessQuorum(): number;
  /** One entry, authenticated against the tree. @throws AccessLogCorruptError when its stored bytes do not match */
  entry(index: number): Promise<ListedEntry | undefined>;
  inclusionProof(index: number, size: number): Promise<string[]>;
  consistencyProof(size1: number, size2: number): Promise<string[]>;
  /** An enterprise's own entries (newest first), found through the private index, authenticated like `entry`. */
  entriesFor(uscc: string, options?: { limit?: number }): Promise<ListedEntry[]>;
  /** An auditor's view: entries matching the filters, newest first; every entry scanned is authenticated. */
  query(q: LogQuery): Promise<{ entries: ListedEntry[]; scanned: number; truncated: boolean }>;
  /**
   * A proof bundle for one entry, against the newest checkpoint that covers it and carries the
   * witness quorum; if there is none within `waitMs` (default 3 s when a quorum is set), against
   * the covering checkpoint with the most cosignatures (or the latest checkpoint), marked
   * `cosigned: false`.
   */
  bundle(index: number, options?: BundleOptions): Promise<ProofBundle>;
  /** Erases an enterprise's openings: its entries stay in the tree but can no longer be linked to it. */
  erase(uscc: string): Promise<number>;
  /** Whether appends (and checkpoints) are accepted, and why not. */
  state(): AccessLogState;
  /** What the start-up check, the scrub and serving found wrong with the stored log. */
  alarms(): LogAlarm[];
  /** Progress of the background scrub. */
  scrubStatus(): ScrubStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the log needs. */
export interface AccessLogComponents {
  db: RootDb;
  /** Ed25519 seed of the node identity: signs checkpoints. */
  identitySeed: Uint8Array;
  identityPublicKey: Uint8Array;
  nodeId: string;
  logger: Logger;
  /** The guard of `db` (default: the one `openDatabase` installed, or a new one). */
  storage?: StorageGuard;
}

/** Log settings. */
export interface AccessLogInit {
  /** Checkpoint interval while entries arrive (ms). */
  checkpointIntervalMs?: number;
  /** Largest group-commit batch. */
  maxBatch?: number;
  /** Entries scanned at most by one auditor query. */
  maxScan?: number;
  /** Newest entries authenticated at start-up (default 4096). */
  startupCheck?: number;
  /** Entries the background scrub checks per second (default 10,000; 0: no background scrub). */
  scrubRate?: number;
  /** Pause between two full scrub passes (ms, default one hour). */
  scrubIntervalMs?: number;
}

const SUBJECT_DOMAIN = toUtf8('credit-data-space/subject/v1\0');
/** Stored checkpoints looked at, at most, for witnessed ones. */
const MAX_CHECKPOINT_SCAN = 10_000;
/** Cosignature records looked at, at most, for a cosigned checkpoint covering an entry. */
const MAX_COSIGNATURE_SCAN = 8192;
/** How long `bundle` waits, by default, for a cosigned checkpoint covering a fresh entry. */
const DEFAULT_BUNDLE_WAIT_MS = 3000;

/** The subject commitment of an entry. */
export function subjectCommitment(uscc: string, opening: Uint8Array): Uint8Array {
  return sha256(SUBJECT_DOMAIN, toUtf8(uscc), new Uint8Array([0]), opening);
}

/** Checkpoint origin of a node's log. */
export const logOrigin = (nodeId: string) => `credit-data-space/${nodeId}`;

interface Waiter {
  event: AccessEvent;
  resolve: (r: AppendReceipt) => void;
  reject: (e: Error) => void;
}

class MerkleAccessLog implements AccessLog {
  readonly origin: string;
  readonly verifierKey: string;
  readonly #c: AccessLogComponents;
  readonly #log: Logger;
  readonly #sub;
  readonly #private;
  readonly #interval: number;
  readonly #maxBatch: number;
  readonly #maxScan: number;
  #size = 0;
  /** Perfect subtrees covering [0, size), left to right. */
  #frontier: Frontier = [];
  /** The root of the tree at `size`, authenticated at start-up and extended by appends. */
  #root: { size: number; hash: Uint8Array } | undefined;
  readonly #guard: StorageGuard;
  readonly #alarms: AlarmBook;
  readonly #scrub: Scrubber;
  /** Every path that serves stored entries reads them through here. */
  readonly #reader: AuthenticReader;
  readonly #startupCheck: number;
  /** Why the log stopped for good (the tree on disk lost what the node signed). */
  #fatal: string | undefined;
  #unwatch: (() => void) | undefined;
  #queue: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #latest: SignedCheckpoint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checkpointing: Promise<SignedCheckpoint | undefined> | undefined;
  readonly #signer;

  constructor(components: AccessLogComponents, init: AccessLogInit) {
    this.#c = components;
    this.origin = logOrigin(components.nodeId);
    this.verifierKey = formatVerifierKey(noteVerifier(this.origin, components.identityPublicKey));
    this.#log = components.logger.child({ component: 'accesslog' });
    // Guarded before the sublevels exist, so that a recovery reopens them.
    this.#guard = components.storage ?? guardDatabase(components.db, { logger: components.logger });
    this.#sub = components.db.sublevel<string, unknown>('accesslog', { valueEncoding: 'json' });
    this.#private = components.db.sublevel<string, unknown>('accesslog-private', { valueEncoding: 'json' });
    this.#interval = init.checkpointIntervalMs ?? 1000;
    this.#maxBatch = init.maxBatch ?? 4096;
    this.#maxScan = init.maxScan ?? 200_000;
    this.#signer = ed25519Signer(components.identitySeed);
    this.#startupCheck = init.startupCheck ?? 4096;
    this.#alarms = new AlarmBook((a) => this.#log.error({ alarm: a }, 'access log alarm'));
    this.#scrub = new Scrubber(
      {
        sub: this.#sub as unknown as Sublevel,
        alarms: this.#alarms,
        logger: this.#log,
        signed: (size) => this.#signedAt(size),
        writable: () => this.#guard.writable,
      },
      { rate: init.scrubRate ?? 10_000, intervalMs: init.scrubIntervalMs ?? 3_600_000 },
    );
    this.#reader = new AuthenticReader({
      sub: this.#sub as unknown as Sublevel,
      nodes: this.#nodes,
      alarms: this.#alarms,
      scrub: this.#scrub,
      root: () => this.#trustedRoot(),
    });
  }

  size() {
    return this.#size;
  }

  latestCheckpoint() {
    return this.#latest;
  }

  state(): AccessLogState {
    if (this.#fatal) return { status: 'failed', reason: this.#fatal };
    const storage = this.#guard.health();
    return storage.status === 'ok'
      ? { status: 'ok' }
      : { status: storage.status, reason: `storage: ${storage.reason ?? 'being reopened and checked'}` };
  }

  alarms() {
    return this.#alarms.list();
  }

  scrubStatus() {
    return this.#scrub.status();
  }

  #unavailable() {
    return new AccessLogUnavailableError(`the access log accepts no entries now (${this.state().reason})`);
  }

  /** The root of the tree at the current size: authenticated at start-up, extended by appends. */
  #trustedRoot() {
    if (this.#root?.size !== this.#size)
      this.#root = {
        size: this.#size,
        hash: this.#size === 0 ? EMPTY_ROOT : foldRange(this.#frontier.map((f) => f.hash)),
      };
    return this.#root;
  }

  /** The root the node signed at `size` (default: its latest checkpoint). */
  async #signedAt(size?: number) {
    if (size === undefined) {
      const cp = this.#latest;
      return cp && { size: cp.size, root: fromBase64(cp.root)! };
    }
    const note = (await this.#sub.get(`c!${hex12(size)}`, { valueEncoding: 'utf8' } as never)) as string | undefined;
    if (note === undefined) return undefined;
    const { checkpoint } = openCheckpoint(note, noteVerifier(this.origin, this.#c.identityPublicKey));
    return { size: checkpoint.size, root: checkpoint.root };
  }

  #nodes = async (ids: readonly NodeId[]): Promise<Uint8Array[]> => {
    const found = (await this.#sub.getMany(ids.map(nodeKey), { valueEncoding: 'view' } as never)) as Array<
      Uint8Array | undefined
    >;
    return found.map((h, i) => {
      if (h?.length === 32) return h;
      const { level, index } = ids[i];
      const detail = `tree node ${level}/${index} is missing`;
      this.#alarms.raise('LOG_CORRUPT', index * 2 ** level, 2 ** level, detail);
      throw new AccessLogCorruptError(detail);
    });
  };

  append(event: AccessEvent, options: { signal?: AbortSignal } = {}): Promise<AppendReceipt> {
    options.signal?.throwIfAborted();
    if (this.#fatal || !this.#guard.writable) return Promise.reject(this.#unavailable());
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#drain();
    });
  }

  async #drain() {
    try {
      while (this.#queue.length > 0) {
        await new Promise((r) => setImmediate(r));
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#commit(batch);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #commit(batch: Waiter[]) {
    const ops: Array<Record<string, unknown>> = [];
    const priv: Array<Record<string, unknown>> = [];
    const frontier = [...this.#frontier];
    const receipts: AppendReceipt[] = [];
    let size = this.#size;
    // One call for the randomness of the whole batch (a commitment opening per entry).
    const first = size;
    const randomness = new Uint8Array(randomBytes(32 * batch.length));
    try {
      for (const { event } of batch) {
        const index = size++;
        const entry = this.#toEntry(
          event,
          index,
          priv,
          randomness.subarray(32 * (index - first), 32 * (index - first + 1)),
        );
        const text = canonicalJson(entry);
        const leaf = leafHash(toUtf8(text));
        ops.push({ type: 'put', sublevel: this.#sub, key: `e!${hex12(index)}`, value: text, valueEncoding: 'utf8' });
        ops.push({
          type: 'put',
          sublevel: this.#sub,
          key: nodeKey({ level: 0, index }),
          value: leaf,
          valueEncoding: 'view',
        });
        frontier.push({ level: 0, index, hash: leaf });
        while (frontier.length >= 2 && frontier[frontier.length - 1].level === frontier[frontier.length - 2].level) {
          const right = frontier.pop()!;
          const left = frontier.pop()!;
          const parent = { level: left.level + 1, index: left.index / 2, hash: nodeHash(left.hash, right.hash) };
          frontier.push(parent);
          ops.push({
            type: 'put',
            sublevel: this.#sub,
            key: nodeKey(parent),
            value: parent.hash,
            valueEncoding: 'view',
          });
        }
        receipts.push({ index, leafHash: toHex(leaf) });
      }
      ops.push({ type: 'put', sublevel: this.#sub, key: 'm!size', value: size });
      for (const p of priv) ops.push({ ...p, sublevel: this.#private });
      await this.#c.db.batch(ops as never, { sync: true } as never);
    } catch (err) {
      this.#log.error(
        { entries: batch.length, err: (err as Error).message },
        'access log batch failed; accesses refused',
      );
      const e = new AccessLogUnavailableError('the access log could not record this access durably', { cause: err });
      for (const w of batch) w.reject(e);
      return;
    }
    this.#frontier = frontier;
    this.#size = size;
    for (let i = 0; i < batch.length; i++) batch[i].resolve(receipts[i]);
  }

  #toEntry(e: AccessEvent, index: number, priv: Array<Record<string, unknown>>, opening: Uint8Array): LogEntry {
    if (!e || typeof e.correlationId !== 'string' || !Array.isArray(e.scopes) || !e.actor)
      throw new TypeError('malformed access event');
    const entry: LogEntry = {
      v: 1,
      time: e.time,
      actor: { node: e.actor.node, principal: e.actor.principal, role: e.actor.role },
      action: e.action,
      decision: e.decision,
      scopes: [...e.scopes],
      correlationId: e.correlationId,
    };
    if (e.reason) entry.reason = e.reason;
    if (e.purpose) entry.purpose = e.purpose;
    if (e.consentId) entry.consentId = e.consentId;
    if (e.resultDigest) entry.resultDigest = e.resultDigest;
    if (e.subject) {
      entry.subject = toBase64(subjectCommitment(e.subject, opening));
      priv.push({ type: 'put', key: `o!${hex12(index)}`, value: { uscc: e.subject, opening: toBase64(opening) } });
      priv.push({ type: 'put', key: `s!${e.subject}!${hex12(index)}`, value: '' });
    }
    return entry;
  }

  async checkpoint(): Promise<SignedCheckpoint | undefined> {
    if (this.#checkpointing) return this.#checkpointing;
    this.#checkpointing = (async () => {
      const size = this.#size;
      if (this.#latest && this.#latest.size >= size) return this.#latest;
      // Only entries committed while the database was sound, never while it refuses writes.
      if (this.#fatal || !this.#guard.writable) throw this.#unavailable();
      const root = this.#trustedRoot().hash;
      const note = signCheckpoint({ origin: this.origin, size, root }, this.#signer);
      const cp = { size, root: toBase64(root), note };
      await this.#sub.put(`c!${hex12(size)}`, note, { valueEncoding: 'utf8', sync: true } as never);
      this.#latest = cp;
      return cp;
    })().finally(() => {
      this.#checkpointing = undefined;
    });
    return this.#checkpointing;
  }

  async checkpoints(
    options: { limit?: number; beforeSize?: number; witnessed?: boolean; withCosignatures?: boolean } = {},
  ) {
    const out: CosignedCheckpoint[] = [];
    const limit = Math.min(options.limit ?? 100, 1000);
    const quorum = options.witnessed ? this.witnessQuorum() : 0;
    const lt = options.beforeSize !== undefined ? `c!${hex12(options.beforeSize)}` : 'c"';
    // Witnessed checkpoints may be sparse: look at a bounded number of stored ones.
    const scan = quorum > 0 ? MAX_CHECKPOINT_SCAN : limit;
    for await (const note of this.#sub.values({
      gte: 'c!',
      lt,
      reverse: true,
      limit: scan,
      valueEncoding: 'utf8',
    } as never)) {
      const { checkpoint } = openCheckpoint(note as string, noteVerifier(this.origin, this.#c.identityPublicKey));
      const lines = await this.#cosignatures(checkpoint.size);
      if (lines.size < quorum) continue;
      const cp = { size: checkpoint.size, root: toBase64(checkpoint.root), note: note as string };
      out.push(this.#served(cp, options.withCosignatures === false ? new Map() : lines));
      if (out.length >= limit) break;
    }
    return out;
  }

  async checkpointAt(size: number): Promise<SignedCheckpoint | undefined> {
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    const note = (await this.#sub.get(`c!${hex12(size)}`, { valueEncoding: 'utf8' } as never)) as string | undefined;
    if (note === undefined) return undefined;
    const { checkpoint } = openCheckpoint(note, noteVerifier(this.origin, this.#c.identityPublicKey));
    return { size: checkpoint.size, root: toBase64(checkpoint.root), note };
  }

  async entry(index: number): Promise<ListedEntry | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#size) return undefined;
    return this.#listed(await this.#reader.entries([index]))[0];
  }

  #listed(read: StoredEntry[]): ListedEntry[] {
    return read.map(({ index, text, leaf }) => ({ index, entry: JSON.parse(text) as LogEntry, leafHash: toHex(leaf) }));
  }

  #checkSize(size: number) {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#size)
      throw new RangeError(`size must be between 0 and ${this.#size}`);
  }

  async inclusionProof(index: number, size: number) {
    this.#checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError('index must be below size');
    return (await inclusionProof(index, size, this.#nodes)).map(toBase64);
  }

  async consistencyProof(size1: number, size2: number) {
    this.#checkSize(size2);
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) throw new RangeError('need 0 <= size1 <= size2');
    return (await consistencyProof(size1, size2, this.#nodes)).map(toBase64);
  }

  async entriesFor(uscc: string, options: { limit?: number } = {}) {
    const limit = Math.min(options.limit ?? 100, 1000);
    const indexes: number[] = [];
    for await (const k of this.#private.keys({ gte: `s!${uscc}!`, lt: `s!${uscc}!\xff`, reverse: true, limit }))
      indexes.push(Number.parseInt(k.slice(k.lastIndexOf('!') + 1), 16));
    // An index written in the batch that is committing now is not part of the tree yet.
    const size = this.#size;
    const present = indexes.filter((i) => i < size);
    const openings = (await this.#private.getMany(present.map((i) => `o!${hex12(i)}`))) as Array<
      ListedEntry['opening']
    >;
    const opened = openings.filter((o) => o !== undefined);
    const entries = this.#listed(await this.#reader.entries(present.filter((_, i) => openings[i])));
    return entries.map((e, i) => ({ ...e, opening: opened[i] }));
  }

  async query(q: LogQuery) {
    const limit = Math.min(q.limit ?? 100, 1000);
    const root = this.#trustedRoot();
    const entries: ListedEntry[] = [];
    // Leaf hashes of every entry scanned, newest first: the scanned range is authenticated as a whole.
    const leaves: Uint8Array[] = [];
    let truncated = false;
    let stopped = false;
    for await (const [k, text] of this.#sub.iterator({
      gte: 'e!',
      lt: entryKey(root.size),
      reverse: true,
      valueEncoding: 'utf8',
    } as never)) {
      if (leaves.length >= this.#maxScan) {
        truncated = stopped = true;
        break;
      }
      const index = Number.parseInt((k as string).slice(2), 16);
      if (index !== root.size - 1 - leaves.length) break;
      leaves.push(leafHash(toUtf8(text as string)));
      let e: LogEntry;
      try {
        e = JSON.parse(text as string) as LogEntry;
      } catch {
        break;
      }
      if (q.to && e.time > q.to) continue;
      if (q.from && e.time < q.from) {
        stopped = true;
        break;
      }
      if (q.actorNode && e.actor.node !== q.actorNode) continue;
      if (q.principal && e.actor.principal !== q.principal) continue;
      if (q.purpose && e.purpose !== q.purpose) continue;
      if (q.action && e.action !== q.action) continue;
      if (q.decision && e.decision !== q.decision) continue;
      entries.push({ index, entry: e, leafHash: toHex(leaves[leaves.length - 1]) });
      if (entries.length >= limit) {
        truncated = stopped = true;
        break;
      }
    }
    const scanned = leaves.length;
    await this.#reader.range(root.size - scanned, root, leaves);
    // Left early without a reason: an entry is missing or unreadable where the scan stopped.
    if (!stopped && scanned < root.size) {
      const index = root.size - 1 - scanned;
      this.#alarms.raise('LOG_CORRUPT', index, 1, 'the entry is missing or unreadable');
      throw new AccessLogCorruptError(`access log entry missing or unreadable: ${index}`);
    }
    return { entries, scanned, truncated };
  }

  /** How many cosignatures a checkpoint needs to be served as witnessed. */
  #quorum: () => number = () => 0;
  /** Callers of `bundle` waiting for the next cosignature. */
  readonly #cosignWaiters = new Set<() => void>();
  /** Cosignatures stored so far (since start): a waiter that missed one does not sleep. */
  #cosignCount = 0;

  setWitnessQuorum(quorum: number | (() => number)) {
    this.#quorum = typeof quorum === 'number' ? () => quorum : quorum;
  }

  witnessQuorum() {
    const q = this.#quorum();
    return Number.isSafeInteger(q) && q > 0 ? q : 0;
  }

  /** The cosignature lines of the checkpoint at `size`, by witness node id. */
  async #cosignatures(size: number): Promise<Map<string, string>> {
    const sizeHex = hex12(size);
    const lines = new Map<string, string>();
    for await (const [k, v] of this.#sub.iterator({
      gte: `k!${sizeHex}!`,
      lt: `k!${sizeHex}!\xff`,
      valueEncoding: 'utf8',
    } as never))
      lines.set((k as string).slice(15), v as string);
    return lines;
  }

  /** A checkpoint as served: its note followed by the cosignature lines, in witness order. */
  #served(cp: SignedCheckpoint, lines: Map<string, string>): CosignedCheckpoint {
    const witnesses = [...lines.keys()].sort();
    return { ...cp, note: cp.note + witnesses.map((w) => lines.get(w)).join(''), witnesses };
  }

  /**
   * Looks through the newest cosignatures for the newest checkpoint above `index` with at least
   * `min` of them (`found`), remembering the covering one with the most (`best`, newest on ties).
   */
  async #findCosigned(index: number, min: number) {
    let found: { size: number; lines: Map<string, string> } | undefined;
    let best: { size: number; lines: Map<string, string> } | undefined;
    let group: { size: number; lines: Map<string, string> } | undefined;
    const settle = (g: typeof group) => {
      if (!g) return false;
      if (g.lines.size >= min) found = g;
      else if (!best || g.lines.size > best.lines.size) best = g;
      return found !== undefined;
    };
    for await (const [k, v] of this.#sub.iterator({
      gte: 'k!',
      lt: 'k"',
      reverse: true,
      limit: MAX_COSIGNATURE_SCAN,
      valueEncoding: 'utf8',
    } as never)) {
      const size = Number.parseInt((k as string).slice(2, 14), 16);
      if (size <= index) break;
      if (group?.size !== size) {
        if (settle(group)) break;
        group = { size, lines: new Map() };
      }
      group.lines.set((k as string).slice(15), v as string);
    }
    if (!found) settle(group);
    return { found, best: found ? undefined : best };
  }

  /** Resolves once a cosignature beyond the first `seen` is stored, or after `ms`. */
  #nextCosignature(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#cosignCount !== seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#cosignWaiters.delete(done);
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(done, ms);
      this.#cosignWaiters.add(done);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  async bundle(index: number, options: BundleOptions = {}): Promise<ProofBundle> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#size) throw new RangeError('no such entry');
    options.signal?.throwIfAborted();
    const min = options.minWitnesses ?? this.witnessQuorum();
    const deadline = Date.now() + Math.max(0, options.waitMs ?? (min > 0 ? DEFAULT_BUNDLE_WAIT_MS : 0));
    let chosen: { size: number; lines: Map<string, string> } | undefined;
    if (min > 0) {
      for (;;) {
        const seen = this.#cosignCount;
        const { found, best } = await this.#findCosigned(index, min);
        const left = deadline - Date.now();
        if (found || left <= 0) {
          chosen = found ?? best;
          break;
        }
        await this.#nextCosignature(seen, left, options.signal);
      }
    }
    let cp = chosen ? await this.checkpointAt(chosen.size) : undefined;
    if (!cp) {
      cp = this.#latest;
      if (!cp || cp.size <= index) cp = await this.checkpoint();
      if (!cp || index >= cp.size) throw new RangeError('no such entry');
    }
    const served = this.#served(cp, chosen?.size === cp.size ? chosen.lines : await this.#cosignatures(cp.size));
    // The entry is checked against the tree like every entry served (LOG_CORRUPT if edited).
    const [{ text }] = await this.#reader.entries([index]);
    const opening = (await this.#private.get(`o!${hex12(index)}`)) as ProofBundle['opening'];
    return {
      format: 'credit-data-space/proof-bundle@1',
      logKey: this.verifierKey,
      index,
      entry: text,
      proof: await this.inclusionProof(index, cp.size),
      checkpoint: served.note,
      witnesses: served.witnesses,
      cosigned: served.witnesses.length >= Math.max(1, min),
      ...(opening ? { opening } : {}),
    };
  }

  async addCosignature(size: number, witness: string, line: string) {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#size)
      throw new RangeError('no checkpoint of that size');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(witness)) throw new TypeError('malformed witness node id');
    if (!/^— \S+ [A-Za-z0-9+/=]+\n$/.test(line)) throw new TypeError('malformed cosignature line');
    if ((await this.#sub.get(`c!${hex12(size)}`, { valueEncoding: 'utf8' } as never)) === undefined)
      throw new RangeError('no checkpoint of that size');
    await this.#sub.put(`k!${hex12(size)}!${witness}`, line, { valueEncoding: 'utf8' } as never);
    this.#cosignCount++;
    for (const wake of [...this.#cosignWaiters]) wake();
  }

  async cosignedCheckpoint(options: { minWitnesses?: number } = {}) {
    const min = options.minWitnesses ?? this.witnessQuorum();
    if (min <= 0) {
      const cp = this.#latest;
      return cp ? this.#served(cp, await this.#cosignatures(cp.size)) : undefined;
    }
    const { found } = await this.#findCosigned(-1, min);
    const cp = found ? await this.checkpointAt(found.size) : undefined;
    return cp && found ? this.#served(cp, found.lines) : undefined;
  }

  async erase(uscc: string) {
    const ops: Array<{ type: 'del'; key: string }> = [];
    for await (const k of this.#private.keys({ gte: `s!${uscc}!`, lt: `s!${uscc}!\xff` })) {
      ops.push({ type: 'del', key: k }, { type: 'del', key: `o!${k.slice(k.lastIndexOf('!') + 1)}` });
    }
    await this.#private.batch(ops, { sync: true } as never);
    return ops.length / 2;
  }

  async start() {
    const sub = this.#sub as unknown as Sublevel;
    const disk = await loadTree(sub, this.#nodes);
    const stored = await storedCheckpoint(sub, noteVerifier(this.origin, this.#c.identityPublicKey));
    const problem = stored && (await divergence(stored, disk.size, disk.frontier, this.#nodes));
    if (stored && problem) {
      this.#alarms.raise(stored.size > disk.size ? 'LOG_LOST' : 'LOG_TAMPERED', 0, stored.size, problem);
      throw new AccessLogCorruptError(problem);
    }
    if (stored) this.#latest = { size: stored.size, root: toBase64(stored.root), note: stored.note };
    this.#size = disk.size;
    this.#frontier = disk.frontier;
    await this.#reader.newest(this.#startupCheck);
    this.#unwatch = this.#guard.onReopen(() => this.#reload());
    this.#timer = setInterval(() => {
      if (this.#size > (this.#latest?.size ?? -1) && this.state().status === 'ok')
        void this.checkpoint().catch((err) => this.#log.error({ err: err.message }, 'checkpoint failed'));
    }, this.#interval);
    this.#timer.unref();
    this.#scrub.start();
    this.#log.info({ size: this.#size, origin: this.origin }, 'access log open');
  }

  /**
   * Run by the storage guard after it reopened the database, before writes are accepted again:
   * reloads size and frontier from disk and checks them against the newest signed checkpoint
   * (stored or held in memory). A tree that lost or changed signed entries stops the log for good.
   */
  async #reload() {
    const sub = this.#sub as unknown as Sublevel;
    let problem: string | undefined;
    let disk: Awaited<ReturnType<typeof loadTree>> | undefined;
    const stored = await storedCheckpoint(sub, noteVerifier(this.origin, this.#c.identityPublicKey));
    const held = this.#latest && { ...this.#latest, root: fromBase64(this.#latest.root)! };
    const signed = stored && stored.size >= (held?.size ?? -1) ? stored : held;
    try {
      disk = await loadTree(sub, this.#nodes);
      problem = signed && (await divergence(signed, disk.size, disk.frontier, this.#nodes));
    } catch (err) {
      if (!(err instanceof AccessLogCorruptError)) throw err;
      problem = err.message;
    }
    if (problem || !disk) {
      this.#fatal = `${problem}; the log accepts no entries until an operator restores it`;
      const lost = disk && signed && disk.size < signed.size;
      if (lost) this.#alarms.raise('LOG_LOST', disk!.size, signed!.size - disk!.size, this.#fatal);
      else this.#alarms.raise('LOG_TAMPERED', 0, signed?.size ?? this.#size, this.#fatal);
      return;
    }
    if (disk.size < this.#size)
      this.#alarms.raise(
        'LOG_LOST',
        disk.size,
        this.#size - disk.size,
        'acknowledged entries are missing after a storage failure (no signed checkpoint covered them)',
      );
    else if (disk.size > this.#size)
      this.#log.warn({ entries: disk.size - this.#size }, 'entries of refused appends are on disk after all');
    this.#size = disk.size;
    this.#frontier = disk.frontier;
    this.#root = undefined;
    if (signed) this.#latest = { size: signed.size, root: toBase64(signed.root), note: signed.note };
    this.#log.info({ size: this.#size, checkpoint: signed?.size }, 'access log reloaded from disk and checked');
  }

  async stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.#scrub.stop();
    while (this.#flushing) await this.#flushing;
    if (this.#size > (this.#latest?.size ?? -1) && this.state().status === 'ok') await this.checkpoint();
  }
}

/** Creates the access log over the node's database. */
export function createAccessLog(components: AccessLogComponents, init: AccessLogInit = {}): AccessLog {
  return new MerkleAccessLog(components, init);
}
