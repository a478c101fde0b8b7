/**
 * Plaintext side of the cross-bank exposure query (DESIGN §7.1): encoding one contributor's
 * figures with the bounds that keep the sum exact, masking them, and the requester's range check
 * on the decrypted totals.
 *
 * Per batch (one enterprise per slot, up to 8192) each contributor sends two ciphertexts
 * ({@link EXPOSURE_VECTORS}): `outstanding`, the amount in whole yuan (at most
 * {@link MAX_CONTRIBUTION}), and `overdueAndLenders`, the overdue amount (at most
 * {@link MAX_CONTRIBUTION}) plus the lender indicator (0 or 1) times {@link LENDER_UNIT} = 2^53
 * in the same slot. The coordinator adds up to {@link MAX_CONTRIBUTORS} contributions per
 * vector, so an outstanding or overdue total is at most {@link MAX_EXPOSURE_TOTAL} = 2^53 − 64 <
 * 2^53 and a lender count at most 64: a packed total is at most 64 · 2^53 + 2^53 − 64 < 2^59.1 < t.
 *
 * Exactness proof: each contribution c_k ∈ [0, bound]; masks m_k satisfy Σ m_k ≡ 0 (mod t); the
 * decrypted sum is Σ (c_k + m_k) mod t = (Σ c_k) mod t = Σ c_k, because 0 ≤ Σ c_k < t for
 * K ≤ MAX_CONTRIBUTORS (above); a packed total L · 2^53 + O with O < 2^53 splits back exactly.
 *
 * Wrong-key and missing-contributor detection: a ciphertext under another key, a contribution
 * missing from the sum (its peers' masks then do not cancel) or a tampered ciphertext decrypts
 * to values uniform modulo t. {@link checkExposureTotals} and {@link checkOverdueAndLenders}
 * refuse a result unless every used slot is within K times its bounds and every unused slot is
 * exactly 0; a uniform slot passes with probability below 2^53 / 2^60 = 2^−7 (outstanding),
 * (K + 1) · 2^−7 · K · 2^−6 (packed; under 2^−8 for K = 5) or 2^−60 (unused), so a garbage batch
 * of more than a handful of enterprises, or any batch with unused slots, is refused with
 * overwhelming probability.
 */
import { HeRangeError, HeResultError } from './errors.ts';
import { MAX_CONTRIBUTION, MAX_CONTRIBUTORS, PLAIN_MODULUS, SLOT_COUNT, SMALL_SET } from './params.ts';

/** The two vectors (ciphertexts) a contributor sends per batch. */
export const EXPOSURE_VECTORS = ['outstanding', 'overdueAndLenders'] as const;
/** One of {@link EXPOSURE_VECTORS}. */
export type ExposureVector = (typeof EXPOSURE_VECTORS)[number];
/** The multiplier of the lender indicator in a packed `overdueAndLenders` slot: 2^53. */
export const LENDER_UNIT = 2n ** 53n;
/** The largest figure one contributor may put in one slot, per figure. */
export const EXPOSURE_BOUNDS: Readonly<Record<'outstanding' | 'overdue' | 'lenders', bigint>> = {
  outstanding: MAX_CONTRIBUTION,
  overdue: MAX_CONTRIBUTION,
  lenders: 1n,
};

/** The mask round id of one vector of one query: masks must never be reused across vectors. */
export function exposureRoundId(queryId: string, vector: ExposureVector | typeof SMALL_EXPOSURE_VECTOR): string {
  if (typeof queryId !== 'string' || queryId.length === 0) throw new TypeError('queryId must be a non-empty string');
  return `${queryId}/${vector}`;
}

/**
 * Encodes one contributor's figures for one vector, refusing any that could overflow the sum.
 * @param values one figure per enterprise (whole yuan, or 0/1 for lenders), at most {@link SLOT_COUNT}.
 * @param bound the largest figure allowed (default {@link MAX_CONTRIBUTION}; must not exceed it).
 * @returns {@link SLOT_COUNT} values, zero past the batch.
 * @throws HeRangeError naming the slot of the first figure that is not a non-negative safe
 * integer at most `bound`.
 */
