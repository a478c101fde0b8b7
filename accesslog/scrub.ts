/**
 * The scrub: re-reads the stored log and checks that it still is what the node signed.
 *
 * For each chunk (an aligned perfect subtree of `chunk` leaves) it hashes every entry and compares
 * the stored leaf hash, and checks every stored node of the chunk against its two stored
 * children; above the chunks it checks each stored node against its children the same way; at
 * the end of a pass it folds the stored subtrees into the root and compares it with the signed
 * checkpoint the pass started from. Each check names the smallest range it can: an edited entry
 * exactly; an entry rewritten together with its leaf hash (and perhaps nodes above) as the range
 * of the first untouched node above it, since its neighbours can no longer be told apart from it.
 *
 * The background pass walks the whole log at a bounded rate and keeps its position in the store
 * (`m!scrub`), so that a large log is covered across restarts; the start-up check covers the
 * newest entries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { bytesEqual, decompose, foldRange, leafHash, type NodeId, nodeHash, toUtf8 } from '../crypto/index.ts';
import type { Sublevel } from '../storage/index.ts';
import { type AlarmBook, entryKey, nodeKey } from './integrity.ts';

/** Progress of the background scrub. */
export interface ScrubStatus {
  /** Whether the background scrub runs. */
  running: boolean;
  /** Entries of the current pass checked so far. */
  position: number;
  /** Size of the signed checkpoint the current pass ends at (0: none yet). */
  target: number;
  /** Full passes completed since start. */
  passes: number;
  /** ISO time the last full pass ended. */
  lastPass?: string;
  /** Problems found since start (each also raised as an alarm). */
  problems: number;
}

/** What the scrub needs. */
export interface ScrubComponents {
  /** The log's sublevel (JSON values by default). */
  sub: Sublevel;
  alarms: AlarmBook;
  logger: Logger;
  /** The root signed at `size`, or the latest signed checkpoint when `size` is not given. */
  signed(size?: number): Promise<{ size: number; root: Uint8Array } | undefined>;
  /** Whether the database accepts writes now (the position is saved only then). */
  writable(): boolean;
}

/** Scrub settings. */
export interface ScrubInit {
  /** Entries checked per second by the background pass (0: no background pass). */
  rate: number;
  /** Pause between full passes (ms). */
  intervalMs: number;
  /** Leaves per chunk, a power of two. */
  chunk?: number;
}

const PROGRESS_KEY = 'm!scrub';

/** Checks stored entries and tree nodes; runs the background pass. */
export class Scrubber {
  readonly #c: ScrubComponents;
  readonly #rate: number;
  readonly #interval: number;
  readonly #chunkLevel: number;
  #status: ScrubStatus = { running: false, position: 0, target: 0, passes: 0, problems: 0 };
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(components: ScrubComponents, init: ScrubInit) {
    this.#c = components;
    this.#rate = init.rate;
    this.#interval = init.intervalMs;
    this.#chunkLevel = Math.log2(init.chunk ?? 1024);
    if (!Number.isInteger(this.#chunkLevel)) throw new RangeError('the scrub chunk must be a power of two');
  }

  status(): ScrubStatus {
    return { ...this.#status };
  }

  #problem(...args: Parameters<AlarmBook['raise']>) {
    this.#status.problems++;
    this.#c.alarms.raise(...args);
  }

  /** Checks the entries and nodes of [lo, hi) against each other, raising alarms; returns the problems found. */
  async checkRange(lo: number, hi: number): Promise<number> {
    const before = this.#status.problems;
    for (const id of decompose(lo, hi)) await this.#checkPerfect(id, 0);
    return this.#status.problems - before;
  }

  /** Checks the perfect subtree `id` (the part at or after `from`); returns its stored hash. */
  async #checkPerfect(
    id: NodeId,
    from: number,
    pass?: { signal: AbortSignal; done: (end: number) => Promise<void> },
  ): Promise<Uint8Array | undefined> {
    const width = 2 ** id.level;
    const end = (id.index + 1) * width;
    if (end <= from) return (await this.#nodes([id]))[0];
    if (id.level <= this.#chunkLevel) {
      const top = await this.#checkChunk(id);
      await pass?.done(end);
      return top;
    }
    const left = await this.#checkPerfect({ level: id.level - 1, index: 2 * id.index }, from, pass);
    const right = await this.#checkPerfect({ level: id.level - 1, index: 2 * id.index + 1 }, from, pass);
    const [node] = await this.#nodes([id]);
    if (!node) this.#problem('LOG_CORRUPT', id.index * width, width, `tree node ${id.level}/${id.index} is missing`);
    else if (left && right && !bytesEqual(nodeHash(left, right), node)) this.#mismatch(id);
    return node;
  }

  #mismatch(id: NodeId) {
    const width = 2 ** id.level;
    this.#problem(
      'LOG_TAMPERED',
      id.index * width,
      width,
      `tree node ${id.level}/${id.index} does not match its children: an entry in this range was rewritten with its leaf hash, or a node was`,
    );
  }

