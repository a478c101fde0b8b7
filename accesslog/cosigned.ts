/**
 * Witnessing on the log's side: the witnesses' cosignature lines stored beside the log's own
 * checkpoints, and the checkpoints served to clients with them (DESIGN §6, one history for
 * everyone).
 *
 * Storage (the log's sublevel): `c!<size>` → the signed checkpoint (C2SP signed note) issued at
 * that size, written by the log; `k!<size>!<witness>` → a peer's cosignature line
 * (c2sp.org/tlog-cosignature) on that checkpoint, written here.
 *
 * A checkpoint is served as its note followed by its cosignature lines, in witness order. It is
 * witnessed when it carries the witness quorum ({@link CosignedCheckpoints.setQuorum}). A proof
 * bundle is issued against the newest checkpoint that covers its entry and carries the quorum;
 * when none does yet, {@link CosignedCheckpoints.covering} waits up to `waitMs` (3 s by default)
 * for one and otherwise answers with the best it has, marked not cosigned.
 */
import { type NoteVerifier, openCheckpoint, toBase64 } from '../crypto/index.ts';
import type { Sublevel } from '../storage/index.ts';
import { hex12 } from './integrity.ts';
import type { BundleOptions, CosignedCheckpoint, SignedCheckpoint } from './types.ts';

/** Stored checkpoints looked at, at most, for witnessed ones. */
const MAX_CHECKPOINT_SCAN = 10_000;
/** Cosignature records looked at, at most, for a cosigned checkpoint covering an entry. */
const MAX_COSIGNATURE_SCAN = 8192;
/** Stored notes whose signature was checked, remembered (a note is ~200 bytes). */
const OPENED_LIMIT = 4096;
/** How long a bundle waits, by default, for a cosigned checkpoint covering a fresh entry. */
const DEFAULT_BUNDLE_WAIT_MS = 3000;

/** What the cosigned checkpoints need from the log. */
export interface CosignedComponents {
  /** The log's sublevel: its checkpoints and the cosignature lines. */
  sub: Sublevel;
  /** The log's note verifier (its origin and public key). */
  verifier: NoteVerifier;
  /** The log's current size. */
  size(): number;
  /** The log's latest signed checkpoint. */
  latest(): SignedCheckpoint | undefined;
  /** Signs a checkpoint now if entries arrived since the last one. */
  checkpoint(): Promise<SignedCheckpoint | undefined>;
}

/** The cosignature lines on the checkpoint at `size`, by witness node id. */
interface Cosigned {
  size: number;
  lines: Map<string, string>;
}

/** The log's checkpoints with the witnesses' cosignatures: stored, counted, served. */
export class CosignedCheckpoints {
  readonly #c: CosignedComponents;
  /** How many cosignatures a checkpoint needs to be served as witnessed. */
  #quorum: () => number = () => 0;
  /** Callers of `covering` waiting for the next cosignature. */
  readonly #waiters = new Set<() => void>();
  #stopped = false;
  /** Cosignatures stored so far (since start): a waiter that missed one does not sleep. */
  #count = 0;
  /**
   * Stored notes already opened, by their exact text: peers and clients ask for the same recent
   * checkpoints again and again, and the same text always verifies the same way.
   */
  readonly #opened = new Map<string, { size: number; root: string }>();

  constructor(components: CosignedComponents) {
    this.#c = components;
  }

  /** Sets the witness quorum: a number, or a function read each time it is needed. */
  setQuorum(quorum: number | (() => number)) {
    this.#quorum = typeof quorum === 'number' ? () => quorum : quorum;
  }

  /** The witness quorum in force (0 unless a positive safe integer is set). */
  quorum() {
    const q = this.#quorum();
    return Number.isSafeInteger(q) && q > 0 ? q : 0;
  }

