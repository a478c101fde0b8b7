/**
 * Homomorphic-encryption core of the joint queries (DESIGN §7): BFV on one pinned parameter set
 * (node-seal), pairwise zero-sum masks, the exposure and scoring encodings with their range
 * proofs, and a worker-thread pool. No networking: the federation carries the bytes.
 */
export {
  type BfvKeyPair,
  type BfvSession,
  type BfvSessionInit,
  createBfvSession,
  type DecryptOptions,
  type EncryptOptions,
  type HeCompression,
  type LinearTerm,
  MAX_LINEAR_TERMS,
  type PlainVector,
  slotResidues,
} from './bfv.ts';
export * from './errors.ts';
export {
  checkExposureLimbs,
  checkExposureTotals,
  checkOverdueAndLenders,
  EXPOSURE_BOUNDS,
  EXPOSURE_VECTORS,
  type ExposureCheck,
  type ExposureVector,
  encodeAmounts,
  encodeExposureLimbs,
  encodeIndicators,
  encodeOverdueAndLenders,
  exposureRoundId,
  LENDER_UNIT,
  LIMB_BITS,
  LIMB_SLOTS_PER_ENTERPRISE,
  LIMBS,
  maskContribution,
  SMALL_EXPOSURE_BATCH,
  SMALL_EXPOSURE_VECTOR,
} from './exposure.ts';
export {
  generateMaskKeyPair,
  MAX_ROUND_ID_BYTES,
  type MaskKeyPair,
  pairwiseMasks,
  pairwiseMasksMany,
  rawPublicKey,
  X25519_PUBLIC_KEY_BYTES,
  x25519PublicKey,
} from './masks.ts';
export {
  CIPHERTEXT_PRIMES,
  COEFF_MODULUS_BITS,
  COMPACT_CIPHERTEXT_PRIMES,
  HE_PARAMETER_ID,
  HE_SMALL_PARAMETER_ID,
  type HeParameterSet,
  LARGEST_EXACT_TOTAL,
  MAX_CENTRED_MAGNITUDE,
  MAX_CIPHERTEXT_BYTES,
  MAX_CONTRIBUTION,
  MAX_CONTRIBUTORS,
  MAX_EXPOSURE_TOTAL,
  MAX_PUBLIC_KEY_BYTES,
  PLAIN_MODULUS,
  PLAIN_MODULUS_BITS,
  POLY_MODULUS_DEGREE,
  parameterSetById,
  SECURITY_LEVEL_BITS,
  SLOT_COUNT,
  SMALL_SET,
  STANDARD_SET,
} from './params.ts';
export {
  createHePool,
  type HeOperationOptions,
  type HePool,
  type HePoolInit,
  type HePoolKeyPair,
  type HePoolStats,
  type HeSetOption,
} from './pool.ts';
export type { WorkerStats } from './pool-protocol.ts';
export {
  createScoringModel,
  decodeScores,
  encodeFeature,
  type LinearEvaluator,
  linearCombine,
  MAX_SCORING_FEATURES,
  type ScoringFeature,
  type ScoringModel,
  type ScoringModelSpec,
} from './score.ts';
export { liveSealObjects, wasmHeapBytes } from './seal.ts';
