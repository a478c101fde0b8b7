import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, toUtf8 } from '../encoding.ts';
import { P, sideOf, toLittleEndian } from './curve.ts';
import { PsiInputError } from './errors.ts';
import {
  blindedBatchSize,
  createOprfClient,
  createOprfServer,
  generateOprfKey,
  hashToCurve,
  MAX_BATCH,
  MAX_POINTS,
  paddedPerSide,
  SUITE,
} from './oprf.ts';

const server = createOprfServer();
const client = createOprfClient();
const uscc = (i: number) => toUtf8(`91350200MA${String(i).padStart(8, '0')}`);
const hex = (bs: readonly Uint8Array[]) => bs.map(toHex);
const roundTrip = (inputs: Uint8Array[], s = server) => {
  const batch = client.blind(inputs);
  return batch.finalize(s.evaluate(batch.blinded));
};
const refused = (code: string, index?: number) =>
  expect.objectContaining({ name: 'PsiInputError', code, ...(index === undefined ? {} : { index }) });

describe('OPRF round trip', () => {
  it('equals the server’s own PRF, including empty and long inputs and duplicates', () => {
    const inputs = [uscc(1), uscc(2), new Uint8Array(0), new Uint8Array(4000).fill(0xab), uscc(1)];
    expect(hex(roundTrip(inputs))).toEqual(hex(inputs.map((x) => server.prf(x))));
  });

  it('gives the same value under different blinds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (x) => {
        const a = client.blind([x]);
        const b = client.blind([x]);
        expect(hex(a.blinded)).not.toEqual(hex(b.blinded));
        expect(toHex(a.finalize(server.evaluate(a.blinded))[0])).toBe(toHex(b.finalize(server.evaluate(b.blinded))[0]));
      }),
      { numRuns: 25 },
    );
  });

  it('depends on the key', () => {
    const key = generateOprfKey();
    const a = createOprfServer({ key });
    const b = createOprfServer({ key });
    const c = createOprfServer();
    expect(a.publicInfo).toEqual(b.publicInfo);
    expect(a.publicInfo).toMatchObject({ suite: SUITE, maxPoints: MAX_POINTS });
    expect(a.publicInfo.keyId).not.toBe(c.publicInfo.keyId);
    expect(toHex(a.prf(uscc(7)))).toBe(toHex(b.prf(uscc(7))));
    expect(toHex(a.prf(uscc(7)))).not.toBe(toHex(c.prf(uscc(7))));
    expect(hex(roundTrip([uscc(7)], c))).toEqual(hex([c.prf(uscc(7))]));
  });

  it('hashes deterministically, with domain separation from the raw input', () => {
    expect(toHex(hashToCurve(uscc(3)))).toBe(toHex(hashToCurve(uscc(3))));
    expect(toHex(hashToCurve(uscc(3)))).not.toBe(toHex(hashToCurve(uscc(4))));
    expect(() => hashToCurve(new Uint8Array(0x10000))).toThrow(TypeError);
  });
});

describe('what the server sees', () => {
  it('two blinds of the same batch share no point', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 6 }), (inputs) => {
        const a = new Set(hex(client.blind(inputs).blinded));
        for (const p of hex(client.blind(inputs).blinded)) expect(a.has(p)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('is as many curve as twist points, in a number that depends only on the distinct inputs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 10 ** 6 }), { maxLength: 40 }), (ids) => {
        const { blinded } = client.blind(ids.map(uscc));
        expect(blinded.length).toBe(blindedBatchSize(ids.length));
        const curve = blinded.filter((u) => sideOf(u) === 'curve').length;
        expect(curve * 2).toBe(blinded.length);
      }),
      { numRuns: 20 },
    );
  });

  it('pads little for large batches and never fails for small ones', () => {
    expect(paddedPerSide(0)).toBe(0);
    expect(paddedPerSide(1)).toBe(1);
    expect(paddedPerSide(10)).toBe(10);
    expect(paddedPerSide(MAX_BATCH)).toBe(5400);
    expect(blindedBatchSize(MAX_BATCH)).toBeLessThanOrEqual(MAX_POINTS);
    for (let n = 1; n < 3000; n += 37) expect(paddedPerSide(n)).toBeGreaterThanOrEqual(n / 2);
  });
});

describe('refusals', () => {
  const good = () => client.blind([uscc(1)]).blinded;
  const withTop = () => {
    const u = toLittleEndian(9n);
    u[31] |= 0x80;
    return u;
  };
  const bad: Record<string, Uint8Array> = {
    'too short': new Uint8Array(31).fill(5),
    'too long': new Uint8Array(33).fill(5),
    empty: new Uint8Array(0),
    'top bit set': withTop(),
    'p (non-canonical zero)': toLittleEndian(P),
    'p + 1 (non-canonical one)': toLittleEndian(P + 1n),
    'identity (u = 0)': toLittleEndian(0n),
    'order 4 (u = 1)': toLittleEndian(1n),
    'order 4 on the twist (u = p − 1)': toLittleEndian(P - 1n),
    'order 8': toLittleEndian(39382357235489614581723060781553021112529911719440698176882885853963445705823n),
  };

  for (const [what, point] of Object.entries(bad)) {
    it(`evaluate refuses a point that is ${what}, naming its index`, () => {
      const batch = [...good(), point];
      expect(() => server.evaluate(batch)).toThrow(refused('BAD_POINT', batch.length - 1));
    });
    it(`finalize refuses an answer that is ${what}`, () => {
      const b = client.blind([uscc(2)]);
      const answer = server.evaluate(b.blinded);
      answer[0] = point;
      expect(() => b.finalize(answer)).toThrow(refused('BAD_POINT', 0));
    });
  }

  it('refuses garbage of any shape with BAD_POINT only', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }).filter((u) => u.length !== 32),
          fc.constantFrom(null, undefined, 'point', 42, {}, [1, 2, 3]),
        ),
        (junk) => {
          expect(() => server.evaluate([junk as Uint8Array])).toThrow(refused('BAD_POINT', 0));
        },
      ),
    );
  });

  it('accepts twist points: the group is Curve25519 and its twist (every canonical u of large order)', () => {
    const twist = [...Array(40).keys()].map((i) => hashToCurve(uscc(i))).find((u) => sideOf(u) === 'twist')!;
    expect(server.evaluate([twist])).toHaveLength(1);
  });

  it('refuses oversized batches before any curve operation', () => {
    const point = good()[0];
    expect(() => server.evaluate(new Array(MAX_POINTS + 1).fill(point))).toThrow(refused('BATCH_TOO_LARGE'));
    expect(() => client.blind(new Array(MAX_BATCH + 1).fill(uscc(1)))).toThrow(refused('BATCH_TOO_LARGE'));
    expect(() => createOprfServer({ maxPoints: 2 }).evaluate([point, point, point])).toThrow(PsiInputError);
  });

  it('refuses an answer with the wrong number of points', () => {
    const b = client.blind([uscc(1), uscc(2)]);
    const answer = server.evaluate(b.blinded);
    expect(() => b.finalize(answer.slice(1))).toThrow(refused('BAD_ENCODING'));
  });

  it('treats programmer mistakes as TypeError', () => {
    expect(() => createOprfServer({ key: new Uint8Array(31) })).toThrow(TypeError);
    expect(() => client.blind(['x' as unknown as Uint8Array])).toThrow(TypeError);
    expect(() => createOprfClient({ maxBatch: 0 })).toThrow(TypeError);
  });
});