  /**
   * Stored checkpoints, newest first, each note with its cosignature lines appended (unless
   * `withCosignatures` is false); `witnessed` keeps only those carrying the witness quorum.
   */
  async checkpoints(
    options: { limit?: number; beforeSize?: number; witnessed?: boolean; withCosignatures?: boolean } = {},
  ) {
    const out: CosignedCheckpoint[] = [];
    const limit = Math.min(options.limit ?? 100, 1000);
    const quorum = options.witnessed ? this.quorum() : 0;
    const lt = options.beforeSize !== undefined ? `c!${hex12(options.beforeSize)}` : 'c"';
    // Witnessed checkpoints may be sparse: look at a bounded number of stored ones.
    const scan = quorum > 0 ? MAX_CHECKPOINT_SCAN : limit;
    for await (const note of this.#c.sub.values({
      gte: 'c!',
      lt,
      reverse: true,
      limit: scan,
      valueEncoding: 'utf8',
    } as never)) {
      const checkpoint = this.#open(note as string);
      const lines = await this.#cosignatures(checkpoint.size);
      if (lines.size < quorum) continue;
      const cp = { size: checkpoint.size, root: checkpoint.root, note: note as string };
      out.push(this.#served(cp, options.withCosignatures === false ? new Map() : lines));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The log's own signed checkpoint at exactly `size`, without cosignatures. */
  async checkpointAt(size: number): Promise<SignedCheckpoint | undefined> {
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    const note = (await this.#c.sub.get(`c!${hex12(size)}`, { valueEncoding: 'utf8' } as never)) as string | undefined;
    if (note === undefined) return undefined;
    return { ...this.#open(note), note };
  }

  /** Size and base64 root of one of the log's stored notes, its signature checked once per text. */
  #open(note: string) {
    let opened = this.#opened.get(note);
    if (!opened) {
      const { checkpoint } = openCheckpoint(note, this.#c.verifier);
      opened = { size: checkpoint.size, root: toBase64(checkpoint.root) };
      if (this.#opened.size >= OPENED_LIMIT) this.#opened.clear();
      this.#opened.set(note, opened);
    }
    return opened;
  }

  /** Stores a witness's cosignature line for the checkpoint at `size` (verified by the caller). */
  async add(size: number, witness: string, line: string) {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#c.size())
      throw new RangeError('no checkpoint of that size');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(witness)) throw new TypeError('malformed witness node id');
    if (!/^— \S+ [A-Za-z0-9+/=]+\n$/.test(line)) throw new TypeError('malformed cosignature line');
    if ((await this.#c.sub.get(`c!${hex12(size)}`, { valueEncoding: 'utf8' } as never)) === undefined)
      throw new RangeError('no checkpoint of that size');
    await this.#c.sub.put(`k!${hex12(size)}!${witness}`, line, { valueEncoding: 'utf8' } as never);
    this.#count++;
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * The newest checkpoint carrying at least `minWitnesses` cosignatures (default: the quorum),
   * served; with a quorum of 0, the latest checkpoint with whatever cosignatures it has.
   */
  async cosignedCheckpoint(options: { minWitnesses?: number } = {}) {
    const min = options.minWitnesses ?? this.quorum();
    if (min <= 0) {
      const cp = this.#c.latest();
      return cp ? this.#served(cp, await this.#cosignatures(cp.size)) : undefined;
    }
    const { found } = await this.#findCosigned(-1, min);
    const cp = found ? await this.checkpointAt(found.size) : undefined;
    return cp && found ? this.#served(cp, found.lines) : undefined;
  }

  /**
   * The checkpoint a proof bundle for entry `index` is issued against: the newest covering it
   * with at least `minWitnesses` cosignatures, waiting up to `waitMs` for one; else the covering
   * one with the most, or the latest checkpoint (signed now if it does not cover the entry yet).
   * `cosigned` tells whether it carries that many (at least one when the quorum is 0).
   * @throws RangeError when there is no such entry
   */
  async covering(
    index: number,
    options: BundleOptions = {},
  ): Promise<{ checkpoint: CosignedCheckpoint; cosigned: boolean }> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#c.size()) throw new RangeError('no such entry');
    options.signal?.throwIfAborted();
    const min = options.minWitnesses ?? this.quorum();
    const deadline = Date.now() + Math.max(0, options.waitMs ?? (min > 0 ? DEFAULT_BUNDLE_WAIT_MS : 0));
    let chosen: Cosigned | undefined;
    if (min > 0) {
      for (;;) {
        const seen = this.#count;
        const { found, best } = await this.#findCosigned(index, min);
        const left = deadline - Date.now();
        if (found || left <= 0 || this.#stopped) {
          chosen = found ?? best;
          break;
        }
        await this.#nextCosignature(seen, left, options.signal);
      }
    }
    let cp = chosen ? await this.checkpointAt(chosen.size) : undefined;
    if (!cp) {
      cp = this.#c.latest();
      if (!cp || cp.size <= index) cp = await this.#c.checkpoint();
      if (!cp || index >= cp.size) throw new RangeError('no such entry');
    }
    const served = this.#served(cp, chosen?.size === cp.size ? chosen.lines : await this.#cosignatures(cp.size));
    return { checkpoint: served, cosigned: served.witnesses.length >= Math.max(1, min) };
  }

  /** The cosignature lines of the checkpoint at `size`, by witness node id. */
  async #cosignatures(size: number): Promise<Map<string, string>> {
    const sizeHex = hex12(size);
    const lines = new Map<string, string>();
    for await (const [k, v] of this.#c.sub.iterator({
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
    let found: Cosigned | undefined;
    let best: Cosigned | undefined;
    let group: Cosigned | undefined;
    const settle = (g: typeof group) => {
      if (!g) return false;
      if (g.lines.size >= min) found = g;
      else if (!best || g.lines.size > best.lines.size) best = g;
      return found !== undefined;
    };
    for await (const [k, v] of this.#c.sub.iterator({
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

  /** The log is (re)starting: bundles wait for cosignatures again. */
  start() {
    this.#stopped = false;
  }

  /** The log is stopping: callers waiting for a cosignature stop waiting and take what is there. */
  stop() {
    this.#stopped = true;
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves once a cosignature beyond the first `seen` is stored, or after `ms`; rejects on abort. */
  #nextCosignature(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#count !== seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', abort);
      };
      const done = () => {
        settle();
        resolve();
      };
      // An abort rejects (the caller stops waiting), rather than resolving and waiting again.
      const abort = () => {
        settle();
        reject(signal?.reason);
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
