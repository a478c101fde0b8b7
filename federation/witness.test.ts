import { describe, expect, it } from 'vitest';
import { type AccessLog, createAccessLog } from '../accesslog/log.ts';
import type { AccessEvent } from '../accesslog/port.ts';
import { ed25519KeyPair, noteVerifier, SIG_COSIGNATURE_V1, verifyCosignature } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { PeerError, PeerUnavailableError } from './host.ts';
import { createAlarmStore } from './quarantine.ts';
import { createWitness, type ProofFetcher, type WitnessInit } from './witness.ts';

const evilKey = ed25519KeyPair();
const witnessKey = ed25519KeyPair();
const witnessVerifier = noteVerifier('credit-data-space/honest', witnessKey.publicKey, SIG_COSIGNATURE_V1);
const ev = (i: number, tag: string): AccessEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  actor: { node: 'bank-a', principal: 'o', role: 'bank' },
  action: 'PROFILE_READ',
  decision: 'ALLOW',
  scopes: ['tax'],
  correlationId: `${tag}-${i}`,
});
const body = (note: string) => note.slice(0, note.indexOf('\n\n') + 1);

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

/** Proofs as the log protocol handler answers them: sizes beyond the tree are a BAD_REQUEST. */
const served =
  (source: () => AccessLog): ProofFetcher =>
  async (_id, a, b) => {
    try {
      return await source().consistencyProof(a, b);
    } catch (err) {
      throw new PeerError('BAD_REQUEST', `invalid sizes: ${(err as Error).message}`);
    }
  };

