/**
 * Worker thread of the PSI pool (`pool.ts`): hashes inputs to the curve (with their side) and
 * multiplies points by a scalar, for a chunk of a batch at a time. Replies carry results or the
 * index of a refused point, never inputs, points or scalars in an error.
 */
import { parentPort } from 'node:worker_threads';
import { clamp, multiply, POINT_LENGTH, scalarKey, sideOf } from './curve.ts';
import { PsiInputError } from './errors.ts';
import { finalizeOutput, hashToCurve } from './oprf.ts';

/** A chunk of work. */
export type PsiPoolRequest = { id: number } & (
  | { op: 'h2c'; inputs: Uint8Array[] }
  | { op: 'mul'; scalar: Uint8Array; points: Uint8Array }
  | { op: 'fin'; scalar: Uint8Array; inputs: Uint8Array[]; points: Uint8Array }
);

/** Its result: `points` (n × 32 bytes) and, for `h2c`, one side byte per point (1 curve, 0 twist). */
export type PsiPoolResponse =
  | { id: number; points: Uint8Array; sides?: Uint8Array }
  | { id: number; error: string; code?: string; index?: number };

const port = parentPort;
if (port) {
  port.on('message', (req: PsiPoolRequest) => {
    try {
      if (req.op === 'h2c') {
        const points = new Uint8Array(req.inputs.length * POINT_LENGTH);
        const sides = new Uint8Array(req.inputs.length);
        req.inputs.forEach((x, i) => {
          const u = hashToCurve(x);
          points.set(u, i * POINT_LENGTH);
          sides[i] = sideOf(u) === 'curve' ? 1 : 0;
        });
        port.postMessage({ id: req.id, points, sides } satisfies PsiPoolResponse, [points.buffer, sides.buffer]);
        return;
      }
      const key = scalarKey(clamp(Uint8Array.from(req.scalar)));
      req.scalar.fill(0);
      const n = req.points.length / POINT_LENGTH;
      const out = new Uint8Array(req.points.length);
      for (let i = 0; i < n; i++) {
        const product = multiply(key, req.points.subarray(i * POINT_LENGTH, (i + 1) * POINT_LENGTH), i);
        out.set(req.op === 'fin' ? finalizeOutput(req.inputs[i], product) : product, i * POINT_LENGTH);
      }
      port.postMessage({ id: req.id, points: out } satisfies PsiPoolResponse, [out.buffer]);
    } catch (err) {
      const e = err as Error;
      port.postMessage({
        id: req.id,
        error: e instanceof Error ? e.name : 'Error',
        ...(err instanceof PsiInputError ? { code: err.code, index: err.index } : {}),
      } satisfies PsiPoolResponse);
    }
  });
}
