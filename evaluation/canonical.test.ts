import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../crypto/index.ts';
import { fastCanonicalJson } from './canonical.ts';

describe('fast canonical JSON (RFC 8785)', () => {
  it('equals the reference implementation on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals it on objects with integer-like, unicode and unsorted keys', () => {
    const v = { b: 1, a: [{ z: 'é', '10': 1, '9': 2 }], é: -0, '': null, ä: 1e21, c: 1.5e-7 };
    expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
    // A lone surrogate has no canonical form: both refuse it.
    expect(() => canonicalJson({ k: 'a\ud800' })).toThrow();
    expect(() => fastCanonicalJson({ k: 'a\ud800' })).toThrow();
  });
});
