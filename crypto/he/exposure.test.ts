import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BfvKeyPair, type BfvSession, createBfvSession } from './bfv.ts';
import { HeRangeError, HeResultError } from './errors.ts';
import {
  checkExposureTotals,
  checkOverdueAndLenders,
  EXPOSURE_BOUNDS,
  encodeAmounts,
  encodeIndicators,
  encodeOverdueAndLenders,
  exposureRoundId,
  LENDER_UNIT,
  maskContribution,
} from './exposure.ts';
import { generateMaskKeyPair, type MaskKeyPair, pairwiseMasks } from './masks.ts';
import { MAX_CONTRIBUTION, MAX_CONTRIBUTORS, PLAIN_MODULUS, SLOT_COUNT } from './params.ts';
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
