/**
 * Serving stored entries: each is read as its exact bytes, hashed, and led through stored tree
 * nodes to the trusted root (./integrity.ts explains why that root is trustworthy); an entry that
 * does not lead there is refused with {@link AccessLogCorruptError} and raises an alarm. One
 * entry or a list costs one read of its proof nodes; a contiguous scan (an auditor's query, the
 * start-up check) is checked as a whole, O(log n) node reads for any length.
 */
import { bytesEqual, leafHash, type NodeSource, toUtf8 } from '../crypto/index.ts';
import type { Sublevel } from '../storage/index.ts';
import { AccessLogCorruptError, type AlarmBook, entryKey, rootWithLeaves, unauthenticated } from './integrity.ts';
import type { Scrubber } from './scrub.ts';

/** An entry as stored, and its leaf hash. */
export interface StoredEntry {
  index: number;
  /** The exact leaf bytes (canonical JSON). */
  text: string;
  leaf: Uint8Array;
}

/** A trusted tree root and the size it is the root of. */
export interface TrustedRoot {
  size: number;
  hash: Uint8Array;
}

/** What the reader needs. */
export interface AuthenticReaderComponents {
  /** The log's sublevel. */
  sub: Sublevel;
  /** Stored perfect-subtree hashes (throws on a missing one). */
  nodes: NodeSource;
  alarms: AlarmBook;
  /** Localises what a range check only detects. */
  scrub: Scrubber;
  /** The root of the tree at the log's current size. */
  root(): TrustedRoot;
}

/** Reads stored entries for serving, authenticated. */
export class AuthenticReader {
  readonly #c: AuthenticReaderComponents;

  constructor(components: AuthenticReaderComponents) {
    this.#c = components;
  }

  /** The entries at `indexes` (each below the log's size). @throws AccessLogCorruptError */
  async entries(indexes: number[]): Promise<StoredEntry[]> {
    const { size, hash } = this.#c.root();
    const texts = (await this.#c.sub.getMany(indexes.map(entryKey), { valueEncoding: 'utf8' } as never)) as Array<
      string | undefined
    >;
    const missing = indexes.filter((_, i) => texts[i] === undefined);
    for (const index of missing) this.#c.alarms.raise('LOG_CORRUPT', index, 1, 'the entry is missing');
    if (missing.length > 0) throw new AccessLogCorruptError(`access log entries missing: ${missing.slice(0, 10)}`);
    const leaves = indexes.map((index, i) => ({ index, leaf: leafHash(toUtf8(texts[i]!)) }));
    const bad = await unauthenticated(leaves, size, hash, this.#c.nodes);
    for (const index of bad)
      this.#c.alarms.raise(
        'LOG_TAMPERED',
        index,
        1,
        'served entry does not lead to the signed root: its bytes, its leaf hash or a tree node beside it were altered',
      );
    if (bad.length > 0)
      throw new AccessLogCorruptError(`access log entries altered outside the node: ${bad.slice(0, 10)}`);
    return leaves.map(({ index, leaf }, i) => ({ index, text: texts[i]!, leaf }));
  }

  /**
   * Leads the entries of [lo, root.size), given as leaf hashes newest first (the order a
   * backwards scan reads them), to `root`. @throws AccessLogCorruptError naming what it found
   */
  async range(lo: number, root: TrustedRoot, newestFirst: Uint8Array[]): Promise<void> {
    const { size, hash } = root;
    if (lo >= size) return;
    if (bytesEqual(await rootWithLeaves(lo, size, newestFirst.reverse(), this.#c.nodes), hash)) return;
    const alarms = this.#c.alarms;
    const known = () => alarms.list().filter((a) => a.kind !== 'LOG_LOST' && a.index < size && a.index + a.count > lo);
    // Name the entries: the scrub's checks localise what the root comparison only detects.
    if (known().length === 0 && (await this.#c.scrub.checkRange(lo, size)) === 0)
      alarms.raise('LOG_TAMPERED', lo, size - lo, 'these entries do not lead to the signed root');
    const at = new Set(known().map((a) => (a.count === 1 ? `${a.index}` : `${a.index}-${a.index + a.count - 1}`)));
    throw new AccessLogCorruptError(`access log entries altered outside the node: ${[...at].slice(0, 10)}`);
  }

  /** Start-up: checks the newest `count` entries; raises alarms, never throws for what it finds. */
  async newest(count: number): Promise<void> {
    const root = this.#c.root();
    const lo = Math.max(0, root.size - count);
    if (lo >= root.size) return;
    const leaves: Uint8Array[] = [];
    for await (const [k, text] of this.#c.sub.iterator({
      gte: entryKey(lo),
      lt: entryKey(root.size),
      reverse: true,
      valueEncoding: 'utf8',
    } as never)) {
      if (Number.parseInt((k as string).slice(2), 16) !== root.size - 1 - leaves.length) break;
      leaves.push(leafHash(toUtf8(text as string)));
    }
    if (leaves.length < root.size - lo) {
      await this.#c.scrub.checkRange(lo, root.size);
      return;
    }
    await this.range(lo, root, leaves).catch((err) => {
      if (!(err instanceof AccessLogCorruptError)) throw err;
    });
  }
}
