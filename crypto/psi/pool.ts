/**
 * The OPRF's per-point work on worker threads (node:worker_threads): hashing inputs to the curve,
 * blinding, evaluating and unblinding are independent per point, so a batch is split into one
 * contiguous chunk per worker and the results are joined in order. On a 2-core machine two
 * workers use both cores, and the caller's event loop stays free (a batch of 10,000 costs about
 * 2.5 s of X25519 and Jacobi symbols on one core).
 *
 * Scalars (a client's blinding scalars, a server's key) are sent to the workers of the same
 * process for the duration of one call; workers keep nothing between calls.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { POINT_LENGTH, type Side } from './curve.ts';
import { type PsiInputCode, PsiInputError } from './errors.ts';
import type { PsiPoolRequest, PsiPoolResponse } from './pool-worker.ts';

const WORKER_URL = new URL('./pool-worker.ts', import.meta.url);
/** Below this many items a call runs in one worker (splitting costs more than it saves). */
const MIN_SPLIT = 64;

/** Points hashed from inputs, with their side. */
export interface HashedPoints {
  points: Uint8Array[];
  sides: Side[];
}

/** A pool of PSI workers. */
export interface PsiPool {
  readonly size: number;
  /** `hashToCurve` and `sideOf` of each input, in order. */
  hashToCurve(inputs: readonly Uint8Array[]): Promise<HashedPoints>;
  /**
   * [scalar]·u for each (canonical) point, in order; the scalar is clamped as OpenSSL does.
   * @throws PsiInputError BAD_POINT (with the point's index) for a point of small order
   */
  multiply(scalar: Uint8Array, points: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /**
   * `finalizeOutput(inputs[i], [scalar]·points[i])` for each i, in order.
   * @throws PsiInputError BAD_POINT (with the point's index) for a point of small order
   */
  finalize(scalar: Uint8Array, inputs: readonly Uint8Array[], points: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** Terminates the workers. Idempotent; later calls fail. */
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  busy: number;
}

/** Creates a pool of `workers` threads (default min(2, cores)); they are unref'd while idle. */
export function createPsiPool(init: { workers?: number } = {}): PsiPool {
  const size = init.workers ?? Math.max(1, Math.min(2, availableParallelism()));
  if (!Number.isSafeInteger(size) || size < 1) throw new TypeError('workers must be a positive integer');
  const pending = new Map<number, { slot: Slot; resolve: (r: PsiPoolResponse) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;
  const slots: Slot[] = [];
  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_URL), busy: 0 };
    slot.worker.unref();
    slot.worker.on('message', (m: PsiPoolResponse) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (--slot.busy === 0) slot.worker.unref();
      p.resolve(m);
    });
    const fail = (err: Error) => {
      for (const [id, p] of pending)
        if (p.slot === slot) {
          pending.delete(id);
          p.reject(err);
        }
      slot.busy = 0;
      const i = slots.indexOf(slot);
      if (i >= 0 && !closed) slots[i] = spawn();
    };
    slot.worker.on('error', (err) => fail(new Error('a PSI worker failed', { cause: err })));
    slot.worker.on('exit', () => fail(new Error('a PSI worker exited')));
    return slot;
  };
  for (let i = 0; i < size; i++) slots.push(spawn());

  const send = (slot: Slot, request: PsiPoolRequest, transfer: ArrayBuffer[]) =>
    new Promise<PsiPoolResponse>((resolve, reject) => {
      if (closed) return reject(new Error('the PSI pool is closed'));
      pending.set(request.id, { slot, resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage(request, transfer);
    });

  /** Splits n items into one contiguous range per worker and runs `make` for each range. */
  const split = async (n: number, make: (from: number, to: number) => [PsiPoolRequest, ArrayBuffer[]]) => {
    const parts = n < MIN_SPLIT ? 1 : Math.min(size, n);
    const ranges = Array.from({ length: parts }, (_, k) => [
      Math.floor((k * n) / parts),
      Math.floor(((k + 1) * n) / parts),
    ]);
    const replies = await Promise.all(
      ranges.map(([from, to], k) => {
        const [request, transfer] = make(from, to);
        return send(slots[k % slots.length], request, transfer);
      }),
    );
    return replies.map((r, k) => {
      if ('error' in r) {
        if (r.code)
          throw new PsiInputError(
            r.code === 'BAD_POINT' ? 'point has small order' : 'refused input',
            r.code as PsiInputCode,
            r.index === undefined ? undefined : ranges[k][0] + r.index,
          );
        throw new TypeError(`PSI work failed in a worker (${r.error})`);
      }
      return r;
    });
  };
  const packed = (points: readonly Uint8Array[], from: number, to: number) => {
    const out = new Uint8Array((to - from) * POINT_LENGTH);
    for (let i = from; i < to; i++) {
      if (points[i]?.length !== POINT_LENGTH) throw new PsiInputError(`point ${i} is not 32 bytes`, 'BAD_POINT', i);
      out.set(points[i], (i - from) * POINT_LENGTH);
    }
    return out;
  };
  const unpack = (replies: Array<{ points: Uint8Array }>) =>
    replies.flatMap((r) =>
      Array.from({ length: r.points.length / POINT_LENGTH }, (_, i) =>
        r.points.subarray(i * POINT_LENGTH, (i + 1) * POINT_LENGTH),
      ),
    );
  const id = () => nextId++;

  return {
    size,
    async hashToCurve(inputs) {
      const replies = (await split(inputs.length, (from, to) => [
        { id: id(), op: 'h2c', inputs: inputs.slice(from, to) },
        [],
      ])) as Array<{ points: Uint8Array; sides: Uint8Array }>;
      return {
        points: unpack(replies),
        sides: replies.flatMap((r) => Array.from(r.sides, (s): Side => (s === 1 ? 'curve' : 'twist'))),
      };
    },
    async multiply(scalar, points) {
      return unpack(
        (await split(points.length, (from, to) => {
          const p = packed(points, from, to);
          return [{ id: id(), op: 'mul', scalar: Uint8Array.from(scalar), points: p }, [p.buffer as ArrayBuffer]];
        })) as Array<{ points: Uint8Array }>,
      );
    },
    async finalize(scalar, inputs, points) {
      if (inputs.length !== points.length) throw new TypeError('one input per point');
      return unpack(
        (await split(points.length, (from, to) => {
          const p = packed(points, from, to);
          return [
            { id: id(), op: 'fin', scalar: Uint8Array.from(scalar), inputs: inputs.slice(from, to), points: p },
            [p.buffer as ArrayBuffer],
          ];
        })) as Array<{ points: Uint8Array }>,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      for (const p of pending.values()) p.reject(new Error('the PSI pool is closed'));
      pending.clear();
    },
  };
}
