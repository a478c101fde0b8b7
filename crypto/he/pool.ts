/**
 * A pool of worker threads that runs the BFV operations off the caller's event loop (a fresh
 * n = 8192 encryption costs about 15 ms of CPU, a decryption about 6 ms).
 *
 * - Workers: `min(2, available cores)` by default, each with its own node-seal instance.
 * - Key pairs are created inside one worker and stay there: the caller holds an
 *   {@link HePoolKeyPair} whose handle id names the key; decryptions run on that worker. If the
 *   worker dies, its keys are gone ({@link HeKeyHandleError}) and a new worker takes its place.
 * - Queue: at most `maxQueue` operations wait; one more is refused at once with
 *   {@link HeBusyError} (back-pressure instead of unbounded memory: a ciphertext is ~0.5 MB).
 * - `{ signal }`: an operation still queued is removed; one already running cannot be
 *   interrupted (WASM) and finishes in the worker, but the caller's promise rejects at once with
 *   the signal's reason and the result is dropped (a key pair created meanwhile is released).
 * - `close()` refuses new work, rejects waiting and running operations with
 *   {@link HePoolClosedError} and terminates the workers, destroying their keys.
 *
 * Workers are unref'd while idle, so an idle pool does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type DecryptOptions,
  type EncryptOptions,
  type HeCompression,
  type LinearTerm,
  type PlainVector,
  slotResidues,
} from './bfv.ts';
import { HeBusyError, HeKeyHandleError, HePoolClosedError, HeWorkerError } from './errors.ts';
import { type HeParameterSet, MAX_CIPHERTEXT_BYTES, STANDARD_SET } from './params.ts';
import { deserializeError, type PoolRequest, type PoolResponse, type WorkerStats } from './pool-protocol.ts';
import { checkSerialized } from './serialized.ts';
import type { WorkerData } from './worker.ts';

/** Default number of workers: min(2, cores). */
const DEFAULT_WORKERS = Math.max(1, Math.min(2, availableParallelism()));
/** Default bound of waiting operations. */
const DEFAULT_MAX_QUEUE = 64;
/** Worker crashes in a row (without one completed operation) after which the pool stops respawning. */
const MAX_CONSECUTIVE_CRASHES = 3;
const WORKER_URL = new URL('./worker.ts', import.meta.url);

/** Options of {@link createHePool}; all optional. */
export interface HePoolInit {
  /** Worker threads (default min(2, cores)). */
  workers?: number;
  /** Operations allowed to wait for a worker (default 64). */
  maxQueue?: number;
  /** Compression of produced ciphertexts (default none; see `BfvSessionInit.compression`). */
  compression?: HeCompression;
}

/** Which parameter set an operation uses (default the standard one). */
export interface HeSetOption {
  set?: HeParameterSet;
}

/** Options of every pool operation. */
export interface HeOperationOptions {
  signal?: AbortSignal;
}

/** A key pair living in one worker; only its handle and public key are on this side. */
export interface HePoolKeyPair {
  /** Opaque id of the key inside its worker. */
  readonly handle: string;
  /** The serialized public key to send to contributors. */
  readonly publicKey: Uint8Array;
  /** Decrypts on the key's worker (see `BfvKeyPair.decrypt`). */
  decrypt(ciphertext: Uint8Array, options?: HeOperationOptions & DecryptOptions): Promise<BigInt64Array>;
  /** Remaining noise budget in bits (diagnostics and tests). */
  noiseBudget(ciphertext: Uint8Array, options?: HeOperationOptions): Promise<number>;
  /** Destroys the secret key in its worker. Idempotent. */
  release(): Promise<void>;
}

/** What {@link HePool.stats} reports. */
export interface HePoolStats {
  queued: number;
  running: number;
  workers: WorkerStats[];
}

/** BFV operations on worker threads. */
export interface HePool {
  /** Number of workers. */
  readonly size: number;
  /** Creates a key pair inside one worker (under the standard parameter set unless `set` says). */
  createKeyPair(options?: HeOperationOptions & HeSetOption): Promise<HePoolKeyPair>;
  /** See `BfvSession.encryptVector`. */
  encryptVector(
    publicKey: Uint8Array,
    values: PlainVector,
    options?: HeOperationOptions & EncryptOptions & HeSetOption,
  ): Promise<Uint8Array>;
  /** See `BfvSession.addCiphertexts`. */
  addCiphertexts(list: readonly Uint8Array[], options?: HeOperationOptions & HeSetOption): Promise<Uint8Array>;
  /** See `BfvSession.multiplyPlainAndAdd`; usable as the evaluator of `linearCombine`. */
  multiplyPlainAndAdd(
    terms: readonly LinearTerm[],
    constant?: bigint,
    options?: HeOperationOptions,
  ): Promise<Uint8Array>;
  /** Heap size, live node-seal objects and keys of every worker. */
  stats(): Promise<HePoolStats>;
  /** Stops the pool. Idempotent. */
  close(): Promise<void>;
}

