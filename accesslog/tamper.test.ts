/**
 * Hand edits of the stored log with the node stopped (issue 14, defect 2): an edited entry is
 * refused when served and raises an alarm, the start-up check and the scrub find it, untouched
 * entries still serve; an edit that also rewrites the leaf hash is caught by the signed root.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { ed25519KeyPair, leafHash, nodeHash, toUtf8 } from '../crypto/index.ts';
import { parseConfig } from '../node/config.ts';
import { createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { until } from '../testkit/wait.ts';
import { type AccessLog, AccessLogCorruptError, type AccessLogInit, createAccessLog } from './log.ts';
import type { AccessEvent } from './port.ts';

const A = '91350200776049653A';
const B = '91110000600037341L';
const keys = ed25519KeyPair();
const hex12 = (n: number) => n.toString(16).padStart(12, '0');
const nodeKey = (level: number, index: number) => `n!${level.toString(16).padStart(2, '0')}${hex12(index)}`;

const event = (i: number): AccessEvent => ({
  time: new Date(Date.UTC(2026, 10, 1, 0, 0, 0, i)).toISOString(),
  actor: { node: 'bank-a', principal: `officer-${i % 3}`, role: 'bank' },
  action: 'PROFILE_READ',
  decision: i % 5 === 0 ? 'DENY' : 'ALLOW',
  purpose: 'loan-application',
  scopes: ['registration'],
  subject: i % 2 ? A : B,
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

async function startLog(dir: string, init: AccessLogInit = {}) {
  const db = await openDatabase(dir);
  const log = createAccessLog(
    { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'xm-centre', logger: silentLogger() },
    { checkpointIntervalMs: 100_000, scrubRate: 0, ...init },
  );
  open.push({ db, log });
  await log.start();
  return log;
}

/** Writes `n` entries, signs a checkpoint and stops the node; returns the database directory. */
async function writtenLog(n: number) {
  const dir = join(await mkdtemp(join(tmpdir(), 'tamper-')), 'db');
  const log = await startLog(dir);
  await Promise.all(Array.from({ length: n }, (_, i) => log.append(event(i))));
  await log.checkpoint();
  const { db } = open.pop()!;
  await log.stop();
  await db.close();
  return dir;
}

/** Edits the stored bytes of entry `index` as an operator would with the node stopped; returns the new leaf hash. */
async function editEntry(dir: string, index: number, options: { leaf?: boolean; path?: number } = {}) {
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  const sub = db.sublevel<string, string>('accesslog', { valueEncoding: 'utf8' });
  const nodes = db.sublevel<string, Uint8Array>('accesslog', { valueEncoding: 'view' });
  const key = `e!${hex12(index)}`;
  const before = (await sub.get(key))!;
  const after = before.replace('"ALLOW"', '"DENY"').replace(/officer-\d/, 'officer-9');
  expect(after).not.toBe(before);
  await sub.put(key, after);
  let hash = leafHash(toUtf8(after));
  if (options.leaf) await nodes.put(nodeKey(0, index), hash);
  // Recompute the nodes above it too, up to level `path`, as an attacker hiding the edit would.
  for (let level = 1; level <= (options.path ?? 0); level++) {
    const i = index >> level;
    const left = (await nodes.get(nodeKey(level - 1, 2 * i)))!;
    const right = (await nodes.get(nodeKey(level - 1, 2 * i + 1)))!;
    hash = (index >> (level - 1)) % 2 ? nodeHash(left, hash) : nodeHash(hash, right);
    await nodes.put(nodeKey(level, i), hash);
  }
  await db.close();
}

