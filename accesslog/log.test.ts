import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnReporting } from '../connectors/test-helpers.ts';
import { ed25519KeyPair, fromBase64, toBase64, verifyConsistency } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { type AccessLog, createAccessLog } from './log.ts';
import { type AccessEvent, AccessLogUnavailableError } from './port.ts';
import { verifyBundle, verifyCheckpointNote } from './verify.ts';

const throws = (fn: () => unknown) => {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
};
const CLI = new URL('../node/cli/main.ts', import.meta.url).pathname;
const WORKER = new URL('./append-worker.ts', import.meta.url).pathname;
const A = '91350200776049653A';
const B = '91110000600037341L';
const keys = ed25519KeyPair();

const event = (i: number, over: Partial<AccessEvent> = {}): AccessEvent => ({
  time: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
  actor: { node: i % 2 ? 'bank-a' : 'bank-b', principal: `officer-${i % 3}`, role: 'bank' },
  action: 'PROFILE_READ',
  decision: i % 5 === 0 ? 'DENY' : 'ALLOW',
  purpose: 'loan-application',
  scopes: ['registration', 'tax'],
  subject: i % 2 ? A : B,
  correlationId: `corr-${i}`,
  ...over,
});

let open: Array<{ db: RootDb; log: AccessLog }> = [];
async function fixture(location?: string, init: { maxBatch?: number } = {}) {
  const dir = location ?? join(await mkdtemp(join(tmpdir(), 'log-')), 'db');
  const db = await openDatabase(dir);
  const log = createAccessLog(
    { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'xm-centre', logger: silentLogger() },
    { checkpointIntervalMs: 100_000, ...init },
  );
  await log.start();
  open.push({ db, log });
  return { db, log, dir };
}
afterEach(async () => {
  for (const { db, log } of open) {
    await log.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
  open = [];
});

describe('signed access log', () => {
  it('group-commits concurrent appends, signs checkpoints and proves inclusion and consistency', async () => {
    const { log } = await fixture();
    const receipts = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(event(i))));
    expect(receipts.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const cp1 = (await log.checkpoint())!;
    expect(verifyCheckpointNote(cp1.note, log.verifierKey)).toMatchObject({
      size: 300,
      origin: 'credit-data-space/xm-centre',
    });
    for (const i of [0, 1, 150, 299]) {
      const b = await log.bundle(i);
      expect(verifyBundle(b, log.verifierKey).index).toBe(i);
    }
    await Promise.all(Array.from({ length: 77 }, (_, i) => log.append(event(300 + i))));
    const cp2 = (await log.checkpoint())!;
    const proof = await log.consistencyProof(300, 377);
    expect(
      verifyConsistency(
        300,
        377,
        fromBase64(cp1.root)!,
        fromBase64(cp2.root)!,
        proof.map((p) => fromBase64(p)!),
      ),
    ).toBe(true);
    expect((await log.checkpoints()).map((c) => c.size)).toEqual([377, 300]);
  });

  it('commits a single entry before the waiting entries of a batch operation (bulk), one commit later at most', async () => {
    const { log } = await fixture(undefined, { maxBatch: 64 });
    const bulk = Array.from({ length: 1000 }, (_, i) => log.append(event(i), { bulk: true }));
    await bulk[0]; // the first commit is durable; 936 bulk entries still wait
    const single = await log.append(event(5000, { correlationId: 'single-read' }));
    const receipts = await Promise.all(bulk);
    // Without the lane it would be the 1,001st entry; with it, the first of the next commit.
    expect(single.index).toBe(64);
    expect(receipts.filter((r) => r.index > single.index)).toHaveLength(1000 - 64);
    expect(new Set([...receipts.map((r) => r.index), single.index]).size).toBe(1001);
    expect(log.size()).toBe(1001);
    expect((await log.entry(single.index))?.entry.correlationId).toBe('single-read');
    // Bulk entries keep their order among themselves.
    expect(receipts.map((r) => r.index)).toEqual([...receipts.map((r) => r.index)].sort((a, b) => a - b));
  });

  it("a batch of thousands, built on the log's worker thread, proves every entry like any other", async () => {
    const { log } = await fixture();
    const receipts = await Promise.all(Array.from({ length: 3000 }, (_, i) => log.append(event(i), { bulk: true })));
    expect(receipts.map((r) => r.index)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    await log.checkpoint();
    for (const i of [0, 1023, 2047, 2048, 2999]) {
      const b = await log.bundle(i);
      expect(verifyBundle(b, log.verifierKey).index).toBe(i);
      expect((await log.entry(i))?.entry.correlationId).toBe(`corr-${i}`);
    }
    expect((await log.entriesFor(A, { limit: 1000 })).length).toBe(1000); // 1,500 of its entries; a page holds 1,000
  });

  it('keeps enterprises as commitments: each lists only its own entries, and erasure unlinks them', async () => {
    const { log } = await fixture();
    for (let i = 0; i < 20; i++) await log.append(event(i));
    const mine = await log.entriesFor(A);
    expect(mine).toHaveLength(10);
    expect(mine.every((e) => e.opening?.uscc === A)).toBe(true);
    const raw = JSON.stringify((await log.entry(1))!.entry);
    expect(raw).not.toContain(A);
    expect(await log.erase(A)).toBe(10);
    expect(await log.entriesFor(A)).toEqual([]);
    const b = await log.bundle(1);
    expect(b.opening).toBeUndefined();
    expect(verifyBundle(b, log.verifierKey).index).toBe(1);
    expect(await log.entriesFor(B)).toHaveLength(10);
  });

  it('answers auditor queries by bank, purpose, decision and time range', async () => {
    const { log } = await fixture();
    for (let i = 0; i < 40; i++) await log.append(event(i, i >= 30 ? { purpose: 'post-loan-monitoring' } : {}));
    const byBank = await log.query({ actorNode: 'bank-a' });
    expect(byBank.entries).toHaveLength(20);
    expect((await log.query({ purpose: 'post-loan-monitoring' })).entries).toHaveLength(10);
    expect((await log.query({ decision: 'DENY' })).entries).toHaveLength(8);
    const range = await log.query({ from: '2026-11-01T00:00:10.000Z', to: '2026-11-01T00:00:19.000Z' });
    expect(range.entries.map((e) => e.index)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
  });

  it("filters by bank: the bank's own entries and its requests this node served (principal `bank/…`)", async () => {
    const { log } = await fixture();
    for (let i = 0; i < 4; i++) await log.append(event(i));
    const served = { node: 'xm-centre', principal: 'bank-a/officer-1', role: 'bank-officer' };
    await log.append(event(4, { actor: served }));
    await log.append(event(5, { actor: { ...served, principal: 'bank-ab/officer-1' } }));
    expect((await log.query({ actorNode: 'bank-a' })).entries.map((e) => e.index)).toEqual([3, 1]);
    expect((await log.query({ bank: 'bank-a' })).entries.map((e) => e.index)).toEqual([4, 3, 1]);
    expect((await log.query({ bank: 'xm-centre' })).entries.map((e) => e.index)).toEqual([5, 4]);
  });

  it('the CLI verifier accepts a bundle, and fails once the operator edits the stored entry by hand', async () => {
    const { log, db } = await fixture();
    for (let i = 0; i < 10; i++) await log.append(event(i));
    await log.checkpoint();
    const dir = await mkdtemp(join(tmpdir(), 'verify-'));
    const file = join(dir, 'bundle.json');
    await writeFile(file, JSON.stringify(await log.bundle(3)));
    const ok = spawnSync(process.execPath, [CLI, 'verify', 'bundle', '--key', log.verifierKey, file], {
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, index: 3, subject: A });

    // The operator edits the stored entry: the node refuses to issue a bundle for it (LOG_CORRUPT) …
    const genuine = await log.bundle(3);
    const sub = db.sublevel<string, string>('accesslog', { valueEncoding: 'utf8' });
    const key = `e!${(3).toString(16).padStart(12, '0')}`;
    const edited = (await sub.get(key))!.replace('"DENY"', '"ALLOW"').replace('"ALLOW"', '"DENY"');
    await sub.put(key, edited);
    await expect(log.bundle(3)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    // … and a bundle carrying the edited bytes fails the independent verifier.
    await writeFile(file, JSON.stringify({ ...genuine, entry: edited }));
    const bad = spawnSync(process.execPath, [CLI, 'verify', 'bundle', '--key', log.verifierKey, file], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/inclusion proof: the entry is not in the checkpointed tree/);

    const other = ed25519KeyPair();
    const cpFile = join(dir, 'cp.txt');
    await writeFile(cpFile, log.latestCheckpoint()!.note);
    const vkey = log.verifierKey.replace(/\+[^+]+$/, `+${toBase64(new Uint8Array([1, ...other.publicKey]))}`);
    const wrongKey = spawnSync(process.execPath, [CLI, 'verify', 'checkpoint', '--key', vkey, cpFile], {
      encoding: 'utf8',
    });
    expect(wrongKey.status).toBe(1);
  });

  it('a bundle waiting for its witness quorum stops waiting when its caller aborts or the log stops', async () => {
    const { log } = await fixture();
    log.setWitnessQuorum(2);
    await log.append(event(0));
    await log.checkpoint();
    const aborted = new AbortController();
    const waiting = log.bundle(0, { waitMs: 60_000, signal: aborted.signal });
    aborted.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    // Stopping the log releases a waiting caller with what there is (an uncosigned bundle).
    const pending = log.bundle(0, { waitMs: 60_000 });
    await log.stop();
    expect((await pending).cosigned).toBe(false);
  });

  it('rejects tampered bundles with the reason', async () => {
    const { log } = await fixture();
    for (let i = 0; i < 9; i++) await log.append(event(i));
    const b = await log.bundle(4);
    const cases: Array<[unknown, RegExp]> = [
      [{ ...b, proof: b.proof.slice(1) }, /inclusion proof/],
      [{ ...b, proof: [...b.proof, b.proof[0]] }, /inclusion proof/],
      [{ ...b, index: 5 }, /inclusion proof/],
      [{ ...b, entry: b.entry.replace('corr-4', 'corr-5') }, /not in the checkpointed tree/],
      [{ ...b, checkpoint: b.checkpoint.replace('\n9\n', '\n8\n') }, /checkpoint/],
      [{ ...b, checkpoint: b.checkpoint.replace('\n\n', '\nextra\n\n') }, /checkpoint/],
      [{ ...b, opening: { uscc: A, opening: b.opening!.opening } }, /opening/],
      [{ ...b, proof: ['AAAA'] }, /not 32 bytes/],
    ];
    for (const [i, [input, reason]] of cases.entries())
      expect(() => verifyBundle(input, log.verifierKey), `case ${i}`).toThrow(reason);
  });

  it('property: changing any byte of an entry, or any proof hash, is detected', async () => {
    const { log } = await fixture();
    for (let i = 0; i < 13; i++) await log.append(event(i));
    const bundles = await Promise.all([0, 6, 12].map((i) => log.bundle(i)));
    fc.assert(
      fc.property(
        fc.constantFrom(...bundles),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (b, pos, delta, inProof) => {
          if (inProof) {
            const proof = [...b.proof];
            const k = pos % proof.length;
            const bytes = fromBase64(proof[k])!;
            bytes[pos % 32] ^= delta;
            proof[k] = toBase64(bytes);
            return throws(() => verifyBundle({ ...b, proof }, log.verifierKey));
          }
          const at = pos % b.entry.length;
          const changed =
            b.entry.slice(0, at) +
            String.fromCharCode((b.entry.charCodeAt(at) + delta) % 0x10000) +
            b.entry.slice(at + 1);
          return changed === b.entry || throws(() => verifyBundle({ ...b, entry: changed }, log.verifierKey));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fails closed: an entry that cannot be written durably is refused', async () => {
    const { log, db } = await fixture();
    await log.append(event(1));
    await db.close();
    await expect(log.append(event(2))).rejects.toBeInstanceOf(AccessLogUnavailableError);
  });

  // Each wait for a reported line has a 30 s deadline (two per crash, three crashes): the test's
  // own limit lies above their sum, so a slow machine fails with the deadline's message.
  it('a log killed with SIGKILL at reported points during heavy appends loses no acknowledged entry and stays consistent', {
    timeout: 240_000,
  }, async () => {
    const location = join(await mkdtemp(join(tmpdir(), 'log-kill-')), 'db');
    const reportedCheckpoints = new Set<number>();
    // Three crashes of the same log: right after the first acknowledged entry, then after 500
    // and after 3000 more with at least one and two checkpoints signed during that run.
    for (const point of [
      { acks: 1, checkpoints: 0 },
      { acks: 500, checkpoints: 1 },
      { acks: 3000, checkpoints: 2 },
    ]) {
      const worker = spawnReporting(process.execPath, [WORKER, location, toBase64(keys.seed)]);
      const acked = new Map<number, string>();
      let checkpoints = 0;
      try {
        const ready = await worker.line('stdout', (l) => l.startsWith('ready '));
        const sizeBefore = Number(ready.slice(6));
        // The predicate sees each line once, in order: it counts what the worker reported so far.
        await worker.line('stdout', (l) => {
          const [what, index, correlationId] = l.split(' ');
          if (what === 'ack') acked.set(Number(index), correlationId);
          if (what === 'checkpoint') {
            checkpoints++;
            reportedCheckpoints.add(Number(index));
          }
          return acked.size >= point.acks && checkpoints >= point.checkpoints;
        });
        worker.child.kill('SIGKILL');
        // The worker never ends on its own: a SIGKILL exit means it was killed while appending.
        expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
        expect(Math.min(...acked.keys())).toBeGreaterThanOrEqual(sizeBefore);
      } finally {
        await worker.stop();
      }

      const db = await openDatabase(location);
      const log = createAccessLog(
        { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'kill-test', logger: silentLogger() },
        { checkpointIntervalMs: 100_000 },
      );
      try {
        await log.start();
        // Every acknowledged entry is there, as acknowledged.
        expect(log.size()).toBeGreaterThan(Math.max(...acked.keys()));
        for (const [index, correlationId] of acked)
          expect((await log.entry(index))?.entry.correlationId, `entry ${index}`).toBe(correlationId);
        // Every checkpoint reported is stored, and each stored one is consistent with a new one
        // signed over everything recovered.
        const cps = await log.checkpoints({ limit: 1000 });
        expect(cps.map((c) => c.size)).toEqual(expect.arrayContaining([...reportedCheckpoints]));
        const latest = (await log.checkpoint())!;
        expect(latest.size).toBe(log.size());
        for (const cp of cps) {
          const proof = await log.consistencyProof(cp.size, latest.size);
          const ok =
            cp.size === 0 ||
            verifyConsistency(
              cp.size,
              latest.size,
              fromBase64(cp.root)!,
              fromBase64(latest.root)!,
              proof.map((p) => fromBase64(p)!),
            );
          expect(ok, `checkpoint ${cp.size} → ${latest.size}`).toBe(true);
        }
      } finally {
        await log.stop();
        await db.close();
      }
    }
    expect(reportedCheckpoints.size).toBeGreaterThanOrEqual(3);
  });
});
