/**
 * Pairwise zero-sum masks for the cross-bank exposure query (DESIGN §7.1), so that one bank's
 * contribution decrypts to uniform noise even for a coordinator and a requester who collude;
 * only the sum of all contributions is readable.
 *
 * Every pair of contributors (i, j) agrees on a secret with X25519 (node:crypto, OpenSSL, which
 * refuses low-order points). Both derive the same 32-byte seed with HKDF-SHA-256 from the shared
 * secret, bound to the round id, both public keys (in byte order), the slot count and t, and
 * expand it with AES-256-CTR (zero IV; the key is fresh per pair and round) into one value per
 * slot, uniform in [0, t) by rejection sampling. The contributor whose public key sorts first
 * adds the pair's mask, the other subtracts it; summed over all contributors every pair cancels.
 * The sum over peers is accumulated modulo t in two 32-bit limbs held in doubles (exact, no
 * allocation per slot) and written out as 64-bit words; the vectors of one query share one key
 * agreement per peer ({@link pairwiseMasksMany}).
 * With at least one honest peer, the masked contribution x + m (mod t) is uniform and
 * independent of x.
 *
 * A round id must be unique per query AND per vector masked (e.g. `query-id/outstanding`):
 * two vectors masked with the same round id would reveal the difference of their figures.
 * Every contributor of a round must take part: a missing contribution leaves masks that do not
 * cancel, and the requester's range check (`checkExposureTotals`) refuses the result; the round
 * is then run again with a new round id among the remaining contributors.
 */
import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { concatBytes, fromBase64Url, toBase64Url, toUtf8 } from '../encoding.ts';
import { HeMaskError } from './errors.ts';
import { MAX_CONTRIBUTORS, SLOT_COUNT } from './params.ts';

/** Length of a raw X25519 public key. */
export const X25519_PUBLIC_KEY_BYTES = 32;
/** Longest round id accepted, in bytes. */
export const MAX_ROUND_ID_BYTES = 256;
/** HKDF salt: names the construction and its version. */
const MASK_SALT = toUtf8('credit-data-space/he-pairwise-mask/v1');
/** AES-256-CTR key length. */
const SEED_BYTES = 32;
/** AES block length; the IV is one zero block. */
const AES_BLOCK_BYTES = 16;
/** Bytes drawn per candidate slot value. */
const WORD_BYTES = 8;
/** Largest t accepted: values must fit in a BigInt64Array. */
const MAX_MODULUS = 2n ** 63n - 1n;

/** An X25519 key pair for mask agreement; the private key stays a KeyObject. */
export interface MaskKeyPair {
  privateKey: KeyObject;
  /** Raw 32-byte public key, to publish to the other contributors. */
  publicKey: Uint8Array;
}

/** Generates an X25519 key pair for mask agreement. */
export function generateMaskKeyPair(): MaskKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** The raw 32-byte form of an X25519 public (or private, for its public half) key. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  const raw = typeof jwk.x === 'string' ? fromBase64Url(jwk.x) : undefined;
  if (jwk.crv !== 'X25519' || raw?.length !== X25519_PUBLIC_KEY_BYTES)
    throw new HeMaskError('key is not an X25519 key');
  return raw;
}

/** Imports a raw 32-byte X25519 public key. @throws HeMaskError when it is not 32 bytes. */
export function x25519PublicKey(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== X25519_PUBLIC_KEY_BYTES)
    throw new HeMaskError(`an X25519 public key has ${X25519_PUBLIC_KEY_BYTES} bytes`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(raw) }, format: 'jwk' });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** 2^32, the radix of the two limbs a mask value is handled in. */
const LIMB = 2 ** 32;
/** Whether this platform stores a 64-bit word as its low 32-bit half first (the output is written by halves). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A vector of residues modulo t, kept as two limbs (value = hi · 2^32 + lo, hi < 2^31) in doubles,
 * so that adding or subtracting a mask value modulo t is exact and allocates nothing per slot.
 */
interface ResidueAccumulator {
  hi: Float64Array;
  lo: Float64Array;
}

