import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BfvKeyPair, type BfvSession, createBfvSession } from './bfv.ts';
import { HeRangeError, HeResultError } from './errors.ts';
import {
  checkExposureLimbs,
  checkExposureTotals,
  checkOverdueAndLenders,
  EXPOSURE_BOUNDS,
  encodeAmounts,
  encodeExposureLimbs,
  encodeIndicators,
  encodeOverdueAndLenders,
  exposureRoundId,
  LENDER_UNIT,
  maskContribution,
  SMALL_EXPOSURE_BATCH,
} from './exposure.ts';
import { generateMaskKeyPair, type MaskKeyPair, pairwiseMasks } from './masks.ts';
import { MAX_CONTRIBUTION, MAX_CONTRIBUTORS, PLAIN_MODULUS, SLOT_COUNT, SMALL_SET } from './params.ts';
import { randomBelowOrEqual } from './test-helpers.ts';

const CONTRIBUTORS = 5;

/** Contributor `i`'s masked, encrypted vector for one round. */
function contribute(
  session: BfvSession,
  publicKey: Uint8Array,
  banks: MaskKeyPair[],
  i: number,
  roundId: string,
  encoded: BigInt64Array,
): Uint8Array {
  const peers = new Map<string, Uint8Array>();
  banks.forEach((b, j) => {
    if (j !== i) peers.set(`bank-${j}`, b.publicKey);
  });
  const mask = pairwiseMasks(banks[i].privateKey, peers, roundId, SLOT_COUNT, PLAIN_MODULUS);
  return session.encryptVector(publicKey, maskContribution(encoded, mask));
}

