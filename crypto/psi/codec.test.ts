import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../encoding.ts';
import {
  decodeDelta,
  decodePoints,
  decodeSnapshot,
  encodeDelta,
  encodePoints,
  encodeSnapshot,
  FRAME_POINTS,
} from './codec.ts';
import { PsiInputError } from './errors.ts';
import type { ListDelta, ListSnapshot } from './list.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const keyId = bytes(16).map(toHex);
const version = fc.nat({ max: Number.MAX_SAFE_INTEGER - 32 });
const signature = fc.option(fc.uint8Array({ minLength: 1, maxLength: 96 }), { nil: undefined });
const withSig = <T extends object>(o: T, sig: Uint8Array | undefined) => (sig ? { ...o, signature: sig } : o);

const snapshot: fc.Arbitrary<ListSnapshot> = fc
  .tuple(keyId, version, bytes(32), bytes(32), fc.array(bytes(16), { maxLength: 20 }), signature)
  .map(([id, v, head, digest, keys, sig]) =>
    withSig(
      {
        keyId: id,
        version: v,
        count: keys.length,
        head,
        setDigest: digest,
        keys: Uint8Array.from(keys.flatMap((k) => [...k])),
      },
      sig,
    ),
  );

const delta: fc.Arbitrary<ListDelta> = fc
  .tuple(
    keyId,
    version,
    fc.nat({ max: 2 ** 32 - 1 }),
    bytes(32),
    fc.array(fc.record({ op: fc.constantFrom('add' as const, 'remove' as const), key: bytes(16) }), { maxLength: 20 }),
    signature,
  )
  .map(([id, from, count, head, changes, sig]) =>
    withSig({ keyId: id, fromVersion: from, toVersion: from + changes.length, count, head, changes }, sig),
  );

/** Decoding must either succeed or throw PsiInputError, never anything else. */
function onlyPsiErrors(decode: () => unknown) {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(PsiInputError);
  }
}

describe('frames', () => {
  it('round-trip points', () => {
    fc.assert(
      fc.property(fc.array(bytes(32), { maxLength: 30 }), (points) => {
        expect(decodePoints(encodePoints(points)).map(toHex)).toEqual(points.map(toHex));
      }),
    );
  });

  it('round-trip snapshots', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        expect(decodeSnapshot(encodeSnapshot(s))).toEqual(s);
      }),
    );
  });

  it('round-trip deltas', () => {
    fc.assert(
      fc.property(delta, (d) => {
        expect(decodeDelta(encodeDelta(d))).toEqual(d);
      }),
    );
  });

  it('refuse every truncation and any trailing byte', () => {
    fc.assert(
      fc.property(snapshot, delta, fc.array(bytes(32), { minLength: 1, maxLength: 4 }), (s, d, p) => {
        const frames: Array<[Uint8Array, (b: Uint8Array) => unknown]> = [
          [encodeSnapshot(s), decodeSnapshot],
          [encodeDelta(d), decodeDelta],
          [encodePoints(p), (b) => decodePoints(b)],
        ];
        for (const [frame, decode] of frames) {
          for (const cut of [1, 2, 7, frame.length - 1])
            if (cut < frame.length) expect(() => decode(frame.subarray(0, cut))).toThrow(PsiInputError);
          expect(() => decode(Uint8Array.from([...frame, 0]))).toThrow(PsiInputError);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('throw only PsiInputError on arbitrary bytes', () => {
    const header = fc
      .constantFrom(0x01, 0x02, 0x03)
      .chain((t) => fc.uint8Array({ maxLength: 200 }).map((rest) => Uint8Array.from([t, 1, ...rest])));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), header), (junk) => {
        onlyPsiErrors(() => decodePoints(junk));
        onlyPsiErrors(() => decodeSnapshot(junk));
        onlyPsiErrors(() => decodeDelta(junk));
      }),
    );
  });

  it('refuse an oversized batch from its header, before reading points', () => {
    const header = Uint8Array.from([FRAME_POINTS, 1, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodePoints(header)).toThrow(expect.objectContaining({ code: 'BATCH_TOO_LARGE' }));
    expect(() => decodePoints(encodePoints([new Uint8Array(32), new Uint8Array(32)]), 1)).toThrow(
      expect.objectContaining({ code: 'BATCH_TOO_LARGE' }),
    );
  });
});
