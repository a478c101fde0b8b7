/**
 * Homomorphic-encryption benchmark (DESIGN §7, §11), without networking: the crypto/he core for
 * the cross-bank exposure query (5 contributors × 8192 enterprises, three masked vectors each)
 * and the multi-source score (4 holders, a batch of 4096), each beside the same steps on
 * plaintext figures in the same run. Also the single-thread cost of every BFV operation and the
 * serialized sizes.
 *
 * All parties run on this machine and share its cores through one pool of worker threads
 * (min(2, cores)); in a federation every bank encrypts on its own node, so
 * `estimatedDistributedBatchMs` adds up the critical path from the single-thread costs instead.
 */
import { randomInt } from 'node:crypto';
import {
  type BfvSession,
  checkExposureTotals,
  checkOverdueAndLenders,
  createBfvSession,
  createHePool,
  createScoringModel,
  decodeScores,
  EXPOSURE_BOUNDS,
  EXPOSURE_VECTORS,
  type ExposureVector,
  encodeAmounts,
  encodeFeature,
  encodeOverdueAndLenders,
  exposureRoundId,
  generateMaskKeyPair,
  type HePool,
  linearCombine,
  MAX_CONTRIBUTION,
  type MaskKeyPair,
  maskContribution,
  PLAIN_MODULUS,
  pairwiseMasks,
  type ScoringModelSpec,
  SLOT_COUNT,
  wasmHeapBytes,
} from '../crypto/he/index.ts';

const CONTRIBUTORS = 5;
const ENTERPRISES = SLOT_COUNT;
const SCORE_BATCH = 4096;
/** Largest random figure in the bench (10 billion yuan): realistic, far below the bound. */
const MAX_FIGURE = 10_000_000_000;

const ms = (x: number) => +x.toFixed(2);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeSync(reps: number, fn: (i: number) => void): number {
  fn(-1);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn(i);
    times.push(performance.now() - t);
  }
  return ms(p50(times));
}

function peersOf(banks: MaskKeyPair[], i: number): Map<string, Uint8Array> {
  return new Map(banks.flatMap((b, j) => (j === i ? [] : [[`bank-${j}`, b.publicKey] as const])));
}

/** Single-thread cost of each operation (p50 ms) and serialized sizes. */
async function operations(session: BfvSession) {
  const zstd = await createBfvSession({ compression: 'zstd' });
  try {
    const keys = session.createKeyPair();
    const values = encodeAmounts(Array.from({ length: ENTERPRISES }, () => randomInt(MAX_FIGURE)));
    const ct = session.encryptVector(keys.publicKey, values);
    const five = Array.from({ length: CONTRIBUTORS }, () => session.encryptVector(keys.publicKey, values));
    const sum = session.addCiphertexts(five);
    const fiveZstd = five.map(() => zstd.encryptVector(keys.publicKey, values));
    const banks = Array.from({ length: CONTRIBUTORS }, () => generateMaskKeyPair());
    const result = {
      keyPairMs: timeSync(10, () => session.createKeyPair().release()),
      encryptMs: timeSync(20, () => session.encryptVector(keys.publicKey, values)),
      encryptZstdMs: timeSync(20, () => zstd.encryptVector(keys.publicKey, values)),
      add5Ms: timeSync(20, () => session.addCiphertexts(five)),
      add5ZstdMs: timeSync(10, () => zstd.addCiphertexts(fiveZstd)),
      decryptMs: timeSync(20, () => keys.decrypt(sum)),
      multiplyPlainAndAdd4Ms: timeSync(10, () =>
        session.multiplyPlainAndAdd(
          five.slice(0, 4).map((ciphertext, i) => ({ ciphertext, factor: BigInt(i + 1) * -12_345n })),
          7n,
        ),
      ),
      masks4PeersMs: timeSync(20, (i) =>
        pairwiseMasks(banks[0].privateKey, peersOf(banks, 0), `bench-${i}`, SLOT_COUNT, PLAIN_MODULUS),
      ),
      noiseBudgetBits: { fresh: keys.noiseBudget(ct), sumOf5: keys.noiseBudget(sum) },
      bytes: {
        publicKey: keys.publicKey.length,
        ciphertext: ct.length,
        ciphertextZstd: fiveZstd[0].length,
      },
    };
    keys.release();
    return result;
  } finally {
    zstd.release();
  }
}