/**
 * Expands a seed into `slots` values uniform in [0, t) and adds them (`sign` = 1) or subtracts
 * them (`sign` = −1) modulo t into `acc`: AES-256-CTR keystream read as little-endian 64-bit words,
 * cut to the bit length of t, values ≥ t rejected.
 */
function accumulateMask(seed: Uint8Array, t: bigint, sign: 1 | -1, acc: ResidueAccumulator): void {
  const slots = acc.hi.length;
  const bits = t.toString(2).length;
  const tHi = Number(t >> 32n);
  const tLo = Number(t & 0xffffffffn);
  const hiMask = bits > 32 ? 2 ** (bits - 32) - 1 : 0;
  const loMask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const { hi: accHi, lo: accLo } = acc;
  const cipher = createCipheriv('aes-256-ctr', seed, new Uint8Array(AES_BLOCK_BYTES));
  let filled = 0;
  while (filled < slots) {
    const chunk = cipher.update(new Uint8Array((slots - filled) * WORD_BYTES));
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off < chunk.byteLength && filled < slots; off += WORD_BYTES) {
      const lo = (view.getUint32(off, true) & loMask) >>> 0;
      const hi = (view.getUint32(off + 4, true) & hiMask) >>> 0;
      if (hi > tHi || (hi === tHi && lo >= tLo)) continue;
      let rLo: number;
      let rHi: number;
      if (sign === 1) {
        // (acc + value) mod t: the sum is below 2t < 2^64; subtract t once if it reaches t.
        rLo = accLo[filled] + lo;
        rHi = accHi[filled] + hi;
        if (rLo >= LIMB) {
          rLo -= LIMB;
          rHi += 1;
        }
        if (rHi > tHi || (rHi === tHi && rLo >= tLo)) {
          rLo -= tLo;
          rHi -= tHi;
          if (rLo < 0) {
            rLo += LIMB;
            rHi -= 1;
          }
        }
      } else {
        // (acc − value) mod t: add t once if the difference is negative.
        rLo = accLo[filled] - lo;
        rHi = accHi[filled] - hi;
        if (rLo < 0) {
          rLo += LIMB;
          rHi -= 1;
        }
        if (rHi < 0) {
          rLo += tLo;
          rHi += tHi;
          if (rLo >= LIMB) {
            rLo -= LIMB;
            rHi += 1;
          }
        }
      }
      accLo[filled] = rLo;
      accHi[filled] = rHi;
      filled++;
    }
    chunk.fill(0);
  }
  cipher.final();
}

/**
 * This contributor's combined mask for one round: Σ over peers j of +m_ij (own public key sorts
 * before the peer's) or −m_ij (after), modulo t. Add it to the contribution slot-wise modulo t
 * (`maskContribution`) before encrypting.
 *
 * @param myPrivateX25519 this contributor's X25519 private key.
 * @param peersPublic the other contributors of the round: id → raw 32-byte public key or KeyObject.
 * @param roundId unique per query and per vector (1 to {@link MAX_ROUND_ID_BYTES} bytes).
 * @param slots number of mask values (1 to {@link SLOT_COUNT}).
 * @param t the plain modulus (2 < t < 2^63).
 * @returns `slots` residues in [0, t).
 * @throws HeMaskError on a missing, duplicate, own or low-order peer key, or an invalid argument.
 */
export function pairwiseMasks(
  myPrivateX25519: KeyObject,
  peersPublic: ReadonlyMap<string, Uint8Array | KeyObject>,
  roundId: string | Uint8Array,
  slots: number,
  t: bigint,
): BigInt64Array {
  return pairwiseMasksMany(myPrivateX25519, peersPublic, [roundId], slots, t)[0];
}

/**
 * {@link pairwiseMasks} for several round ids at once (the vectors of one query), each mask the
 * same as `pairwiseMasks` gives for its round id: one key agreement per peer instead of one per
 * peer and vector.
 * @throws HeMaskError as {@link pairwiseMasks}, or when `roundIds` is empty or repeats an id.
 */
