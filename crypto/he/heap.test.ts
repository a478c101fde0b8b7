import { describe, expect, it } from 'vitest';
import { type BfvSession, createBfvSession } from './bfv.ts';
import { HeInputError } from './errors.ts';
import { createHePool } from './pool.ts';
import { liveSealObjects, wasmHeapBytes } from './seal.ts';
import { foreignCiphertext } from './test-helpers.ts';

const ROUNDS = 100;
const WARM_UP = 10;

/** One round: a fresh key every tenth round, three encryptions, a sum, a weighted sum, decryptions, a refused input. */
function round(session: BfvSession, i: number, foreign: Uint8Array): void {
  const keys = session.createKeyPair();
  try {
    const values = Array.from({ length: 8192 }, (_, s) => BigInt(i * 8192 + s));
    const cts = [0, 1, 2].map(() => session.encryptVector(keys.publicKey, values));
    const sum = session.addCiphertexts(cts);
    expect(keys.decrypt(sum)[1]).toBe(3n * BigInt(i * 8192 + 1));
    const weighted = session.multiplyPlainAndAdd(
      cts.map((ciphertext) => ({ ciphertext, factor: -2n })),
      5n,
    );
    expect(keys.decrypt(weighted, { centred: true })[0]).toBe(-6n * BigInt(i * 8192) + 5n);
    expect(() => session.addCiphertexts([sum, foreign])).toThrow(HeInputError);
  } finally {
    keys.release();
  }
}

describe('WASM heap', () => {
  it('stays flat over 100 encrypt/add/decrypt rounds in one session', async () => {
    const session = await createBfvSession({ publicKeyCacheSize: 2 });
    try {
      const foreign = await foreignCiphertext(8192, 40);
      for (let i = 0; i < WARM_UP; i++) round(session, i, foreign);
      const heap = wasmHeapBytes();
      const live = liveSealObjects();
      for (let i = 0; i < ROUNDS; i++) round(session, i, foreign);
      console.log(`WASM heap ${heap} bytes before, ${wasmHeapBytes()} after ${ROUNDS} rounds; live objects ${live}`);
      expect(heap).toBeGreaterThan(0);
      expect(wasmHeapBytes()).toBe(heap);
      expect(liveSealObjects()).toBe(live);
    } finally {
      session.release();
    }
    expect(liveSealObjects()).toBe(0);
  });

  it('stays flat in the pool workers over 100 rounds', async () => {
    const pool = createHePool({ workers: 2 });
    try {
      const run = async (i: number) => {
        const keys = await pool.createKeyPair();
        try {
          const cts = await Promise.all([0, 1, 2].map(() => pool.encryptVector(keys.publicKey, [BigInt(i), 1n])));
          const sum = await pool.addCiphertexts(cts);
          expect((await keys.decrypt(sum))[0]).toBe(3n * BigInt(i));
        } finally {
          await keys.release();
        }
      };
      for (let i = 0; i < WARM_UP; i++) await run(i);
      const before = await pool.stats();
      for (let i = 0; i < ROUNDS; i++) await run(i);
      const after = await pool.stats();
      console.log(`worker heaps ${before.workers.map((w) => w.heapBytes)} → ${after.workers.map((w) => w.heapBytes)}`);
      expect(after.workers.map((w) => w.heapBytes)).toEqual(before.workers.map((w) => w.heapBytes));
      expect(after.workers.map((w) => w.keys)).toEqual([0, 0]);
    } finally {
      await pool.close();
    }
  });
});