/** The exposure protocol's computation for one batch through the pool, and its plaintext twin. */
async function exposure(pool: HePool, batches: number) {
  const banks = Array.from({ length: CONTRIBUTORS }, () => generateMaskKeyPair());
  const figures = banks.map(() => ({
    outstanding: Array.from({ length: ENTERPRISES }, () => randomInt(MAX_FIGURE)),
    overdue: Array.from({ length: ENTERPRISES }, () => randomInt(MAX_FIGURE / 10)),
    lenders: Array.from({ length: ENTERPRISES }, () => randomInt(2)),
  }));
  const sumOf = (name: 'outstanding' | 'overdue' | 'lenders') =>
    Array.from({ length: ENTERPRISES }, (_, s) => figures.reduce((acc, f) => acc + f[name][s], 0));
  const expected = { outstanding: sumOf('outstanding'), overdue: sumOf('overdue'), lenders: sumOf('lenders') };
  /** One contributor's two vectors (the protocol's encoding: outstanding; overdue with the lender indicator). */
  const encode = (f: (typeof figures)[number]): Record<ExposureVector, BigInt64Array> => ({
    outstanding: encodeAmounts(f.outstanding, MAX_CONTRIBUTION),
    overdueAndLenders: encodeOverdueAndLenders(
      f.overdue,
      f.lenders.map((l) => l === 1),
    ),
  });
  /** Checks the two decrypted sums and compares them with the plaintext sums. */
  const verify = (outstanding: BigInt64Array, packed: BigInt64Array) => {
    const check = { enterprises: ENTERPRISES, contributors: CONTRIBUTORS };
    const o = checkExposureTotals(outstanding, { ...check, bound: EXPOSURE_BOUNDS.outstanding });
    const { overdue, lenders } = checkOverdueAndLenders(packed, check);
    return (
      o.every((v, s) => v === expected.outstanding[s]) &&
      overdue.every((v, s) => v === expected.overdue[s]) &&
      lenders.every((v, s) => v === expected.lenders[s])
    );
  };
  const phases = { keyPair: [] as number[], contribute: [] as number[], add: [] as number[], decrypt: [] as number[] };
  const totals: number[] = [];
  for (let b = 0; b <= batches; b++) {
    const t0 = performance.now();
    const requester = await pool.createKeyPair();
    const t1 = performance.now();
    const contributions = await Promise.all(
      banks.map((bank, i) => {
        const encoded = encode(figures[i]);
        return Promise.all(
          EXPOSURE_VECTORS.map((v) => {
            const mask = pairwiseMasks(
              bank.privateKey,
              peersOf(banks, i),
              exposureRoundId(`bench-${b}`, v),
              SLOT_COUNT,
              PLAIN_MODULUS,
            );
            return pool.encryptVector(requester.publicKey, maskContribution(encoded[v], mask), { compact: true });
          }),
        );
      }),
    );
    const t2 = performance.now();
    const sums = await Promise.all(EXPOSURE_VECTORS.map((_, k) => pool.addCiphertexts(contributions.map((c) => c[k]))));
    const t3 = performance.now();
    const decrypted = await Promise.all(sums.map((s) => requester.decrypt(s)));
    const ok = verify(decrypted[0], decrypted[1]);
    const t4 = performance.now();
    await requester.release();
    if (!ok) throw new Error('exposure sums are wrong');
    if (b === 0) continue; // warm-up
    phases.keyPair.push(t1 - t0);
    phases.contribute.push(t2 - t1);
    phases.add.push(t3 - t2);
    phases.decrypt.push(t4 - t3);
    totals.push(t4 - t0);
  }
  // Baseline: the same batch with plaintext figures: encode (same checks), copy as a frame, sum, check.
  const plain: number[] = [];
  for (let b = 0; b <= batches * 4; b++) {
    const t0 = performance.now();
    const frames = figures.map((f) => {
      const e = encode(f);
      return EXPOSURE_VECTORS.map((v) => new Uint8Array(e[v].buffer).slice());
    });
    const summed = EXPOSURE_VECTORS.map((_, k) => {
      const sum = new BigInt64Array(SLOT_COUNT);
      for (const bankFrames of frames) {
        const values = new BigInt64Array(bankFrames[k].buffer);
        for (let s = 0; s < SLOT_COUNT; s++) sum[s] += values[s];
      }
      return sum;
    });
    if (!verify(summed[0], summed[1])) throw new Error('plaintext sums are wrong');
    if (b > 0) plain.push(performance.now() - t0);
  }
  const batchMs = p50(totals);
  const plainMs = p50(plain);
  return {
    setup: `${CONTRIBUTORS} contributors × ${ENTERPRISES} enterprises × 2 vectors (outstanding; overdue with the lender indicator), masked, compact ciphertexts, one machine, pool of ${pool.size} workers`,
    batches,
    he: {
      batchP50Ms: ms(batchMs),
      phasesP50Ms: {
        keyPair: ms(p50(phases.keyPair)),
        masksAndEncrypt10: ms(p50(phases.contribute)),
        add2x5: ms(p50(phases.add)),
        decrypt2AndCheck: ms(p50(phases.decrypt)),
      },
      enterpriseTotalsPerSecond: Math.round((ENTERPRISES * 1000) / batchMs),
      oneEnterpriseP50Ms: ms(batchMs),
    },
    plaintextBaseline: {
      batchP50Ms: ms(plainMs),
      enterpriseTotalsPerSecond: Math.round((ENTERPRISES * 1000) / plainMs),
    },
    ratio: +(batchMs / plainMs).toFixed(1),
  };
}

