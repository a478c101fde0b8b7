/**
 * A node's database on a file system that fills up (issue 14, defect 1), on a real tmpfs.
 *
 * First, why the storage guard exists: classic-level (LevelDB 1.20) acknowledges `sync: true`
 * writes after a write-ahead-log write failed with ENOSPC, serves them until restart, and drops
 * them when the database is reopened. Then the node: while the disk is full it acknowledges no
 * entry and signs no checkpoint and `/health` says so (503); once space is freed it reopens and
 * checks its database by itself, and after a restart every acknowledged entry and every signed
 * checkpoint is still there and consistent.
 *
 * Needs permission to mount a tmpfs (root, or CAP_SYS_ADMIN); skipped with the reason otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64, verifyConsistency } from '../crypto/index.ts';
import { parseConfig } from '../node/config.ts';
import { createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase } from '../storage/index.ts';
import { until } from '../testkit/wait.ts';
import { createAccessLog } from './log.ts';
import { type AccessEvent, AccessLogUnavailableError } from './port.ts';

const mountPoint = await mkdtemp(join(tmpdir(), 'disk-full-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { encoding: 'utf8' });
const mounted = mount.status === 0;
const skipReason = mounted
  ? ''
  : ` (skipped: cannot mount a tmpfs here: ${(mount.stderr || mount.error?.message || 'mount failed').trim()})`;

/** What a failed test left open on the tmpfs: closed before it is unmounted. */
const leftOpen: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of leftOpen) await close().catch(() => undefined);
  if (mounted && spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});

/** Fills the file system with a file so that about `leave` bytes stay free. */
async function fill(path: string, leave: number) {
  const fs = await statfs(mountPoint);
  const free = Number(fs.bavail) * Number(fs.bsize);
  await writeFile(path, Buffer.alloc(Math.max(0, free - leave)));
}

const event = (n: number): AccessEvent => ({
  time: new Date().toISOString(),
  actor: { node: 'bank-a', principal: `officer-${n % 7}`, role: 'bank' },
  action: 'PROFILE_READ',
  decision: 'ALLOW',
  purpose: 'loan-application',
  scopes: ['registration', 'tax'],
  subject: '91350200776049653A',
  correlationId: `c-${n}`,
});

