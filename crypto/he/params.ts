/**
 * The BFV parameter sets of the joint queries (DESIGN §7), their stable ids, and the bounds under
 * which their arithmetic is exact. The standard set (below) serves every query; the small set
 * ({@link SMALL_SET}: n = 4096, t = 268369921) serves exposure batches of up to
 * `SMALL_EXPOSURE_BATCH` enterprises with figures split into 16-bit limbs (`exposure.ts`), at a
 * quarter of the bytes.
 *
 * - Ring degree n = 8192: 8192 batching slots, one enterprise per slot.
 * - Coefficient modulus: SEAL's `CoeffModulus.BFVDefault(8192, tc128)`, primes of
 *   43, 43, 44, 44 and 44 bits (218 bits, the HomomorphicEncryption.org 128-bit bound for n = 8192
 *   with ternary secrets); fresh ciphertexts live on the first four (174 bits), the fifth is the
 *   special prime. SEAL enforces the bound at context creation (`SecLevelType.tc128`).
 * - Plain modulus t = `PlainModulus.Batching(8192, 60)` = 1152921504606830593, the largest prime
 *   below 2^60 with t ≡ 1 (mod 2n). 60 bits is the most SEAL allows (`Batching(8192, 61)` throws
 *   "bit_sizes is invalid").
 *
 * Noise budget, measured with `Decryptor.invariantNoiseBudget` (see params.test.ts): 106 bits for
 * a fresh ciphertext, 103 bits after adding 64 fresh ciphertexts, about 86 bits after a
 * multiply-plain by a scalar of magnitude 2^20. Each doubling of the number of addends costs about
 * one bit, a scalar multiply costs log2|w| bits; the largest weight the scoring range proof allows
 * (|w| < t/2) costs 59 bits, which leaves more than 35 bits after 64 such terms.
 */

import { toHex } from '../encoding.ts';
import { sha256 } from '../hash.ts';
import { HeParameterError } from './errors.ts';
import { type Seal, sealArena, sealFailure } from './seal.ts';

/** Ring degree n. */
export const POLY_MODULUS_DEGREE = 8192;
/** Batching slots per ciphertext (n for BFV): one enterprise per slot. */
export const SLOT_COUNT = POLY_MODULUS_DEGREE;
/** Bit sizes of SEAL's BFVDefault(8192, tc128) primes; the last is the special (key-switching) prime. */
export const COEFF_MODULUS_BITS: readonly number[] = [43, 43, 44, 44, 44];
/** Number of primes a fresh ciphertext carries (all but the special prime). */
export const CIPHERTEXT_PRIMES = COEFF_MODULUS_BITS.length - 1;
/**
 * Number of primes of a compact ciphertext: a fresh one switched down to the last level of the
 * modulus chain (the first two data primes, 86 bits). Half the size; its noise budget (about 18
 * bits fresh, 15 after adding 64) is enough for sums, not for plaintext multiplications.
 */
export const COMPACT_CIPHERTEXT_PRIMES = 2;
/** Classical security level in bits (HomomorphicEncryption.org standard, SEAL's tc128). */
export const SECURITY_LEVEL_BITS = 128;
/** Bit size requested from `PlainModulus.Batching`: the most SEAL allows. */
export const PLAIN_MODULUS_BITS = 60;
/** The plain modulus t: every slot computes modulo this prime. */
export const PLAIN_MODULUS = 1152921504606830593n;

/**
 * The largest total a slot can hold exactly: any sum of non-negative contributions that stays at
 * or below t − 1 decrypts to itself.
 */
export const LARGEST_EXACT_TOTAL = PLAIN_MODULUS - 1n;
/** The largest magnitude of a signed result in centred representation: (t − 1) / 2. */
export const MAX_CENTRED_MAGNITUDE = (PLAIN_MODULUS - 1n) / 2n;

/** Most contributions one sum may add (ciphertexts per `addCiphertexts` call). */
export const MAX_CONTRIBUTORS = 64;
/**
 * The largest figure one contributor may put in one slot: 2^47 − 1 yuan (about 140 trillion
 * yuan, more than any bank lends one enterprise). Chosen far below t / MAX_CONTRIBUTORS (≈ 2^54)
 * so that an exposure total is at most {@link MAX_EXPOSURE_TOTAL} < 2^53 (a safe JavaScript
 * integer) and so that a slot decrypting to anything larger is detected as garbage: a uniformly
 * random slot passes the range check with probability below 2^−7.
 */
