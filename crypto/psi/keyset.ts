/**
 * A set of 16-byte keys for a million-entry list in ~16 MB: one sorted buffer, a bucket index on
 * the first two bytes (keys are PRF outputs, so ~15 keys per bucket at 10^6), and a small
 * overlay of recent additions and removals that is merged in when it grows.
 */
import { PsiInputError } from './errors.ts';

/** Bytes of a list key (a truncated finalised PRF value). */
export const KEY_LENGTH = 16;
const BUCKETS = 65536;
const bucketOf = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const keyString = (k: Uint8Array) => Buffer.from(k.buffer, k.byteOffset, KEY_LENGTH).toString('latin1');

/** Compares key i of `a` with key j of `b` (offsets in keys). */
function compare(a: Uint8Array, i: number, b: Uint8Array, j: number): number {
  const x = i * KEY_LENGTH;
  const y = j * KEY_LENGTH;
  for (let o = 0; o < KEY_LENGTH; o++) {
    const d = a[x + o] - b[y + o];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Sorts `count` keys of `keys` (counting sort on the first two bytes, insertion sort within a
 * bucket) and drops duplicates. Returns a new buffer and its key count.
 */
export function sortKeys(keys: Uint8Array, count: number): { keys: Uint8Array; count: number } {
  const starts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < count; i++) starts[bucketOf(keys, i * KEY_LENGTH) + 1]++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1] += starts[b];
  const fill = starts.slice(0, BUCKETS);
  const out = new Uint8Array(count * KEY_LENGTH);
  for (let i = 0; i < count; i++) {
    const at = i * KEY_LENGTH;
    out.set(keys.subarray(at, at + KEY_LENGTH), fill[bucketOf(keys, at)]++ * KEY_LENGTH);
  }
  const tmp = new Uint8Array(KEY_LENGTH);
  for (let b = 0; b < BUCKETS; b++) {
    for (let i = starts[b] + 1; i < starts[b + 1]; i++) {
      if (compare(out, i - 1, out, i) <= 0) continue;
      tmp.set(out.subarray(i * KEY_LENGTH, (i + 1) * KEY_LENGTH));
      let j = i;
      for (; j > starts[b] && compare(out, j - 1, tmp, 0) > 0; j--)
        out.copyWithin(j * KEY_LENGTH, (j - 1) * KEY_LENGTH, j * KEY_LENGTH);
      out.set(tmp, j * KEY_LENGTH);
    }
  }
  let n = 0;
  for (let i = 0; i < count; i++) {
    if (n > 0 && compare(out, n - 1, out, i) === 0) continue;
    if (n !== i) out.copyWithin(n * KEY_LENGTH, i * KEY_LENGTH, (i + 1) * KEY_LENGTH);
    n++;
  }
  return { keys: n === count ? out : out.slice(0, n * KEY_LENGTH), count: n };
}

function bucketIndex(keys: Uint8Array, count: number): Uint32Array {
  const starts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < count; i++) starts[bucketOf(keys, i * KEY_LENGTH) + 1]++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1] += starts[b];
  return starts;
}

/** A mutable set of 16-byte keys with a sorted, compacted view for snapshots. */
export class KeySet {
  #base: Uint8Array;
  #count: number;
  #index: Uint32Array;
  readonly #added = new Set<string>();
  readonly #removed = new Set<string>();

  private constructor(sorted: Uint8Array, count: number) {
    this.#base = sorted;
    this.#count = count;
    this.#index = bucketIndex(sorted, count);
  }

  /** A set of the first `count` keys of `keys`, in any order, duplicates dropped. */
  static fromUnsorted(keys: Uint8Array, count = keys.length / KEY_LENGTH): KeySet {
    const s = sortKeys(keys, count);
    return new KeySet(s.keys, s.count);
  }

  /**
   * A set of keys received in strictly increasing order (a snapshot); copies them.
   * @throws PsiInputError BAD_ENCODING when the length is not a multiple of 16 or the order is wrong
   */
  static fromSorted(keys: Uint8Array): KeySet {
    if (keys.length % KEY_LENGTH !== 0)
      throw new PsiInputError('key block is not a multiple of 16 bytes', 'BAD_ENCODING');
    const count = keys.length / KEY_LENGTH;
    for (let i = 1; i < count; i++)
      if (compare(keys, i - 1, keys, i) >= 0)
        throw new PsiInputError(`keys are not strictly increasing at ${i}`, 'BAD_ENCODING');
    return new KeySet(Uint8Array.from(keys), count);
  }

  /** Number of keys. */
  get size(): number {
    return this.#count - this.#removed.size + this.#added.size;
  }

  #inBase(key: Uint8Array): boolean {
    const b = bucketOf(key, 0);
    for (let i = this.#index[b]; i < this.#index[b + 1]; i++) {
      const c = compare(this.#base, i, key, 0);
      if (c === 0) return true;
      if (c > 0) return false;
    }
    return false;
  }

  /** Whether the first 16 bytes of `key` are in the set. */
  has(key: Uint8Array): boolean {
    if (this.#added.size > 0 || this.#removed.size > 0) {
      const s = keyString(key);
      if (this.#added.has(s)) return true;
      if (this.#removed.has(s)) return false;
    }
    return this.#inBase(key);
  }

  /** Adds a key; true when it was absent. */
  add(key: Uint8Array): boolean {
    const s = keyString(key);
    if (this.#inBase(key)) return this.#removed.delete(s);
    if (this.#added.has(s)) return false;
    this.#added.add(s);
    this.#maybeCompact();
    return true;
  }

  /** Removes a key; true when it was present. */
  delete(key: Uint8Array): boolean {
    const s = keyString(key);
    if (this.#added.delete(s)) return true;
    if (!this.#inBase(key) || this.#removed.has(s)) return false;
    this.#removed.add(s);
    this.#maybeCompact();
    return true;
  }

  #maybeCompact(): void {
    if (this.#added.size + this.#removed.size > Math.max(1024, this.#count >>> 5)) this.compact();
  }

  /** Merges the overlay into the sorted buffer (one linear merge). */
  compact(): void {
    if (this.#added.size === 0 && this.#removed.size === 0) return;
    const gather = (set: Set<string>) => {
      const b = new Uint8Array(set.size * KEY_LENGTH);
      let n = 0;
      for (const s of set) b.set(Buffer.from(s, 'latin1'), n++ * KEY_LENGTH);
      return sortKeys(b, n);
    };
    const add = gather(this.#added);
    const rem = gather(this.#removed);
    const base = this.#base;
    const out = new Uint8Array(this.size * KEY_LENGTH);
    let [i, j, k, n] = [0, 0, 0, 0];
    while (i < this.#count || k < add.count) {
      if (i < this.#count && j < rem.count) {
        const c = compare(base, i, rem.keys, j);
        if (c === 0) {
          i++;
          j++;
          continue;
        }
        if (c > 0) {
          j++;
          continue;
        }
      }
      const fromBase = k >= add.count || (i < this.#count && compare(base, i, add.keys, k) < 0);
      const [src, at] = fromBase ? [base, i++] : [add.keys, k++];
      out.set(src.subarray(at * KEY_LENGTH, (at + 1) * KEY_LENGTH), n++ * KEY_LENGTH);
    }
    this.#base = out;
    this.#count = n;
    this.#index = bucketIndex(out, n);
    this.#added.clear();
    this.#removed.clear();
  }

  /** The keys in increasing order, `size × 16` bytes (compacts first; do not modify the result). */
  sorted(): Uint8Array {
    this.compact();
    return this.#base.subarray(0, this.#count * KEY_LENGTH);
  }
}
