/**
 * RFC 8785 canonical JSON of evaluation documents, fast: objects are rebuilt with their keys in
 * sorted order and serialised by `JSON.stringify`, which for such trees gives exactly the JCS
 * text (JCS serialises strings and numbers as ECMAScript's JSON.stringify does). Trees where that
 * does not hold (integer-like keys, which V8 orders numerically; non-finite numbers; lone
 * surrogates; non-plain values) go to the reference implementation (`crypto/canonical.ts`).
 * About 4× faster on an explanation; property-tested against the reference.
 */
import { canonicalJson } from '../crypto/index.ts';

const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/** A sorted-key copy of a plain JSON tree, or `undefined` if the fast path does not apply. */
function sorted(value: unknown): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return value.isWellFormed() ? value : undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = sorted(value[i]);
      if (v === undefined) return undefined;
      out[i] = v;
    }
    return out;
  }
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const keys = Object.keys(value as object).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const raw = (value as Record<string, unknown>)[k];
    if (raw === undefined) continue;
    if (INDEX_KEY.test(k) || !k.isWellFormed()) return undefined;
    const v = sorted(raw);
    if (v === undefined) return undefined;
    out[k] = v;
  }
  return out;
}

/** The RFC 8785 canonical JSON of a value. @throws TypeError for values JSON cannot represent */
export function fastCanonicalJson(value: unknown): string {
  const s = sorted(value);
  return s === undefined ? canonicalJson(value) : JSON.stringify(s);
}
