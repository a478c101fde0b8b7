import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519KeyPair, ed25519Signer, ed25519Verify } from '../ed25519.ts';
import { toHex, toUtf8 } from '../encoding.ts';
import { KeySet } from './keyset.ts';
import {
  createListMirror,
  deltaStatement,
  type ListDelta,
  type ListMirror,
  type ListSnapshot,
  openList,
  prepareList,
  setDigest,
  snapshotStatement,
} from './list.ts';
import { createOprfClient, createOprfServer, generateOprfKey, type OprfServer } from './oprf.ts';

const uscc = (i: number) => `91350200MA${String(i).padStart(8, '0')}`;
const server = createOprfServer();
const client = createOprfClient();
const refused = (code: string) => expect.objectContaining({ code });

/** What the bank learns for its batch: F_k(x) through the OPRF, looked up in its mirror. */
function check(mirror: ListMirror, codes: string[], holder: OprfServer = server): boolean[] {
  const batch = client.blind(codes.map(toUtf8));
  return batch.finalize(holder.evaluate(batch.blinded)).map((v) => mirror.has(v));
}

describe('list check end to end', () => {
  it('a batch with planted hits gives the plaintext membership', async () => {
    const listed = Array.from({ length: 3000 }, (_, i) => uscc(i * 7));
    const list = await prepareList(listed, server);
    const mirror = createListMirror({ keyId: server.publicInfo.keyId });
    mirror.applySnapshot(list.snapshot());
    const plain = new Set(listed);
    const queries = Array.from({ length: 400 }, (_, i) => uscc(i * 3 + 1));
    const hits = queries.filter((q) => plain.has(q)).length;
    expect(hits).toBeGreaterThan(40);
    expect(check(mirror, queries)).toEqual(queries.map((q) => plain.has(q)));
    expect(mirror.size).toBe(3000);
  });

  it('add and remove change membership and the version, no-ops change nothing', async () => {
    const list = await prepareList([uscc(1), uscc(2), uscc(2)], server);
    expect([list.size, list.version]).toEqual([2, 0]);
    const mirror = createListMirror();
    mirror.applySnapshot(list.snapshot());
    expect(check(mirror, [uscc(1), uscc(3)])).toEqual([true, false]);

    expect(list.add(uscc(3))).toBe(true);
    expect(list.add(uscc(3))).toBe(false);
    expect(list.remove(uscc(1))).toBe(true);
    expect(list.remove(uscc(1))).toBe(false);
    expect(list.remove(toUtf8(uscc(99)))).toBe(false);
    expect([list.size, list.version]).toEqual([2, 2]);

    mirror.applyDelta(list.deltaSince(0)!);
    expect(mirror.version).toBe(2);
    expect(check(mirror, [uscc(1), uscc(2), uscc(3)])).toEqual([false, true, true]);

    expect(list.add(uscc(1))).toBe(true); // listed again
    mirror.applyDelta(list.deltaSince(2)!);
    expect(check(mirror, [uscc(1)])).toEqual([true]);
    expect(list.deltaSince(3)?.changes).toEqual([]);
  });

  it('a mirror that follows deltas holds the same set as a fresh snapshot', async () => {
    const list = await prepareList(
      Array.from({ length: 500 }, (_, i) => uscc(i)),
      server,
    );
    const mirror = createListMirror();
    mirror.applySnapshot(list.snapshot());
    for (let i = 0; i < 1500; i++) {
      const e = uscc((i * 7919) % 900);
      if (i % 3 === 0) list.remove(e);
      else list.add(e);
      if (i % 100 === 99) mirror.applyDelta(list.deltaSince(mirror.version!)!);
    }
    mirror.applyDelta(list.deltaSince(mirror.version!)!);
    const fresh = createListMirror();
    fresh.applySnapshot(list.snapshot());
    expect([mirror.version, mirror.size]).toEqual([fresh.version, fresh.size]);
    const probe = Array.from({ length: 900 }, (_, i) => server.prf(toUtf8(uscc(i))));
    expect(probe.map((v) => mirror.has(v))).toEqual(probe.map((v) => fresh.has(v)));
  });
});