describe('cross-bank exposure', () => {
  let session: BfvSession;
  let requester: BfvKeyPair;
  const banks = Array.from({ length: CONTRIBUTORS }, () => generateMaskKeyPair());
  beforeAll(async () => {
    session = await createBfvSession();
    requester = session.createKeyPair();
  });
  afterAll(() => session?.release());

  it('sums 5 contributors × 8192 enterprises exactly (unmasked and masked), up to the bound', () => {
    const figures = banks.map(() => randomBelowOrEqual(SLOT_COUNT, MAX_CONTRIBUTION));
    figures[0][0] = MAX_CONTRIBUTION;
    figures[1][0] = MAX_CONTRIBUTION;
    const expected = figures[0].map((_, s) => figures.reduce((acc, f) => acc + f[s], 0n));
    const encoded = figures.map((f) => encodeAmounts(f));

    const plainSum = session.addCiphertexts(encoded.map((e) => session.encryptVector(requester.publicKey, e)));
    const plainTotals = checkExposureTotals(requester.decrypt(plainSum), {
      enterprises: SLOT_COUNT,
      contributors: CONTRIBUTORS,
    });
    expect(plainTotals.map(BigInt)).toEqual(expected);

    const roundId = exposureRoundId('query-1', 'outstanding');
    const masked = encoded.map((e, i) => contribute(session, requester.publicKey, banks, i, roundId, e));
    const totals = checkExposureTotals(requester.decrypt(session.addCiphertexts(masked)), {
      enterprises: SLOT_COUNT,
      contributors: CONTRIBUTORS,
    });
    expect(totals.map(BigInt)).toEqual(expected);
    expect(totals.every(Number.isSafeInteger)).toBe(true);
  });

  it('a single contribution decrypts to noise, even for the coordinator and requester together', () => {
    const enterprises = 1000;
    const figures = banks.map(() => randomBelowOrEqual(enterprises, 10_000_000n));
    const roundId = exposureRoundId('query-2', 'outstanding');
    const contributions = figures.map((f, i) =>
      contribute(session, requester.publicKey, banks, i, roundId, encodeAmounts(f)),
    );
    // Collusion: the requester decrypts what the coordinator forwards of bank 0 alone.
    const single = requester.decrypt(contributions[0]);
    let plausible = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (s < enterprises) expect(single[s]).not.toBe(figures[0][s]);
      else expect(single[s]).not.toBe(0n);
      if (single[s] <= MAX_CONTRIBUTION) plausible++;
    }
    // Uniform modulo t: a slot falls below 2^47 with probability 2^-13.
    expect(plausible).toBeLessThan(16);
    expect(() => checkExposureTotals(single, { enterprises, contributors: 1 })).toThrow(HeResultError);
    // A sum missing one contributor leaves masks that do not cancel: refused.
    const partial = requester.decrypt(session.addCiphertexts(contributions.slice(1)));
    expect(() => checkExposureTotals(partial, { enterprises, contributors: CONTRIBUTORS - 1 })).toThrow(HeResultError);
    // The full sum is exact.
    const totals = checkExposureTotals(requester.decrypt(session.addCiphertexts(contributions)), {
      enterprises,
      contributors: CONTRIBUTORS,
    });
    expect(totals.map(BigInt)).toEqual(figures[0].map((_, s) => figures.reduce((acc, f) => acc + f[s], 0n)));
  });

  it('counts lending banks with the 0/1 indicator vector', () => {
    const indicators = banks.map((_, i) => Array.from({ length: 100 }, (_, s) => (s + i) % 3 === 0));
    const roundId = exposureRoundId('query-3', 'overdueAndLenders');
    const sum = session.addCiphertexts(
      indicators.map((v, i) => contribute(session, requester.publicKey, banks, i, roundId, encodeIndicators(v))),
    );
    const counts = checkExposureTotals(requester.decrypt(sum), {
      enterprises: 100,
      contributors: CONTRIBUTORS,
      bound: EXPOSURE_BOUNDS.lenders,
    });
    expect(counts).toEqual(Array.from({ length: 100 }, (_, s) => indicators.filter((v) => v[s]).length));
  });

  it('packs overdue amounts and lender indicators in one vector, exact up to the bounds of 64 contributors', () => {
    // The largest packed total fits below t: 64 lenders and 64 maximal overdue amounts.
    expect(BigInt(MAX_CONTRIBUTORS) * (LENDER_UNIT + MAX_CONTRIBUTION)).toBeLessThan(PLAIN_MODULUS);
    expect(BigInt(MAX_CONTRIBUTORS) * MAX_CONTRIBUTION).toBeLessThan(LENDER_UNIT);
    const overdue = banks.map(() => randomBelowOrEqual(300, MAX_CONTRIBUTION));
    const lenders = banks.map((_, i) => Array.from({ length: 300 }, (_, s) => (s + i) % 4 !== 0));
    for (const o of overdue) o[0] = MAX_CONTRIBUTION;
    for (const l of lenders) l[0] = true;
    const roundId = exposureRoundId('query-4', 'overdueAndLenders');
    const sum = session.addCiphertexts(
      banks.map((_, i) =>
        contribute(session, requester.publicKey, banks, i, roundId, encodeOverdueAndLenders(overdue[i], lenders[i])),
      ),
    );
    const split = checkOverdueAndLenders(requester.decrypt(sum), { enterprises: 300, contributors: CONTRIBUTORS });
    expect(split.overdue.map(BigInt)).toEqual(overdue[0].map((_, s) => overdue.reduce((a, o) => a + o[s], 0n)));
    expect(split.lenders).toEqual(lenders[0].map((_, s) => lenders.filter((l) => l[s]).length));
    // 64 contributors at the bounds, unmasked: the packed total still splits exactly.
    const top = encodeOverdueAndLenders([MAX_CONTRIBUTION], [true]);
    const full = session.addCiphertexts(
      Array.from({ length: MAX_CONTRIBUTORS }, () =>
        session.encryptVector(requester.publicKey, top, { compact: true }),
      ),
    );
    expect(checkOverdueAndLenders(requester.decrypt(full), { enterprises: 1, contributors: MAX_CONTRIBUTORS })).toEqual(
      {
        overdue: [Number(BigInt(MAX_CONTRIBUTORS) * MAX_CONTRIBUTION)],
        lenders: [MAX_CONTRIBUTORS],
      },
    );
    // A lender count or an overdue total above K times its bound is refused.
    const one = session.encryptVector(requester.publicKey, encodeOverdueAndLenders([5, 0], [true, true]));
    const two = session.addCiphertexts([one, one]);
    expect(() => checkOverdueAndLenders(requester.decrypt(two), { enterprises: 2, contributors: 1 })).toThrow(
      HeResultError,
    );
    expect(() => encodeOverdueAndLenders([1], [true, false])).toThrow(RangeError);
    expect(() => encodeOverdueAndLenders([MAX_CONTRIBUTION + 1n], [true])).toThrow(HeRangeError);
  });

  it('refuses a packed sum decrypted under another key (garbage) by range', () => {
    const other = session.createKeyPair();
    try {
      const ct = session.encryptVector(other.publicKey, encodeOverdueAndLenders([1, 2, 3], [true, false, true]));
      expect(() =>
        checkOverdueAndLenders(requester.decrypt(ct), { enterprises: 3, contributors: CONTRIBUTORS }),
      ).toThrow(HeResultError);
    } finally {
      other.release();
    }
  });

  it('refuses figures that could overflow, naming the slot but not the figure', () => {
    expect(() => encodeAmounts([1n, MAX_CONTRIBUTION + 1n])).toThrow(HeRangeError);
    expect(() => encodeAmounts([-1])).toThrow(HeRangeError);
    expect(() => encodeAmounts([1.5])).toThrow(HeRangeError);
    expect(() => encodeAmounts([2 ** 53])).toThrow(HeRangeError);
    expect(() => encodeAmounts([Number.NaN])).toThrow(HeRangeError);
    expect(() => encodeAmounts(new Array(SLOT_COUNT + 1).fill(0))).toThrow(HeRangeError);
    expect(() => encodeIndicators([1, 2 as 1])).toThrow(HeRangeError);
    let caught: unknown;
    try {
      encodeAmounts([0, 987_654_321_987_654_321n]);
    } catch (err) {
      caught = err;
    }
    expect((caught as HeRangeError).code).toBe('HE_VALUE_OUT_OF_RANGE');
    expect((caught as Error).message).toContain('slot 1');
    expect((caught as Error).message).not.toContain('987');
    expect(encodeAmounts([2 ** 47 - 1])[0]).toBe(MAX_CONTRIBUTION);
  });

  it('refuses a sum decrypted under another key (garbage) by range', () => {
    const other = session.createKeyPair();
    try {
      const ct = session.encryptVector(other.publicKey, encodeAmounts([1, 2, 3]));
      expect(() => checkExposureTotals(requester.decrypt(ct), { enterprises: 3, contributors: 1 })).toThrow(
        HeResultError,
      );
    } finally {
      other.release();
    }
  });
});

