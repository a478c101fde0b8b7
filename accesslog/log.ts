/**
 * The signed access log (DESIGN §6): an RFC 6962 Merkle tree in the node's Level database. This
 * file is the append path (group commit, tree nodes, checkpoint signing), start-up, recovery after
 * a storage failure, and the wiring of its collaborators: ./serving.ts serves entries and proofs,
 * ./cosigned.ts stores cosignatures and serves witnessed checkpoints, ./scrub.ts re-checks storage.
 *
 * Storage (sublevel `accesslog`):
 * - `m!size` → number of durable entries
 * - `m!scrub` → how far the background scrub got (./scrub.ts)
 * - `e!<index>` → the entry: RFC 8785 canonical JSON, the exact leaf bytes (./entry.ts)
 * - `n!<level><index>` → hash of each *perfect* subtree, written once when it completes, so a
 *   proof or a root costs O(log n) reads at any size
 * - `c!<size>` → the signed checkpoint (C2SP signed note) issued at that size
 * - `k!<size>!<witness>` → a peer's cosignature line (c2sp.org/tlog-cosignature) on that checkpoint
 * Private store (sublevel `accesslog-private`), never part of the tree:
 * - `o!<index>` → the opening of the entry's subject commitment (USCC + random 32 bytes)
 * - `s!<uscc>!<index>` → index of an enterprise's entries; erasure deletes these and the openings
 *
 * Appends are group-committed: concurrent calls share one atomic, synced batch, and each resolves
 * only after its batch is durable. A failed batch rejects every append in it (fail closed). Single
 * entries go first: each batch takes every waiting single entry, then fills up with `bulk` ones
 * (a joint query's thousands of decisions), so a batch operation delays a read by one commit at most.
 *
 * Failing closed for real: the database is guarded (storage/guard.ts). After any failed write it
 * refuses writes, so no append is acknowledged and no checkpoint signed, until it has been
 * reopened and the log has reloaded its tree from disk and checked it against the newest signed
 * checkpoint. A tree shorter than, or different from, what the node signed stops the log for good
 * (`state()` failed, alarm `LOG_LOST`): it never signs another tree at a size it already signed.
 *
 * Hand edits: every entry served is authenticated against the tree (./serving.ts); a start-up
 * check and a background scrub (./scrub.ts) look for edited entries and nodes. Findings are
 * alarms (`alarms()`).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  EMPTY_ROOT,
  ed25519Signer,
  foldRange,
  formatVerifierKey,
  fromBase64,
  type NodeId,
  noteVerifier,
  openCheckpoint,
  signCheckpoint,
  toBase64,
} from '../crypto/index.ts';
import { guardDatabase, jsonSublevel, type StorageGuard, type Sublevel } from '../storage/index.ts';
import { AuthenticReader } from './authentic.ts';
import { BatchBuilder } from './builder.ts';
import { CosignedCheckpoints } from './cosigned.ts';
import { type AppendedBatch, batchWrites, buildBatch, logOrigin } from './entry.ts';
import {
  AccessLogCorruptError,
  type AccessLogState,
  AlarmBook,
  divergence,
  type Frontier,
  hex12,
  loadTree,
  nodeKey,
  storedCheckpoint,
} from './integrity.ts';
import { type AccessEvent, AccessLogUnavailableError, type AppendOptions, type AppendReceipt } from './port.ts';
import { Scrubber } from './scrub.ts';
import { Serving } from './serving.ts';
import type {
  AccessLog,
  AccessLogComponents,
  AccessLogInit,
  BundleOptions,
  LogQuery,
  ProofBundle,
  SignedCheckpoint,
} from './types.ts';

export { consentCommitment, logOrigin, subjectCommitment } from './entry.ts';
export { AccessLogCorruptError, type AccessLogState, type LogAlarm, type LogAlarmKind } from './integrity.ts';
export type { ScrubStatus } from './scrub.ts';
export type {
  AccessLog,
  AccessLogComponents,
  AccessLogInit,
  BundleOptions,
  CosignedCheckpoint,
  EntryOpening,
  ListedEntry,
  LogEntry,
  LogQuery,
  ProofBundle,
  SignedCheckpoint,
} from './types.ts';

/**
 * Largest group-commit batch: building a batch's entries, hashes and commitments runs on the event
 * loop (~0.12 ms per entry), so batches stay small enough not to stall it (a 4,096 batch stalled it
 * for half a second under joint queries), while still amortising one synced write over many entries
 * (measured beside 4,096 in the same run on a loaded machine: within its noise).
 */
