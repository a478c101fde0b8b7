import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BfvKeyPair, type BfvSession, createBfvSession } from './bfv.ts';
import { HeInputError, HeKeyHandleError, HeRangeError } from './errors.ts';
import { MAX_CENTRED_MAGNITUDE, MAX_CIPHERTEXT_BYTES, PLAIN_MODULUS } from './params.ts';
import { fixSealHeaderSize, foreignCiphertext } from './test-helpers.ts';

/** Expects `fn` to throw an HeInputError with code BAD_CIPHERTEXT about `input`. */
function expectRefused(fn: () => unknown, input: 'ciphertext' | 'publicKey' = 'ciphertext') {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HeInputError);
  expect((caught as HeInputError).code).toBe('BAD_CIPHERTEXT');
  expect((caught as HeInputError).name).toBe('HeInputError');
  expect((caught as HeInputError).input).toBe(input);
}

describe('BFV session', () => {
  let session: BfvSession;
  let keys: BfvKeyPair;
  let ciphertext: Uint8Array;
  beforeAll(async () => {
    session = await createBfvSession();
    keys = session.createKeyPair();
    ciphertext = session.encryptVector(keys.publicKey, [1n, 2n, 3n]);
  });
  afterAll(() => session?.release());

  it('round-trips residues and centred values, zero past the input', () => {
    const values = [0n, 1n, PLAIN_MODULUS - 1n, -5n, MAX_CENTRED_MAGNITUDE, -MAX_CENTRED_MAGNITUDE];
    const ct = session.encryptVector(keys.publicKey, values);
    const residues = keys.decrypt(ct);
    expect(Array.from(residues.slice(0, 6))).toEqual([
      0n,
      1n,
      PLAIN_MODULUS - 1n,
      PLAIN_MODULUS - 5n,
      MAX_CENTRED_MAGNITUDE,
      PLAIN_MODULUS - MAX_CENTRED_MAGNITUDE,
    ]);
    expect(residues.slice(6).every((v) => v === 0n)).toBe(true);
    expect(residues.length).toBe(8192);
    const centred = keys.decrypt(ct, { centred: true });
    expect(Array.from(centred.slice(0, 6))).toEqual([0n, 1n, -1n, -5n, MAX_CENTRED_MAGNITUDE, -MAX_CENTRED_MAGNITUDE]);
  });

  it('adds ciphertexts slot-wise and computes plaintext-weighted sums', () => {
    const a = session.encryptVector(keys.publicKey, [10n, -20n, 30n]);
    const b = session.encryptVector(keys.publicKey, BigInt64Array.from([1n, 2n, 3n]));
    expect(Array.from(keys.decrypt(session.addCiphertexts([a, b, b]), { centred: true }).slice(0, 4))).toEqual([
      12n,
      -16n,
      36n,
      0n,
    ]);
    const combined = session.multiplyPlainAndAdd(
      [
        { ciphertext: a, factor: -3n },
        { ciphertext: b, factor: 1000n },
      ],
      -7n,
    );
    expect(Array.from(keys.decrypt(combined, { centred: true }).slice(0, 4))).toEqual([
      -30n + 1000n - 7n,
      60n + 2000n - 7n,
      -90n + 3000n - 7n,
      -7n,
    ]);
  });

  it('compact ciphertexts: half the size, summed exactly (64 of them at the largest residues), never multiplied or mixed with fresh ones', () => {
    const fresh = session.encryptVector(keys.publicKey, [7n]);
    const values = [PLAIN_MODULUS - 1n, 5n, 0n, 123_456_789_012n];
    const compact = session.encryptVector(keys.publicKey, values, { compact: true });
    expect(compact.length).toBeLessThan(fresh.length / 2 + 1024);
    expect(Array.from(keys.decrypt(compact).slice(0, 5))).toEqual([...values, 0n]);
    const many = Array.from({ length: 64 }, () => session.encryptVector(keys.publicKey, values, { compact: true }));
    const sum = session.addCiphertexts(many);
    expect(keys.noiseBudget(sum)).toBeGreaterThan(5);
    expect(Array.from(keys.decrypt(sum).slice(0, 5))).toEqual([...values.map((v) => (64n * v) % PLAIN_MODULUS), 0n]);
    expectRefused(() => session.addCiphertexts([compact, fresh]));
    expectRefused(() => session.addCiphertexts([fresh, compact]));
    expectRefused(() => session.multiplyPlainAndAdd([{ ciphertext: compact, factor: 2n }]));
  });

  it('refuses values outside (−t, t), too many values and bad factors', () => {
    expect(() => session.encryptVector(keys.publicKey, [PLAIN_MODULUS])).toThrow(HeRangeError);
    expect(() => session.encryptVector(keys.publicKey, [-PLAIN_MODULUS])).toThrow(HeRangeError);
    expect(() => session.encryptVector(keys.publicKey, new Array(8193).fill(0n))).toThrow(HeRangeError);
    expect(() => session.encryptVector(keys.publicKey, [1 as unknown as bigint])).toThrow(TypeError);
    expect(() => session.multiplyPlainAndAdd([{ ciphertext, factor: 0n }])).toThrow(HeRangeError);
    expect(() => session.multiplyPlainAndAdd([{ ciphertext, factor: MAX_CENTRED_MAGNITUDE + 1n }])).toThrow(
      HeRangeError,
    );
    expect(() => session.multiplyPlainAndAdd([{ ciphertext, factor: 1n }], -MAX_CENTRED_MAGNITUDE - 1n)).toThrow(
      HeRangeError,
    );
    expect(() => session.addCiphertexts([])).toThrow(RangeError);
    expect(() => session.addCiphertexts(new Array(65).fill(ciphertext))).toThrow(RangeError);
  });

  it('refuses a ciphertext made under other parameters with BAD_CIPHERTEXT', async () => {
    const otherPlainModulus = await foreignCiphertext(8192, 40);
    const otherDegree = await foreignCiphertext(4096, 20);
    expectRefused(() => keys.decrypt(otherPlainModulus));
    expectRefused(() => session.addCiphertexts([ciphertext, otherPlainModulus]));
    expectRefused(() => session.addCiphertexts([otherDegree]));
    expectRefused(() => session.multiplyPlainAndAdd([{ ciphertext: otherDegree, factor: 2n }]));
  });

  it('refuses truncated, padded, oversized, empty and random bytes with BAD_CIPHERTEXT', () => {
    expectRefused(() => session.addCiphertexts([ciphertext.subarray(0, ciphertext.length - 1)]));
    expectRefused(() => session.addCiphertexts([ciphertext.subarray(0, 10)]));
    expectRefused(() => session.addCiphertexts([new Uint8Array(0)]));
    const padded = new Uint8Array(ciphertext.length + 1);
    padded.set(ciphertext);
    expectRefused(() => keys.decrypt(padded));
    expectRefused(() => keys.decrypt(new Uint8Array(MAX_CIPHERTEXT_BYTES + 1)));
    expectRefused(() => keys.decrypt(randomBytes(4096)));
    // A valid header on a body SEAL cannot parse: SEAL's failure becomes BAD_CIPHERTEXT.
    const body = fixSealHeaderSize(Uint8Array.from([...ciphertext.subarray(0, 16), ...randomBytes(5000)]));
    expectRefused(() => keys.decrypt(body));
    expect(() => keys.decrypt('not bytes' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('refuses a transparent ciphertext (second polynomial zero)', async () => {
    const { loadSeal } = await import('./seal.ts');
    const seal = await loadSeal();
    const plainSession = await createBfvSession({ compression: 'none' });
    try {
      const raw = plainSession.encryptVector(keys.publicKey, [1n]);
      expect(raw[5]).toBe(seal.ComprModeType.none.value);
      // The ciphertext data ends with its second polynomial: 4 primes × 8192 coefficients × 8 bytes.
      raw.fill(0, raw.length - 4 * 8192 * 8);
      expectRefused(() => plainSession.addCiphertexts([raw]));
    } finally {
      plainSession.release();
    }
  });

  it('refuses bad public keys with BAD_CIPHERTEXT (input publicKey)', async () => {
    expectRefused(() => session.encryptVector(ciphertext, [1n]), 'publicKey');
    expectRefused(() => session.encryptVector(keys.publicKey.subarray(0, 1000), [1n]), 'publicKey');
    expectRefused(() => session.encryptVector(randomBytes(2000), [1n]), 'publicKey');
    const other = await createBfvSession();
    try {
      // A public key of the same parameters from another session is fine: the protocol's normal case.
      const otherKeys = other.createKeyPair();
      expect(otherKeys.decrypt(session.encryptVector(otherKeys.publicKey, [9n]))[0]).toBe(9n);
    } finally {
      other.release();
    }
  });

  it('reads zstd-compressed ciphertexts from a session that compresses', async () => {
    const zstd = await createBfvSession({ compression: 'zstd' });
    try {
      const compressed = zstd.encryptVector(keys.publicKey, [5n, 6n]);
      expect(compressed[5]).toBe(2); // SEAL header: compression mode zstd
      expect(compressed.length).toBeLessThan(ciphertext.length);
      const sum = session.addCiphertexts([compressed, ciphertext]);
      expect(Array.from(keys.decrypt(sum).slice(0, 3))).toEqual([6n, 8n, 3n]);
    } finally {
      zstd.release();
    }
  });

  it('a ciphertext under another key decrypts to garbage (caught by the protocol range checks)', () => {
    const other = session.createKeyPair();
    try {
      const ct = session.encryptVector(other.publicKey, new Array(8192).fill(5n));
      const garbage = keys.decrypt(ct);
      const small = garbage.filter((v) => v < 2n ** 53n).length;
      expect(small).toBeLessThan(8192 / 16);
    } finally {
      other.release();
    }
  });

  it('a released key pair refuses to decrypt', () => {
    const temp = session.createKeyPair();
    const ct = session.encryptVector(temp.publicKey, [1n]);
    temp.release();
    temp.release();
    expect(() => temp.decrypt(ct)).toThrow(HeKeyHandleError);
  });
});