export const MAX_CONTRIBUTION = 2n ** 47n - 1n;
/** The largest total an exposure sum can reach: MAX_CONTRIBUTORS × MAX_CONTRIBUTION = 2^53 − 64 < t. */
export const MAX_EXPOSURE_TOTAL = BigInt(MAX_CONTRIBUTORS) * MAX_CONTRIBUTION;

/**
 * SHA-256 (hex) of the EncryptionParameters as SEAL saves them uncompressed (scheme, n, coefficient
 * moduli, plain modulus). Every protocol frame carries it; a peer with other parameters is refused
 * before any ciphertext is parsed. Pinned here so that a library upgrade that changed the
 * parameters fails at start-up instead of producing ciphertexts no peer can read.
 */
export const HE_PARAMETER_ID = '808f0790f0f8d566e4b7e9233377c849bc54e289c98eef17e5ae11b7bd14f070';

/**
 * A parameter set: ring degree, SEAL's default 128-bit coefficient modulus for it, the batching
 * plain modulus, and what follows from them.
 */
export interface HeParameterSet {
  readonly name: 'standard' | 'small';
  /** SHA-256 of the serialized EncryptionParameters, pinned. */
  readonly id: string;
  readonly polyModulusDegree: number;
  readonly slotCount: number;
  /** Bit sizes of `CoeffModulus.BFVDefault(n, tc128)`; the last is the special prime. */
  readonly coeffModulusBits: readonly number[];
  /** Bits requested from `PlainModulus.Batching`. */
  readonly plainModulusBits: number;
  readonly plainModulus: bigint;
  /** Primes of a fresh ciphertext. */
  readonly ciphertextPrimes: number;
  /** Primes of a compact ciphertext (switched to the last level), when the set allows it. */
  readonly compactPrimes?: number;
  readonly maxCiphertextBytes: number;
  readonly maxPublicKeyBytes: number;
}

/** Upper bound of a SEAL serialization header plus slack for its framing. */
const SERIALIZATION_SLACK_BYTES = 1024;
/**
 * Largest serialized ciphertext accepted: two polynomials over the four data primes, uncompressed
 * (compressed ones are smaller), plus header slack.
 */
export const MAX_CIPHERTEXT_BYTES = 2 * CIPHERTEXT_PRIMES * POLY_MODULUS_DEGREE * 8 + SERIALIZATION_SLACK_BYTES;
/** Largest serialized public key accepted: two polynomials over all five primes, uncompressed. */
export const MAX_PUBLIC_KEY_BYTES = 2 * COEFF_MODULUS_BITS.length * POLY_MODULUS_DEGREE * 8 + SERIALIZATION_SLACK_BYTES;

/** The standard set: every query (n = 8192, t = {@link PLAIN_MODULUS}). */
export const STANDARD_SET: HeParameterSet = {
  name: 'standard',
  id: HE_PARAMETER_ID,
  polyModulusDegree: POLY_MODULUS_DEGREE,
  slotCount: SLOT_COUNT,
  coeffModulusBits: COEFF_MODULUS_BITS,
  plainModulusBits: PLAIN_MODULUS_BITS,
  plainModulus: PLAIN_MODULUS,
  ciphertextPrimes: CIPHERTEXT_PRIMES,
  compactPrimes: COMPACT_CIPHERTEXT_PRIMES,
  maxCiphertextBytes: MAX_CIPHERTEXT_BYTES,
  maxPublicKeyBytes: MAX_PUBLIC_KEY_BYTES,
};

/**
 * The small set, for small exposure batches: n = 4096 (4096 slots), `BFVDefault(4096, tc128)`
 * primes of 36, 36 and 37 bits (109 bits, the 128-bit bound for n = 4096), t =
 * `PlainModulus.Batching(4096, 28)` = 268369921. Noise budget 37 bits fresh, 34 after adding 64
 * (measured). Ciphertexts are 131 KB (88 KB with zstd), public keys 70 KB: a quarter of the
 * standard set's bytes. Only sums happen under it.
 */
