/**
 * Multi-source score (DESIGN §7.2): a published linear model score = b + Σ w_f · x_f applied by
 * the coordinator to features that different holders encrypted under the requester's key, in
 * BFV with fixed point.
 *
 * Fixed point: features are scaled by F (`featureScale`), weights by W (`weightScale`), both
 * positive integers: X_f = round(x_f · F), W_f = round(w_f · W), I = round(b · F · W). The
 * coordinator computes R = I + Σ W_f · X_f slot-wise (one multiply-plain by a scalar and one
 * addition per feature, one add-plain); the requester decrypts in centred representation
 * (residues above t/2 are negative) and returns R / (F · W).
 *
 * Range proof (checked by {@link createScoringModel}, which refuses a model that fails it):
 * every holder refuses |x_f| > maxAbs_f ({@link encodeFeature}), so |X_f| ≤ B_f = round(maxAbs_f · F)
 * (rounding is monotone and |round(y)| ≤ round(|y|)). Hence |R| ≤ |I| + Σ |W_f| · B_f = `bound`.
 * The model requires bound ≤ (t − 1)/2, so R is the centred representative of R mod t and
 * decrypts exactly. BFV arithmetic modulo t is exact while the noise budget lasts: each term
 * costs log2|W_f| ≤ 59 bits of the 106-bit fresh budget, the sum of up to 64 terms 6 more.
 *
 * Precision: with ŵ_f = W_f/W and x̂_f = X_f/F, R/(F·W) − (b + Σ w_f x_f) =
 * (I/(FW) − b) + Σ [ŵ_f (x̂_f − x_f) + (ŵ_f − w_f) x_f], so its magnitude is at most
 * |I/(FW) − b| + Σ (|ŵ_f|/(2F) + |ŵ_f − w_f| · maxAbs_f) = `precision` (plus a 10^-12 relative
 * slack for evaluating the real-valued model in doubles).
 *
 * Wrong-key detection: garbage decrypts uniform modulo t; {@link decodeScores} refuses any slot
 * with |R| > bound and any slot past the batch that is not exactly I (holders pad with zeros).
 */
import { HeRangeError, HeResultError } from './errors.ts';
import { MAX_CENTRED_MAGNITUDE, SLOT_COUNT } from './params.ts';

/** Relative floating-point slack added to the precision (the real-valued model is evaluated in doubles). */
const FLOAT_SLACK = 1e-12;

/** Most features of a scoring model (one ciphertext each). */
export const MAX_SCORING_FEATURES = 64;

/** One feature of a published model. */
export interface ScoringFeature {
  /** Feature name, as holders label their ciphertexts. */
  name: string;
  /** Real-valued weight. */
  weight: number;
  /** Largest magnitude a holder may submit for this feature (real units, > 0). */
  maxAbs: number;
}

/** A published linear scoring model, before validation. */
export interface ScoringModelSpec {
  id: string;
  intercept: number;
  /** Fixed-point scale of features (positive integer, e.g. 100 for two decimals). */
  featureScale: number;
  /** Fixed-point scale of weights (positive integer). */
  weightScale: number;
  features: readonly ScoringFeature[];
}

/** A validated model in fixed point, with its range proof and precision. */
export interface ScoringModel {
  readonly id: string;
  readonly featureScale: number;
  readonly weightScale: number;
  /** F · W: the scale of a decrypted result. */
  readonly scale: bigint;
  /** I = round(b · F · W). */
  readonly intercept: bigint;
  /** W_f = round(w_f · W), per feature, in model order. */
  readonly weights: ReadonlyMap<string, bigint>;
  /** B_f = round(maxAbs_f · F), per feature. */
  readonly featureBounds: ReadonlyMap<string, bigint>;
  /** |I| + Σ |W_f| · B_f: no result can exceed it in magnitude; ≤ (t − 1)/2. */
  readonly bound: bigint;
  /** Largest difference between a decoded score and the real-valued model. */
  readonly precision: number;
}

function positiveSafeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new HeRangeError(`${what} must be a positive safe integer`);
  return value;
}

/** round(value · scale) as a bigint, refusing results that are not safe integers. */
function fixedPoint(value: number, scale: number, what: string): bigint {
  if (!Number.isFinite(value)) throw new HeRangeError(`${what} must be a finite number`);
  const scaled = Math.round(value * scale);
  if (!Number.isSafeInteger(scaled)) throw new HeRangeError(`${what} is too large at this scale`);
  return BigInt(scaled);
}

const abs = (v: bigint) => (v < 0n ? -v : v);

/**
 * Validates a model and proves its range: refuses it unless every result fits the centred range.
 * @throws HeRangeError on an invalid spec, a weight that rounds to zero, or a bound above (t − 1)/2.
 */
