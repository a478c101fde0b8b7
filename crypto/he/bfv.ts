/**
 * BFV operations of the joint queries on the pinned parameter set ({@link createHeContext}):
 * requester key pairs (the secret key never leaves the object), slot-wise encryption under a
 * received public key, the coordinator's sums and plaintext-weighted sums. Inputs from peers are
 * validated before use: size and SEAL header ({@link checkSerialized}), then SEAL's own `load`,
 * which refuses an object saved under other parameters, then the shape a fresh or summed
 * ciphertext must have. Any node-seal failure on an input becomes {@link HeInputError}
 * (code BAD_CIPHERTEXT). Every node-seal object is released in `finally`.
 *
 * A ciphertext encrypted under another public key (or corrupted by a peer in a way SEAL cannot
 * see: a compressed body cut short under a forged header sometimes still loads) decrypts to
 * garbage: SEAL cannot tell. The protocol detects it on the decrypted
 * result, whose range it knows: an exposure total is at most {@link MAX_EXPOSURE_TOTAL} (2^53)
 * in a 60-bit space and unused slots are exactly 0 (`checkExposureTotals`), a score is within
 * its model's proven bound (`decodeScores`); garbage is uniform modulo t and fails these checks
 * with overwhelming probability over a batch.
 *
 * The session is synchronous and single-threaded (WASM); `pool.ts` runs it off the caller's
 * event loop in worker threads.
 */
import { toHex } from '../encoding.ts';
import { sha256 } from '../hash.ts';
import { HeInputError, HeKeyHandleError, HeRangeError } from './errors.ts';
import {
  COMPACT_CIPHERTEXT_PRIMES,
  createHeContext,
  type HeContext,
  type HeParameterSet,
  MAX_CONTRIBUTORS,
  SLOT_COUNT,
  STANDARD_SET,
} from './params.ts';
import { loadSeal, type Seal, type SealArena, sealArena, sealFailure } from './seal.ts';
import { checkSerialized } from './serialized.ts';

/** A vector of slot values: residues in [0, t) or signed values in (−t, t); at most {@link SLOT_COUNT}. */
export type PlainVector = BigInt64Array | readonly bigint[];

/** Compression of serialized ciphertexts and public keys. */
export type HeCompression = 'zstd' | 'none';

/** Most terms of one {@link BfvSession.multiplyPlainAndAdd} (features of a scoring model). */
export const MAX_LINEAR_TERMS = 64;
/** Public keys whose encryptors a session keeps loaded (a contributor encrypts several vectors per key). */
const DEFAULT_PUBLIC_KEY_CACHE = 4;

/** Options of {@link createBfvSession}; all optional. */
export interface BfvSessionInit {
  /**
   * Compression of produced ciphertexts (default none). zstd makes an n = 8192 ciphertext 18%
   * smaller (432 KB instead of 524 KB) but costs about 4 ms per save and per load, which
   * dominates a sum (adding five ciphertexts: 30 ms instead of 1.4 ms); it pays only on links
   * slower than about 150 Mbit/s. Public keys are always saved with zstd (one per query).
   */
  compression?: HeCompression;
  /** Loaded public keys kept per session (default 4). */
  publicKeyCacheSize?: number;
  /** The parameter set (default the standard one). */
  set?: HeParameterSet;
}

/** Options of {@link BfvSession.encryptVector}. */
export interface EncryptOptions {
  /**
   * Switch the fresh ciphertext down to the last level of the modulus chain
   * ({@link COMPACT_CIPHERTEXT_PRIMES} primes): half the size, for vectors that are only added
   * (exposure contributions); such ciphertexts can be summed and decrypted, not multiplied.
   */
  compact?: boolean;
}

/** Options of {@link BfvKeyPair.decrypt}. */
export interface DecryptOptions {
  /** Return signed values in (−t/2, t/2] instead of residues in [0, t) (for scores). */
  centred?: boolean;
}

/** A requester's key pair. The secret key stays inside; only the public key is exported. */
export interface BfvKeyPair {
  /** The public key, serialized with zstd (seeded form: half the size of a full key, about 270 KB). */
  readonly publicKey: Uint8Array;
  /**
   * Decrypts a ciphertext into {@link SLOT_COUNT} slot values.
   * @throws HeInputError (BAD_CIPHERTEXT) when the ciphertext is refused.
   * @throws HeKeyHandleError after {@link release}.
   */
  decrypt(ciphertext: Uint8Array, options?: DecryptOptions): BigInt64Array;
  /** Remaining invariant noise budget of a ciphertext in bits (0 means it no longer decrypts correctly). */
  noiseBudget(ciphertext: Uint8Array): number;
  /** Destroys the secret key. Idempotent. */
  release(): void;
}