  async #nodes(ids: NodeId[]): Promise<Array<Uint8Array | undefined>> {
    const found = (await this.#c.sub.getMany(ids.map(nodeKey), { valueEncoding: 'view' } as never)) as Array<
      Uint8Array | undefined
    >;
    return found.map((h) => (h?.length === 32 ? h : undefined));
  }

  /** Checks a subtree of at most one chunk completely; returns its stored hash. */
  async #checkChunk(id: NodeId): Promise<Uint8Array | undefined> {
    const width = 2 ** id.level;
    const first = id.index * width;
    const keys = Array.from({ length: width }, (_, i) => entryKey(first + i));
    const texts = (await this.#c.sub.getMany(keys, { valueEncoding: 'utf8' } as never)) as Array<string | undefined>;
    const ids: NodeId[] = [];
    for (let level = 0; level <= id.level; level++)
      for (let i = 0; i < width / 2 ** level; i++) ids.push({ level, index: first / 2 ** level + i });
    const stored = await this.#nodes(ids);
    // Stored node (level, first / 2^level + i) is stored[offset(level) + i].
    const at = (level: number, i: number) => stored[2 * width - 2 * (width / 2 ** level) + i];

    let missing = 0;
    for (let i = 0; i <= width; i++) {
      if (i < width && texts[i] === undefined) missing++;
      else if (missing > 0) {
        this.#problem('LOG_CORRUPT', first + i - missing, missing, 'entries are missing');
        missing = 0;
      }
    }
    const absent = stored.filter((h) => !h).length;
    if (absent > 0) this.#problem('LOG_CORRUPT', first, width, `${absent} tree nodes of this range are missing`);
    for (let i = 0; i < width; i++) {
      const text = texts[i];
      const leaf = at(0, i);
      if (text !== undefined && leaf && !bytesEqual(leafHash(toUtf8(text)), leaf))
        this.#problem('LOG_TAMPERED', first + i, 1, "the entry's bytes do not match its stored leaf hash");
    }
    for (let level = 1; level <= id.level; level++)
      for (let i = 0; i < width / 2 ** level; i++) {
        const node = at(level, i);
        const left = at(level - 1, 2 * i);
        const right = at(level - 1, 2 * i + 1);
        if (node && left && right && !bytesEqual(nodeHash(left, right), node))
          this.#mismatch({ level, index: first / 2 ** level + i });
      }
    return at(id.level, 0);
  }

  /** Starts the background pass (when a rate is set). */
  start() {
    if (this.#rate <= 0 || this.#loop) return;
    this.#stop = new AbortController();
    this.#status.running = true;
    this.#loop = this.#run(this.#stop.signal);
  }

  async stop() {
    this.#stop?.abort();
    await this.#loop;
    this.#loop = undefined;
    this.#status.running = false;
  }

  async #run(signal: AbortSignal) {
    const log = this.#c.logger;
    while (!signal.aborted) {
      let pause = this.#interval;
      try {
        const ended = await this.#pass(signal);
        if (!ended) pause = Math.min(this.#interval, 1000);
      } catch (err) {
        if (signal.aborted) break;
        // A read failed (the database may be reopening): try again later, alarm nothing.
        log.warn({ err: (err as Error).message }, 'scrub pass interrupted');
        pause = Math.min(this.#interval, 5000);
      }
      await sleep(pause, undefined, { signal, ref: false }).catch(() => undefined);
    }
  }

  /** One pass from the saved position; false when there is nothing signed to check yet. */
  async #pass(signal: AbortSignal): Promise<boolean> {
    const saved = (await this.#c.sub.get(PROGRESS_KEY).catch(() => undefined)) as
      | { target: number; position: number }
      | undefined;
    let signed = saved && saved.position < saved.target ? await this.#c.signed(saved.target) : undefined;
    let from = signed ? saved!.position : 0;
    signed ??= await this.#c.signed();
    if (!signed || signed.size === 0) return false;
    Object.assign(this.#status, { target: signed.size, position: from });
    let sinceSave = 0;
    const save = async (position: number) => {
      if (this.#c.writable())
        await this.#c.sub.put(PROGRESS_KEY, { target: signed.size, position }).catch(() => undefined);
    };
    const done = async (end: number) => {
      this.#status.position = end;
      if (++sinceSave >= 64) {
        sinceSave = 0;
        await save(end);
      }
      signal.throwIfAborted();
      const ms = (2 ** this.#chunkLevel * 1000) / this.#rate;
      if (ms >= 1) await sleep(ms, undefined, { signal, ref: false });
    };
    const tops: Array<Uint8Array | undefined> = [];
    for (const id of decompose(0, signed.size)) tops.push(await this.#checkPerfect(id, from, { signal, done }));
    from = signed.size;
    if (tops.every((t) => t) && !bytesEqual(foldRange(tops as Uint8Array[]), signed.root))
      this.#problem(
        'LOG_TAMPERED',
        0,
        signed.size,
        `the stored tree does not lead to the root of signed checkpoint ${signed.size}`,
      );
    await save(from);
    Object.assign(this.#status, {
      position: from,
      passes: this.#status.passes + 1,
      lastPass: new Date().toISOString(),
    });
    this.#c.logger.info({ size: signed.size, problems: this.#status.problems }, 'scrub pass complete');
    return true;
  }
}
