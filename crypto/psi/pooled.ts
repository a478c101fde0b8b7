/**
 * The querying side of the OPRF (`oprf.ts`) with its per-point work on a PSI pool, in two steps
 * so that the expensive one can run before the caller knows which inputs it may send:
 *
 * 1. {@link blindAllOnPool}: hashes and blinds every distinct input (fresh clamped scalars per
 *    side, on the pool's worker threads). Nothing leaves the process.
 * 2. `select(indexes)`: the batch for the inputs at `indexes` only: deduplicated, padded per side
 *    up to a size that depends only on their number, shuffled; its `finalize` unblinds the
 *    server's answer.
 *
 * A node uses step 1 while it decides consent for every code, and step 2 with the codes allowed:
 * blinding then costs no time on the way to the server. {@link blindOnPool} is both at once.
 */
import { randomInt } from 'node:crypto';
import { isCanonicalPoint, type Side } from './curve.ts';
import { PsiInputError } from './errors.ts';
import { blindingKeys, distinctInputs, type Item, MAX_BATCH, paddedPerSide, randomPoint } from './oprf.ts';
import type { HashedPoints, PsiPool } from './pool.ts';

/** A blinded batch whose blinding and unblinding run on a PSI pool. */
export interface PooledBlindedBatch {
  /** What to send to the server: shuffled, padded, equally many points of each side. */
  readonly blinded: readonly Uint8Array[];
  /** As `BlindedBatch.finalize`, on the pool. */
  finalize(evaluated: readonly Uint8Array[]): Promise<Uint8Array[]>;
}

/** Every input hashed and blinded, waiting to be selected into a batch. */
export interface BlindedInputs {
  /**
   * The batch of the inputs at `indexes` (positions in the inputs given to
   * {@link blindAllOnPool}; repeats and duplicates are sent once). Its `finalize` answers in
   * `indexes` order.
   * @throws RangeError for an index outside the inputs
   */
  select(indexes: readonly number[]): Promise<PooledBlindedBatch>;
}

/** Runs `fn` per side on the items at `at`, and returns the results in the order of `at`. */
async function perSide(
  items: readonly Item[],
  at: readonly number[],
  fn: (side: Side, positions: number[]) => Promise<Uint8Array[]>,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array(at.length);
  await Promise.all(
    (['curve', 'twist'] as const).map(async (side) => {
      const positions = at.flatMap((i, k) => (items[i].side === side ? [k] : []));
      if (positions.length === 0) return;
      const results = await fn(
        side,
        positions.map((k) => at[k]),
      );
      positions.forEach((k, j) => {
        out[k] = results[j];
      });
    }),
  );
  return out;
}

/**
 * Step 1: hashes (unless `hashed` is given) and blinds every distinct input on `pool`, with one
 * fresh clamped scalar per side for this call.
 * @param options.hashed `pool.hashToCurve(inputs)` computed earlier (same inputs, same order)
 * @throws PsiInputError BATCH_TOO_LARGE above `maxBatch` inputs
 */
export async function blindAllOnPool(
  pool: PsiPool,
  inputs: readonly Uint8Array[],
  options: { maxBatch?: number; hashed?: HashedPoints } = {},
): Promise<BlindedInputs> {
  const { distinct, slotOf, firstIndex } = distinctInputs(inputs, options.maxBatch ?? MAX_BATCH);
  const { hashed } = options;
  if (hashed && (hashed.points.length !== inputs.length || hashed.sides.length !== inputs.length))
    throw new TypeError('hashed must hold one point per input');
  const h = hashed
    ? { points: firstIndex.map((i) => hashed.points[i]), sides: firstIndex.map((i) => hashed.sides[i]) }
    : await pool.hashToCurve(distinct);
  const items: Item[] = distinct.map((_, slot) => ({ u: h.points[slot], side: h.sides[slot], slot }));
  const keys = { curve: blindingKeys('curve'), twist: blindingKeys('twist') };
  const blindAt = (at: readonly number[], of: readonly Item[]) =>
    perSide(of, at, (side, positions) =>
      pool.multiply(
        keys[side].rRaw,
        positions.map((i) => of[i].u),
      ),
    );
  const blindedInputs = await blindAt(
    items.map((_, i) => i),
    items,
  );

  return {
    async select(indexes) {
      if (!Array.isArray(indexes)) throw new TypeError('indexes must be an array');
      const chosen = new Map<number, number>(); // slot → position among the chosen
      const slotsOf = indexes.map((i) => {
        if (!Number.isSafeInteger(i) || i < 0 || i >= inputs.length) throw new RangeError(`no input ${i}`);
        const slot = slotOf[i];
        if (!chosen.has(slot)) chosen.set(slot, chosen.size);
        return slot;
      });
      const n = chosen.size;
      const real = [...chosen.keys()].map((slot) => ({ ...items[slot], blinded: blindedInputs[slot] }));
      const onCurve = real.filter((it) => it.side === 'curve').length;
      let perSideCount = paddedPerSide(n);
      if (Math.max(onCurve, n - onCurve) > perSideCount) perSideCount = n; // p ≤ 2e^-32
      const padding: Item[] = [];
      for (let i = onCurve; i < perSideCount; i++) padding.push({ u: randomPoint('curve'), side: 'curve', slot: -1 });
      for (let i = n - onCurve; i < perSideCount; i++)
        padding.push({ u: randomPoint('twist'), side: 'twist', slot: -1 });
      const paddingBlinded = await blindAt(
        padding.map((_, i) => i),
        padding,
      );
      const batch = [...real, ...padding.map((it, i) => ({ ...it, blinded: paddingBlinded[i] }))];
      for (let i = batch.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
      return {
        blinded: Object.freeze(batch.map((it) => it.blinded)),
        async finalize(evaluated) {
          if (!Array.isArray(evaluated) || evaluated.length !== batch.length)
            throw new PsiInputError(`expected ${batch.length} evaluated points`, 'BAD_ENCODING');
          evaluated.forEach((z, i) => {
            if (!isCanonicalPoint(z)) throw new PsiInputError(`point ${i} is not a canonical point`, 'BAD_POINT', i);
          });
          const at = batch.flatMap((it, i) => (it.slot >= 0 ? [i] : []));
          const values = await perSide(batch, at, async (side, positions) => {
            try {
              return await pool.finalize(
                keys[side].tRaw,
                positions.map((i) => distinct[batch[i].slot]),
                positions.map((i) => evaluated[i]),
              );
            } catch (err) {
              // Name the point by its position in the answer.
              if (err instanceof PsiInputError && err.index !== undefined)
                throw new PsiInputError(err.message, err.code, positions[err.index]);
              throw err;
            }
          });
          const bySlot = new Map<number, Uint8Array>();
          at.forEach((i, k) => {
            bySlot.set(batch[i].slot, values[k]);
          });
          return slotsOf.map((slot) => bySlot.get(slot)!);
        },
      };
    },
  };
}

/**
 * `createOprfClient().blind(inputs)` with the per-point work on `pool`: the same batch shape
 * (dedup, padding per side, shuffle, fresh scalars per side) and the same outputs.
 * @param options.hashed `pool.hashToCurve(inputs)` computed earlier (same inputs, same order)
 * @throws PsiInputError BATCH_TOO_LARGE above `maxBatch` inputs
 */
export async function blindOnPool(
  pool: PsiPool,
  inputs: readonly Uint8Array[],
  options: { maxBatch?: number; hashed?: HashedPoints } = {},
): Promise<PooledBlindedBatch> {
  const all = await blindAllOnPool(pool, inputs, options);
  return all.select(inputs.map((_, i) => i));
}