type Request = PoolRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  keys: Set<string>;
}

interface Job {
  request: Request;
  transfer: ArrayBuffer[];
  affinity?: Slot;
  internal: boolean;
  settled: boolean;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  cleanup(): void;
  /** Called with the value when the job finished after its caller gave up. */
  orphan?(value: unknown): void;
}

/** A copy of `bytes` that owns its whole buffer, so that it can be transferred. */
function ownedCopy(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

/** Creates a pool and starts its workers. */
export function createHePool(init: HePoolInit = {}): HePool {
  const workerCount = init.workers ?? DEFAULT_WORKERS;
  const maxQueue = init.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (!Number.isSafeInteger(workerCount) || workerCount < 1) throw new TypeError('workers must be a positive integer');
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new TypeError('maxQueue must be a non-negative integer');
  const workerData: WorkerData = { compression: init.compression ?? 'none' };

  const slots: Slot[] = [];
  const queue: Job[] = [];
  const keyOwner = new Map<string, Slot>();
  let nextId = 1;
  let consecutiveCrashes = 0;
  let closing: Promise<void> | undefined;
  let broken = false;

  const settle = (job: Job, ok: boolean, value: unknown) => {
    if (job.settled) {
      if (ok) job.orphan?.(value);
      return;
    }
    job.settled = true;
    job.cleanup();
    if (ok) job.resolve(value);
    else job.reject(value);
  };

  const dispatch = () => {
    for (const slot of slots) {
      if (!slot.ready || slot.job) continue;
      const index = queue.findIndex((j) => !j.affinity || j.affinity === slot);
      if (index < 0) continue;
      const [job] = queue.splice(index, 1);
      slot.job = job;
      slot.worker.ref();
      const message = { ...job.request, id: nextId++ } as PoolRequest;
      slot.worker.postMessage(message, job.transfer);
    }
  };

  const onReply = (slot: Slot, reply: PoolResponse) => {
    if (reply.id === 0) {
      slot.ready = true;
      dispatch();
      return;
    }
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    consecutiveCrashes = 0;
    if (job) {
      if (reply.ok && job.request.op === 'createKeyPair') {
        const { id } = reply.value as { id: string };
        slot.keys.add(id);
        keyOwner.set(id, slot);
      }
      if (reply.ok) settle(job, true, reply.value);
      else settle(job, false, deserializeError(reply.error));
    }
    dispatch();
  };

  const onExit = (slot: Slot) => {
    const index = slots.indexOf(slot);
    if (index < 0 || closing) return;
    consecutiveCrashes++;
    for (const id of slot.keys) keyOwner.delete(id);
    if (slot.job) settle(slot.job, false, new HeWorkerError('the worker running the operation failed'));
    for (let i = queue.length - 1; i >= 0; i--) {
      if (queue[i].affinity !== slot) continue;
      const [job] = queue.splice(i, 1);
      settle(job, false, new HeKeyHandleError('the key pair was lost with its worker'));
    }
    if (consecutiveCrashes > MAX_CONSECUTIVE_CRASHES) {
      broken = true;
      slots.splice(index, 1);
      if (slots.length === 0)
        for (const job of queue.splice(0)) settle(job, false, new HeWorkerError('the HE workers keep failing'));
      return;
    }
    slots[index] = spawn();
    dispatch();
  };

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_URL, { workerData });
    const slot: Slot = { worker, ready: false, keys: new Set() };
    worker.unref();
    worker.on('message', (reply: PoolResponse) => onReply(slot, reply));
    // An uncaught error in the worker is followed by 'exit', which recovers.
    worker.on('error', () => undefined);
    worker.on('exit', () => onExit(slot));
    return slot;
  };

  for (let i = 0; i < workerCount; i++) slots.push(spawn());

  const submit = <T>(
    request: Request,
    options: HeOperationOptions & { transfer?: ArrayBuffer[]; affinity?: Slot; internal?: boolean } = {},
  ): Promise<T> => {
    if (closing) return Promise.reject(new HePoolClosedError('the HE pool is closed'));
    if (broken && slots.length === 0) return Promise.reject(new HeWorkerError('the HE workers keep failing'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!options.internal && queue.length >= maxQueue)
      return Promise.reject(new HeBusyError('too many HE operations are waiting'));
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const onAbort = () => {
      const index = queue.indexOf(job);
      if (index >= 0) queue.splice(index, 1);
      settle(job, false, signal?.reason);
    };
    const job: Job = {
      request,
      transfer: options.transfer ?? [],
      affinity: options.affinity,
      internal: options.internal ?? false,
      settled: false,
      resolve: resolve as (value: unknown) => void,
      reject,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
    };
    if (request.op === 'createKeyPair')
      job.orphan = (value) => {
        const { id } = value as { id: string };
        const owner = keyOwner.get(id);
        if (owner) void releaseKey(id, owner);
      };
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.push(job);
    dispatch();
    return promise;
  };

  const releaseKey = async (id: string, owner: Slot): Promise<void> => {
    keyOwner.delete(id);
    owner.keys.delete(id);
    if (closing || !slots.includes(owner)) return;
    await submit<void>({ op: 'releaseKey', key: id }, { affinity: owner, internal: true }).catch(() => undefined);
  };

  const ownerOf = (id: string): Slot => {
    const owner = keyOwner.get(id);
    if (!owner) throw new HeKeyHandleError('no key pair with this handle (released, or lost with its worker)');
    return owner;
  };

  const ciphertextCopy = (ciphertext: Uint8Array) =>
    ownedCopy(checkSerialized(ciphertext, 'ciphertext', MAX_CIPHERTEXT_BYTES));

  return {
    size: workerCount,

    async createKeyPair(options = {}) {
      const set = options.set ?? STANDARD_SET;
      const { id, publicKey } = await submit<{ id: string; publicKey: Uint8Array }>(
        { op: 'createKeyPair', set: set.name },
        { signal: options.signal },
      );
      let released = false;
      return {
        handle: id,
        publicKey,
        async decrypt(ciphertext, opts = {}) {
          const copy = ciphertextCopy(ciphertext);
          return submit<BigInt64Array>(
            { op: 'decrypt', key: id, ciphertext: copy, centred: opts.centred ?? false },
            { signal: opts.signal, transfer: [copy.buffer as ArrayBuffer], affinity: ownerOf(id) },
          );
        },
        async noiseBudget(ciphertext, opts = {}) {
          const copy = ciphertextCopy(ciphertext);
          return submit<number>(
            { op: 'noiseBudget', key: id, ciphertext: copy },
            { signal: opts.signal, transfer: [copy.buffer as ArrayBuffer], affinity: ownerOf(id) },
          );
        },
        async release() {
          if (released) return;
          released = true;
          const owner = keyOwner.get(id);
          if (owner) await releaseKey(id, owner);
        },
      };
    },

    async encryptVector(publicKey, values, options = {}) {
      const set = options.set ?? STANDARD_SET;
      const key = ownedCopy(checkSerialized(publicKey, 'publicKey', set.maxPublicKeyBytes));
      const residues = slotResidues(values, set);
      return submit<Uint8Array>(
        { op: 'encrypt', publicKey: key, values: residues, compact: options.compact ?? false, set: set.name },
        { signal: options.signal, transfer: [key.buffer as ArrayBuffer, residues.buffer as ArrayBuffer] },
      );
    },

    async addCiphertexts(list, options = {}) {
      if (!Array.isArray(list)) throw new TypeError('addCiphertexts takes an array of ciphertexts');
      const copies = list.map(ciphertextCopy);
      return submit<Uint8Array>(
        { op: 'add', list: copies, set: (options.set ?? STANDARD_SET).name },
        { ...options, transfer: copies.map((c) => c.buffer as ArrayBuffer) },
      );
    },

    async multiplyPlainAndAdd(terms, constant = 0n, options = {}) {
      if (!Array.isArray(terms)) throw new TypeError('multiplyPlainAndAdd takes an array of terms');
      const copies = terms.map((t) => ({ ciphertext: ciphertextCopy(t.ciphertext), factor: t.factor }));
      return submit<Uint8Array>(
        { op: 'linear', terms: copies, constant },
        { ...options, transfer: copies.map((c) => c.ciphertext.buffer as ArrayBuffer) },
      );
    },

    async stats() {
      const workers = await Promise.all(
        slots.map((slot) => submit<WorkerStats>({ op: 'stats' }, { affinity: slot, internal: true })),
      );
      return { queued: queue.length, running: slots.filter((s) => s.job).length, workers };
    },

    close() {
      closing ??= (async () => {
        const error = new HePoolClosedError('the HE pool is closed');
        for (const job of queue.splice(0)) settle(job, false, error);
        for (const slot of slots) if (slot.job) settle(slot.job, false, error);
        keyOwner.clear();
        await Promise.all(slots.map((slot) => slot.worker.terminate()));
      })();
      return closing;
    },
  };
}