describe('cross-bank exposure, small batches (n = 4096, figures in 16-bit limbs)', () => {
  let session: BfvSession;
  let requester: BfvKeyPair;
  const banks = Array.from({ length: CONTRIBUTORS }, () => generateMaskKeyPair());
  beforeAll(async () => {
    session = await createBfvSession({ set: SMALL_SET, compression: 'zstd' });
    requester = session.createKeyPair();
  });
  afterAll(() => session?.release());

  /** Contributor `i`'s masked, encrypted limb vector under the small set. */
  const contribute = (i: number, roundId: string, encoded: BigInt64Array) => {
    const peers = new Map(banks.flatMap((b, j) => (j === i ? [] : [[`bank-${j}`, b.publicKey] as const])));
    const mask = pairwiseMasks(banks[i].privateKey, peers, roundId, SMALL_SET.slotCount, SMALL_SET.plainModulus);
    return session.encryptVector(requester.publicKey, maskContribution(encoded, mask, SMALL_SET.plainModulus));
  };

  it('sums 5 masked contributors × 585 enterprises exactly, up to the bounds', () => {
    const n = SMALL_EXPOSURE_BATCH;
    expect(n).toBe(585);
    const figures = banks.map(() => ({
      outstanding: randomBelowOrEqual(n, MAX_CONTRIBUTION),
      overdue: randomBelowOrEqual(n, MAX_CONTRIBUTION),
      lenders: Array.from({ length: n }, () => Math.random() < 0.5),
    }));
    for (const f of figures) {
      f.outstanding[0] = MAX_CONTRIBUTION;
      f.overdue[0] = MAX_CONTRIBUTION;
      f.lenders[0] = true;
    }
    const sum = session.addCiphertexts(
      figures.map((f, i) => contribute(i, 'small-1', encodeExposureLimbs(f.outstanding, f.overdue, f.lenders))),
    );
    const totals = checkExposureLimbs(requester.decrypt(sum), { enterprises: n, contributors: CONTRIBUTORS });
    const add = (pick: (f: (typeof figures)[number], s: number) => bigint) =>
      Array.from({ length: n }, (_, s) => Number(figures.reduce((a, f) => a + pick(f, s), 0n)));
    expect(totals.outstanding).toEqual(add((f, s) => f.outstanding[s]));
    expect(totals.overdue).toEqual(add((f, s) => f.overdue[s]));
    expect(totals.lenders).toEqual(add((f, s) => (f.lenders[s] ? 1n : 0n)));
    // 64 contributors at the bounds (unmasked): still exact.
    const top = encodeExposureLimbs([MAX_CONTRIBUTION], [MAX_CONTRIBUTION], [true]);
    const full = session.addCiphertexts(
      Array.from({ length: MAX_CONTRIBUTORS }, () => session.encryptVector(requester.publicKey, top)),
    );
    const max = Number(BigInt(MAX_CONTRIBUTORS) * MAX_CONTRIBUTION);
    expect(checkExposureLimbs(requester.decrypt(full), { enterprises: 1, contributors: MAX_CONTRIBUTORS })).toEqual({
      outstanding: [max],
      overdue: [max],
      lenders: [MAX_CONTRIBUTORS],
    });
  });

  it('refuses garbage, a missing contributor, too many enterprises and figures that could overflow', () => {
    const f = encodeExposureLimbs([5, 6], [1, 0], [true, true]);
    // A missing contributor: its peers' masks do not cancel.
    const partial = session.addCiphertexts([0, 1, 2, 3].map((i) => contribute(i, 'small-2', f)));
    expect(() => checkExposureLimbs(requester.decrypt(partial), { enterprises: 2, contributors: 4 })).toThrow(
      HeResultError,
    );
    const other = session.createKeyPair();
    try {
      const ct = session.encryptVector(other.publicKey, f);
      expect(() => checkExposureLimbs(requester.decrypt(ct), { enterprises: 2, contributors: 5 })).toThrow(
        HeResultError,
      );
    } finally {
      other.release();
    }
    // More than K lenders, or a total above K times the bound, is refused.
    const twice = session.addCiphertexts([
      session.encryptVector(requester.publicKey, f),
      session.encryptVector(requester.publicKey, f),
    ]);
    expect(() => checkExposureLimbs(requester.decrypt(twice), { enterprises: 2, contributors: 1 })).toThrow(
      HeResultError,
    );
    const n = SMALL_EXPOSURE_BATCH + 1;
    expect(() => encodeExposureLimbs(new Array(n).fill(0), new Array(n).fill(0), new Array(n).fill(false))).toThrow(
      HeRangeError,
    );
    expect(() => encodeExposureLimbs([MAX_CONTRIBUTION + 1n], [0], [false])).toThrow(HeRangeError);
    expect(() => encodeExposureLimbs([1], [], [false])).toThrow(RangeError);
    expect(() => session.encryptVector(requester.publicKey, f, { compact: true })).toThrow(RangeError);
  });
});
