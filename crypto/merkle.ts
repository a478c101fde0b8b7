/**
 * RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and verification.
 *
 * Proof generation works over a {@link NodeSource} of *perfect* subtree hashes: node (level L,
 * index i) is the hash of leaves [i·2^L, (i+1)·2^L). Storage keeps exactly those (they never
 * change once complete), so a proof costs O(log n) reads at any tree size.
 */
import { bytesEqual } from './encoding.ts';
import { sha256 } from './hash.ts';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256();

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF, entry);
}

/** RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE, left, right);
}

/** Id of a perfect subtree: its level (0 = leaves) and its index at that level. */
export interface NodeId {
  level: number;
  index: number;
}

/** Reads perfect subtree hashes, in the order asked. */
export type NodeSource = (ids: readonly NodeId[]) => Promise<Uint8Array[]> | Uint8Array[];

/** A proof or parameter that cannot be right; `reason` says why. */
export class ProofError extends Error {
  static override name = 'ProofError';
  readonly code = 'PROOF_INVALID';
}

const isSize = (n: number) => Number.isSafeInteger(n) && n >= 0;
const largestPow2Below = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** The perfect subtrees covering [start, end), left to right; `start` must be aligned to the first. */
export function decompose(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let a = start;
  while (a < end) {
    let level = Math.floor(Math.log2(end - a));
    while (level > 0 && a % 2 ** level !== 0) level--;
    out.push({ level, index: a / 2 ** level });
    a += 2 ** level;
  }
  return out;
}

/** Folds the hashes of a decomposition (left to right) into the RFC 6962 hash of their range. */
export function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i], acc);
  return acc;
}

/** Ranges whose hashes make up the inclusion proof of `index` in a tree of `size` (leaf sibling first). */
function inclusionRanges(index: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let [a, b] = [0, size];
  while (b - a > 1) {
    const k = largestPow2Below(b - a);
    if (index < a + k) {
      out.push([a + k, b]);
      b = a + k;
    } else {
      out.push([a, a + k]);
      a += k;
    }
  }
  return out.reverse();
}

/** Ranges whose hashes make up the consistency proof between `size1` and `size2` (RFC 6962 §2.1.2). */
function consistencyRanges(size1: number, size2: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const sub = (m: number, a: number, b: number, complete: boolean) => {
    const n = b - a;
    if (m === n) {
      if (!complete) out.push([a, b]);
      return;
    }
    const k = largestPow2Below(n);
    if (m <= k) {
      sub(m, a, a + k, complete);
      out.push([a + k, b]);
    } else {
      sub(m - k, a + k, b, false);
      out.push([a, a + k]);
    }
  };
  sub(size1, 0, size2, true);
  return out;
}

async function hashRanges(ranges: Array<[number, number]>, nodes: NodeSource): Promise<Uint8Array[]> {
  const plans = ranges.map(([a, b]) => decompose(a, b));
  const fetched = await nodes(plans.flat());
  let i = 0;
  return plans.map((p) => foldRange(p.map(() => fetched[i++])));
}

/** The root of a tree of `size` leaves. */
export async function rootAt(size: number, nodes: NodeSource): Promise<Uint8Array> {
  if (!isSize(size)) throw new RangeError('size must be a non-negative safe integer');
  if (size === 0) return EMPTY_ROOT;
  return (await hashRanges([[0, size]], nodes))[0];
}

/** Generates the inclusion proof of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(index: number, size: number, nodes: NodeSource): Promise<Uint8Array[]> {
  if (!isSize(size) || !isSize(index) || index >= size) throw new RangeError('index must be below size');
  return hashRanges(inclusionRanges(index, size), nodes);
}

/** Generates the consistency proof between trees of `size1` ≤ `size2` leaves. */
export async function consistencyProof(size1: number, size2: number, nodes: NodeSource): Promise<Uint8Array[]> {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) throw new RangeError('need 0 <= size1 <= size2');
  if (size1 === 0 || size1 === size2) return [];
  return hashRanges(consistencyRanges(size1, size2), nodes);
}

const lsb = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);
const bitLength = (n: number) => (n === 0 ? 0 : Math.floor(Math.log2(n)) + 1);
const popcount = (n: number) => {
  let c = 0;
  for (let x = n; x > 0; x = half(x)) c += x % 2;
  return c;
};

/**
 * Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2), rejecting proofs of the wrong
 * length up front. @throws ProofError
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!isSize(index) || !isSize(size)) throw new ProofError('index and size must be non-negative integers');
  if (index >= size) throw new ProofError(`index ${index} is not below tree size ${size}`);
  if (leaf.length !== 32) throw new ProofError('leaf hash must be 32 bytes');
  const inner = bitLength(index ^ (size - 1));
  const border = popcount(Math.floor(index / 2 ** inner));
  if (proof.length !== inner + border)
    throw new ProofError(
      `inclusion proof has ${proof.length} hashes; ${inner + border} expected for index ${index} of ${size}`,
    );
  for (const p of proof) if (p.length !== 32) throw new ProofError('every proof hash must be 32 bytes');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else r = nodeHash(r, p);
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('inclusion proof does not reach the root');
  return r;
}

/** True when `proof` shows leaf `index` with hash `leaf` is in the tree of `size` with `root`. Never throws. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    return root.length === 32 && bytesEqual(rootFromInclusionProof(index, size, leaf, proof), root);
  } catch {
    return false;
  }
}

/**
 * Checks a consistency proof (RFC 9162 §2.1.4.2) with transparency-dev/merkle's edge cases:
 * size1 = 0 is refused, size1 = size2 needs an empty proof and equal roots. @throws ProofError
 */
export function checkConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  if (!isSize(size1) || !isSize(size2)) throw new ProofError('sizes must be non-negative integers');
  if (size2 < size1) throw new ProofError(`size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === 0) throw new ProofError('a consistency proof from the empty tree is meaningless');
  if (size1 === size2) {
    if (proof.length > 0) throw new ProofError('sizes are equal but the proof is not empty');
    if (!bytesEqual(root1, root2)) throw new ProofError('sizes are equal but the roots differ');
    return;
  }
  if (proof.length === 0) throw new ProofError('empty consistency proof');
  if (root1.length !== 32 || root2.length !== 32) throw new ProofError('roots must be 32 bytes');
  for (const p of proof) if (p.length !== 32) throw new ProofError('every proof hash must be 32 bytes');
  const inner = bitLength((size1 - 1) ^ (size2 - 1));
  const shift = (() => {
    let s = 0;
    for (let x = size1; x % 2 === 0; x = half(x)) s++;
    return s;
  })();
  const innerAfter = inner - shift;
  const seed = size1 === 2 ** shift ? root1 : proof[0];
  const rest = size1 === 2 ** shift ? proof : proof.slice(1);
  const border = popcount(Math.floor((size1 - 1) / 2 ** inner));
  if (rest.length !== innerAfter + border)
    throw new ProofError(`consistency proof has ${proof.length} hashes; wrong length for ${size1} → ${size2}`);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = seed;
  let sr = seed;
  for (const c of rest) {
    if (sn === 0) throw new ProofError('consistency proof is too long');
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else sr = nodeHash(sr, c);
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('consistency proof is too short');
  if (!bytesEqual(fr, root1)) throw new ProofError('consistency proof does not match the first root');
  if (!bytesEqual(sr, root2)) throw new ProofError('consistency proof does not match the second root');
}

/** True when the consistency proof holds. Never throws. */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  try {
    checkConsistency(size1, size2, root1, root2, proof);
    return true;
  } catch {
    return false;
  }
}
