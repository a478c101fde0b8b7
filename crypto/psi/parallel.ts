/**
 * List preparation on worker threads (node:worker_threads): the entries are streamed in chunks
 * to `workers` threads that each hold the OPRF key, with two chunks in flight per thread; the
 * main thread only gathers keys. On a 2-core machine two workers use both cores.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KEY_LENGTH } from './keyset.ts';
import { type ListEntry, listFromKeys, type PreparedList, type PrepareListOptions } from './list.ts';
import { createOprfServer } from './oprf.ts';
import type { PrepareRequest, PrepareResponse } from './prepare-worker.ts';

/** Entries per message to a worker. */
export const DEFAULT_CHUNK_SIZE = 4096;

/** Options of {@link prepareListParallel}. */
export interface PrepareListParallelOptions extends PrepareListOptions {
  /** Worker threads; default the machine's available parallelism. */
  workers?: number;
  /** Entries per message; default {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize?: number;
}

const WORKER_URL = new URL('./prepare-worker.ts', import.meta.url);

interface Pool {
  worker: Worker;
  inFlight: number;
}

/**
 * Prepares a list like `prepareList` with the key `key`, on worker threads. The returned list
 * holds its own evaluator for the same key (for `add` and `remove`).
 */
export async function prepareListParallel(
  entries: Iterable<ListEntry> | AsyncIterable<ListEntry>,
  key: Uint8Array,
  options: PrepareListParallelOptions = {},
): Promise<PreparedList> {
  const server = createOprfServer({ key });
  const nWorkers = options.workers ?? availableParallelism();
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const every = options.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(nWorkers) || nWorkers < 1) throw new TypeError('workers must be a positive integer');
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new TypeError('chunkSize must be a positive integer');

  let keys = new Uint8Array(16 * chunkSize * KEY_LENGTH);
  let done = 0;
  let reported = 0;
  let failure: Error | undefined;
  const pending = new Map<number, { offset: number; pool: Pool }>();
  let wake: (() => void) | undefined;
  const pools: Pool[] = Array.from({ length: nWorkers }, () => {
    const pool: Pool = { worker: new Worker(WORKER_URL, { workerData: { key } }), inFlight: 0 };
    pool.worker.on('message', (m: PrepareResponse) => {
      const job = pending.get(m.id);
      if (!job) return;
      pending.delete(m.id);
      pool.inFlight--;
      if ('error' in m) failure ??= new TypeError(`list preparation failed in a worker (${m.error})`);
      else {
        keys.set(m.keys, job.offset * KEY_LENGTH);
        done += m.keys.length / KEY_LENGTH;
        if (Math.floor(done / every) > Math.floor(reported / every)) options.onProgress?.(done);
        reported = done;
      }
      wake?.();
    });
    pool.worker.on('error', (err) => {
      failure ??= err;
      wake?.();
    });
    return pool;
  });
  const settle = () => new Promise<void>((resolve) => (wake = resolve));

  try {
    let next = 0;
    let id = 0;
    let chunk: ListEntry[] = [];
    const dispatch = async () => {
      let pool = pools.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      while (pool.inFlight >= 2 && !failure) {
        await settle();
        pool = pools.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      }
      if (failure) throw failure;
      options.signal?.throwIfAborted();
      while ((next + chunk.length) * KEY_LENGTH > keys.length) {
        const grown = new Uint8Array(keys.length * 2);
        grown.set(keys);
        keys = grown;
      }
      pending.set(id, { offset: next, pool });
      pool.inFlight++;
      pool.worker.postMessage({ id: id++, entries: chunk } satisfies PrepareRequest);
      next += chunk.length;
      chunk = [];
    };
    for await (const entry of entries) {
      chunk.push(entry);
      if (chunk.length === chunkSize) await dispatch();
    }
    if (chunk.length > 0) await dispatch();
    while (pending.size > 0 && !failure) await settle();
    if (failure) throw failure;
    options.signal?.throwIfAborted();
    if (done % every !== 0) options.onProgress?.(done);
    return listFromKeys(keys, done, server, options);
  } finally {
    await Promise.all(pools.map((p) => p.worker.terminate()));
  }
}
