import { describe, expect, it } from 'vitest';
import { toHex } from '../encoding.ts';
import { prepareList } from './list.ts';
import { createOprfServer, generateOprfKey } from './oprf.ts';
import { prepareListParallel } from './parallel.ts';

const uscc = (i: number) => `91350200MA${String(i).padStart(8, '0')}`;

describe('list preparation on worker threads', () => {
  it('gives the same list as preparation on one thread', async () => {
    const key = generateOprfKey();
    const entries = Array.from({ length: 6000 }, (_, i) => uscc(i));
    const progress: number[] = [];
    const parallel = await prepareListParallel(entries, key, {
      workers: 2,
      chunkSize: 500,
      progressEvery: 2500,
      onProgress: (n) => progress.push(n),
    });
    const single = await prepareList(entries, createOprfServer({ key }));
    expect(parallel.keyId).toBe(single.keyId);
    expect(toHex(parallel.snapshot().setDigest)).toBe(toHex(single.snapshot().setDigest));
    expect(progress).toEqual([2500, 5000, 6000]);
    expect(parallel.add(uscc(1))).toBe(false);
    expect(parallel.remove(uscc(1))).toBe(true);
  });

  it('fails cleanly when a worker cannot prepare an entry', async () => {
    const run = prepareListParallel([uscc(1), new Uint8Array(0x10000)], generateOprfKey(), { workers: 1 });
    await expect(run).rejects.toThrow(/failed in a worker \(TypeError\)/);
  });

  it('stops on abort', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    const run = prepareListParallel([uscc(1), uscc(2)], generateOprfKey(), { signal: abort.signal, chunkSize: 1 });
    await expect(run).rejects.toThrow('stop');
  });
});