export function encodeAmounts(values: ReadonlyArray<number | bigint>, bound: bigint = MAX_CONTRIBUTION): BigInt64Array {
  if (typeof bound !== 'bigint' || bound < 0n || bound > MAX_CONTRIBUTION)
    throw new RangeError(`bound must be a bigint in [0, ${MAX_CONTRIBUTION}]`);
  if (values.length > SLOT_COUNT) throw new HeRangeError(`at most ${SLOT_COUNT} figures fit in one batch`);
  const out = new BigInt64Array(SLOT_COUNT);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let n: bigint;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new HeRangeError(`figure at slot ${i} is not a safe integer`);
      n = BigInt(v);
    } else if (typeof v === 'bigint') n = v;
    else throw new TypeError(`figure at slot ${i} must be a number or a bigint`);
    if (n < 0n) throw new HeRangeError(`figure at slot ${i} is negative`);
    if (n > bound) throw new HeRangeError(`figure at slot ${i} exceeds the per-contributor bound`);
    out[i] = n;
  }
  return out;
}

/** Encodes lender indicators (true/1 when this contributor lends to the enterprise). */
export function encodeIndicators(values: ReadonlyArray<boolean | 0 | 1>): BigInt64Array {
  return encodeAmounts(
    values.map((v) => (v === true ? 1 : v === false ? 0 : v)),
    EXPOSURE_BOUNDS.lenders,
  );
}

/**
 * Encodes one contributor's overdue amounts and lender indicators into the packed
 * `overdueAndLenders` vector: overdue + indicator · {@link LENDER_UNIT} per slot.
 * @throws HeRangeError as {@link encodeAmounts} and {@link encodeIndicators} do.
 */
export function encodeOverdueAndLenders(
  overdue: ReadonlyArray<number | bigint>,
  lenders: ReadonlyArray<boolean | 0 | 1>,
): BigInt64Array {
  if (overdue.length !== lenders.length) throw new RangeError('overdue amounts and lenders must have the same length');
  const out = encodeAmounts(overdue);
  const indicators = encodeIndicators(lenders);
  for (let i = 0; i < lenders.length; i++) if (indicators[i] === 1n) out[i] += LENDER_UNIT;
  return out;
}

/**
 * Adds a mask to encoded figures slot-wise modulo t (both residues in [0, t), same length).
 * @returns residues in [0, t), ready for `encryptVector`.
 */
export function maskContribution(
  encoded: BigInt64Array,
  mask: BigInt64Array,
  t: bigint = PLAIN_MODULUS,
): BigInt64Array {
  if (encoded.length !== mask.length) throw new RangeError('figures and mask must have the same length');
  const out = new BigInt64Array(encoded.length);
  for (let i = 0; i < encoded.length; i++) {
    const a = encoded[i];
    const m = mask[i];
    if (a < 0n || a >= t || m < 0n || m >= t) throw new RangeError(`slot ${i} is not a residue modulo t`);
    const s = a + m;
    out[i] = s >= t ? s - t : s;
  }
  return out;
}

/**
 * Checks a decrypted `overdueAndLenders` sum and splits it into overdue totals and lender
 * counts (safe integers).
 * @throws HeResultError naming the first slot out of range (garbage: see the module comment).
 */
export function checkOverdueAndLenders(
  sums: BigInt64Array,
  check: Omit<ExposureCheck, 'bound'>,
): { overdue: number[]; lenders: number[] } {
  const { enterprises, contributors } = check;
  if (!Number.isSafeInteger(enterprises) || enterprises < 0 || enterprises > sums.length)
    throw new RangeError('enterprises must be an integer within the decrypted slots');
  if (!Number.isSafeInteger(contributors) || contributors < 1 || contributors > MAX_CONTRIBUTORS)
    throw new RangeError(`contributors must be an integer from 1 to ${MAX_CONTRIBUTORS}`);
  const k = BigInt(contributors);
  const maxOverdue = k * EXPOSURE_BOUNDS.overdue;
  const overdue = new Array<number>(enterprises);
  const lenders = new Array<number>(enterprises);
  for (let i = 0; i < sums.length; i++) {
    const v = sums[i];
    if (i < enterprises) {
      if (v < 0n) throw new HeResultError(`decrypted total at slot ${i} is out of range`);
      const count = v / LENDER_UNIT;
      const amount = v % LENDER_UNIT;
      if (count > k || amount > maxOverdue) throw new HeResultError(`decrypted total at slot ${i} is out of range`);
      overdue[i] = Number(amount);
      lenders[i] = Number(count);
    } else if (v !== 0n) throw new HeResultError(`decrypted slot ${i} past the batch is not zero`);
  }
  return { overdue, lenders };
}

