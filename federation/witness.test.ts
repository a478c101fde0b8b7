import { describe, expect, it } from 'vitest';
import { type AccessLog, createAccessLog } from '../accesslog/log.ts';
import type { AccessEvent } from '../accesslog/port.ts';
import { ed25519KeyPair, noteVerifier, SIG_COSIGNATURE_V1, verifyCosignature } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase } from '../storage/index.ts';
import { createWitness } from './witness.ts';

const evilKey = ed25519KeyPair();
const witnessKey = ed25519KeyPair();
const ev = (i: number, tag: string): AccessEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  actor: { node: 'bank-a', principal: 'o', role: 'bank' },
  action: 'PROFILE_READ',
  decision: 'ALLOW',
  scopes: ['tax'],
  correlationId: `${tag}-${i}`,
});

/** A log of the node "evil", built with its real key; two of them are two histories. */
async function history(tag: string, entries: number): Promise<AccessLog> {
  const log = createAccessLog(
    {
      db: await openDatabase({ memory: true }),
      identitySeed: evilKey.seed,
      identityPublicKey: evilKey.publicKey,
      nodeId: 'evil',
      logger: silentLogger(),
    },
    { checkpointIntervalMs: 1e9 },
  );
  await log.start();
  for (let i = 0; i < entries; i++) await log.append(ev(i, tag));
  return log;
}

async function witness(source: () => AccessLog) {
  const delivered: string[] = [];
  const w = createWitness({
    db: await openDatabase({ memory: true }),
    log: await history('own', 0),
    nodeId: 'honest',
    identitySeed: witnessKey.seed,
    logger: silentLogger(),
    peerKey: (id) => (id === 'evil' ? evilKey.publicKey : undefined),
    proofs: (_id, a, b) => source().consistencyProof(a, b),
    deliver: async (_id, _size, line) => {
      delivered.push(line);
    },
  });
  await w.start();
  return { w, delivered };
}

describe('checkpoint witnessing', () => {
  it('cosigns checkpoints that extend the previous one', async () => {
    const log = await history('a', 5);
    const { w, delivered } = await witness(() => log);
    const cp5 = (await log.checkpoint())!;
    await w.observe('evil', cp5.note);
    for (let i = 5; i < 12; i++) await log.append(ev(i, 'a'));
    const cp12 = (await log.checkpoint())!;
    await w.observe('evil', cp12.note);
    expect(w.alarms()).toEqual([]);
    expect(delivered).toHaveLength(2);
    const body = cp12.note.slice(0, cp12.note.indexOf('\n\n') + 1);
    expect(
      verifyCosignature(
        body,
        delivered[1],
        noteVerifier('credit-data-space/honest', witnessKey.publicKey, SIG_COSIGNATURE_V1),
      ),
    ).toBeGreaterThan(0);
  });

  it('detects a node showing two different trees of the same size (split view)', async () => {
    const a = await history('a', 8);
    const b = await history('b', 8);
    const { w } = await witness(() => a);
    await w.observe('evil', (await a.checkpoint())!.note);
    await w.observe('evil', (await b.checkpoint())!.note);
    expect(w.alarms().map((x) => x.kind)).toEqual(['SPLIT_VIEW']);
    expect(w.alarms()[0].evidence).toHaveLength(2);
  });

  it('detects a larger tree that does not extend the one seen before', async () => {
    const a = await history('a', 6);
    const b = await history('b', 10);
    let current = a;
    const { w } = await witness(() => current);
    await w.observe('evil', (await a.checkpoint())!.note);
    current = b;
    await w.observe('evil', (await b.checkpoint())!.note);
    expect(w.alarms().map((x) => x.kind)).toEqual(['INCONSISTENT']);
  });

  it('detects a split view reported by another witness, and ignores forged copies', async () => {
    const a = await history('a', 4);
    const b = await history('b', 4);
    const { w } = await witness(() => a);
    const cpA = (await a.checkpoint())!;
    await w.observe('evil', cpA.note);
    const cpB = (await b.checkpoint())!;
    await w.compare('other-witness', { evil: { size: 4, root: cpB.root, note: cpB.note } });
    expect(w.alarms().map((x) => x.kind)).toEqual(['SPLIT_VIEW']);
    const { w: w2 } = await witness(() => a);
    await w2.observe('evil', cpA.note);
    const forged = cpB.note.replace(
      /— (\S+) .*/,
      '— $1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    await w2.compare('other-witness', { evil: { size: 4, root: cpB.root, note: forged } });
    expect(w2.alarms()).toEqual([]);
  });
});
