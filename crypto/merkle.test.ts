import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from './encoding.ts';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  type NodeId,
  nodeHash,
  rootAt,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

/** Copied from shared/vectors/rfc6962 (transparency-dev/merkle testdata, Apache-2.0). */
const VECTORS = new URL('./testdata/rfc6962/', import.meta.url).pathname;
const b64 = (s: string) => fromBase64(s) ?? new TextEncoder().encode(s);

function files(kind: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return walk(join(VECTORS, kind)).filter((f) => f.endsWith('.json'));
}

/** An in-memory tree keeping perfect subtree hashes, as the log's storage does. */
function memoryTree(leaves: Uint8Array[]) {
  const levels: Uint8Array[][] = [leaves.map(leafHash)];
  for (let l = 0; levels[l].length > 1; l++) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < levels[l].length; i += 2) next.push(nodeHash(levels[l][i], levels[l][i + 1]));
    levels.push(next);
  }
  return (ids: readonly NodeId[]) => ids.map(({ level, index }) => levels[level][index]);
}

const STANDARD = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => fromHex(h)!);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('RFC 6962 Merkle tree', () => {
  it('hashes per the transparency-dev/merkle hasher vectors', () => {
    expect(toHex(EMPTY_ROOT)).toBe(ROOTS[0]);
    expect(toHex(leafHash(new Uint8Array()))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(toHex(leafHash(new TextEncoder().encode('L123456')))).toBe(
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    );
    const enc = new TextEncoder();
    expect(toHex(nodeHash(enc.encode('N123'), enc.encode('N456')))).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
  });

  it('computes the standard 8-leaf roots at every size', async () => {
    const nodes = memoryTree(STANDARD);
    for (let n = 0; n <= 8; n++) expect(toHex(await rootAt(n, nodes))).toBe(ROOTS[n]);
  });

  it.each(files('inclusion'))('inclusion vector %s', (file) => {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    const ok = verifyInclusion(
      v.leafIdx,
      v.treeSize,
      b64(v.leafHash ?? ''),
      (v.proof ?? []).map(b64),
      b64(v.root ?? ''),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it.each(files('consistency'))('consistency vector %s', (file) => {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    const ok = verifyConsistency(v.size1, v.size2, b64(v.root1 ?? ''), b64(v.root2 ?? ''), (v.proof ?? []).map(b64));
    expect(ok).toBe(!v.wantErr);
  });

  it('generates proofs that agree with the published 8-leaf proofs', async () => {
    const nodes = memoryTree(STANDARD);
    expect((await inclusionProof(5, 8, nodes)).map(toHex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect((await consistencyProof(6, 8, nodes)).map(toHex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect((await consistencyProof(4, 8, nodes)).map(toHex)).toEqual([
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
  });

  it('property: generated proofs verify for every index and size pair, and any change breaks them', async () => {
    const leaves = Array.from({ length: 70 }, (_, i) => new Uint8Array([i, i * 7]));
    const nodes = memoryTree(leaves);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.nat(),
        async (a, b, flip) => {
          const [size1, size2] = a <= b ? [a, b] : [b, a];
          const index = flip % size2;
          const root2 = await rootAt(size2, nodes);
          const proof = await inclusionProof(index, size2, nodes);
          const leaf = leafHash(leaves[index]);
          if (!verifyInclusion(index, size2, leaf, proof, root2)) return false;
          if (
            verifyInclusion((index + 1) % size2 === index ? index : (index + 1) % size2, size2, leaf, proof, root2) &&
            size2 > 1
          )
            return false;
          if (proof.length > 0) {
            const bad = proof.map((p) => p.slice());
            bad[flip % bad.length][flip % 32] ^= 1 << (flip % 8);
            if (verifyInclusion(index, size2, leaf, bad, root2)) return false;
            if (verifyInclusion(index, size2, leaf, proof.slice(1), root2)) return false;
            if (verifyInclusion(index, size2, leaf, [...proof, proof[0]], root2)) return false;
          }
          const root1 = await rootAt(size1, nodes);
          const cons = await consistencyProof(size1, size2, nodes);
          if (!verifyConsistency(size1, size2, root1, root2, cons)) return false;
          if (cons.length > 0) {
            const bad = cons.map((p) => p.slice());
            bad[flip % bad.length][flip % 32] ^= 1;
            if (verifyConsistency(size1, size2, root1, root2, bad)) return false;
            if (verifyConsistency(size1, size2, root2, root2, cons) && size1 !== size2) return false;
            if (verifyConsistency(size1, size2, root1, root1, cons) && size1 !== size2) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
