/**
 * Where the access log builds its batches: on its own event loop for small ones, on a worker
 * thread (`build-worker.ts`) for batches of at least {@link WORKER_MIN_BATCH} entries, the
 * thousands of decisions of a joint query or a list check. Building costs ~40 µs per entry
 * (canonical JSON, two commitments, the leaf and node hashes); off the event loop, the node keeps
 * answering while a batch is built, and on a second core the build runs beside its other work.
 *
 * The result is the same either way (`buildBatch` is pure and deterministic given the openings).
 * The worker is started on first use, unref'd while idle, restarted after a failure; a batch whose
 * worker fails is built here instead.
 */
import { Worker } from 'node:worker_threads';
import type { BuildRequest, BuildResponse } from './build-worker.ts';
import { type BuiltBatch, buildBatch } from './entry.ts';
import type { Frontier } from './integrity.ts';
import type { AccessEvent } from './port.ts';

/** Smallest batch built on the worker thread (below it, the hand-over costs more than it saves). */
export const WORKER_MIN_BATCH = 1024;

const WORKER_URL = new URL('./build-worker.ts', import.meta.url);

/** Builds batches, large ones on a worker thread. */
export class BatchBuilder {
  #worker: Worker | undefined;
  #pending = new Map<number, { resolve: (b: BuiltBatch) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #closed = false;
  readonly #minBatch: number;

  constructor(options: { minBatch?: number } = {}) {
    this.#minBatch = options.minBatch ?? WORKER_MIN_BATCH;
  }

  /**
   * Builds `events` onto the tree of `tree.size` leaves (see `buildBatch`).
   * @throws TypeError when an event is malformed
   */
  async build(
    events: AccessEvent[],
    tree: { size: number; frontier: Frontier; randomness: Uint8Array },
  ): Promise<BuiltBatch> {
    if (this.#closed || events.length < this.#minBatch) return buildBatch(events, tree);
    let built: BuiltBatch | undefined;
    try {
      built = await this.#onWorker(events, tree);
    } catch (err) {
      if (err instanceof TypeError) throw err; // a malformed event: the same answer here
    }
    return built ?? buildBatch(events, tree); // the worker failed: build it here
  }

  #onWorker(
    events: AccessEvent[],
    tree: { size: number; frontier: Frontier; randomness: Uint8Array },
  ): Promise<BuiltBatch> {
    const worker = this.#spawn();
    const id = this.#nextId++;
    return new Promise<BuiltBatch>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ id, events, ...tree } satisfies BuildRequest);
    });
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const settle = (id: number) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (this.#pending.size === 0) worker.unref();
      return p;
    };
    worker.on('message', (m: BuildResponse) => {
      const p = settle(m.id);
      if (!p) return;
      if ('built' in m) p.resolve(m.built);
      else if (m.error === 'TypeError') p.reject(new TypeError(m.message));
      else p.reject(new Error(`building a log batch failed in its worker (${m.error})`));
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const id of [...this.#pending.keys()]) settle(id)?.reject(err);
    };
    worker.on('error', (err) => fail(new Error('the log build worker failed', { cause: err })));
    worker.on('exit', () => fail(new Error('the log build worker exited')));
    this.#worker = worker;
    return worker;
  }

  /** Stops the worker; later batches are built on the caller's thread. Idempotent. */
  async close() {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
