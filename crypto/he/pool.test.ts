import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeBusyError, HeInputError, HeKeyHandleError, HePoolClosedError, HeRangeError } from './errors.ts';
import { checkExposureTotals, encodeAmounts } from './exposure.ts';
import { PLAIN_MODULUS } from './params.ts';
import { createHePool, type HePool, type HePoolKeyPair } from './pool.ts';
import { createScoringModel, decodeScores, encodeFeature, linearCombine } from './score.ts';
import { foreignCiphertext } from './test-helpers.ts';

describe('HE worker pool', () => {
  let pool: HePool;
  let requester: HePoolKeyPair;
  beforeAll(async () => {
    pool = createHePool({ workers: 2 });
    await pool.stats(); // waits until every worker is up
    requester = await pool.createKeyPair();
  });
  afterAll(() => pool?.close());

  it('runs contributions concurrently on both workers and sums them exactly', async () => {
    const enterprises = 8192;
    const figures = Array.from({ length: 5 }, (_, bank) =>
      Array.from({ length: enterprises }, (_, s) => (bank + 1) * 1_000_000 + s),
    );
    const contributions = await Promise.all(
      figures.map((f) => pool.encryptVector(requester.publicKey, encodeAmounts(f))),
    );
    const sum = await pool.addCiphertexts(contributions);
    const totals = checkExposureTotals(await requester.decrypt(sum), { enterprises, contributors: 5 });
    expect(totals).toEqual(Array.from({ length: enterprises }, (_, s) => 15_000_000 + 5 * s));
    const stats = await pool.stats();
    expect(stats.workers).toHaveLength(2);
    // Both workers encrypted (each keeps the requester's public key loaded: 2 objects beyond its session's 3).
    for (const w of stats.workers) expect(w.liveObjects).toBeGreaterThanOrEqual(5);
    expect(stats.workers.map((w) => w.keys).sort()).toEqual([0, 1]);
  });

  it('decrypts centred values and combines a scoring model', async () => {
    const model = createScoringModel({
      id: 'm',
      intercept: -1.5,
      featureScale: 10,
      weightScale: 100,
      features: [
        { name: 'a', weight: 2.5, maxAbs: 100 },
        { name: 'b', weight: -0.75, maxAbs: 100 },
      ],
    });
    const a = await pool.encryptVector(requester.publicKey, encodeFeature(model, 'a', [1, -2.5, 100]));
    const b = await pool.encryptVector(requester.publicKey, encodeFeature(model, 'b', [4, 10, -100]));
    const combined = await linearCombine(
      pool,
      new Map([
        ['a', a],
        ['b', b],
      ]),
      model,
    );
    const scores = decodeScores(model, await requester.decrypt(combined, { centred: true }), 3);
    expect(scores).toEqual([-1.5 + 2.5 - 3, -1.5 - 6.25 - 7.5, -1.5 + 250 + 75]);
  });

  it('carries named errors across the thread boundary', async () => {
    const foreign = await foreignCiphertext(8192, 40);
    const refused = await requester.decrypt(foreign).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HeInputError);
    expect((refused as HeInputError).code).toBe('BAD_CIPHERTEXT');
    await expect(pool.addCiphertexts([foreign])).rejects.toBeInstanceOf(HeInputError);
    await expect(pool.addCiphertexts([new Uint8Array(3)])).rejects.toBeInstanceOf(HeInputError);
    await expect(pool.encryptVector(requester.publicKey, [PLAIN_MODULUS])).rejects.toBeInstanceOf(HeRangeError);
    await expect(pool.encryptVector(foreign, [1n])).rejects.toBeInstanceOf(HeInputError);
  });

  it('keeps secret keys in their worker; a released handle is refused', async () => {
    const temp = await pool.createKeyPair();
    const ct = await pool.encryptVector(temp.publicKey, [42n]);
    expect((await temp.decrypt(ct))[0]).toBe(42n);
    expect(temp.handle).toMatch(/^[0-9a-f-]{36}$/);
    await temp.release();
    await temp.release();
    await expect(temp.decrypt(ct)).rejects.toBeInstanceOf(HeKeyHandleError);
  });

  it('honours abort signals for queued and running operations', async () => {
    const aborted = AbortSignal.abort();
    await expect(pool.encryptVector(requester.publicKey, [1n], { signal: aborted })).rejects.toThrow(/abort/i);
    const controller = new AbortController();
    const jobs = Array.from({ length: 6 }, () =>
      pool.encryptVector(requester.publicKey, [1n], { signal: controller.signal }),
    );
    controller.abort();
    const results = await Promise.allSettled(jobs);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBe(controller.signal.reason);
    }
    // The pool still works afterwards.
    const ct = await pool.encryptVector(requester.publicKey, [7n]);
    expect((await requester.decrypt(ct))[0]).toBe(7n);
  });

  it('refuses work beyond its queue bound with HeBusyError', async () => {
    const small = createHePool({ workers: 1, maxQueue: 2 });
    try {
      const keys = await small.createKeyPair();
      const jobs = Array.from({ length: 4 }, () => small.encryptVector(keys.publicKey, [1n]));
      const results = await Promise.allSettled(jobs);
      const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof HeBusyError);
      expect(busy.length).toBe(1);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
    } finally {
      await small.close();
    }
  });

  it('close() rejects waiting work and refuses new work', async () => {
    const closing = createHePool({ workers: 1 });
    const keys = await closing.createKeyPair();
    const pending = Promise.allSettled(Array.from({ length: 3 }, () => closing.encryptVector(keys.publicKey, [1n])));
    await closing.close();
    const results = await pending;
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HePoolClosedError);
    await expect(closing.encryptVector(keys.publicKey, [1n])).rejects.toBeInstanceOf(HePoolClosedError);
    await expect(keys.decrypt(new Uint8Array(0))).rejects.toBeInstanceOf(HeInputError);
    await closing.close();
  });
});