describe.skipIf(!mounted)(`a full disk${skipReason}`, () => {
  it('without the guard, classic-level acknowledges writes after ENOSPC and loses them at reopen', async () => {
    const dir = join(mountPoint, 'raw');
    const filler = join(mountPoint, 'filler-raw');
    const key = (i: number) => `k${String(i).padStart(8, '0')}`;
    const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
    leftOpen.push(() => db.close());
    await db.open();
    // The write-ahead log fails in the middle of one of its 32 KiB blocks: the later records land in
    // the same block, after the torn one, and LevelDB's log reader drops the rest of that block.
    await fill(filler, 300 << 10);
    let failedAt = -1;
    for (let i = 0; failedAt < 0; i++)
      await db.put(key(i), 'x'.repeat(1000), { sync: true }).catch(() => (failedAt = i));
    await rm(filler);
    const acknowledged: string[] = [];
    for (let i = failedAt + 1; i <= failedAt + 10; i++) {
      await db.put(key(i), 'x'.repeat(1000), { sync: true });
      acknowledged.push(key(i));
    }
    expect((await db.getMany(acknowledged)).filter(Boolean)).toHaveLength(10);
    await db.close();
    const reopened = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
    leftOpen.push(() => reopened.close());
    await reopened.open();
    const kept = (await reopened.getMany(acknowledged)).filter(Boolean).length;
    const before = (await reopened.getMany(Array.from({ length: failedAt }, (_, i) => key(i)))).filter(Boolean).length;
    await reopened.close();
    await rm(dir, { recursive: true });
    expect(before).toBe(failedAt);
    // The upstream defect this whole guard is about. If this ever fails, LevelDB got fixed: the guard stays harmless.
    expect(kept, 'acknowledged sync writes that survived a reopen').toBeLessThan(10);
  });

  it('the node refuses everything while the disk is full, reports it, recovers by itself, and loses nothing it acknowledged or signed', {
    timeout: 180_000,
  }, async () => {
    const filler = join(mountPoint, 'filler-node');
    const config = parseConfig({
      nodeId: 'xm-centre',
      name: 'Xiamen',
      role: 'credit-centre',
      city: 'XM',
      dataDir: join(mountPoint, 'node'),
      api: { port: 0 },
    });
    const node = await createCreditNode(config, { logger: silentLogger() });
    leftOpen.push(() => node.stop());
    await node.start();
    const log = node.accessLog;
    const health = async () => {
      const res = await fetch(`${node.url}/health`);
      return { code: res.status, body: (await res.json()) as { status: string; reason?: string } };
    };
    expect((await health()).code).toBe(200);

    // Appends from 8 concurrent callers until the disk is full; checkpoints signed on the way.
    const acknowledged = new Map<number, string>();
    const signed = new Map<number, string>();
    const note = (cp: { size: number; root: string } | undefined) => cp && signed.set(cp.size, cp.root);
    await fill(filler, 300 << 10);
    let n = 0;
    let firstFailure: Error | undefined;
    let ackedAfterFailure = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!firstFailure) {
          const e = event(n++);
          try {
            const r = await log.append(e);
            if (firstFailure) ackedAfterFailure++;
            acknowledged.set(r.index, e.correlationId);
            if (acknowledged.size % 50 === 0) note(await log.checkpoint().catch(() => undefined));
          } catch (err) {
            firstFailure ??= err as Error;
          }
        }
      }),
    );
    expect(firstFailure).toBeInstanceOf(AccessLogUnavailableError);
    expect(ackedAfterFailure).toBe(0);
    expect(signed.size).toBeGreaterThan(0);

    // While the disk is full: nothing acknowledged, nothing newly signed, /health and /metrics say so.
    const full = await health();
    expect(full.code).toBe(503);
    expect(full.body.status).not.toBe('ok');
    expect(full.body.reason).toMatch(/storage/);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^credit_storage_ok 0$/m);
    expect(metrics).toMatch(/^credit_access_log_ok 0$/m);
    const latest = log.latestCheckpoint();
    for (let i = 0; i < 20; i++) await expect(log.append(event(n++))).rejects.toBeInstanceOf(AccessLogUnavailableError);
    await log.checkpoint().catch(() => undefined);
    expect(log.latestCheckpoint()).toEqual(latest);

    // Space is freed; the node reopens and checks its database on its own.
    await rm(filler);
    const recovered = await until(
      'the node healthy again after space was freed',
      async () => {
        const h = await health();
        return h.code === 200 ? h : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(recovered.body.status).toBe('ok');
    for (let i = 0; i < 50; i++) {
      const e = event(n++);
      acknowledged.set((await log.append(e)).index, e.correlationId);
    }
    note(await log.checkpoint());
    await node.stop();

    // Restart from disk: every acknowledged entry is there, every signed checkpoint is consistent with the tree.
    const db = await openDatabase(join(config.dataDir, 'db'));
    leftOpen.push(() => db.close());
    const { keys } = node;
    const reopened = createAccessLog(
      {
        db,
        identitySeed: keys.identity.seed,
        identityPublicKey: keys.identity.publicKey,
        nodeId: 'xm-centre',
        logger: silentLogger(),
      },
      { scrubRate: 0 },
    );
    try {
      await reopened.start();
      expect(reopened.alarms()).toEqual([]);
      for (const [index, correlationId] of acknowledged)
        expect((await reopened.entry(index))?.entry.correlationId, `entry ${index}`).toBe(correlationId);
      const final = reopened.latestCheckpoint()!;
      expect(final.size).toBe(reopened.size());
      for (const cp of await reopened.checkpoints({ limit: 1000 })) signed.set(cp.size, signed.get(cp.size) ?? cp.root);
      for (const [size, root] of signed) {
        const stored = (await reopened.checkpoints({ beforeSize: size + 1, limit: 1 }))[0];
        expect(stored?.size, `checkpoint ${size} is stored`).toBe(size);
        expect(stored.root).toBe(root);
        const proof = (await reopened.consistencyProof(size, final.size)).map((p) => fromBase64(p)!);
        expect(
          size === final.size || verifyConsistency(size, final.size, fromBase64(root)!, fromBase64(final.root)!, proof),
          `checkpoint ${size} is consistent with ${final.size}`,
        ).toBe(true);
      }
    } finally {
      await reopened.stop();
      await db.close();
    }
  });
});