describe('versioned, signed snapshots and deltas', () => {
  const keys = ed25519KeyPair();
  const verify = (m: Uint8Array, s: Uint8Array) => ed25519Verify(keys.publicKey, m, s);

  async function signedList() {
    const list = await prepareList([uscc(1), uscc(2), uscc(3)], server, { signer: ed25519Signer(keys.seed) });
    const mirror = createListMirror({ keyId: server.publicInfo.keyId, verify });
    mirror.applySnapshot(list.snapshot());
    list.add(uscc(4));
    list.remove(uscc(1));
    return { list, mirror };
  }

  it('verifies signatures on snapshots and deltas', async () => {
    const { list, mirror } = await signedList();
    const s = list.snapshot();
    expect(verify(snapshotStatement(s), s.signature!)).toBe(true);
    const d = list.deltaSince(0)!;
    expect(verify(deltaStatement(d), d.signature!)).toBe(true);
    mirror.applyDelta(d);
    expect(mirror.version).toBe(2);
  });

  it('refuses unsigned, wrongly signed, foreign-key, gapped and tampered updates, keeping its state', async () => {
    const { list, mirror } = await signedList();
    const d = list.deltaSince(0)!;
    const s = list.snapshot();
    const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    const cases: Array<[string, () => void]> = [
      ['LIST_BAD_SIGNATURE', () => mirror.applyDelta({ ...d, signature: undefined })],
      ['LIST_BAD_SIGNATURE', () => mirror.applyDelta({ ...d, signature: flip(d.signature!) })],
      ['LIST_BAD_SIGNATURE', () => mirror.applySnapshot({ ...s, signature: undefined })],
      ['LIST_KEY_MISMATCH', () => mirror.applyDelta({ ...d, keyId: '00'.repeat(16) })],
      ['LIST_KEY_MISMATCH', () => mirror.applySnapshot({ ...s, keyId: '00'.repeat(16) })],
      ['LIST_VERSION_GAP', () => mirror.applyDelta(list.deltaSince(1)!)],
      ['BAD_ENCODING', () => mirror.applyDelta({ ...d, toVersion: 5 })],
    ];
    for (const [code, apply] of cases) expect(apply, code).toThrow(refused(code));
    expect(mirror.version).toBe(0);
    expect(mirror.size).toBe(3);
  });

  it('detects changes that do not match the signed head or count', async () => {
    const list = await prepareList([uscc(1), uscc(2)], server);
    const mirror = createListMirror();
    mirror.applySnapshot(list.snapshot());
    list.add(uscc(3));
    list.remove(uscc(2));
    const d = list.deltaSince(0)!;
    const forged: ListDelta[] = [
      { ...d, changes: [d.changes[0], { ...d.changes[1], key: d.changes[0].key }] },
      { ...d, changes: [...d.changes].reverse() },
      { ...d, count: d.count + 1 },
      { ...d, head: new Uint8Array(32) },
    ];
    for (const f of forged) expect(() => mirror.applyDelta(f)).toThrow(refused('LIST_DIGEST_MISMATCH'));
    expect(mirror.version).toBe(0);
    mirror.applyDelta(d);
    expect(mirror.version).toBe(2);
  });

  it('refuses snapshots whose keys do not match their digest or are out of order', async () => {
    const list = await prepareList([uscc(1), uscc(2), uscc(3)], server);
    const s = list.snapshot();
    const mirror = createListMirror();
    const swapped = Uint8Array.from(s.keys);
    swapped[5] ^= 1;
    const keyBlocks: Array<[ListSnapshot, string]> = [
      [{ ...s, keys: s.keys.subarray(16), count: 2 }, 'LIST_DIGEST_MISMATCH'],
      [{ ...s, count: 4 }, 'LIST_DIGEST_MISMATCH'],
      [{ ...s, keys: Uint8Array.from([...s.keys.subarray(16, 32), ...s.keys.subarray(0, 16)]) }, 'BAD_ENCODING'],
      [{ ...s, keys: s.keys.subarray(0, 40) }, 'BAD_ENCODING'],
    ];
    for (const [bad, code] of keyBlocks) expect(() => mirror.applySnapshot(bad)).toThrow(refused(code));
    expect(mirror.version).toBeUndefined();
    expect(toHex(setDigest(s.keyId, s.keys))).toBe(toHex(s.setDigest));
  });

  it('serves snapshots once the history no longer reaches back, and refuses unknown versions', async () => {
    const list = await prepareList([uscc(1)], server, { maxHistory: 3 });
    for (let i = 10; i < 20; i++) list.add(uscc(i));
    expect(list.version).toBe(10);
    expect(list.deltaSince(6)).toBeUndefined();
    expect(list.deltaSince(7)?.changes).toHaveLength(3);
    expect(list.deltaSince(11)).toBeUndefined();
    expect(list.deltaSince(-1)).toBeUndefined();
    expect(list.deltaSince(Number.NaN)).toBeUndefined();
  });

  it('reopens a saved snapshot and continues its chain', async () => {
    const key = generateOprfKey();
    const a = createOprfServer({ key });
    const list = await prepareList([uscc(1), uscc(2)], a);
    list.add(uscc(3));
    const mirror = createListMirror();
    mirror.applySnapshot(list.snapshot());
    const reopened = openList(list.snapshot(), createOprfServer({ key }));
    expect([reopened.version, reopened.size]).toEqual([1, 3]);
    reopened.remove(uscc(2));
    mirror.applyDelta(reopened.deltaSince(1)!);
    expect(check(mirror, [uscc(2), uscc(3)], a)).toEqual([false, true]);
    expect(() => openList(list.snapshot(), createOprfServer())).toThrow(refused('LIST_KEY_MISMATCH'));
  });
});