export function pairwiseMasksMany(
  myPrivateX25519: KeyObject,
  peersPublic: ReadonlyMap<string, Uint8Array | KeyObject>,
  roundIds: ReadonlyArray<string | Uint8Array>,
  slots: number,
  t: bigint,
): BigInt64Array[] {
  if (myPrivateX25519?.type !== 'private' || myPrivateX25519.asymmetricKeyType !== 'x25519')
    throw new HeMaskError('myPrivateX25519 must be an X25519 private key');
  if (!Array.isArray(roundIds) || roundIds.length < 1) throw new HeMaskError('at least one roundId is needed');
  const rounds = roundIds.map((roundId) => {
    const round = typeof roundId === 'string' ? toUtf8(roundId) : roundId;
    if (!(round instanceof Uint8Array) || round.length < 1 || round.length > MAX_ROUND_ID_BYTES)
      throw new HeMaskError(`roundId must have 1 to ${MAX_ROUND_ID_BYTES} bytes`);
    return round;
  });
  if (new Set(rounds.map((r) => toBase64Url(r))).size !== rounds.length)
    throw new HeMaskError('round ids must differ (a mask is never reused across vectors)');
  if (!Number.isSafeInteger(slots) || slots < 1 || slots > SLOT_COUNT)
    throw new HeMaskError(`slots must be an integer from 1 to ${SLOT_COUNT}`);
  if (typeof t !== 'bigint' || t <= 2n || t > MAX_MODULUS) throw new HeMaskError('t must be a bigint in (2, 2^63)');
  if (!(peersPublic instanceof Map) || peersPublic.size < 1 || peersPublic.size >= MAX_CONTRIBUTORS)
    throw new HeMaskError(`a round has 1 to ${MAX_CONTRIBUTORS - 1} peers`);

  const mine = rawPublicKey(myPrivateX25519);
  const seen = new Set<string>([toBase64Url(mine)]);
  const accs: ResidueAccumulator[] = rounds.map(() => ({ hi: new Float64Array(slots), lo: new Float64Array(slots) }));
  for (const [id, key] of peersPublic) {
    let peerKey: KeyObject;
    let peerRaw: Uint8Array;
    try {
      if (key instanceof Uint8Array) {
        peerKey = x25519PublicKey(key);
        peerRaw = key;
      } else {
        peerKey = key;
        peerRaw = rawPublicKey(peerKey);
      }
    } catch (err) {
      throw new HeMaskError(`public key of peer ${JSON.stringify(id)} is not an X25519 public key`, { cause: err });
    }
    const tag = toBase64Url(peerRaw);
    if (seen.has(tag))
      throw new HeMaskError(`public key of peer ${JSON.stringify(id)} is repeated or is this contributor's own`);
    seen.add(tag);
    let shared: Uint8Array;
    try {
      shared = diffieHellman({ privateKey: myPrivateX25519, publicKey: peerKey });
    } catch {
      throw new HeMaskError(`key agreement with peer ${JSON.stringify(id)} failed (low-order public key)`);
    }
    const first = compareBytes(mine, peerRaw) < 0;
    const [lo, hi] = first ? [mine, peerRaw] : [peerRaw, mine];
    for (const [r, round] of rounds.entries()) {
      const info = concatBytes(u32(round.length), round, lo, hi, u32(slots), u64(t));
      const seed = new Uint8Array(hkdfSync('sha256', shared, MASK_SALT, info, SEED_BYTES));
      accumulateMask(seed, t, first ? 1 : -1, accs[r]);
      seed.fill(0);
    }
    shared.fill(0);
  }
  return accs.map(({ hi, lo }) => {
    const out = new BigInt64Array(slots);
    if (LITTLE_ENDIAN) {
      const words = new Uint32Array(out.buffer);
      for (let i = 0; i < slots; i++) {
        words[2 * i] = lo[i];
        words[2 * i + 1] = hi[i];
      }
    } else for (let i = 0; i < slots; i++) out[i] = BigInt(hi[i]) * BigInt(LIMB) + BigInt(lo[i]);
    return out;
  });
}