/** One term of a plaintext-weighted sum: a ciphertext and the integer factor it is multiplied by. */
export interface LinearTerm {
  ciphertext: Uint8Array;
  /** Non-zero integer with |factor| ≤ (t − 1)/2. */
  factor: bigint;
}

/** BFV operations on the pinned parameter set. Not thread-safe; one per thread. */
export interface BfvSession {
  /** {@link HE_PARAMETER_ID} as recomputed from SEAL's parameters. */
  readonly parameterId: string;
  /** Slots per ciphertext. */
  readonly slotCount: number;
  /** The plain modulus t. */
  readonly plainModulus: bigint;
  /** Creates a fresh key pair (one per query). */
  createKeyPair(): BfvKeyPair;
  /**
   * Encrypts `values` slot by slot (missing slots are 0) under a received public key.
   * @throws HeInputError (BAD_CIPHERTEXT, input publicKey) when the key is refused.
   * @throws HeRangeError when a value is outside (−t, t) or there are more values than slots.
   */
  encryptVector(publicKey: Uint8Array, values: PlainVector, options?: EncryptOptions): Uint8Array;
  /**
   * Adds 1 to {@link MAX_CONTRIBUTORS} ciphertexts slot-wise, all fresh or all compact.
   * @throws HeInputError (BAD_CIPHERTEXT) when a ciphertext is refused or the levels differ.
   */
  addCiphertexts(list: readonly Uint8Array[]): Uint8Array;
  /**
   * Computes Σ factor_i · ciphertext_i + constant slot-wise (the factor and the constant are the
   * same in every slot). Range of the result is the caller's proof to make (see `score.ts`).
   * @throws HeInputError (BAD_CIPHERTEXT) when a ciphertext is refused.
   * @throws HeRangeError when a factor is zero or a factor or the constant exceeds (t − 1)/2.
   */
  multiplyPlainAndAdd(terms: readonly LinearTerm[], constant?: bigint): Uint8Array;
  /** Releases the context, the cached public keys and every key pair of this session. Idempotent. */
  release(): void;
}

type Ciphertext = InstanceType<Seal['Ciphertext']>;
type Encryptor = InstanceType<Seal['Encryptor']>;

/**
 * Checks slot values and returns their residues in [0, t), padded with zeros to
 * {@link SLOT_COUNT} (as a BigInt64Array: residues are below t < 2^63).
 * @throws TypeError when a value is not a bigint.
 * @throws HeRangeError when a value is outside (−t, t) or there are more values than slots.
 */
export function slotResidues(values: PlainVector, set: HeParameterSet = STANDARD_SET): BigInt64Array {
  const slots = set.slotCount;
  const t = set.plainModulus;
  if (values.length > slots) throw new HeRangeError(`at most ${slots} values fit in one ciphertext`);
  const out = new BigInt64Array(slots);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'bigint') throw new TypeError(`value at slot ${i} must be a bigint`);
    if (v <= -t || v >= t) throw new HeRangeError(`value at slot ${i} is outside (−t, t)`);
    out[i] = v < 0n ? v + t : v;
  }
  return out;
}