export const SMALL_SET: HeParameterSet = {
  name: 'small',
  id: '2dda5fc19497e63884a83c92a0002ade9d9d1a9df2032470a701a1204a8f3efb',
  polyModulusDegree: 4096,
  slotCount: 4096,
  coeffModulusBits: [36, 36, 37],
  plainModulusBits: 28,
  plainModulus: 268369921n,
  ciphertextPrimes: 2,
  maxCiphertextBytes: 2 * 2 * 4096 * 8 + SERIALIZATION_SLACK_BYTES,
  maxPublicKeyBytes: 2 * 3 * 4096 * 8 + SERIALIZATION_SLACK_BYTES,
};

/** The id of the small set (queries name their set by id). */
export const HE_SMALL_PARAMETER_ID = SMALL_SET.id;

/** The parameter set with this id, if any. */
export const parameterSetById = (id: string): HeParameterSet | undefined =>
  id === STANDARD_SET.id ? STANDARD_SET : id === SMALL_SET.id ? SMALL_SET : undefined;

/** A SEAL context for the pinned parameter set. */
export interface HeContext {
  readonly seal: Seal;
  /** The parameter set built. */
  readonly set: HeParameterSet;
  readonly context: InstanceType<Seal['SEALContext']>;
  /** {@link HE_PARAMETER_ID}, recomputed from the parameters SEAL built. */
  readonly parameterId: string;
  /** parms id (four 64-bit words) of fresh ciphertexts, i.e. of the first data level. */
  readonly firstParmsId: BigUint64Array;
  /** parms id of compact ciphertexts: the last level of the modulus chain (sets with compact ciphertexts). */
  readonly lastParmsId: BigUint64Array;
  /** Releases the context. */
  release(): void;
}

/**
 * Builds the SEAL context and checks that SEAL produced exactly the pinned parameters.
 * @throws HeParameterError when SEAL refuses the parameters or builds different ones.
 */
export function createHeContext(seal: Seal, set: HeParameterSet = STANDARD_SET): HeContext {
  const scratch = sealArena();
  const owned = sealArena();
  try {
    const parms = scratch.keep(new seal.EncryptionParameters(seal.SchemeType.bfv));
    parms.setPolyModulusDegree(set.polyModulusDegree);
    const coeff = scratch.keep(seal.CoeffModulus.BFVDefault(set.polyModulusDegree, seal.SecLevelType.tc128));
    parms.setCoeffModulus(coeff);
    const plain = scratch.keep(seal.PlainModulus.Batching(set.polyModulusDegree, set.plainModulusBits));
    parms.setPlainModulus(plain);
    const bits: number[] = [];
    for (let i = 0; i < coeff.size(); i++) {
      const prime = coeff.get(i);
      if (prime) bits.push(scratch.keep(prime).bitCount());
    }
    if (plain.value() !== set.plainModulus || bits.join(',') !== set.coeffModulusBits.join(','))
      throw new HeParameterError('SEAL built other moduli than the pinned parameter set');
    const context = owned.keep(new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
    if (!context.parametersSet()) throw new HeParameterError('SEAL refused the pinned parameter set');
    const data = scratch.keep(context.firstContextData());
    const qualifiers = scratch.keep(data.qualifiers());
    if (!qualifiers.usingBatching) throw new HeParameterError('the pinned parameter set does not allow batching');
    const parameterId = toHex(sha256(parms.saveToArray(seal.ComprModeType.none) as Uint8Array));
    if (parameterId !== set.id)
      throw new HeParameterError('the encryption parameters differ from the pinned parameter id');
    const firstParmsId = BigUint64Array.from(scratch.keep(context.firstParmsId()).values() as BigUint64Array);
    const lastParmsId = BigUint64Array.from(scratch.keep(context.lastParmsId()).values() as BigUint64Array);
    const lastData = scratch.keep(context.lastContextData());
    const lastParms = scratch.keep(lastData.parms());
    if (set.compactPrimes !== undefined && scratch.keep(lastParms.coeffModulus()).size() !== set.compactPrimes)
      throw new HeParameterError('the last level of the modulus chain does not have the expected primes');
    return {
      seal,
      set,
      context,
      parameterId,
      firstParmsId,
      lastParmsId,
      release: () => owned.release(),
    };
  } catch (err) {
    owned.release();
    if (err instanceof HeParameterError) throw err;
    throw new HeParameterError(`SEAL refused the pinned parameter set (${sealFailure(err)})`);
  } finally {
    scratch.release();
  }
}