async function witness(
  source: () => AccessLog,
  options: { db?: RootDb; proofs?: ProofFetcher; clock?: () => number; init?: WitnessInit } = {},
) {
  const delivered: Array<{ size: number; line: string }> = [];
  const w = createWitness(
    {
      db: options.db ?? (await openDatabase({ memory: true })),
      log: await history('own', 0),
      nodeId: 'honest',
      identitySeed: witnessKey.seed,
      logger: silentLogger(),
      peerKey: (id) => (id === 'evil' ? evilKey.publicKey : undefined),
      proofs: options.proofs ?? served(source),
      deliver: async (_id, size, line) => {
        delivered.push({ size, line });
      },
      clock: options.clock,
    },
    options.init,
  );
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
    expect(delivered.map((d) => d.size)).toEqual([5, 12]);
    expect(verifyCosignature(body(cp12.note), delivered[1].line, witnessVerifier)).toBeGreaterThan(0);
  });

  it('detects a node showing two different trees of the same size (split view), once', async () => {
    const a = await history('a', 8);
    const b = await history('b', 8);
    const { w, delivered } = await witness(() => a);
    await w.observe('evil', (await a.checkpoint())!.note);
    await w.observe('evil', (await b.checkpoint())!.note);
    await w.observe('evil', (await b.checkpoint())!.note);
    expect(w.alarms().map((x) => x.kind)).toEqual(['SPLIT_VIEW']);
    expect(w.alarms()[0]).toMatchObject({ nodeId: 'evil', origin: 'credit-data-space/evil' });
    expect(w.alarms()[0].evidence).toHaveLength(2);
    expect(delivered).toHaveLength(1);
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

describe('rollback and unresponsive logs', () => {
  it('raises ROLLBACK when the log shows a smaller tree and refuses to prove it a prefix of the one it signed', async () => {
    const full = await history('a', 10);
    const restored = await history('a', 6); // the same first six entries: an older copy of the database
    let current = full;
    const { w, delivered } = await witness(() => current);
    const cp10 = (await full.checkpoint())!;
    await w.observe('evil', cp10.note);
    current = restored;
    const cp6 = (await restored.checkpoint())!;
    await w.observe('evil', cp6.note);
    expect(w.alarms().map((a) => a.kind)).toEqual(['ROLLBACK']);
    const alarm = w.alarms()[0];
    expect(alarm.evidence).toEqual([cp10.note, cp6.note]);
    expect(alarm.detail).toMatch(/size 6 after signing one of size 10/);
    expect(w.quarantined()).toEqual(['evil']);
    expect(delivered.map((d) => d.size)).toEqual([10]);
    // The witness still holds the bigger tree: nothing about the smaller one is cosigned.
    expect(w.views().evil.size).toBe(10);
  });

  it('a stale copy of an honest log (it proves the smaller tree a prefix) is no alarm', async () => {
    const log = await history('a', 6);
    const { w } = await witness(() => log);
    const cp6 = (await log.checkpoint())!;
    for (let i = 6; i < 10; i++) await log.append(ev(i, 'a'));
    await w.observe('evil', (await log.checkpoint())!.note);
    await w.observe('evil', cp6.note);
    expect(w.alarms()).toEqual([]);
    expect(w.quarantined()).toEqual([]);
  });

  it('raises UNRESPONSIVE_LOG after three failed consistency requests over the minimum time, not before', async () => {
    const log = await history('a', 5);
    let now = Date.UTC(2026, 0, 1);
    let answer: 'ok' | 'refuse' | 'down' = 'ok';
    const proofs: ProofFetcher = async (id, a, b) => {
      if (answer === 'refuse') throw new PeerError('INTERNAL', 'internal error');
      if (answer === 'down') throw new PeerUnavailableError(`node ${id} did not answer in time`);
      return log.consistencyProof(a, b);
    };
    const { w, delivered } = await witness(() => log, { proofs, clock: () => now });
    await w.observe('evil', (await log.checkpoint())!.note);
    for (let i = 5; i < 9; i++) await log.append(ev(i, 'a'));
    const cp9 = (await log.checkpoint())!;
    answer = 'refuse';
    await w.observe('evil', cp9.note);
    now += 2000;
    answer = 'down';
    await w.observe('evil', cp9.note);
    expect(w.alarms()).toEqual([]);
    // Two failures, then a success: the count starts again.
    answer = 'ok';
    now += 2000;
    await w.observe('evil', cp9.note);
    expect(delivered.map((d) => d.size)).toEqual([5, 9]);
    for (let i = 9; i < 12; i++) await log.append(ev(i, 'a'));
    const cp12 = (await log.checkpoint())!;
    answer = 'refuse';
    for (let k = 0; k < 3; k++) {
      now += 1000;
      await w.observe('evil', cp12.note);
    }
    expect(w.alarms()).toEqual([]); // three failures, but within 5 s of the first
    for (let k = 0; k < 3; k++) {
      now += 1000;
      await w.observe('evil', cp12.note);
    }
    expect(w.alarms().map((a) => a.kind)).toEqual(['UNRESPONSIVE_LOG']);
    expect(w.alarms()[0].detail).toMatch(
      /failed or refused 6 consistency requests in a row over 5 s \(last: INTERNAL\)/,
    );
    expect(w.alarms()[0].evidence).toEqual([cp9.note, cp12.note]);
    // Unresponsive is an alarm, not a quarantine: the log may be overloaded, not lying.
    expect(w.quarantined()).toEqual([]);
  });
});

describe('checkpoints pushed by their log (add-checkpoint)', () => {
  it('answers with its size when the proof starts elsewhere, then cosigns with the right proof', async () => {
    const log = await history('a', 4);
    const { w } = await witness(() => log);
    const cp4 = (await log.checkpoint())!;
    const first = await w.addCheckpoint('evil', { old: 0, proof: [], checkpoint: cp4.note });
    expect(verifyCosignature(body(cp4.note), (first as { cosignature: string }).cosignature, witnessVerifier)).toBe(
      Math.floor(Date.now() / 1000),
    );
    for (let i = 4; i < 11; i++) await log.append(ev(i, 'a'));
    const cp11 = (await log.checkpoint())!;
    expect(await w.addCheckpoint('evil', { old: 0, proof: [], checkpoint: cp11.note })).toEqual({ conflict: 4 });
    const ok = await w.addCheckpoint('evil', {
      old: 4,
      proof: await log.consistencyProof(4, 11),
      checkpoint: cp11.note,
    });
    expect(
      verifyCosignature(body(cp11.note), (ok as { cosignature: string }).cosignature, witnessVerifier),
    ).toBeGreaterThan(0);
    expect(w.views().evil.size).toBe(11);
    expect(w.alarms()).toEqual([]);
  });

  it('refuses a pushed fork with the reason, and a pushed rollback raises ROLLBACK', async () => {
    const a = await history('a', 6);
    const b = await history('b', 9);
    let current = a;
    const { w } = await witness(() => current);
    await w.addCheckpoint('evil', { old: 0, proof: [], checkpoint: (await a.checkpoint())!.note });
    const fork = w.addCheckpoint('evil', {
      old: 6,
      proof: await b.consistencyProof(6, 9),
      checkpoint: (await b.checkpoint())!.note,
    });
    await expect(fork).rejects.toMatchObject({ code: 'REFUSED', message: 'size 9 does not extend size 6' });
    expect(w.alarms().map((x) => x.kind)).toEqual(['INCONSISTENT']);
    // Quarantined now: even a checkpoint that does extend the accepted one is not cosigned.
    for (let i = 6; i < 8; i++) await a.append(ev(i, 'a'));
    const cp8 = (await a.checkpoint())!;
    await expect(
      w.addCheckpoint('evil', { old: 6, proof: await a.consistencyProof(6, 8), checkpoint: cp8.note }),
    ).rejects.toMatchObject({ code: 'REFUSED', message: /quarantined/ });

    const small = await history('a', 3);
    current = small;
    expect(await w.addCheckpoint('evil', { old: 0, proof: [], checkpoint: (await small.checkpoint())!.note })).toEqual({
      conflict: 8,
    });
    // The rollback check runs after the answer, in the log's queue.
    await w.observe('evil', cp8.note);
    expect(w.alarms().map((x) => x.kind)).toEqual(['INCONSISTENT', 'ROLLBACK']);
  });
});

describe('quarantine', () => {
  it('lasts until an operator clears it; the clearing is persisted and the log starts afresh', async () => {
    const db = await openDatabase({ memory: true });
    const a = await history('a', 5);
    const b = await history('b', 5);
    const { w, delivered } = await witness(() => a, { db });
    await w.observe('evil', (await a.checkpoint())!.note);
    await w.observe('evil', (await b.checkpoint())!.note);
    expect(w.quarantined()).toEqual(['evil']);
    for (let i = 5; i < 7; i++) await a.append(ev(i, 'a'));
    await w.observe('evil', (await a.checkpoint())!.note);
    expect(delivered.map((d) => d.size)).toEqual([5]); // extends, but quarantined: not cosigned

    // A restarted witness remembers the quarantine.
    const { w: again } = await witness(() => a, { db });
    expect(again.quarantined()).toEqual(['evil']);
    expect(await again.clearAlarms('evil', 'operator-7')).toBe(1);
    expect(again.quarantined()).toEqual([]);
    expect(again.alarms()).toEqual([]);
    expect(again.alarmHistory()).toMatchObject([{ kind: 'SPLIT_VIEW', cleared: { by: 'operator-7' } }]);
    expect(again.views().evil).toBeUndefined();

    const store = createAlarmStore(db, 'honest');
    await store.load();
    expect(store.quarantined()).toEqual([]);
    expect(store.all()[0].cleared?.by).toBe('operator-7');

    // Cleared: the node's next checkpoint is accepted as a new starting point and cosigned.
    const { w: third, delivered: d3 } = await witness(() => b, { db });
    await third.observe('evil', (await b.checkpoint())!.note);
    expect(d3.map((d) => d.size)).toEqual([5]);
    expect(third.alarms()).toEqual([]);
  });
});
