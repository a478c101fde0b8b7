/**
 * The access log over a database whose writes fail on demand (the guard's contract, without a
 * real disk; accesslog/disk-full.e2e.test.ts does it on a full file system).
 */
import { MemoryLevel } from 'memory-level';
import { afterEach, describe, expect, it } from 'vitest';
import { ed25519KeyPair, fromBase64, verifyConsistency } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { guardDatabase, type RootDb } from '../storage/index.ts';
import { type AccessLog, AccessLogCorruptError, createAccessLog } from './log.ts';
import { type AccessEvent, AccessLogUnavailableError } from './port.ts';

const keys = ed25519KeyPair();
const event = (i: number): AccessEvent => ({
  time: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
  actor: { node: 'bank-a', principal: 'officer-1', role: 'bank' },
  action: 'PROFILE_READ',
  decision: 'ALLOW',
  scopes: ['registration'],
  subject: '91350200776049653A',
  correlationId: `corr-${i}`,
});

let open: Array<{ db: RootDb; log: AccessLog }> = [];
afterEach(async () => {
  for (const { db, log } of open) {
    await log.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
  open = [];
});

/** A memory database whose writes fail while `fault.fail` is set, guarded, with a log over it. */
async function faultyLog() {
  const memory = new MemoryLevel<string, unknown>({ valueEncoding: 'json' });
  const fault = { fail: false };
  const raw = memory as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const m of ['_put', '_del', '_batch']) {
    const original = raw[m].bind(raw);
    raw[m] = async (...args: unknown[]) => {
      if (fault.fail)
        throw Object.assign(new Error('IO error: 000004.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
      return original(...args);
    };
  }
  const guard = guardDatabase(memory, { retryMs: 600_000, minFreeBytes: 0 });
  await memory.open();
  const db = memory as unknown as RootDb;
  const make = () =>
    createAccessLog(
      { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'xm-centre', logger: silentLogger() },
      { checkpointIntervalMs: 100_000, scrubRate: 0 },
    );
  const log = make();
  await log.start();
  open.push({ db, log });
  return { db, log, guard, fault, make };
}

describe('access log over a failing database', () => {
  it('acknowledges nothing and signs nothing after a failed write until the database is reopened and checked', async () => {
    const { log, guard, fault } = await faultyLog();
    for (let i = 0; i < 10; i++) await log.append(event(i));
    const cp1 = (await log.checkpoint())!;

    fault.fail = true;
    await expect(log.append(event(10))).rejects.toBeInstanceOf(AccessLogUnavailableError);
    expect(log.state()).toMatchObject({ status: 'failed', reason: expect.stringMatching(/No space left/) });
    // The disk has room again, but nothing is acknowledged before the database was reopened.
    fault.fail = false;
    await expect(log.append(event(11))).rejects.toBeInstanceOf(AccessLogUnavailableError);
    expect((await log.checkpoint())?.size).toBe(10);
    // (The guard retries on its own with back-off; storage/guard.test.ts and the disk-full test cover that.)
    expect((await guard.recover()).status).toBe('ok');
    expect(log.state().status).toBe('ok');
    expect(guard.health().recoveries).toBe(1);

    expect((await log.append(event(12))).index).toBe(10);
    const cp2 = (await log.checkpoint())!;
    expect(cp2.size).toBe(11);
    const proof = (await log.consistencyProof(10, 11)).map((p) => fromBase64(p)!);
    expect(verifyConsistency(10, 11, fromBase64(cp1.root)!, fromBase64(cp2.root)!, proof)).toBe(true);
  });

  it('stops for good when the reopened tree is shorter than a checkpoint it signed, and never signs again', async () => {
    const { db, log, guard, make } = await faultyLog();
    for (let i = 0; i < 10; i++) await log.append(event(i));
    const signed = (await log.checkpoint())!;
    // What a lost write-ahead log leaves behind: the store says 6 entries.
    await db.sublevel<string, number>('accesslog', { valueEncoding: 'json' }).put('m!size', 6);

    expect((await guard.recover()).status).toBe('ok');
    expect(log.state()).toMatchObject({ status: 'failed', reason: expect.stringMatching(/checkpoint 10 was signed/) });
    expect(log.alarms()).toEqual([expect.objectContaining({ kind: 'LOG_LOST', index: 6, count: 4 })]);
    await expect(log.append(event(10))).rejects.toBeInstanceOf(AccessLogUnavailableError);
    expect(await log.checkpoint()).toEqual(signed);

    await log.stop();
    await expect(make().start()).rejects.toBeInstanceOf(AccessLogCorruptError);
  });

  it('raises LOG_LOST for acknowledged entries missing after a reopen, and continues from the tree on disk', async () => {
    const { db, log, guard } = await faultyLog();
    for (let i = 0; i < 10; i++) await log.append(event(i));
    await log.checkpoint();
    for (let i = 10; i < 15; i++) await log.append(event(i));
    await db.sublevel<string, number>('accesslog', { valueEncoding: 'json' }).put('m!size', 12);

    await guard.recover();
    expect(log.state().status).toBe('ok');
    expect(log.alarms()).toEqual([expect.objectContaining({ kind: 'LOG_LOST', index: 12, count: 3 })]);
    expect(log.size()).toBe(12);
    expect((await log.append(event(15))).index).toBe(12);
    expect((await log.checkpoint())?.size).toBe(13);
  });
});