describe('preparation', () => {
  it('streams from an async source, reports progress and stops on abort', async () => {
    async function* source(n: number) {
      for (let i = 0; i < n; i++) yield uscc(i);
    }
    const seen: number[] = [];
    const list = await prepareList(source(5000), server, { progressEvery: 2000, onProgress: (n) => seen.push(n) });
    expect(list.size).toBe(5000);
    expect(seen).toEqual([2000, 4000, 5000]);
    const abort = new AbortController();
    const run = prepareList(source(100_000), server, {
      signal: abort.signal,
      onProgress: () => abort.abort(new Error('stop')),
      progressEvery: 1000,
    });
    await expect(run).rejects.toThrow('stop');
  });
});

describe('key set', () => {
  it('behaves like a set under adds, deletes and compactions', () => {
    const key = fc.integer({ min: 0, max: 300 }).map((i) => {
      const k = new Uint8Array(16);
      k[0] = i % 3; // crowd a few buckets
      k[1] = 0;
      k[15] = i & 0xff;
      k[14] = i >> 8;
      return k;
    });
    const op = fc.record({ add: fc.boolean(), key });
    fc.assert(
      fc.property(fc.array(key, { maxLength: 200 }), fc.array(op, { maxLength: 400 }), (initial, ops) => {
        const flat = new Uint8Array(initial.length * 16);
        for (const [i, k] of initial.entries()) flat.set(k, i * 16);
        const set = KeySet.fromUnsorted(flat);
        const model = new Set(initial.map(toHex));
        ops.forEach(({ add, key: k }, i) => {
          const id = toHex(k);
          expect(add ? set.add(k) : set.delete(k)).toBe(add ? !model.has(id) : model.has(id));
          if (add) model.add(id);
          else model.delete(id);
          if (i % 97 === 0) set.compact();
        });
        expect(set.size).toBe(model.size);
        const sorted = set.sorted();
        const ids = Array.from({ length: sorted.length / 16 }, (_, i) => toHex(sorted.subarray(i * 16, i * 16 + 16)));
        expect(ids).toEqual([...model].sort());
        for (const id of model) expect(set.has(Buffer.from(id, 'hex'))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
