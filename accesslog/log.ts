/**
 * The signed access log (DESIGN §6): an RFC 6962 Merkle tree in the node's Level database.
 *
 * Storage (sublevel `accesslog`):
 * - `m!size` → number of durable entries
 * - `e!<index>` → the entry: RFC 8785 canonical JSON, the exact leaf bytes
 * - `n!<level><index>` → hash of each *perfect* subtree, written once when it completes, so a
 *   proof or a root costs O(log n) reads at any size
 * - `c!<size>` → the signed checkpoint (C2SP signed note) issued at that size
 * - `k!<size>!<witness>` → a peer's cosignature line (c2sp.org/tlog-cosignature) on that checkpoint
 * Private store (sublevel `accesslog-private`), never part of the tree:
 * - `o!<index>` → the opening of the entry's subject commitment (USCC + random 32 bytes)
 * - `s!<uscc>!<index>` → index of an enterprise's entries; erasure deletes these and the openings
 *
 * Appends are group-committed: concurrent calls share one atomic, synced batch, and each resolves
 * only after its batch is durable. A failed batch rejects every append in it (fail closed).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  bytesEqual,
  canonicalJson,
  consistencyProof,
  decompose,
  EMPTY_ROOT,
  ed25519Signer,
  foldRange,
  formatVerifierKey,
  inclusionProof,
  leafHash,
  type NodeId,
  nodeHash,
  noteVerifier,
  openCheckpoint,
  rootAt,
  sha256,
  signCheckpoint,
  toBase64,
  toHex,
  toUtf8,
} from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import type { RootDb } from '../storage/index.ts';
import { type AccessEvent, type AccessLogPort, AccessLogUnavailableError, type AppendReceipt } from './port.ts';

/** The stored log does not match its own checkpoints: it was altered outside the node. */
export class AccessLogCorruptError extends CreditError {
  static override name = 'AccessLogCorruptError';
  override readonly code = 'LOG_CORRUPT';
}

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
  /** The signed checkpoint the proof leads to. */
  checkpoint: string;
  opening?: { uscc: string; opening: string };
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
  checkpoints(options?: { limit?: number; beforeSize?: number }): Promise<SignedCheckpoint[]>;
  /** Stores a witness's cosignature line for the checkpoint at `size` (verified by the caller). */
  addCosignature(size: number, witness: string, line: string): Promise<void>;
  /** The latest checkpoint that carries cosignatures, as a note with the cosignature lines appended. */
  cosignedCheckpoint(): Promise<(SignedCheckpoint & { witnesses: string[] }) | undefined>;
  entry(index: number): Promise<ListedEntry | undefined>;
  inclusionProof(index: number, size: number): Promise<string[]>;
  consistencyProof(size1: number, size2: number): Promise<string[]>;
  /** An enterprise's own entries (newest first), found through the private index. */
  entriesFor(uscc: string, options?: { limit?: number }): Promise<ListedEntry[]>;
  /** An auditor's view: entries matching the filters, newest first. */
  query(q: LogQuery): Promise<{ entries: ListedEntry[]; scanned: number; truncated: boolean }>;
  /** A proof bundle for one entry against the latest checkpoint. */
  bundle(index: number): Promise<ProofBundle>;
  /** Erases an enterprise's openings: its entries stay in the tree but can no longer be linked to it. */
  erase(uscc: string): Promise<number>;
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
}

/** Log settings. */
export interface AccessLogInit {
  /** Checkpoint interval while entries arrive (ms). */
  checkpointIntervalMs?: number;
  /** Largest group-commit batch. */
  maxBatch?: number;
  /** Entries scanned at most by one auditor query. */
  maxScan?: number;
}