describe('hand-edited access log', () => {
  it('refuses to serve an edited entry and raises an alarm at start; untouched entries still serve', async () => {
    const dir = await writtenLog(20);
    await editEntry(dir, 3);
    const log = await startLog(dir);

    expect(log.alarms()).toEqual([expect.objectContaining({ kind: 'LOG_TAMPERED', index: 3, count: 1 })]);
    const refused = await log.entry(3).catch((e) => e);
    expect(refused).toBeInstanceOf(AccessLogCorruptError);
    expect(refused.code).toBe('LOG_CORRUPT');
    expect(log.alarms()).toHaveLength(1);

    for (const i of [0, 2, 4, 19]) expect((await log.entry(i))?.entry.correlationId).toBe(`corr-${i}`);
    // Entry 3 belongs to enterprise A: A's list is refused, B's is served.
    await expect(log.entriesFor(A)).rejects.toBeInstanceOf(AccessLogCorruptError);
    expect(await log.entriesFor(B)).toHaveLength(10);
    // An auditor's scan that covers entry 3 is refused, even when the edit hides it from the filter.
    await expect(log.query({ decision: 'ALLOW', principal: 'officer-0' })).rejects.toBeInstanceOf(
      AccessLogCorruptError,
    );
    // A scan that stops before it (at entry 4, the first older than `from`) is served.
    const recent = await log.query({ from: event(5).time });
    expect(recent.entries.map((e) => e.index)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
    expect(log.state().status).toBe('ok');
    await log.append(event(20));
  });

  it('the background scrub finds edited entries nobody asked for', async () => {
    const dir = await writtenLog(3000);
    await editEntry(dir, 5);
    await editEntry(dir, 2101, { leaf: true });
    // The start-up check covers only the newest 100 entries: the scrub has to find these.
    const log = await startLog(dir, { startupCheck: 100, scrubRate: 1e9 });
    await until('a full scrub pass', () => log.scrubStatus().passes >= 1, { timeoutMs: 30_000, intervalMs: 10 });
    expect(log.scrubStatus()).toMatchObject({ target: 3000, position: 3000, problems: 2 });
    expect(log.alarms()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'LOG_TAMPERED', index: 5, count: 1 }),
        // Rewritten with its leaf hash: the first untouched node above names the pair.
        expect.objectContaining({ kind: 'LOG_TAMPERED', index: 2100, count: 2 }),
      ]),
    );
    expect(log.alarms()).toHaveLength(2);
    await expect(log.entry(5)).rejects.toBeInstanceOf(AccessLogCorruptError);
    expect((await log.entry(6))?.entry.correlationId).toBe('corr-6');
  });

  it('an edit that also rewrites the leaf hash is caught by the signed root', async () => {
    const dir = await writtenLog(20);
    await editEntry(dir, 3, { leaf: true });
    const log = await startLog(dir);
    expect(log.alarms()).toEqual([expect.objectContaining({ kind: 'LOG_TAMPERED', index: 2, count: 2 })]);
    await expect(log.entry(3)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    // Its neighbour can no longer be authenticated either: the tree cannot tell which of the two was edited.
    await expect(log.entry(2)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    for (const i of [0, 1, 4, 5, 19]) expect((await log.entry(i))?.entry.correlationId).toBe(`corr-${i}`);
  });

  it('an edit that rewrites every node up to the signed root stops the log from starting', async () => {
    const dir = await writtenLog(20);
    // 20 = 16 + 4: node 4/0 is part of the root of the signed checkpoint.
    await editEntry(dir, 3, { leaf: true, path: 4 });
    await expect(startLog(dir)).rejects.toMatchObject({
      code: 'LOG_CORRUPT',
      message: expect.stringMatching(/does not lead to the root of signed checkpoint 20/),
    });
  });

  it('a node with an edited log starts, reports the alarm on /health and /metrics, and keeps serving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tamper-node-'));
    const config = parseConfig({
      nodeId: 'xm-centre',
      name: 'Xiamen',
      role: 'credit-centre',
      dataDir: dir,
      api: { port: 0 },
    });
    let node = await createCreditNode(config, { logger: silentLogger() });
    await node.start();
    for (let i = 0; i < 10; i++) await node.accessLog.append(event(i));
    await node.stop();
    await editEntry(join(dir, 'db'), 3);
    node = await createCreditNode(config, { logger: silentLogger() });
    try {
      await node.start();
      const res = await fetch(`${node.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        logAlarms: [expect.objectContaining({ kind: 'LOG_TAMPERED', index: 3 })],
      });
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      expect(metrics).toMatch(/^credit_access_log_alarms\{kind="LOG_TAMPERED"\} 1$/m);
      expect(metrics).toMatch(/^credit_access_log_ok 1$/m);
      await expect(node.accessLog.entry(3)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
      await node.accessLog.append(event(10));
    } finally {
      await node.stop();
    }
  });

  it('an edit that rewrites the path below the root is caught by the first untouched node', async () => {
    const dir = await writtenLog(20);
    await editEntry(dir, 3, { leaf: true, path: 3 });
    const log = await startLog(dir);
    expect(log.alarms()).toEqual([expect.objectContaining({ kind: 'LOG_TAMPERED', index: 0, count: 16 })]);
    await expect(log.entry(3)).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    expect((await log.entry(17))?.entry.correlationId).toBe('corr-17');
  });
});
