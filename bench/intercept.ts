/**
 * Check-and-intercept benchmark (issue 11): checks per second for batches of 10,000 enterprises
 * (decisions from the measures list, one durable access-log entry per enterprise, the check and
 * its counters stored), beside reading the same enterprises' listings alone in the same run
 * (target: ≥ 0.5 of it); and the same batches with one peer city consulted over libp2p.
 *
 * Two real nodes in process (the Xiamen and Quanzhou centres, libp2p on loopback, Level on disk,
 * signed access logs), each ingesting its share of the generated data (`BENCH_ENTERPRISES`,
 * default 50,000). A batch is 10,000 codes drawn from every generated enterprise (Xiamen 50 %,
 * Quanzhou 30 %, Zhangzhou 20 %), so each side finds about its share of them.
 *
 * - `readListings`: the baseline, the same reads the check makes (each enterprise's facts, live
 *   listings of the subtypes the matter's measures name), nothing else;
 * - `localCheck`: a check consulting no other centre;
 * - `withPeer`: the node's check, consulting the Quanzhou centre (which reads and logs its part).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Principal } from '../authz/index.ts';
import { startTestFederation, type TestFederation } from '../federation/test-federation.ts';
import {
  chinaDate,
  createInterceptService,
  measuresInForce,
  readListings,
  triggerSubtypes,
} from '../intercept/index.ts';
import { validateUscc } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';

const BATCH = 10_000;
const MATTER = 'FINANCE_SUBSIDY';
/** Rounds of each measurement (`BENCH_ROUNDS`); the best of each is kept. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
const gov: Principal = { sub: 'bench-system', role: 'gov-system', department: 'xm-finance' };

/** Runs the check-and-intercept benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const enterprises = Number(process.env.BENCH_ENTERPRISES ?? 50_000);
  let fed: TestFederation | undefined;
  try {
    fed = await startTestFederation(
      { 'xm-centre': 'credit-centre', 'qz-centre': 'city-peer' },
      { cities: { 'xm-centre': 'XM', 'qz-centre': 'QZ' }, enterprises },
    );
    const xm = fed.nodes['xm-centre'];
    const all: string[] = [];
    for (const node of ['xm-centre', 'qz-centre', 'zz-centre'])
      for (const row of (await readFile(join(fed.dataDir!, node, 'enterprises.ndjson'), 'utf8')).split('\n'))
        if (row) all.push((JSON.parse(row) as { uscc: string }).uscc);
    const valid = [...new Set(all)].filter((u) => validateUscc(u).valid);
    // Batches of 10,000 taken in turn through the shuffled codes (a fixed permutation).
    const shuffled = valid
      .map((u, i) => [((i * 2_654_435_761) >>> 0) % 1_000_003, u] as const)
      .sort((a, b) => a[0] - b[0]);
    let cursor = 0;
    const nextBatch = () => {
      const out: string[] = [];
      while (out.length < BATCH) out.push(shuffled[cursor++ % shuffled.length][1]);
      return out;
    };
    const local = createInterceptService({
      db: xm.db,
      profiles: xm.profiles,
      log: xm.accessLog,
      nodeId: 'xm-centre',
      city: 'XM',
      logger: silentLogger(),
    });
    await local.start();
    const subtypes = triggerSubtypes(measuresInForce(), MATTER);
    const today = chinaDate(Date.now());
    const decisions: Record<string, number> = {};
    /** Enterprises of the last batch with a live listing at Xiamen (an EVALUATION grade counts: grade-a, grade-d). */
    let listed = 0;

    // Warm-up (JIT, caches, connections).
    await readListings(xm.profiles, nextBatch(), subtypes, 'xm-centre', today);
    await local.check(gov, { matter: MATTER, usccs: nextBatch(), correlationId: 'bench-warm-1' });
    await xm.intercept!.check(gov, { matter: MATTER, usccs: nextBatch(), correlationId: 'bench-warm-2' });

    let readMs = Number.POSITIVE_INFINITY;
    let checkMs = Number.POSITIVE_INFINITY;
    let peerMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round++) {
      const batch = nextBatch();
      let t = performance.now();
      const found = await readListings(xm.profiles, batch, subtypes, 'xm-centre', today);
      readMs = Math.min(readMs, performance.now() - t);
      listed = found.filter((l) => l.length > 0).length;
      t = performance.now();
      const r = await local.check(gov, { matter: MATTER, usccs: batch, correlationId: `bench-local-${round}` });
      checkMs = Math.min(checkMs, performance.now() - t);
      for (const x of r.results) decisions[x.decision] = (decisions[x.decision] ?? 0) + 1;
      t = performance.now();
      const p = await xm.intercept!.check(gov, { matter: MATTER, usccs: batch, correlationId: `bench-peer-${round}` });
      peerMs = Math.min(peerMs, performance.now() - t);
      if (p.unavailable.length > 0) throw new Error('the Quanzhou centre did not answer');
    }
    const readRate = rate(BATCH, readMs);
    const checkRate = rate(BATCH, checkMs);
    return {
      enterprises,
      batch: BATCH,
      matter: MATTER,
      rounds: ROUNDS,
      batchEnterprisesWithListingsAtXiamen: listed,
      decisionsOfLocalChecks: decisions,
      readListings: { enterprisesPerSecond: readRate, bestMs: Math.round(readMs) },
      localCheck: { checksPerSecond: checkRate, bestMs: Math.round(checkMs) },
      withPeer: {
        peers: ['qz-centre'],
        checksPerSecond: rate(BATCH, peerMs),
        bestMs: Math.round(peerMs),
        note: 'the peer reads its listings and logs one entry per enterprise too',
      },
      ratioLocalCheckToRead: +(checkRate / readRate).toFixed(2),
      ratioWithPeerToLocalCheck: +(rate(BATCH, peerMs) / checkRate).toFixed(2),
      target: 'local check ≥ 0.5 × readListings (issue 11)',
    };
  } finally {
    await fed?.stop();
  }
}