const SUBJECT_DOMAIN = toUtf8('credit-data-space/subject/v1\0');
const hex12 = (n: number) => n.toString(16).padStart(12, '0');
const nodeKey = (id: NodeId) => `n!${id.level.toString(16).padStart(2, '0')}${hex12(id.index)}`;

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
  #frontier: Array<NodeId & { hash: Uint8Array }> = [];
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
    this.#sub = components.db.sublevel<string, unknown>('accesslog', { valueEncoding: 'json' });
    this.#private = components.db.sublevel<string, unknown>('accesslog-private', { valueEncoding: 'json' });
    this.#interval = init.checkpointIntervalMs ?? 1000;
    this.#maxBatch = init.maxBatch ?? 4096;
    this.#maxScan = init.maxScan ?? 200_000;
    this.#signer = ed25519Signer(components.identitySeed);
  }

  size() {
    return this.#size;
  }

  latestCheckpoint() {
    return this.#latest;
  }

  #nodes = async (ids: readonly NodeId[]): Promise<Uint8Array[]> => {
    const found = (await this.#sub.getMany(ids.map(nodeKey), { valueEncoding: 'view' } as never)) as Array<
      Uint8Array | undefined
    >;
    return found.map((h, i) => {
      if (h?.length !== 32) throw new AccessLogCorruptError(`missing tree node ${ids[i].level}/${ids[i].index}`);
      return h;
    });
  };

  append(event: AccessEvent, options: { signal?: AbortSignal } = {}): Promise<AppendReceipt> {
    options.signal?.throwIfAborted();
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
      const root = size === 0 ? EMPTY_ROOT : foldRange(this.#frontier.map((f) => f.hash));
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

  async checkpoints(options: { limit?: number; beforeSize?: number } = {}) {
    const out: SignedCheckpoint[] = [];
    const lt = options.beforeSize !== undefined ? `c!${hex12(options.beforeSize)}` : 'c"';
    for await (const note of this.#sub.values({
      gte: 'c!',
      lt,
      reverse: true,
      limit: Math.min(options.limit ?? 100, 1000),
      valueEncoding: 'utf8',
    } as never)) {
      const { checkpoint } = openCheckpoint(note as string, noteVerifier(this.origin, this.#c.identityPublicKey));
      out.push({ size: checkpoint.size, root: toBase64(checkpoint.root), note: note as string });
    }
    return out;
  }

  async entry(index: number): Promise<ListedEntry | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#size) return undefined;
    const text = (await this.#sub.get(`e!${hex12(index)}`, { valueEncoding: 'utf8' } as never)) as string | undefined;
    if (text === undefined) return undefined;
    return { index, entry: JSON.parse(text) as LogEntry, leafHash: toHex(leafHash(toUtf8(text))) };
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
    const out: ListedEntry[] = [];
    const openings = (await this.#private.getMany(indexes.map((i) => `o!${hex12(i)}`))) as Array<
      ListedEntry['opening']
    >;
    for (const [i, index] of indexes.entries()) {
      const e = await this.entry(index);
      if (e && openings[i]) out.push({ ...e, opening: openings[i] });
    }
    return out;
  }

  async query(q: LogQuery) {
    const limit = Math.min(q.limit ?? 100, 1000);
    const entries: ListedEntry[] = [];
    let scanned = 0;
    for await (const [k, text] of this.#sub.iterator({
      gte: 'e!',
      lt: 'e"',
      reverse: true,
      valueEncoding: 'utf8',
    } as never)) {
      if (++scanned > this.#maxScan) return { entries, scanned: scanned - 1, truncated: true };
      const e = JSON.parse(text as string) as LogEntry;
      if (q.to && e.time > q.to) continue;
      if (q.from && e.time < q.from) break;
      if (q.actorNode && e.actor.node !== q.actorNode) continue;
      if (q.principal && e.actor.principal !== q.principal) continue;
      if (q.purpose && e.purpose !== q.purpose) continue;
      if (q.action && e.action !== q.action) continue;
      if (q.decision && e.decision !== q.decision) continue;
      entries.push({
        index: Number.parseInt((k as string).slice(2), 16),
        entry: e,
        leafHash: toHex(leafHash(toUtf8(text as string))),
      });
      if (entries.length >= limit) return { entries, scanned, truncated: true };
    }
    return { entries, scanned, truncated: false };
  }

  async bundle(index: number): Promise<ProofBundle> {
    let cp = this.#latest;
    if (!cp || cp.size <= index) cp = await this.checkpoint();
    if (!cp || index >= cp.size) throw new RangeError('no such entry');
    const text = (await this.#sub.get(`e!${hex12(index)}`, { valueEncoding: 'utf8' } as never)) as string;
    const opening = (await this.#private.get(`o!${hex12(index)}`)) as ProofBundle['opening'];
    return {
      format: 'credit-data-space/proof-bundle@1',
      logKey: this.verifierKey,
      index,
      entry: text,
      proof: await this.inclusionProof(index, cp.size),
      checkpoint: cp.note,
      ...(opening ? { opening } : {}),
    };
  }

  async addCosignature(size: number, witness: string, line: string) {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#size)
      throw new RangeError('no checkpoint of that size');
    if (!/^— \S+ [A-Za-z0-9+/=]+\n$/.test(line)) throw new TypeError('malformed cosignature line');
    await this.#sub.put(`k!${hex12(size)}!${witness}`, line, { valueEncoding: 'utf8' } as never);
  }

  async cosignedCheckpoint() {
    for await (const key of this.#sub.keys({ gte: 'k!', lt: 'k"', reverse: true, limit: 1 })) {
      const sizeHex = (key as string).slice(2, 14);
      const note = (await this.#sub.get(`c!${sizeHex}`, { valueEncoding: 'utf8' } as never)) as string | undefined;
      if (!note) return undefined;
      const witnesses: string[] = [];
      const lines: string[] = [];
      for await (const [k, v] of this.#sub.iterator({
        gte: `k!${sizeHex}!`,
        lt: `k!${sizeHex}!\xff`,
        valueEncoding: 'utf8',
      } as never)) {
        witnesses.push((k as string).slice(15));
        lines.push(v as string);
      }
      const { checkpoint } = openCheckpoint(note, noteVerifier(this.origin, this.#c.identityPublicKey));
      return { size: checkpoint.size, root: toBase64(checkpoint.root), note: note + lines.join(''), witnesses };
    }
    return undefined;
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
    this.#size = ((await this.#sub.get('m!size')) as number | undefined) ?? 0;
    if (this.#size > 0) {
      const ids = decompose(0, this.#size);
      const hashes = await this.#nodes(ids);
      this.#frontier = ids.map((id, i) => ({ ...id, hash: hashes[i] }));
    }
    for await (const note of this.#sub.values({
      gte: 'c!',
      lt: 'c"',
      reverse: true,
      limit: 1,
      valueEncoding: 'utf8',
    } as never)) {
      const { checkpoint } = openCheckpoint(note as string, noteVerifier(this.origin, this.#c.identityPublicKey));
      const root = await rootAt(checkpoint.size, this.#nodes);
      if (checkpoint.size > this.#size || !bytesEqual(root, checkpoint.root))
        throw new AccessLogCorruptError(`the stored tree does not match checkpoint ${checkpoint.size}`);
      this.#latest = { size: checkpoint.size, root: toBase64(checkpoint.root), note: note as string };
    }
    this.#timer = setInterval(() => {
      if (this.#size > (this.#latest?.size ?? -1))
        void this.checkpoint().catch((err) => this.#log.error({ err: err.message }, 'checkpoint failed'));
    }, this.#interval);
    this.#timer.unref();
    this.#log.info({ size: this.#size, origin: this.origin }, 'access log open');
  }

  async stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#flushing) await this.#flushing;
    if (this.#size > (this.#latest?.size ?? -1)) await this.checkpoint();
  }
}

/** Creates the access log over the node's database. */
export function createAccessLog(components: AccessLogComponents, init: AccessLogInit = {}): AccessLog {
  return new MerkleAccessLog(components, init);
}