// --- Small batches: the small parameter set (n = 4096, t = 268369921), figures in limbs. -------

/** The one vector a contributor sends for a small batch (all its figures, in limbs). */
export const SMALL_EXPOSURE_VECTOR = 'limbs';
/** Bits per limb of a figure under the small parameter set. */
export const LIMB_BITS = 16;
/** Limbs per figure: 3 × 16 = 48 bits, enough for {@link MAX_CONTRIBUTION} (47 bits). */
export const LIMBS = 3;
/** Slots per enterprise under the small set: outstanding (3 limbs), overdue (3 limbs), lender indicator. */
export const LIMB_SLOTS_PER_ENTERPRISE = 2 * LIMBS + 1;
/** Most enterprises one small-set ciphertext holds: ⌊4096 / 7⌋ = 585. */
export const SMALL_EXPOSURE_BATCH = Math.floor(SMALL_SET.slotCount / LIMB_SLOTS_PER_ENTERPRISE);
const LIMB_MAX = 2 ** LIMB_BITS - 1;

/**
 * Encodes one contributor's figures for a small batch, in one vector of the small set: enterprise
 * i in slots 7i … 7i + 6 (outstanding limbs low to high, overdue limbs, lender indicator), zero
 * past the batch. A limb sum over K ≤ {@link MAX_CONTRIBUTORS} contributors is at most
 * 64 · (2^16 − 1) < 2^22 < t, so every slot of the sum is exact and the requester recombines the
 * totals exactly ({@link checkExposureLimbs}).
 * @throws HeRangeError as {@link encodeAmounts} and {@link encodeIndicators} do, or for more than
 * {@link SMALL_EXPOSURE_BATCH} enterprises.
 */
export function encodeExposureLimbs(
  outstanding: ReadonlyArray<number | bigint>,
  overdue: ReadonlyArray<number | bigint>,
  lenders: ReadonlyArray<boolean | 0 | 1>,
): BigInt64Array {
  const n = outstanding.length;
  if (overdue.length !== n || lenders.length !== n) throw new RangeError('every figure list must have the same length');
  if (n > SMALL_EXPOSURE_BATCH)
    throw new HeRangeError(`at most ${SMALL_EXPOSURE_BATCH} enterprises fit in one small-set batch`);
  const o = encodeAmounts(outstanding);
  const d = encodeAmounts(overdue);
  const l = encodeIndicators(lenders);
  const out = new BigInt64Array(SMALL_SET.slotCount);
  const mask = BigInt(LIMB_MAX);
  for (let i = 0; i < n; i++) {
    const base = i * LIMB_SLOTS_PER_ENTERPRISE;
    for (let j = 0; j < LIMBS; j++) {
      const shift = BigInt(j * LIMB_BITS);
      out[base + j] = (o[i] >> shift) & mask;
      out[base + LIMBS + j] = (d[i] >> shift) & mask;
    }
    out[base + 2 * LIMBS] = l[i];
  }
  return out;
}

/**
 * Checks a decrypted small-set exposure sum and recombines the totals (safe integers): every limb
 * at most K · (2^16 − 1), every recombined total at most K · {@link MAX_CONTRIBUTION}, every lender
 * count at most K, every slot past the batch 0. A slot of garbage (another key, a missing
 * contributor, tampering: uniform modulo t) passes below 2^−9 (limb) or 2^−22 (lender, unused).
 * @throws HeResultError naming the first slot out of range.
 */