export function createScoringModel(spec: ScoringModelSpec): ScoringModel {
  if (typeof spec.id !== 'string' || spec.id.length === 0)
    throw new HeRangeError('model id must be a non-empty string');
  const featureScale = positiveSafeInteger(spec.featureScale, 'featureScale');
  const weightScale = positiveSafeInteger(spec.weightScale, 'weightScale');
  if (!Array.isArray(spec.features) || spec.features.length < 1 || spec.features.length > MAX_SCORING_FEATURES)
    throw new HeRangeError(`a model has 1 to ${MAX_SCORING_FEATURES} features`);
  const scale = BigInt(featureScale) * BigInt(weightScale);
  if (scale > BigInt(Number.MAX_SAFE_INTEGER)) throw new HeRangeError('featureScale × weightScale is too large');
  const intercept = fixedPoint(spec.intercept, featureScale * weightScale, 'intercept');
  const weights = new Map<string, bigint>();
  const featureBounds = new Map<string, bigint>();
  let bound = abs(intercept);
  let precision = Math.abs(Number(intercept) / Number(scale) - spec.intercept);
  let magnitude = Math.abs(spec.intercept);
  for (const [i, f] of spec.features.entries()) {
    if (typeof f.name !== 'string' || f.name.length === 0) throw new HeRangeError(`feature ${i} needs a name`);
    if (weights.has(f.name)) throw new HeRangeError(`feature ${JSON.stringify(f.name)} is listed twice`);
    const weight = fixedPoint(f.weight, weightScale, `weight of ${JSON.stringify(f.name)}`);
    if (weight === 0n) throw new HeRangeError(`weight of ${JSON.stringify(f.name)} rounds to zero at this weightScale`);
    if (!Number.isFinite(f.maxAbs) || f.maxAbs <= 0)
      throw new HeRangeError(`maxAbs of ${JSON.stringify(f.name)} must be a positive finite number`);
    const featureBound = fixedPoint(f.maxAbs, featureScale, `maxAbs of ${JSON.stringify(f.name)}`);
    weights.set(f.name, weight);
    featureBounds.set(f.name, featureBound);
    bound += abs(weight) * featureBound;
    const fixedWeight = Number(weight) / weightScale;
    precision += Math.abs(fixedWeight) / (2 * featureScale) + Math.abs(fixedWeight - f.weight) * f.maxAbs;
    magnitude += Math.abs(f.weight) * f.maxAbs;
  }
  // Slack for the floating-point evaluation of the real-valued model itself.
  precision += magnitude * FLOAT_SLACK;
  if (bound > MAX_CENTRED_MAGNITUDE)
    throw new HeRangeError(
      'the model can produce results beyond (t − 1)/2: lower the scales, weights or feature bounds',
    );
  return { id: spec.id, featureScale, weightScale, scale, intercept, weights, featureBounds, bound, precision };
}

/**
 * A holder's encoding of one feature for a batch (slot i = enterprise i; zero past the batch).
 * @throws HeRangeError naming the slot of the first value that is not finite or exceeds maxAbs.
 */
export function encodeFeature(model: ScoringModel, feature: string, values: readonly number[]): BigInt64Array {
  const featureBound = model.featureBounds.get(feature);
  if (featureBound === undefined) throw new HeRangeError(`feature ${JSON.stringify(feature)} is not in the model`);
  if (values.length > SLOT_COUNT) throw new HeRangeError(`at most ${SLOT_COUNT} values fit in one batch`);
  const out = new BigInt64Array(SLOT_COUNT);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new HeRangeError(`value at slot ${i} is not a finite number`);
    const scaled = BigInt(Math.round(v * model.featureScale));
    if (abs(scaled) > featureBound) throw new HeRangeError(`value at slot ${i} exceeds the feature's maxAbs`);
    out[i] = scaled;
  }
  return out;
}

/** Anything that computes Σ factor · ciphertext + constant: a `BfvSession` or an `HePool`. */
export interface LinearEvaluator<R> {
  multiplyPlainAndAdd(terms: ReadonlyArray<{ ciphertext: Uint8Array; factor: bigint }>, constant: bigint): R;
}

/**
 * The coordinator's step: combines one ciphertext per model feature with the model's weights and
 * intercept. The range proof is the model's ({@link createScoringModel}); the holders' encodings
 * enforce the feature bounds ({@link encodeFeature}).
 * @throws HeRangeError when a feature is missing or a ciphertext is not in the model.
 */
export function linearCombine<R>(
  evaluator: LinearEvaluator<R>,
  ciphertexts: ReadonlyMap<string, Uint8Array>,
  model: ScoringModel,
): R {
  for (const name of ciphertexts.keys())
    if (!model.weights.has(name)) throw new HeRangeError(`feature ${JSON.stringify(name)} is not in the model`);
  const terms = [...model.weights].map(([name, factor]) => {
    const ciphertext = ciphertexts.get(name);
    if (!ciphertext) throw new HeRangeError(`feature ${JSON.stringify(name)} has no ciphertext`);
    return { ciphertext, factor };
  });
  return evaluator.multiplyPlainAndAdd(terms, model.intercept);
}

/**
 * The requester's step: turns a centred decryption (`decrypt(ct, { centred: true })`) into the
 * scores of the batch's `count` enterprises.
 * @throws HeResultError naming the first slot out of the model's range or, past the batch, not
 * equal to the intercept (another key, a missing holder or tampering).
 */
export function decodeScores(model: ScoringModel, decrypted: BigInt64Array, count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0 || count > decrypted.length)
    throw new RangeError('count must be an integer within the decrypted slots');
  const scale = Number(model.scale);
  const scores = new Array<number>(count);
  for (let i = 0; i < decrypted.length; i++) {
    const r = decrypted[i];
    if (i < count) {
      if (abs(r) > model.bound) throw new HeResultError(`decrypted score at slot ${i} is out of the model's range`);
      scores[i] = Number(r) / scale;
    } else if (r !== model.intercept)
      throw new HeResultError(`decrypted slot ${i} past the batch is not the intercept`);
  }
  return scores;
}