/** The residue of a signed scalar, checked against the centred range. */
function scalarResidue(value: bigint, what: string, allowZero: boolean, t: bigint): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what} must be a bigint`);
  if (value === 0n && !allowZero) throw new HeRangeError(`${what} must not be zero`);
  const centred = (t - 1n) / 2n;
  if (value > centred || value < -centred) throw new HeRangeError(`${what} exceeds (t − 1)/2 in magnitude`);
  return value < 0n ? value + t : value;
}

/** Creates a session: loads node-seal on this thread and builds the pinned context. */
export async function createBfvSession(init: BfvSessionInit = {}): Promise<BfvSession> {
  const seal = await loadSeal();
  const compression = init.compression ?? 'none';
  const cacheSize = init.publicKeyCacheSize ?? DEFAULT_PUBLIC_KEY_CACHE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 1)
    throw new TypeError('publicKeyCacheSize must be a positive integer');
  const set = init.set ?? STANDARD_SET;
  const ctx = createHeContext(seal, set);
  const shared = sealArena();
  let encoder: InstanceType<Seal['BatchEncoder']>;
  let evaluator: InstanceType<Seal['Evaluator']>;
  try {
    encoder = shared.keep(new seal.BatchEncoder(ctx.context));
    evaluator = shared.keep(new seal.Evaluator(ctx.context));
  } catch (err) {
    shared.release();
    ctx.release();
    throw err;
  }
  const comprMode = compression === 'zstd' ? seal.ComprModeType.zstd : seal.ComprModeType.none;
  const encryptors = new Map<string, SealArena & { encryptor: Encryptor }>();
  const keyPairs = new Set<BfvKeyPair>();
  let released = false;

  const save = (object: { saveToArray(mode: typeof comprMode): unknown }, mode = comprMode): Uint8Array =>
    object.saveToArray(mode) as Uint8Array;

  /** Loads a peer's ciphertext; `compactAllowed`: also at the last level (sums and decryption only). */
  const loadCiphertext = (arena: SealArena, bytes: Uint8Array, compactAllowed: boolean): Ciphertext => {
    checkSerialized(bytes, 'ciphertext', set.maxCiphertextBytes);
    const ct = arena.keep(new seal.Ciphertext());
    try {
      ct.loadFromArray(ctx.context, bytes);
    } catch (err) {
      throw new HeInputError('ciphertext', `ciphertext does not load under this parameter set (${sealFailure(err)})`);
    }
    checkShape(arena, ctx, ct, compactAllowed);
    return ct;
  };
  let lastParmsId: ReturnType<HeContext['context']['lastParmsId']>;
  try {
    lastParmsId = shared.keep(ctx.context.lastParmsId());
  } catch (err) {
    shared.release();
    ctx.release();
    throw err;
  }

  const encryptorFor = (publicKey: Uint8Array): Encryptor => {
    checkSerialized(publicKey, 'publicKey', set.maxPublicKeyBytes);
    const id = toHex(sha256(publicKey));
    const hit = encryptors.get(id);
    if (hit) {
      encryptors.delete(id);
      encryptors.set(id, hit);
      return hit.encryptor;
    }
    const arena = sealArena();
    try {
      const pk = arena.keep(new seal.PublicKey());
      try {
        pk.loadFromArray(ctx.context, publicKey);
      } catch (err) {
        throw new HeInputError('publicKey', `public key does not load under this parameter set (${sealFailure(err)})`);
      }
      const encryptor = arena.keep(new seal.Encryptor(ctx.context, pk));
      encryptors.set(id, Object.assign(arena, { encryptor }));
      while (encryptors.size > cacheSize) {
        const [oldest, entry] = encryptors.entries().next().value!;
        encryptors.delete(oldest);
        entry.release();
      }
      return encryptor;
    } catch (err) {
      arena.release();
      throw err;
    }
  };

  const alive = () => {
    if (released) throw new HeKeyHandleError('the BFV session was released');
  };

  const session: BfvSession = {
    parameterId: ctx.parameterId,
    slotCount: set.slotCount,
    plainModulus: set.plainModulus,

    createKeyPair() {
      alive();
      const owned = sealArena();
      let publicKey: Uint8Array;
      let decryptor: InstanceType<Seal['Decryptor']>;
      const scratch = sealArena();
      try {
        const generator = scratch.keep(new seal.KeyGenerator(ctx.context));
        publicKey = save(scratch.keep(generator.createPublicKeySerializable()), seal.ComprModeType.zstd);
        const secretKey = scratch.keep(generator.secretKey());
        decryptor = owned.keep(new seal.Decryptor(ctx.context, secretKey));
      } catch (err) {
        owned.release();
        throw err;
      } finally {
        scratch.release();
      }
      let keyReleased = false;
      const usable = () => {
        if (keyReleased || released) throw new HeKeyHandleError('the key pair was released');
      };
      const keyPair: BfvKeyPair = {
        publicKey,
        decrypt(ciphertext, options = {}) {
          usable();
          const arena = sealArena();
          try {
            const ct = loadCiphertext(arena, ciphertext, true);
            const plain = arena.keep(new seal.Plaintext());
            decryptor.decrypt(ct, plain);
            if (options.centred) return encoder.decodeBigInt64(plain) as BigInt64Array;
            const residues = encoder.decodeBigUint64(plain) as BigUint64Array;
            // Residues are below t < 2^63, so the signed view holds the same values.
            return new BigInt64Array(residues.buffer, residues.byteOffset, residues.length);
          } finally {
            arena.release();
          }
        },
        noiseBudget(ciphertext) {
          usable();
          const arena = sealArena();
          try {
            return decryptor.invariantNoiseBudget(loadCiphertext(arena, ciphertext, true));
          } finally {
            arena.release();
          }
        },
        release() {
          if (keyReleased) return;
          keyReleased = true;
          keyPairs.delete(keyPair);
          owned.release();
        },
      };
      keyPairs.add(keyPair);
      return keyPair;
    },

    encryptVector(publicKey, values, options = {}) {
      alive();
      if (options.compact && set.compactPrimes === undefined)
        throw new RangeError(`the ${set.name} parameter set has no compact ciphertexts`);
      const residues = slotResidues(values, set);
      const encryptor = encryptorFor(publicKey);
      const arena = sealArena();
      try {
        const plain = arena.keep(new seal.Plaintext());
        encoder.encode(new BigUint64Array(residues.buffer), plain);
        const ct = arena.keep(new seal.Ciphertext());
        encryptor.encrypt(plain, ct);
        if (options.compact) evaluator.cipherModSwitchToInplace(ct, lastParmsId);
        return save(ct);
      } finally {
        arena.release();
      }
    },

    addCiphertexts(list) {
      alive();
      if (!Array.isArray(list) || list.length < 1 || list.length > MAX_CONTRIBUTORS)
        throw new RangeError(`addCiphertexts takes 1 to ${MAX_CONTRIBUTORS} ciphertexts`);
      const arena = sealArena();
      try {
        const sum = loadCiphertext(arena, list[0], true);
        const primes = sum.coeffModulusSize();
        for (let i = 1; i < list.length; i++) {
          const ct = loadCiphertext(arena, list[i], true);
          if (ct.coeffModulusSize() !== primes)
            throw new HeInputError('ciphertext', 'ciphertexts of one sum must all be fresh or all compact');
          evaluator.addInplace(sum, ct);
        }
        return save(sum);
      } finally {
        arena.release();
      }
    },

    multiplyPlainAndAdd(terms, constant = 0n) {
      alive();
      if (!Array.isArray(terms) || terms.length < 1 || terms.length > MAX_LINEAR_TERMS)
        throw new RangeError(`multiplyPlainAndAdd takes 1 to ${MAX_LINEAR_TERMS} terms`);
      const factors = terms.map((term, i) =>
        scalarResidue(term.factor, `factor of term ${i}`, false, set.plainModulus),
      );
      const constantResidue = scalarResidue(constant, 'constant', true, set.plainModulus);
      const arena = sealArena();
      try {
        // A constant vector batch-encodes to the constant polynomial, so multiplyPlain takes
        // SEAL's single-coefficient path and the noise grows by log2|factor| bits only.
        const scalar = (residue: bigint) => {
          const plain = arena.keep(new seal.Plaintext());
          encoder.encode(new BigUint64Array(set.slotCount).fill(residue), plain);
          return plain;
        };
        let sum: Ciphertext | undefined;
        for (let i = 0; i < terms.length; i++) {
          const ct = loadCiphertext(arena, terms[i].ciphertext, false);
          evaluator.multiplyPlainInplace(ct, scalar(factors[i]));
          if (sum) evaluator.addInplace(sum, ct);
          else sum = ct;
        }
        if (constantResidue !== 0n) evaluator.addPlainInplace(sum!, scalar(constantResidue));
        return save(sum!);
      } finally {
        arena.release();
      }
    },

    release() {
      if (released) return;
      released = true;
      for (const keyPair of [...keyPairs]) keyPair.release();
      for (const entry of encryptors.values()) entry.release();
      encryptors.clear();
      shared.release();
      ctx.release();
    },
  };
  return session;
}

/**
 * The shape every ciphertext of the protocol has: two polynomials (no multiplication without
 * relinearisation happens), degree n, the first data level or (`compactAllowed`, where only sums
 * and decryption follow) the last level, not in NTT form, not transparent (a transparent
 * ciphertext would be readable without the key).
 */
function checkShape(arena: SealArena, ctx: HeContext, ct: Ciphertext, compactAllowed: boolean): void {
  const fail = (rule: string) => new HeInputError('ciphertext', `ciphertext ${rule}`);
  if (ct.size() !== 2) throw fail('must have two polynomials');
  const primes = ct.coeffModulusSize();
  const compact = compactAllowed && ctx.set.compactPrimes !== undefined && primes === ctx.set.compactPrimes;
  const level = compact ? 'the last' : 'the first';
  if (ct.polyModulusDegree() !== ctx.set.polyModulusDegree || (primes !== ctx.set.ciphertextPrimes && !compact))
    throw fail(`is not at ${compactAllowed ? 'the first or the last' : 'the first'} level of this parameter set`);
  if (ct.isNttForm()) throw fail('must not be in NTT form');
  const expected = compact ? ctx.lastParmsId : ctx.firstParmsId;
  const parmsId = arena.keep(ct.parmsId()).values() as BigUint64Array;
  if (parmsId.length !== expected.length || parmsId.some((w, i) => w !== expected[i]))
    throw fail(`is not at ${level} level of this parameter set`);
  if (ct.isTransparent()) throw fail('is transparent');
}
