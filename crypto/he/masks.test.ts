import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeMaskError } from './errors.ts';
import { generateMaskKeyPair, type MaskKeyPair, pairwiseMasks, pairwiseMasksMany, x25519PublicKey } from './masks.ts';
import { PLAIN_MODULUS } from './params.ts';

/** Every contributor's mask for one round. */
function roundMasks(parties: MaskKeyPair[], roundId: string, slots: number, t: bigint): BigInt64Array[] {
  return parties.map((me, i) => {
    const peers = new Map<string, Uint8Array>();
    parties.forEach((p, j) => {
      if (j !== i) peers.set(`bank-${j}`, p.publicKey);
    });
    return pairwiseMasks(me.privateKey, peers, roundId, slots, t);
  });
}

describe('pairwise zero-sum masks', () => {
  it('masks of all contributors sum to zero modulo t (2–8 contributors)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        fc.oneof(fc.constant(PLAIN_MODULUS), fc.bigInt({ min: 3n, max: 2n ** 63n - 1n })),
        (n, roundId, slots, t) => {
          const masks = roundMasks(
            Array.from({ length: n }, () => generateMaskKeyPair()),
            roundId,
            slots,
            t,
          );
          for (let s = 0; s < slots; s++) {
            let sum = 0n;
            for (const m of masks) {
              expect(m[s] >= 0n && m[s] < t).toBe(true);
              sum += m[s];
            }
            expect(sum % t).toBe(0n);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('several round ids at once give each round id its own mask, for any t; repeated round ids are refused', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.oneof(fc.constant(PLAIN_MODULUS), fc.bigInt({ min: 3n, max: 2n ** 63n - 1n })),
        (n, roundIds, slots, t) => {
          const parties = Array.from({ length: n }, () => generateMaskKeyPair());
          const peers = new Map(parties.slice(1).map((p, j) => [`bank-${j}`, p.publicKey] as const));
          const many = pairwiseMasksMany(parties[0].privateKey, peers, roundIds, slots, t);
          expect(many).toEqual(roundIds.map((r) => pairwiseMasks(parties[0].privateKey, peers, r, slots, t)));
        },
      ),
      { numRuns: 40 },
    );
    const [a, b] = [generateMaskKeyPair(), generateMaskKeyPair()];
    const peers = new Map([['bank-b', b.publicKey]]);
    expect(() => pairwiseMasksMany(a.privateKey, peers, ['q/x', 'q/x'], 8, PLAIN_MODULUS)).toThrow(HeMaskError);
    expect(() => pairwiseMasksMany(a.privateKey, peers, [], 8, PLAIN_MODULUS)).toThrow(HeMaskError);
  });

  it('a masked contribution is uniform modulo t and unrelated to the figure', () => {
    const parties = Array.from({ length: 3 }, () => generateMaskKeyPair());
    const [mask] = roundMasks(parties, 'query-1/outstanding', 8192, PLAIN_MODULUS);
    const figure = 123_456_789n;
    const buckets = new Array<number>(16).fill(0);
    for (const m of mask) {
      const masked = (figure + m) % PLAIN_MODULUS;
      expect(masked).not.toBe(figure);
      buckets[Number((masked * 16n) / PLAIN_MODULUS)]++;
    }
    const expected = 8192 / 16;
    const chiSquare = buckets.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0);
    // 15 degrees of freedom: P(χ² > 60) < 10^-6.
    expect(chiSquare).toBeLessThan(60);
  });

  it('is deterministic per round and differs between rounds', () => {
    const parties = Array.from({ length: 2 }, () => generateMaskKeyPair());
    const a = roundMasks(parties, 'q/outstanding', 16, PLAIN_MODULUS);
    const b = roundMasks(parties, 'q/outstanding', 16, PLAIN_MODULUS);
    const c = roundMasks(parties, 'q/overdue', 16, PLAIN_MODULUS);
    expect(a).toEqual(b);
    expect(Array.from(a[0]).some((v, i) => v !== c[0][i])).toBe(true);
    // Two contributors: one adds what the other subtracts.
    expect(Array.from(a[0], (v, i) => (v + a[1][i]) % PLAIN_MODULUS).every((v) => v === 0n)).toBe(true);
    // Peer ids do not matter, keys do: the same peers under other ids give the same mask.
    const renamed = pairwiseMasks(
      parties[0].privateKey,
      new Map([['x', parties[1].publicKey]]),
      'q/outstanding',
      16,
      PLAIN_MODULUS,
    );
    expect(renamed).toEqual(a[0]);
  });

  it('refuses own, repeated, malformed and low-order peer keys and bad arguments', () => {
    const me = generateMaskKeyPair();
    const peer = generateMaskKeyPair();
    const ok = new Map([['peer', peer.publicKey]]);
    const refuse = (fn: () => unknown) => expect(fn).toThrow(HeMaskError);
    refuse(() => pairwiseMasks(me.privateKey, new Map([['me', me.publicKey]]), 'r', 8, PLAIN_MODULUS));
    refuse(() =>
      pairwiseMasks(
        me.privateKey,
        new Map<string, Uint8Array | ReturnType<typeof x25519PublicKey>>([
          ['a', peer.publicKey],
          ['b', x25519PublicKey(peer.publicKey)],
        ]),
        'r',
        8,
        PLAIN_MODULUS,
      ),
    );
    refuse(() => pairwiseMasks(me.privateKey, new Map([['z', new Uint8Array(32)]]), 'r', 8, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, new Map([['short', new Uint8Array(31)]]), 'r', 8, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, new Map(), 'r', 8, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(x25519PublicKey(me.publicKey), ok, 'r', 8, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, ok, '', 8, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, ok, 'r', 0, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, ok, 'r', 8193, PLAIN_MODULUS));
    refuse(() => pairwiseMasks(me.privateKey, ok, 'r', 8, 2n));
    refuse(() => pairwiseMasks(me.privateKey, ok, 'r', 8, 2n ** 63n));
    expect(pairwiseMasks(me.privateKey, ok, 'r', 8, PLAIN_MODULUS).length).toBe(8);
  });
});