/** The multi-source score for a batch of 4096 through the pool, and plaintext scoring. */
async function score(pool: HePool, batches: number) {
  const spec: ScoringModelSpec = {
    id: 'bench-sme-v1',
    intercept: 600,
    featureScale: 100,
    weightScale: 10_000,
    features: [
      { name: 'tax', weight: 0.8125, maxAbs: 1_000_000 },
      { name: 'socialInsurance', weight: 1.75, maxAbs: 600 },
      { name: 'utilityArrears', weight: -2.3333, maxAbs: 3650 },
      { name: 'judicial', weight: -45.5, maxAbs: 1000 },
    ],
  };
  const model = createScoringModel(spec);
  const features = spec.features.map((f) =>
    Array.from({ length: SCORE_BATCH }, () => (randomInt(-1_000_000, 1_000_001) / 1_000_000) * f.maxAbs),
  );
  const times: number[] = [];
  let checked: number[] = [];
  for (let b = 0; b <= batches; b++) {
    const t0 = performance.now();
    const requester = await pool.createKeyPair();
    const ciphertexts = new Map(
      await Promise.all(
        spec.features.map(
          async (f, k) =>
            [f.name, await pool.encryptVector(requester.publicKey, encodeFeature(model, f.name, features[k]))] as const,
        ),
      ),
    );
    const combined = await linearCombine(pool, ciphertexts, model);
    checked = decodeScores(model, await requester.decrypt(combined, { centred: true }), SCORE_BATCH);
    if (b > 0) times.push(performance.now() - t0);
    await requester.release();
  }
  const plain: number[] = [];
  let plainScores: number[] = [];
  for (let b = 0; b <= batches * 20; b++) {
    const t0 = performance.now();
    plainScores = Array.from({ length: SCORE_BATCH }, (_, i) =>
      spec.features.reduce((acc, f, k) => acc + f.weight * features[k][i], spec.intercept),
    );
    if (b > 0) plain.push(performance.now() - t0);
  }
  const maxError = Math.max(...checked.map((s, i) => Math.abs(s - plainScores[i])));
  if (maxError > model.precision) throw new Error('HE scores differ beyond the model precision');
  const heMs = p50(times);
  const plainMs = p50(plain);
  return {
    setup: `${spec.features.length} holders, batch of ${SCORE_BATCH}, key pair + 4 encryptions + combine + decrypt, pool of ${pool.size} workers`,
    he: { batchP50Ms: ms(heMs), scoresPerSecond: Math.round((SCORE_BATCH * 1000) / heMs) },
    plaintextBaseline: { batchP50Ms: ms(plainMs), scoresPerSecond: Math.round((SCORE_BATCH * 1000) / plainMs) },
    ratio: +(heMs / plainMs).toFixed(1),
    maxAbsErrorVsReal: maxError,
    provenPrecision: model.precision,
  };
}

/** Runs the HE benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const batches = Number(process.env.BENCH_HE_BATCHES ?? 10);
  const session = await createBfvSession();
  let pool: HePool | undefined;
  try {
    const ops = await operations(session);
    const t = performance.now();
    pool = createHePool();
    await pool.stats();
    const poolStartMs = ms(performance.now() - t);
    const exposureResult = await exposure(pool, batches);
    const scoreResult = await score(pool, batches);
    const distributed = ops.keyPairMs + 3 * (ops.masks4PeersMs + ops.encryptMs) + 3 * ops.add5Ms + 3 * ops.decryptMs;
    return {
      parameters: { n: 8192, coeffModulusBits: [43, 43, 44, 44, 44], plainModulus: PLAIN_MODULUS.toString(), bits: 60 },
      operationsP50Ms: ops,
      poolStartMs,
      exposure: {
        ...exposureResult,
        estimatedDistributedBatchMs: ms(distributed),
        estimatedDistributedEnterpriseTotalsPerSecond: Math.round((ENTERPRISES * 1000) / distributed),
      },
      score: scoreResult,
      mainThreadWasmHeapBytes: wasmHeapBytes(),
      targets: {
        exposure:
          '>= 20,000 enterprise totals/s; one enterprise <= 150 ms p50; HE overhead <= 5x over plaintext sums over the same libp2p protocol (federation bench)',
      },
    };
  } finally {
    await pool?.close();
    session.release();
  }
}