export const DEFAULT_MAX_BATCH = 2048;

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
  readonly #sub: Sublevel;
  readonly #private: Sublevel;
  readonly #interval: number;
  readonly #maxBatch: number;
  /** The log's note verifier: its origin and public key. */
  readonly #verifier;
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
  /** Entries, enterprise lists, auditor queries, proofs and bundles. */
  readonly #serving: Serving;
  /** Cosignatures and the witnessed checkpoints served to clients. */
  readonly #cosigned: CosignedCheckpoints;
  readonly #startupCheck: number;
  /** Why the log stopped for good (the tree on disk lost what the node signed). */
  #fatal: string | undefined;
  #unwatch: (() => void) | undefined;
  /** Single entries waiting, committed first. */
  #queue: Waiter[] = [];
  /** Builds batches, large ones on a worker thread (./builder.ts). */
  readonly #builder = new BatchBuilder();
  /** Changes when a recovery reloads the tree (a batch built before must be built again). */
  #generation = 0;
  /** Entries of batch operations waiting (`bulk`), committed after the single ones. */
  #bulk: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #latest: SignedCheckpoint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checkpointing: Promise<SignedCheckpoint | undefined> | undefined;
  readonly #signer;

  constructor(components: AccessLogComponents, init: AccessLogInit) {
    this.#c = components;
    this.origin = logOrigin(components.nodeId);
    this.#verifier = noteVerifier(this.origin, components.identityPublicKey);
    this.verifierKey = formatVerifierKey(this.#verifier);
    this.#log = components.logger.child({ component: 'accesslog' });
    // Guarded before the sublevels exist, so that a recovery reopens them.
    this.#guard = components.storage ?? guardDatabase(components.db, { logger: components.logger });
    this.#sub = jsonSublevel(components.db, 'accesslog');
    this.#private = jsonSublevel(components.db, 'accesslog-private');
    this.#interval = init.checkpointIntervalMs ?? 1000;
    this.#maxBatch = init.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#signer = ed25519Signer(components.identitySeed);
    this.#startupCheck = init.startupCheck ?? 4096;
    this.#alarms = new AlarmBook((a) => this.#log.error({ alarm: a }, 'access log alarm'));
    this.#scrub = new Scrubber(
      {
        sub: this.#sub,
        alarms: this.#alarms,
        logger: this.#log,
        signed: (size) => this.#signedAt(size),
        writable: () => this.#guard.writable,
      },
      { rate: init.scrubRate ?? 10_000, intervalMs: init.scrubIntervalMs ?? 3_600_000 },
    );
    this.#reader = new AuthenticReader({
      sub: this.#sub,
      nodes: this.#nodes,
      alarms: this.#alarms,
      scrub: this.#scrub,
      root: () => this.#trustedRoot(),
    });
    this.#serving = new Serving(
      {
        sub: this.#sub,
        private: this.#private,
        reader: this.#reader,
        nodes: this.#nodes,
        alarms: this.#alarms,
        size: () => this.#size,
        root: () => this.#trustedRoot(),
        verifierKey: this.verifierKey,
      },
      { maxScan: init.maxScan ?? 200_000 },
    );
    this.#cosigned = new CosignedCheckpoints({
      sub: this.#sub,
      verifier: this.#verifier,
      size: () => this.#size,
      latest: () => this.#latest,
      checkpoint: () => this.checkpoint(),
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
    const { checkpoint } = openCheckpoint(note, this.#verifier);
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

  append(event: AccessEvent, options: AppendOptions = {}): Promise<AppendReceipt> {
    options.signal?.throwIfAborted();
    if (this.#fatal || !this.#guard.writable) return Promise.reject(this.#unavailable());
    return new Promise((resolve, reject) => {
      (options.bulk ? this.#bulk : this.#queue).push({ event, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#drain();
    });
  }

  async #drain() {
    try {
      while (this.#queue.length > 0 || this.#bulk.length > 0) {
        await new Promise((r) => setImmediate(r));
        const batch = this.#queue.splice(0, this.#maxBatch);
        if (batch.length < this.#maxBatch) batch.push(...this.#bulk.splice(0, this.#maxBatch - batch.length));
        await this.#commit(batch);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #commit(batch: Waiter[]) {
    // One call for the randomness of the whole batch (a commitment opening per entry).
    const randomness = new Uint8Array(randomBytes(32 * batch.length));
    let appended: AppendedBatch;
    try {
      const events = batch.map((w) => w.event);
      const generation = this.#generation;
      let built = await this.#builder.build(events, { size: this.#size, frontier: this.#frontier, randomness });
      // A recovery reloaded the tree while the batch was built: build it again onto what is on disk now.
      if (generation !== this.#generation)
        built = buildBatch(events, { size: this.#size, frontier: this.#frontier, randomness });
      // Nothing is written once the log stopped for good or the database refuses writes.
      if (this.#fatal || !this.#guard.writable) throw this.#unavailable();
      appended = batchWrites(built, { sub: this.#sub, private: this.#private });
      await this.#c.db.batch(appended.ops as never, { sync: true } as never);
    } catch (err) {
      this.#log.error(
        { entries: batch.length, err: (err as Error).message },
        'access log batch failed; accesses refused',
      );
      const e = new AccessLogUnavailableError('the access log could not record this access durably', { cause: err });
      for (const w of batch) w.reject(e);
      return;
    }
    this.#frontier = appended.frontier;
    this.#size = appended.size;
    for (let i = 0; i < batch.length; i++) batch[i].resolve(appended.receipts[i]);
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

  checkpoints(options?: Parameters<AccessLog['checkpoints']>[0]) {
    return this.#cosigned.checkpoints(options);
  }

  checkpointAt(size: number) {
    return this.#cosigned.checkpointAt(size);
  }

  addCosignature(size: number, witness: string, line: string) {
    return this.#cosigned.add(size, witness, line);
  }

  cosignedCheckpoint(options?: { minWitnesses?: number }) {
    return this.#cosigned.cosignedCheckpoint(options);
  }

  setWitnessQuorum(quorum: number | (() => number)) {
    this.#cosigned.setQuorum(quorum);
  }

  witnessQuorum() {
    return this.#cosigned.quorum();
  }

  entry(index: number) {
    return this.#serving.entry(index);
  }

  inclusionProof(index: number, size: number) {
    return this.#serving.inclusionProof(index, size);
  }

  consistencyProof(size1: number, size2: number) {
    return this.#serving.consistencyProof(size1, size2);
  }

  entriesFor(uscc: string, options?: { limit?: number }) {
    return this.#serving.entriesFor(uscc, options);
  }

  query(q: LogQuery) {
    return this.#serving.query(q);
  }

  async bundle(index: number, options?: BundleOptions): Promise<ProofBundle> {
    const { checkpoint, cosigned } = await this.#cosigned.covering(index, options);
    return this.#serving.bundle(index, checkpoint, cosigned);
  }

  erase(uscc: string) {
    return this.#serving.erase(uscc);
  }

  async start() {
    this.#cosigned.start();
    const disk = await loadTree(this.#sub, this.#nodes);
    const stored = await storedCheckpoint(this.#sub, this.#verifier);
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
    let problem: string | undefined;
    let disk: Awaited<ReturnType<typeof loadTree>> | undefined;
    const stored = await storedCheckpoint(this.#sub, this.#verifier);
    const held = this.#latest && { ...this.#latest, root: fromBase64(this.#latest.root)! };
    const signed = stored && stored.size >= (held?.size ?? -1) ? stored : held;
    try {
      disk = await loadTree(this.#sub, this.#nodes);
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
    this.#generation++;
    if (signed) this.#latest = { size: signed.size, root: toBase64(signed.root), note: signed.note };
    this.#log.info({ size: this.#size, checkpoint: signed?.size }, 'access log reloaded from disk and checked');
  }

  async stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#cosigned.stop();
    await this.#scrub.stop();
    while (this.#flushing) await this.#flushing;
    await this.#builder.close();
    if (this.#size > (this.#latest?.size ?? -1) && this.state().status === 'ok') await this.checkpoint();
  }
}

/** Creates the access log over the node's database. */
export function createAccessLog(components: AccessLogComponents, init: AccessLogInit = {}): AccessLog {
  return new MerkleAccessLog(components, init);
}
