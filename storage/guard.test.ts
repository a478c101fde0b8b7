import { MemoryLevel } from 'memory-level';
import { afterEach, describe, expect, it } from 'vitest';
import { guardDatabase, StorageFailedError, type StorageGuard, type StorageHealth } from './guard.ts';

/** A memory database whose writes fail, or wait, on demand (below the guard, like LevelDB would). */
async function faultyDb(options: { retryMs?: number } = {}) {
  const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' });
  // `writes` counts writes that reached the database below the guard, `completed` those that succeeded there.
  const fault = { fail: false, hold: undefined as Promise<void> | undefined, writes: 0, completed: 0 };
  const raw = db as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const m of ['_put', '_del', '_batch', '_clear']) {
    const original = raw[m].bind(raw);
    raw[m] = async (...args: unknown[]) => {
      fault.writes++;
      const failing = fault.fail;
      if (fault.hold) await fault.hold;
      if (failing)
        throw Object.assign(new Error('IO error: /srv/node/db/000004.log: No space left on device'), {
          code: 'LEVEL_IO_ERROR',
        });
      const result = await original(...args);
      fault.completed++;
      return result;
    };
  }
  const guard = guardDatabase(db, { retryMs: options.retryMs ?? 60_000, minFreeBytes: 0 });
  await db.open();
  opened.push(db);
  return { db, guard, fault };
}
let opened: MemoryLevel<string, unknown>[] = [];
afterEach(async () => {
  for (const db of opened) await db.close().catch(() => undefined);
  opened = [];
});

/** Polls `condition` every few milliseconds until it holds; fails after `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const until = (guard: StorageGuard, status: StorageHealth['status'], ms = 20_000) =>
  waitFor(() => guard.health().status === status, `status ${status} (is ${guard.health().status})`, ms);

describe('storage guard', () => {
  it('after one failed write refuses every later write of the root and of every sublevel, and keeps reads', async () => {
    const { db, guard, fault } = await faultyDb();
    const sub = db.sublevel<string, unknown>('a', { valueEncoding: 'json' });
    const nested = sub.sublevel<string, string>('b', { valueEncoding: 'utf8' });
    await sub.put('k', 1);
    await nested.put('n', 'v');
    expect(guard.health()).toMatchObject({ status: 'ok', failures: 0 });

    fault.fail = true;
    await expect(nested.put('x', 'y')).rejects.toMatchObject({ code: 'LEVEL_IO_ERROR' });
    const health = guard.health();
    expect(health).toMatchObject({ status: 'failed', failures: 1 });
    expect(health.reason).toMatch(/No space left on device/);
    expect(health.reason).not.toMatch(/\/srv/);

    fault.fail = false;
    const writes = fault.writes;
    const attempts: Array<Promise<unknown>> = [
      db.put('r', 1),
      db.del('r'),
      db.batch([{ type: 'put', key: 'r', value: 1 }]),
      db.batch().put('r', 1).write(),
      sub.put('k', 2),
      sub.batch([{ type: 'del', key: 'k' }]),
      nested.del('n'),
      db.batch([{ type: 'put', sublevel: sub, key: 'k', value: 3 }] as never),
      sub.clear(),
    ];
    for (const a of attempts) await expect(a).rejects.toBeInstanceOf(StorageFailedError);
    expect(fault.writes).toBe(writes);
    expect(await sub.get('k')).toBe(1);
    expect(await nested.get('n')).toBe('v');
  });

  it('recovers by reopening the database and its sublevels, probing, and running the reopen checks', async () => {
    const { db, guard, fault } = await faultyDb();
    const sub = db.sublevel<string, unknown>('a', { valueEncoding: 'json' });
    const nested = sub.sublevel<string, string>('b', { valueEncoding: 'utf8' });
    const checks: string[] = [];
    let refuse = true;
    guard.onReopen(async () => {
      checks.push(`check while ${guard.health().status}, sublevel ${nested.status}`);
      if (refuse) throw new Error('tree shorter than its checkpoint');
    });
    fault.fail = true;
    await expect(sub.put('k', 1)).rejects.toThrow();
    fault.fail = false;

    const failed = await guard.recover();
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(
      /^a write failed \(LEVEL_IO_ERROR: No space left on device\); last recovery attempt: tree shorter than its checkpoint$/,
    );
    await expect(sub.put('k', 1)).rejects.toBeInstanceOf(StorageFailedError);

    refuse = false;
    expect(await guard.recover()).toMatchObject({ status: 'ok', recoveries: 1 });
    expect(checks).toEqual(['check while recovering, sublevel open', 'check while recovering, sublevel open']);
    await sub.put('k', 2);
    await nested.put('n', 'w');
    expect(await nested.get('n')).toBe('w');
    expect(await sub.get('k')).toBe(2);
  });

  it('retries recovery on its own, with back-off, until writes work again', async () => {
    const { db, guard, fault } = await faultyDb({ retryMs: 20 });
    fault.fail = true;
    const writes = fault.writes;
    await expect(db.put('k', 1)).rejects.toThrow();
    // The first attempts fail: the probe write fails like the disk still does.
    await waitFor(
      () => fault.writes > writes + 1 && /last recovery attempt/.test(guard.health().reason ?? ''),
      'an automatic recovery attempt that failed',
    );
    expect(guard.health().status).not.toBe('ok');
    expect(guard.health().recoveries).toBe(0);
    fault.fail = false;
    await until(guard, 'ok');
    await db.put('k', 2);
    expect(guard.health().recoveries).toBeGreaterThanOrEqual(1);
  });

  it('does not acknowledge a write that overlapped a failing one (its durability is unknown)', async () => {
    const { db, guard, fault } = await faultyDb();
    let release!: () => void;
    fault.hold = new Promise<void>((r) => {
      release = r;
    });
    fault.fail = true;
    const failing = db.put('a', 1);
    fault.fail = false;
    fault.hold = undefined;
    // Dispatched after the failing write and finished before it: LevelDB may have ordered it after.
    const overlapping = db.put('b', 2);
    await waitFor(() => fault.completed === 1, 'the overlapping write to succeed below the guard');
    release();
    await expect(failing).rejects.toMatchObject({ code: 'LEVEL_IO_ERROR' });
    await expect(overlapping).rejects.toBeInstanceOf(StorageFailedError);
    expect(guard.health().status).toBe('failed');
  });

  it('the owner closing the database stops automatic recovery', async () => {
    const { db, guard, fault } = await faultyDb({ retryMs: 10 });
    fault.fail = true;
    await expect(db.put('k', 1)).rejects.toThrow();
    fault.fail = false;
    await db.close();
    expect((await guard.recover()).status).toBe('failed');
    expect(db.status).toBe('closed');
    // Reopened by its owner, it is still failed (nothing checked it) and recovers on its own again.
    await db.open();
    await expect(db.put('k', 2)).rejects.toBeInstanceOf(StorageFailedError);
    await until(guard, 'ok');
    await db.put('k', 3);
  });
});
