import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BfvSession, createBfvSession } from './bfv.ts';
import {
  COEFF_MODULUS_BITS,
  HE_PARAMETER_ID,
  LARGEST_EXACT_TOTAL,
  MAX_CONTRIBUTION,
  MAX_CONTRIBUTORS,
  MAX_EXPOSURE_TOTAL,
  PLAIN_MODULUS,
  PLAIN_MODULUS_BITS,
  POLY_MODULUS_DEGREE,
} from './params.ts';
import { loadSeal, sealArena } from './seal.ts';

/** Miller–Rabin with the first twelve prime bases: deterministic below 3.3 · 10^24. */
function isPrime(n: bigint): boolean {
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  if (n < 2n) return false;
  for (const p of bases) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while (d % 2n === 0n) {
    d /= 2n;
    s++;
  }
  const powMod = (b: bigint, e: bigint, m: bigint) => {
    let r = 1n;
    b %= m;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  };
  outer: for (const a of bases) {
    let x = powMod(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

describe('HE parameter set', () => {
  let session: BfvSession;
  beforeAll(async () => {
    session = await createBfvSession();
  });
  afterAll(() => session?.release());

  it('t is a 60-bit batching prime (t ≡ 1 mod 2n), the most SEAL allows', async () => {
    expect(isPrime(PLAIN_MODULUS)).toBe(true);
    expect(PLAIN_MODULUS.toString(2).length).toBe(PLAIN_MODULUS_BITS);
    expect(PLAIN_MODULUS % BigInt(2 * POLY_MODULUS_DEGREE)).toBe(1n);
    const seal = await loadSeal();
    expect(() => seal.PlainModulus.Batching(POLY_MODULUS_DEGREE, PLAIN_MODULUS_BITS + 1)).toThrow();
    expect(COEFF_MODULUS_BITS.reduce((a, b) => a + b)).toBe(
      seal.CoeffModulus.MaxBitCount(8192, seal.SecLevelType.tc128),
    );
  });

  it('the session recomputes the pinned parameter id', () => {
    expect(session.parameterId).toBe(HE_PARAMETER_ID);
    expect(session.slotCount).toBe(8192);
    expect(session.plainModulus).toBe(PLAIN_MODULUS);
  });

  it('exposure bounds keep every total exact and a safe integer', () => {
    expect(MAX_EXPOSURE_TOTAL).toBe(BigInt(MAX_CONTRIBUTORS) * MAX_CONTRIBUTION);
    expect(MAX_EXPOSURE_TOTAL).toBeLessThanOrEqual(BigInt(Number.MAX_SAFE_INTEGER));
    expect(MAX_EXPOSURE_TOTAL).toBeLessThanOrEqual(LARGEST_EXACT_TOTAL);
  });

  it('keeps noise budget after 64 additions of fresh ciphertexts and after a large scalar multiply', () => {
    const keys = session.createKeyPair();
    try {
      const values = Array.from({ length: 8192 }, () => MAX_CONTRIBUTION);
      const fresh = Array.from({ length: MAX_CONTRIBUTORS }, () => session.encryptVector(keys.publicKey, values));
      const sum = session.addCiphertexts(fresh);
      const freshBudget = keys.noiseBudget(fresh[0]);
      const sumBudget = keys.noiseBudget(sum);
      const weighted = session.multiplyPlainAndAdd(
        fresh.map((ciphertext) => ({ ciphertext, factor: -(2n ** 20n) })),
        0n,
      );
      const weightedBudget = keys.noiseBudget(weighted);
      console.log(
        `noise budget bits: fresh ${freshBudget}, after 64 additions ${sumBudget}, 64 terms × 2^20 ${weightedBudget}`,
      );
      expect(freshBudget).toBeGreaterThanOrEqual(100);
      expect(sumBudget).toBeGreaterThanOrEqual(95);
      expect(weightedBudget).toBeGreaterThan(60);
      expect(keys.decrypt(sum)[8191]).toBe(MAX_EXPOSURE_TOTAL);
      const expected = (((-(2n ** 20n) * MAX_EXPOSURE_TOTAL) % PLAIN_MODULUS) + PLAIN_MODULUS) % PLAIN_MODULUS;
      expect(keys.decrypt(weighted)[0]).toBe(expected);
    } finally {
      keys.release();
    }
  });

  it('SEAL refuses a coefficient modulus beyond the 128-bit bound', async () => {
    const seal = await loadSeal();
    const arena = sealArena();
    try {
      const parms = arena.keep(new seal.EncryptionParameters(seal.SchemeType.bfv));
      parms.setPolyModulusDegree(8192);
      parms.setCoeffModulus(arena.keep(seal.CoeffModulus.Create(8192, Int32Array.from([60, 60, 60, 60]))));
      parms.setPlainModulus(arena.keep(seal.PlainModulus.Batching(8192, 20)));
      const context = arena.keep(new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
      expect(context.parametersSet()).toBe(false);
    } finally {
      arena.release();
    }
  });
});
