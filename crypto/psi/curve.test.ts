import { checkPrimeSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../encoding.ts';
import {
  clampedInverse,
  fromLittleEndian,
  isCanonicalPoint,
  isClamped,
  jacobi,
  L,
  L_TWIST,
  multiply,
  P,
  randomScalar,
  scalarKey,
  sideOf,
  toLittleEndian,
} from './curve.ts';
import { hashToCurve } from './oprf.ts';

const modpow = (b: bigint, e: bigint, m: bigint) => {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
};
const x25519 = (scalar: Uint8Array, u: Uint8Array) => multiply(scalarKey(scalar), u);
const BASE = toLittleEndian(9n);
/** Canonical u of small order (libsodium's list without the non-canonical entries). */
const SMALL_ORDER_HEX = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
];

describe('X25519 through OpenSSL', () => {
  it('computes the RFC 7748 §5.2 vector', () => {
    const k = fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4')!;
    const u = fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')!;
    expect(toHex(x25519(k, u))).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
  });

  it('uses the group orders of Curve25519 and its twist', () => {
    expect(checkPrimeSync(L)).toBe(true);
    expect(checkPrimeSync(L_TWIST)).toBe(true);
    const curveOrder = 8n * L;
    expect(4n * L_TWIST).toBe(2n * P + 2n - curveOrder); // #E + #E' = 2p + 2
  });
});

describe('Jacobi symbol and sides', () => {
  it('agrees with Euler’s criterion', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: P - 1n }), (a) => {
        const euler = modpow(a, (P - 1n) / 2n, P);
        expect(jacobi(a, P)).toBe(euler === 0n ? 0 : euler === 1n ? 1 : -1);
      }),
      { numRuns: 200 },
    );
  });

  it('puts the base point on the curve and hashed points on both sides about evenly', () => {
    expect(sideOf(BASE)).toBe('curve');
    const sides = Array.from({ length: 400 }, (_, i) => sideOf(hashToCurve(Uint8Array.of(i >> 8, i & 0xff))));
    const curve = sides.filter((s) => s === 'curve').length;
    expect(curve).toBeGreaterThan(140);
    expect(curve).toBeLessThan(260);
  });
});

describe('canonical points', () => {
  it('refuses small order, non-canonical and malformed encodings', () => {
    for (const h of SMALL_ORDER_HEX) {
      const u = fromHex(h)!;
      expect(isCanonicalPoint(u)).toBe(false);
      expect(() => x25519(randomScalar(), u)).toThrow(expect.objectContaining({ code: 'BAD_POINT' }));
    }
    expect(isCanonicalPoint(toLittleEndian(P))).toBe(false);
    expect(isCanonicalPoint(toLittleEndian(P + 1n))).toBe(false);
    expect(isCanonicalPoint(toLittleEndian(P - 2n))).toBe(true);
    const high = toLittleEndian(9n);
    high[31] |= 0x80;
    expect(isCanonicalPoint(high)).toBe(false);
    expect(isCanonicalPoint(new Uint8Array(31).fill(7))).toBe(false);
    expect(isCanonicalPoint(new Uint8Array(33).fill(7))).toBe(false);
    expect(isCanonicalPoint('x'.repeat(32) as unknown as Uint8Array)).toBe(false);
  });

  it('agrees with the definition, edge values included', () => {
    const small = new Set([0n, 1n, P - 1n, ...SMALL_ORDER_HEX.slice(3).map((h) => fromLittleEndian(fromHex(h)!))]);
    const encodings = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.bigInt({ min: P - 40n, max: 2n ** 256n - 1n }).map(toLittleEndian),
      fc.constantFrom(...small).map(toLittleEndian),
    );
    fc.assert(
      fc.property(encodings, (u) => {
        const v = fromLittleEndian(u);
        expect(isCanonicalPoint(u)).toBe((u[31] & 0x80) === 0 && v < P && !small.has(v));
      }),
    );
  });

  it('round-trips little-endian integers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (n) => {
        expect(fromLittleEndian(toLittleEndian(n))).toBe(n);
      }),
    );
  });
});

describe('clamped inverses', () => {
  // A point of each prime-order subgroup: clear the cofactor of a point of that side.
  const onSide = (side: 'curve' | 'twist') => {
    for (let i = 0; ; i++) {
      const u = hashToCurve(Uint8Array.of(i));
      if (sideOf(u) === side) return x25519(randomScalar(), u);
    }
  };

  for (const side of ['curve', 'twist'] as const) {
    it(`undo a clamped scalar on the ${side}`, () => {
      const q = onSide(side);
      let found = 0;
      for (let i = 0; i < 24; i++) {
        const r = randomScalar();
        const t = clampedInverse(r, side);
        if (!t) continue;
        found++;
        expect(isClamped(t)).toBe(true);
        expect(toHex(x25519(t, x25519(r, q)))).toBe(toHex(q));
      }
      expect(found).toBeGreaterThan(0);
    });
  }

  it('exists about half the time on the curve and a quarter on the twist', () => {
    const n = 400;
    const rs = Array.from({ length: n }, () => randomScalar());
    const curve = rs.filter((r) => clampedInverse(r, 'curve')).length / n;
    const twist = rs.filter((r) => clampedInverse(r, 'twist')).length / n;
    expect(curve).toBeGreaterThan(0.38);
    expect(curve).toBeLessThan(0.62);
    expect(twist).toBeGreaterThan(0.15);
    expect(twist).toBeLessThan(0.35);
  });
});
