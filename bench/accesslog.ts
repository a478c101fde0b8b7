/**
 * Access-log benchmark (DESIGN §11): durable, group-committed appends beside raw Level batch
 * writes of the same entries in the same run; inclusion-proof generation at 10,000,000 entries
 * (the tree's nodes are bulk-loaded in the log's own storage layout); checkpoint signing and
 * verification rates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessLog } from '../accesslog/log.ts';
import type { AccessEvent } from '../accesslog/port.ts';
import {
  canonicalJson,
  ed25519KeyPair,
  ed25519Signer,
  nodeHash,
  noteVerifier,
  openCheckpoint,
  sha256,
  signCheckpoint,
  toUtf8,
} from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase } from '../storage/index.ts';

const keys = ed25519KeyPair();
const event = (i: number): AccessEvent => ({
  time: new Date(Date.UTC(2026, 10, 1) + i).toISOString(),
  actor: { node: 'xm-centre', principal: `bank-a/officer-${i % 50}`, role: 'bank-officer' },
  action: 'PROFILE_READ',
  decision: i % 7 === 0 ? 'DENY' : 'ALLOW',
  purpose: 'loan-application',
  scopes: ['registration', 'tax'],
  subject: '91350200776049653A',
  resultDigest: '9f2c0a1e7b3d5f6a8c9e0b1d2f3a4c5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c',
  correlationId: `c-${i}`,
});
const hex12 = (n: number) => n.toString(16).padStart(12, '0');

async function appends(n: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-log-'));
  const db = await openDatabase(join(dir, 'db'));
  const log = createAccessLog(
    { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'bench', logger: silentLogger() },
    { checkpointIntervalMs: 1000 },
  );
  await log.start();
  try {
    let t = performance.now();
    const batch = 512;
    for (let i = 0; i < n; i += batch)
      await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => log.append(event(i + j))));
    const durable = Math.round((n * 1000) / (performance.now() - t));
    // Baseline: the same entries as raw synced Level batches of the same size, no tree, no commitments.
    const raw = db.sublevel<string, string>('raw', { valueEncoding: 'utf8' });
    t = performance.now();
    for (let i = 0; i < n; i += batch) {
      const ops = Array.from({ length: Math.min(batch, n - i) }, (_, j) => ({
        type: 'put' as const,
        key: hex12(i + j),
        value: canonicalJson(event(i + j)),
      }));
      await raw.batch(ops, { sync: true } as never);
    }
    const rawRate = Math.round((n * 1000) / (performance.now() - t));
    return {
      entries: n,
      durableAppendsPerSecond: durable,
      rawLevelBatchWritesPerSecond: rawRate,
      ratio: +(durable / rawRate).toFixed(2),
    };
  } finally {
    await log.stop();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the perfect-subtree hashes of an `n`-leaf tree in the log's layout, streaming level by level. */
async function bulkTree(n: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-tree-'));
  const db = await openDatabase(join(dir, 'db'));
  const sub = db.sublevel<string, Uint8Array>('accesslog', { valueEncoding: 'view' });
  const t = performance.now();
  let level = 0;
  let count = n;
  let prev: Uint8Array[] = [];
  const key = (l: number, i: number) => `n!${l.toString(16).padStart(2, '0')}${hex12(i)}`;
  // Level 0 from synthetic entries; higher levels from the one below, kept in memory per level (32 B each).
  let current: Uint8Array[] = new Array(n);
  let ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = [];
  const flush = async () => {
    if (ops.length > 0) await sub.batch(ops);
    ops = [];
  };
  for (let i = 0; i < n; i++) {
    current[i] = sha256(new Uint8Array([0]), toUtf8(`entry-${i}`));
    ops.push({ type: 'put', key: key(0, i), value: current[i] });
    if (ops.length >= 50_000) await flush();
  }
  while (count > 1) {
    prev = current;
    level++;
    count = Math.floor(prev.length / 2);
    current = new Array(count);
    for (let i = 0; i < count; i++) {
      current[i] = nodeHash(prev[2 * i], prev[2 * i + 1]);
      ops.push({ type: 'put', key: key(level, i), value: current[i] });
      if (ops.length >= 50_000) await flush();
    }
  }
  await flush();
  await db.sublevel<string, number>('accesslog', { valueEncoding: 'json' }).put('m!size', n);
  const buildSeconds = Math.round((performance.now() - t) / 100) / 10;
  await db.close();
  return { dir, buildSeconds };
}

async function proofs(n: number) {
  const { dir, buildSeconds } = await bulkTree(n);
  const db = await openDatabase(join(dir, 'db'));
  const log = createAccessLog(
    { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'bench', logger: silentLogger() },
    { checkpointIntervalMs: 1e9 },
  );
  try {
    await log.start();
    const samples = 2000;
    for (let i = 0; i < 200; i++) await log.inclusionProof(Math.floor(Math.random() * n), n);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await log.inclusionProof(Math.floor(Math.random() * n), n);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const t = performance.now();
    for (let i = 0; i < 200; i++) await log.consistencyProof(Math.floor(Math.random() * (n - 1)) + 1, n);
    return {
      treeSize: n,
      treeBuildSeconds: buildSeconds,
      inclusionProofMs: {
        p50: +times[samples / 2].toFixed(3),
        p99: +times[Math.floor(samples * 0.99)].toFixed(3),
        mean: +(times.reduce((a, b) => a + b) / samples).toFixed(3),
      },
      consistencyProofMeanMs: +((performance.now() - t) / 200).toFixed(3),
    };
  } finally {
    await log.stop().catch(() => undefined);
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function checkpoints() {
  const cp = { origin: 'credit-data-space/bench', size: 10_000_000, root: sha256(toUtf8('root')) };
  const n = 5000;
  let t = performance.now();
  let note = '';
  const signer = ed25519Signer(keys.seed);
  for (let i = 0; i < n; i++) note = signCheckpoint({ ...cp, size: cp.size + i }, signer);
  const sign = Math.round((n * 1000) / (performance.now() - t));
  const v = noteVerifier(cp.origin, keys.publicKey);
  t = performance.now();
  for (let i = 0; i < n; i++) openCheckpoint(note, v);
  const verify = Math.round((n * 1000) / (performance.now() - t));
  return { signPerSecond: sign, verifyPerSecond: verify };
}

/** Runs the access-log benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const n = Number(process.env.BENCH_LOG_ENTRIES ?? 10_000_000);
  return {
    appends: await appends(Number(process.env.BENCH_APPENDS ?? 100_000)),
    proofs: await proofs(n),
    checkpoints: checkpoints(),
    targets: { durableAppendsPerSecond: '>= 20,000', inclusionProofAt10M: '<= 1 ms' },
  };
}
