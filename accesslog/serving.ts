/**
 * Serving the stored log: single entries, an enterprise's own entries (through the private
 * index), an auditor's query, inclusion and consistency proofs, proof bundles, and the erasure of
 * an enterprise's openings.
 *
 * Hand edits: every entry served is hashed from its stored bytes and led through stored nodes to
 * the authenticated root (./authentic.ts, ./integrity.ts), or refused with
 * {@link AccessLogCorruptError}; an auditor's scan is authenticated as a whole.
 *
 * Private store (sublevel `accesslog-private`), never part of the tree: `o!<index>` → the opening
 * of the entry's subject commitment; `s!<uscc>!<index>` → index of an enterprise's entries.
 */
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  type NodeSource,
  toBase64,
  toHex,
  toUtf8,
} from '../crypto/index.ts';
import type { Sublevel } from '../storage/index.ts';
import type { AuthenticReader, StoredEntry, TrustedRoot } from './authentic.ts';
import { AccessLogCorruptError, type AlarmBook, entryKey, hex12 } from './integrity.ts';
import type { CosignedCheckpoint, ListedEntry, LogEntry, LogQuery, ProofBundle } from './types.ts';

/** What serving needs from the log. */
export interface ServingComponents {
  /** The log's sublevel. */
  sub: Sublevel;
  /** The private store: openings and the enterprise index. */
  private: Sublevel;
  /** Reads stored entries, authenticated. */
  reader: AuthenticReader;
  /** Stored perfect-subtree hashes (throws on a missing one). */
  nodes: NodeSource;
  alarms: AlarmBook;
  /** The log's current size. */
  size(): number;
  /** The root of the tree at the log's current size. */
  root(): TrustedRoot;
  /** The log's verifier key (c2sp.org/signed-note). */
  verifierKey: string;
}

/** Serving settings. */
export interface ServingInit {
  /** Entries scanned at most by one auditor query. */
  maxScan: number;
}

/** Serves the stored log's entries and proofs, authenticated against the tree. */
export class Serving {
  readonly #c: ServingComponents;
  readonly #maxScan: number;

  constructor(components: ServingComponents, init: ServingInit) {
    this.#c = components;
    this.#maxScan = init.maxScan;
  }

  /** One entry, authenticated. @throws AccessLogCorruptError when its stored bytes do not match */
  async entry(index: number): Promise<ListedEntry | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#c.size()) return undefined;
    return this.#listed(await this.#c.reader.entries([index]))[0];
  }

  #listed(read: StoredEntry[]): ListedEntry[] {
    return read.map(({ index, text, leaf }) => ({ index, entry: JSON.parse(text) as LogEntry, leafHash: toHex(leaf) }));
  }

  #checkSize(size: number) {
    const current = this.#c.size();
    if (!Number.isSafeInteger(size) || size < 0 || size > current)
      throw new RangeError(`size must be between 0 and ${current}`);
  }

  async inclusionProof(index: number, size: number) {
    this.#checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError('index must be below size');
    return (await inclusionProof(index, size, this.#c.nodes)).map(toBase64);
  }

  async consistencyProof(size1: number, size2: number) {
    this.#checkSize(size2);
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) throw new RangeError('need 0 <= size1 <= size2');
    return (await consistencyProof(size1, size2, this.#c.nodes)).map(toBase64);
  }

  /** An enterprise's own entries (newest first), with their openings, authenticated like `entry`. */
  async entriesFor(uscc: string, options: { limit?: number } = {}) {
    const limit = Math.min(options.limit ?? 100, 1000);
    const indexes: number[] = [];
    for await (const k of this.#c.private.keys({ gte: `s!${uscc}!`, lt: `s!${uscc}!\xff`, reverse: true, limit }))
      indexes.push(Number.parseInt(k.slice(k.lastIndexOf('!') + 1), 16));
    // An index written in the batch that is committing now is not part of the tree yet.
    const size = this.#c.size();
    const present = indexes.filter((i) => i < size);
    const openings = (await this.#c.private.getMany(present.map((i) => `o!${hex12(i)}`))) as Array<
      ListedEntry['opening']
    >;
    const opened = openings.filter((o) => o !== undefined);
    const entries = this.#listed(await this.#c.reader.entries(present.filter((_, i) => openings[i])));
    return entries.map((e, i) => ({ ...e, opening: opened[i] }));
  }

  /** An auditor's view: entries matching the filters, newest first; every entry scanned is authenticated. */
  async query(q: LogQuery) {
    const limit = Math.min(q.limit ?? 100, 1000);
    const root = this.#c.root();
    const entries: ListedEntry[] = [];
    // Leaf hashes of every entry scanned, newest first: the scanned range is authenticated as a whole.
    const leaves: Uint8Array[] = [];
    let truncated = false;
    let stopped = false;
    for await (const [k, text] of this.#c.sub.iterator({
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
      if (q.bank && e.actor.node !== q.bank && !e.actor.principal.startsWith(`${q.bank}/`)) continue;
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
    await this.#c.reader.range(root.size - scanned, root, leaves);
    // Left early without a reason: an entry is missing or unreadable where the scan stopped.
    if (!stopped && scanned < root.size) {
      const index = root.size - 1 - scanned;
      this.#c.alarms.raise('LOG_CORRUPT', index, 1, 'the entry is missing or unreadable');
      throw new AccessLogCorruptError(`access log entry missing or unreadable: ${index}`);
    }
    return { entries, scanned, truncated };
  }

  /**
   * The proof bundle for entry `index` against `checkpoint` (as served, with its cosignature
   * lines), which must cover it; `cosigned` tells whether that carries the witness quorum.
   */
  async bundle(index: number, checkpoint: CosignedCheckpoint, cosigned: boolean): Promise<ProofBundle> {
    // The entry is checked against the tree like every entry served (LOG_CORRUPT if edited).
    const [{ text }] = await this.#c.reader.entries([index]);
    const opening = (await this.#c.private.get(`o!${hex12(index)}`)) as ProofBundle['opening'];
    return {
      format: 'credit-data-space/proof-bundle@1',
      logKey: this.#c.verifierKey,
      index,
      entry: text,
      proof: await this.inclusionProof(index, checkpoint.size),
      checkpoint: checkpoint.note,
      witnesses: checkpoint.witnesses,
      cosigned,
      ...(opening ? { opening } : {}),
    };
  }

  /** Erases an enterprise's openings and index entries; returns how many entries it had. */
  async erase(uscc: string) {
    const ops: Array<{ type: 'del'; key: string }> = [];
    for await (const k of this.#c.private.keys({ gte: `s!${uscc}!`, lt: `s!${uscc}!\xff` })) {
      ops.push({ type: 'del', key: k }, { type: 'del', key: `o!${k.slice(k.lastIndexOf('!') + 1)}` });
    }
    await this.#c.private.batch(ops, { sync: true } as never);
    return ops.length / 2;
  }
}