export function checkExposureLimbs(
  sums: BigInt64Array,
  check: Omit<ExposureCheck, 'bound'>,
): { outstanding: number[]; overdue: number[]; lenders: number[] } {
  const { enterprises, contributors } = check;
  if (!Number.isSafeInteger(enterprises) || enterprises < 0 || enterprises * LIMB_SLOTS_PER_ENTERPRISE > sums.length)
    throw new RangeError('enterprises must be an integer within the decrypted slots');
  if (!Number.isSafeInteger(contributors) || contributors < 1 || contributors > MAX_CONTRIBUTORS)
    throw new RangeError(`contributors must be an integer from 1 to ${MAX_CONTRIBUTORS}`);
  const k = BigInt(contributors);
  const limbMax = k * BigInt(LIMB_MAX);
  const totalMax = k * MAX_CONTRIBUTION;
  const out = {
    outstanding: new Array<number>(enterprises),
    overdue: new Array<number>(enterprises),
    lenders: new Array<number>(enterprises),
  };
  const total = (base: number) => {
    let v = 0n;
    for (let j = LIMBS - 1; j >= 0; j--) {
      const limb = sums[base + j];
      if (limb < 0n || limb > limbMax) throw new HeResultError(`decrypted limb at slot ${base + j} is out of range`);
      v = (v << BigInt(LIMB_BITS)) + limb;
    }
    if (v > totalMax) throw new HeResultError(`decrypted total at slot ${base} is out of range`);
    return Number(v);
  };
  for (let i = 0; i < enterprises; i++) {
    const base = i * LIMB_SLOTS_PER_ENTERPRISE;
    out.outstanding[i] = total(base);
    out.overdue[i] = total(base + LIMBS);
    const l = sums[base + 2 * LIMBS];
    if (l < 0n || l > k) throw new HeResultError(`decrypted lender count at slot ${base + 2 * LIMBS} is out of range`);
    out.lenders[i] = Number(l);
  }
  for (let s = enterprises * LIMB_SLOTS_PER_ENTERPRISE; s < sums.length; s++)
    if (sums[s] !== 0n) throw new HeResultError(`decrypted slot ${s} past the batch is not zero`);
  return out;
}

/** What the requester knows about a decrypted exposure sum. */
export interface ExposureCheck {
  /** Enterprises in the batch (slots 0 … enterprises − 1); later slots must be 0. */
  enterprises: number;
  /** Contributions added into the sum (1 to {@link MAX_CONTRIBUTORS}). */
  contributors: number;
  /** Per-contributor bound of the vector (default {@link MAX_CONTRIBUTION}). */
  bound?: bigint;
}

/**
 * Checks a decrypted exposure sum (residues as `decrypt` returns them) and returns the totals of
 * the batch's enterprises as safe integers.
 * @throws HeResultError naming the first slot out of range (the result is garbage: another key,
 * a missing contributor or tampering).
 */
export function checkExposureTotals(sums: BigInt64Array, check: ExposureCheck): number[] {
  const { enterprises, contributors } = check;
  const bound = check.bound ?? MAX_CONTRIBUTION;
  if (!Number.isSafeInteger(enterprises) || enterprises < 0 || enterprises > sums.length)
    throw new RangeError('enterprises must be an integer within the decrypted slots');
  if (!Number.isSafeInteger(contributors) || contributors < 1 || contributors > MAX_CONTRIBUTORS)
    throw new RangeError(`contributors must be an integer from 1 to ${MAX_CONTRIBUTORS}`);
  const max = BigInt(contributors) * bound;
  const totals = new Array<number>(enterprises);
  for (let i = 0; i < sums.length; i++) {
    const v = sums[i];
    if (i < enterprises) {
      if (v < 0n || v > max) throw new HeResultError(`decrypted total at slot ${i} is out of range`);
      totals[i] = Number(v);
    } else if (v !== 0n) throw new HeResultError(`decrypted slot ${i} past the batch is not zero`);
  }
  return totals;
}
