import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BfvKeyPair, type BfvSession, createBfvSession } from './bfv.ts';
import { HeRangeError, HeResultError } from './errors.ts';
import { MAX_CENTRED_MAGNITUDE } from './params.ts';
import { createScoringModel, decodeScores, encodeFeature, linearCombine, type ScoringModelSpec } from './score.ts';

/** A credit model over four holders' features, with negative weights. */
const SPEC: ScoringModelSpec = {
  id: 'sme-credit-v1',
  intercept: 612.5,
  featureScale: 100,
  weightScale: 10_000,
  features: [
    { name: 'taxPaidTenThousandYuan', weight: 0.8125, maxAbs: 1_000_000 },
    { name: 'socialInsuranceMonths', weight: 1.75, maxAbs: 600 },
    { name: 'utilityArrearsDays', weight: -2.333333, maxAbs: 3650 },
    { name: 'judicialCases', weight: -45.5, maxAbs: 1000 },
  ],
};

const random = (maxAbs: number) => (randomInt(-1_000_000, 1_000_001) / 1_000_000) * maxAbs;

describe('multi-source linear score', () => {
  let session: BfvSession;
  let requester: BfvKeyPair;
  beforeAll(async () => {
    session = await createBfvSession();
    requester = session.createKeyPair();
  });
  afterAll(() => session?.release());

  it('proves the model range and its precision', () => {
    const model = createScoringModel(SPEC);
    expect(model.scale).toBe(1_000_000n);
    expect(model.intercept).toBe(612_500_000n);
    expect(model.weights.get('utilityArrearsDays')).toBe(-23_333n);
    expect(model.bound).toBeLessThanOrEqual(MAX_CENTRED_MAGNITUDE);
    expect(model.precision).toBeLessThan(1);
  });

  it('equals the plaintext computation, negative weights and values included', () => {
    const model = createScoringModel(SPEC);
    const count = 4096;
    const features = new Map(SPEC.features.map((f) => [f.name, Array.from({ length: count }, () => random(f.maxAbs))]));
    // Holders encrypt under the requester's key; the coordinator combines; the requester decodes.
    const ciphertexts = new Map(
      [...features].map(([name, values]) => [
        name,
        session.encryptVector(requester.publicKey, encodeFeature(model, name, values)),
      ]),
    );
    const combined = linearCombine(session, ciphertexts, model);
    const scores = decodeScores(model, requester.decrypt(combined, { centred: true }), count);
    for (let i = 0; i < count; i++) {
      // Exact fixed-point result.
      let fixed = model.intercept;
      for (const f of SPEC.features)
        fixed += model.weights.get(f.name)! * BigInt(Math.round(features.get(f.name)![i] * model.featureScale));
      expect(scores[i]).toBe(Number(fixed) / Number(model.scale));
      // Real-valued model within the proven precision.
      const real = SPEC.features.reduce((acc, f) => acc + f.weight * features.get(f.name)![i], SPEC.intercept);
      expect(Math.abs(scores[i] - real)).toBeLessThanOrEqual(model.precision);
    }
    expect(scores.some((s) => s < 0)).toBe(true);
  });

  it('decrypts exactly at the edge of the proven range', () => {
    // One feature whose worst case is exactly (t − 1)/2 in magnitude.
    const model = createScoringModel({
      id: 'edge',
      intercept: 0,
      featureScale: 1,
      weightScale: 1,
      features: [{ name: 'x', weight: -Number(MAX_CENTRED_MAGNITUDE / 2n ** 20n), maxAbs: 2 ** 20 }],
    });
    expect(model.bound).toBeLessThanOrEqual(MAX_CENTRED_MAGNITUDE);
    const ct = session.encryptVector(requester.publicKey, encodeFeature(model, 'x', [2 ** 20, -(2 ** 20), 1]));
    const combined = linearCombine(session, new Map([['x', ct]]), model);
    const w = model.weights.get('x')!;
    expect(Array.from(requester.decrypt(combined, { centred: true }).slice(0, 3))).toEqual([
      w * 2n ** 20n,
      -w * 2n ** 20n,
      w,
    ]);
    expect(requester.noiseBudget(combined)).toBeGreaterThan(20);
  });

  it('refuses models and inputs that could leave the centred range', () => {
    const tooWide = { ...SPEC, features: [{ name: 'x', weight: 1e9, maxAbs: 1e9 }] };
    expect(() => createScoringModel(tooWide)).toThrow(HeRangeError);
    expect(() => createScoringModel({ ...SPEC, featureScale: 0 })).toThrow(HeRangeError);
    expect(() => createScoringModel({ ...SPEC, weightScale: 1.5 })).toThrow(HeRangeError);
    expect(() => createScoringModel({ ...SPEC, features: [{ name: 'x', weight: 0.00001, maxAbs: 1 }] })).toThrow(
      HeRangeError,
    );
    expect(() => createScoringModel({ ...SPEC, features: [{ name: 'x', weight: Number.NaN, maxAbs: 1 }] })).toThrow(
      HeRangeError,
    );
    expect(() =>
      createScoringModel({
        ...SPEC,
        features: [
          { name: 'x', weight: 1, maxAbs: 1 },
          { name: 'x', weight: 2, maxAbs: 1 },
        ],
      }),
    ).toThrow(HeRangeError);
    expect(() => createScoringModel({ ...SPEC, features: [] })).toThrow(HeRangeError);
    const model = createScoringModel(SPEC);
    expect(() => encodeFeature(model, 'judicialCases', [1001])).toThrow(HeRangeError);
    expect(() => encodeFeature(model, 'judicialCases', [Number.POSITIVE_INFINITY])).toThrow(HeRangeError);
    expect(() => encodeFeature(model, 'unknown', [1])).toThrow(HeRangeError);
    const ct = session.encryptVector(requester.publicKey, encodeFeature(model, 'judicialCases', [1]));
    expect(() => linearCombine(session, new Map([['judicialCases', ct]]), model)).toThrow(HeRangeError);
    const all = new Map(SPEC.features.map((f) => [f.name, ct]));
    expect(() => linearCombine(session, new Map([...all, ['extra', ct]]), model)).toThrow(HeRangeError);
  });

  it('refuses a result decrypted under another key', () => {
    const model = createScoringModel(SPEC);
    const other = session.createKeyPair();
    try {
      const ciphertexts = new Map(
        SPEC.features.map((f) => [
          f.name,
          session.encryptVector(other.publicKey, encodeFeature(model, f.name, [1, 2])),
        ]),
      );
      const combined = linearCombine(session, ciphertexts, model);
      expect(() => decodeScores(model, requester.decrypt(combined, { centred: true }), 2)).toThrow(HeResultError);
      expect(decodeScores(model, other.decrypt(combined, { centred: true }), 2).length).toBe(2);
    } finally {
      other.release();
    }
  });
});
