import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchBuilder } from './builder.ts';
import { buildBatch } from './entry.ts';
import type { Frontier } from './integrity.ts';
import type { AccessEvent } from './port.ts';

const event = (i: number): AccessEvent => ({
  time: new Date(Date.UTC(2026, 10, 1, 0, 0, i % 60)).toISOString(),
  actor: { node: 'bank-b', principal: `bank-a/officer-${i % 3}`, role: 'bank-officer' },
  action: 'JOINT_QUERY',
  decision: i % 5 === 0 ? 'DENY' : 'ALLOW',
  ...(i % 5 === 0 ? { reason: 'NO_CONSENT' } : { consentId: `c${String(i).padStart(42, '0')}` }),
  purpose: 'loan-application',
  scopes: ['joint:exposure'],
  ...(i % 7 === 0 ? {} : { subject: `91350200MA${String(i).padStart(8, '0')}` }),
  correlationId: 'joint-q-1',
});

describe('log batches built on a worker thread', () => {
  const builder = new BatchBuilder({ minBatch: 16 });
  afterAll(() => builder.close());

  it('are the batches built on the event loop, byte for byte, onto any tree', async () => {
    let tree: { size: number; frontier: Frontier } = { size: 0, frontier: [] };
    for (const n of [300, 17, 1000, 5]) {
      const events = Array.from({ length: n }, (_, i) => event(tree.size + i));
      const randomness = new Uint8Array(randomBytes(32 * n));
      const onWorker = await builder.build(events, { ...tree, randomness });
      const here = buildBatch(events, { ...tree, randomness });
      expect(onWorker).toEqual(here);
      expect(onWorker.size).toBe(tree.size + n);
      tree = { size: onWorker.size, frontier: onWorker.frontier };
    }
  });

  it('refuses a malformed event as the event loop would, and builds again after its worker is gone', async () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    const bad = [...events.slice(0, 10), { ...events[10], correlationId: 7 } as unknown as AccessEvent];
    const randomness = new Uint8Array(randomBytes(32 * 20));
    await expect(builder.build(bad, { size: 0, frontier: [], randomness })).rejects.toThrow(TypeError);
    const closed = new BatchBuilder({ minBatch: 1 });
    await closed.close();
    expect(await closed.build(events, { size: 0, frontier: [], randomness })).toEqual(
      buildBatch(events, { size: 0, frontier: [], randomness }),
    );
  });
});
