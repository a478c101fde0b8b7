import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, leafHash, toUtf8 } from '../crypto/index.ts';
import { entryJson, entryLeafHash } from './entry.ts';
import type { LogEntry } from './types.ts';

/** What `canonicalJson` gives, or the error it throws. */
const reference = (value: unknown) => {
  try {
    return { text: canonicalJson(value) };
  } catch (err) {
    return { error: (err as Error).constructor };
  }
};
const fast = (value: unknown) => {
  try {
    return { text: entryJson(value as LogEntry) };
  } catch (err) {
    return { error: (err as Error).constructor };
  }
};

// Any string, lone surrogates and control characters included.
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\ud800', 'a\udfffb', '"\\\n\u2028'));
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

describe('entryJson', () => {
  it('is the RFC 8785 text canonicalJson gives, for entries of every shape, and fails where it fails', () => {
    const entry = fc.record(
      {
        v: fc.constantFrom(1, 2),
        time: text,
        actor: fc.record({ node: text, principal: optional(text), role: optional(text) }),
        action: text,
        decision: text,
        reason: text,
        purpose: text,
        consent: text,
        consentId: text,
        scopes: fc.array(text, { maxLength: 4 }),
        subject: text,
        resultDigest: text,
        correlationId: text,
      },
      { requiredKeys: ['v', 'time', 'actor', 'action', 'decision', 'scopes', 'correlationId'] },
    );
    fc.assert(
      fc.property(entry, (e) => {
        expect(fast(e)).toEqual(reference(e));
      }),
      { numRuns: 2000 },
    );
    // Shapes toEntry never makes take the general path and still agree.
    const odd = fc.oneof(
      fc.jsonValue(),
      entry.map((e) => ({ ...e, extra: 1 })),
      entry.map((e) => ({ ...e, actor: { ...e.actor, extra: 'x' } })),
      entry.map((e) => ({ ...e, v: 3 })),
      entry.map((e) => ({ ...e, time: 5 })),
      entry.map((e) => ({ ...e, scopes: [1, 'a'] })),
      entry.map((e) => ({ ...e, reason: null })),
    );
    fc.assert(
      fc.property(odd, (e) => {
        if (e === null || typeof e !== 'object' || Array.isArray(e)) return;
        expect(fast(e)).toEqual(reference(e));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes the leaf of an entry text as RFC 6962 does over its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (t) => {
        expect(entryLeafHash(t)).toEqual(leafHash(toUtf8(t)));
      }),
    );
  });
});
