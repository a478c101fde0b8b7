/** Helpers shared by the crypto/he tests (not exported from the module). */
import { randomBytes } from 'node:crypto';
import { loadSeal, sealArena } from './seal.ts';

/** `count` uniform random bigints in [0, max]. */
export function randomBelowOrEqual(count: number, max: bigint): bigint[] {
  const words = new BigUint64Array(randomBytes(count * 8).buffer);
  return Array.from(words, (w) => w % (max + 1n));
}

/**
 * A ciphertext of the slot values `[1, 2, 3]` under foreign BFV parameters (ring degree `n`,
 * plain modulus of `plainBits` bits), serialized with zstd.
 */
export async function foreignCiphertext(n: number, plainBits: number): Promise<Uint8Array> {
  const seal = await loadSeal();
  const arena = sealArena();
  try {
    const parms = arena.keep(new seal.EncryptionParameters(seal.SchemeType.bfv));
    parms.setPolyModulusDegree(n);
    parms.setCoeffModulus(arena.keep(seal.CoeffModulus.BFVDefault(n, seal.SecLevelType.tc128)));
    parms.setPlainModulus(arena.keep(seal.PlainModulus.Batching(n, plainBits)));
    const context = arena.keep(new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
    const generator = arena.keep(new seal.KeyGenerator(context));
    const publicKey = arena.keep(generator.createPublicKey());
    const encryptor = arena.keep(new seal.Encryptor(context, publicKey));
    const encoder = arena.keep(new seal.BatchEncoder(context));
    const plain = arena.keep(new seal.Plaintext());
    encoder.encode(BigInt64Array.from([1n, 2n, 3n]), plain);
    const ct = arena.keep(new seal.Ciphertext());
    encryptor.encrypt(plain, ct);
    return ct.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
  } finally {
    arena.release();
  }
}

/** Sets the SEAL header's total-size field (bytes 8–15) to the buffer's length. */
export function fixSealHeaderSize(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(8, BigInt(bytes.byteLength), true);
  return bytes;
}
