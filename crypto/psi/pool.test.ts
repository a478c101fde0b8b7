import { afterAll, describe, expect, it } from 'vitest';
import { toHex, toUtf8 } from '../encoding.ts';
import { sideOf } from './curve.ts';
import { PsiInputError } from './errors.ts';
import { blindedBatchSize, createOprfClient, createOprfServer, generateOprfKey } from './oprf.ts';
import { createPsiPool } from './pool.ts';
import { blindAllOnPool, blindOnPool } from './pooled.ts';

const uscc = (i: number) => toUtf8(`91350200MA${String(i).padStart(8, '0')}`);
/** A canonical point of small order (u = 1 has order 4 on Curve25519). */
const SMALL_ORDER = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));

describe('OPRF on the PSI worker pool', () => {
  const pool = createPsiPool({ workers: 2 });
  afterAll(() => pool.close());
  const server = createOprfServer({ key: generateOprfKey() });

  it('gives the same PRF values as the one-thread client and server, with the same batch shape', async () => {
    const inputs = [...Array.from({ length: 700 }, (_, i) => uscc(i)), uscc(3), uscc(5)];
    const batch = await blindOnPool(pool, inputs);
    expect(batch.blinded.length).toBe(blindedBatchSize(700));
    expect(batch.blinded.filter((u) => sideOf(u) === 'curve').length).toBe(batch.blinded.length / 2);
    const evaluated = await server.evaluateOn(pool, batch.blinded);
    expect(evaluated.map(toHex)).toEqual(server.evaluate(batch.blinded).map(toHex));
    const values = await batch.finalize(evaluated);
    expect(values.map(toHex)).toEqual(inputs.map((x) => toHex(server.prf(x))));
    // The one-thread client finalises to the same values.
    const sync = createOprfClient().blind(inputs);
    expect(sync.finalize(server.evaluate(sync.blinded)).map(toHex)).toEqual(values.map(toHex));
    // Points hashed earlier (e.g. while consent is decided) give the same values.
    const hashed = await pool.hashToCurve(inputs);
    const again = await blindOnPool(pool, inputs, { hashed });
    expect((await again.finalize(await server.evaluateOn(pool, again.blinded))).map(toHex)).toEqual(values.map(toHex));
    // Small batches run in one worker and agree too.
    const one = await blindOnPool(pool, [uscc(9)]);
    expect((await one.finalize(await server.evaluateOn(pool, one.blinded))).map(toHex)).toEqual([
      toHex(server.prf(uscc(9))),
    ]);
  });

  it('blinds everything first and sends only the inputs selected later, in a batch shaped by their number alone', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => uscc(i % 480)); // 480 distinct
    const all = await blindAllOnPool(pool, inputs);
    const chosen = [7, 480, 3, 3, 250, 499, 100]; // 480 repeats input 0; 3 twice
    const batch = await all.select(chosen);
    expect(batch.blinded.length).toBe(blindedBatchSize(6));
    const values = await batch.finalize(await server.evaluateOn(pool, batch.blinded));
    expect(values.map(toHex)).toEqual(chosen.map((i) => toHex(server.prf(inputs[i]))));
    // Another selection from the same blinding: as many points as its own number asks for.
    const wide = await all.select(inputs.map((_, i) => i));
    expect(wide.blinded.length).toBe(blindedBatchSize(480));
    expect((await all.select([])).blinded).toHaveLength(0);
    await expect(all.select([500])).rejects.toThrow(RangeError);
    await expect(all.select([-1])).rejects.toThrow(RangeError);
  });

  it('refuses points of small order and malformed points, naming their position', async () => {
    const batch = await blindOnPool(
      pool,
      Array.from({ length: 300 }, (_, i) => uscc(i)),
    );
    const bad = [...batch.blinded];
    bad[250] = SMALL_ORDER;
    const e1 = await server.evaluateOn(pool, bad).catch((e) => e);
    expect(e1).toBeInstanceOf(PsiInputError);
    expect((e1 as PsiInputError).code).toBe('BAD_POINT');
    expect((e1 as PsiInputError).index).toBe(250);
    const top = [...batch.blinded];
    top[3] = Uint8Array.from({ length: 32 }, () => 0xff);
    await expect(server.evaluateOn(pool, top)).rejects.toMatchObject({ code: 'BAD_POINT', index: 3 });
    const evaluated = await server.evaluateOn(pool, batch.blinded);
    // Find an answer position that carries a real input (padding is not unblinded).
    const answers = [...evaluated];
    let refused: PsiInputError | undefined;
    for (let i = 0; i < answers.length && !refused; i++) {
      const copy = [...answers];
      copy[i] = SMALL_ORDER;
      refused = await batch.finalize(copy).then(
        () => undefined,
        (e) => e as PsiInputError,
      );
      if (refused) expect(refused.index).toBe(i);
    }
    expect(refused?.code).toBe('BAD_POINT');
    await expect(batch.finalize(evaluated.slice(1))).rejects.toMatchObject({ code: 'BAD_ENCODING' });
  });
});
