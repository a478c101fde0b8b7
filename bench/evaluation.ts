/**
 * Evaluation benchmark (issue 10): a full evaluation of 100,000 generated enterprises, each city's
 * centre grading its own on its own database (Xiamen 50 %, Quanzhou 30 %, Zhangzhou 20 %), beside
 * reading the same enterprises and facts alone in the same run:
 *
 * - `readScan`: the same key ranges streamed and JSON-decoded, nothing else (the strict baseline;
 *   target: full evaluation ≥ 0.5 of its rate);
 * - `readPerEnterprise`: each enterprise read through the profile store (`getEnterprise`,
 *   `getFacts`), as a reader of one profile does.
 *
 * Also: a second full run with nothing changed (digest comparison only), the incremental re-grade
 * of one enterprise after one new fact (p50/p99), the cheap change check, and what signing costs
 * (grades are signed when issued, so it is not part of a run). `BENCH_ENTERPRISES` overrides 100,000.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngester, openSource } from '../connectors/index.ts';
import { ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import { createEvaluator, type EvaluationRunSummary, type Evaluator } from '../evaluation/evaluator.ts';
import { profileInputs } from '../evaluation/inputs.ts';
import { schemeForCity } from '../evaluation/schemes.ts';
import { evaluationStore } from '../evaluation/store.ts';
import type { CityId, CreditFact, IngestRecord } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { jsonSublevel, openDatabase, type RootDb } from '../storage/index.ts';

const NOW = Date.parse('2026-12-01T08:00:00Z');
/** Rounds of baseline and full evaluation (`BENCH_ROUNDS`). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
const pct = (xs: number[], p: number) => +[...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)].toFixed(3);

interface City {
  city: CityId;
  node: string;
  db: RootDb;
  profiles: ProfileStore;
  evaluator: Evaluator;
  usccs: string[];
}

/** Streams the enterprise and fact ranges, JSON-decoded: reading alone. */
async function readScan(db: RootDb) {
  const sub = jsonSublevel(db, 'profiles');
  let enterprises = 0;
  let facts = 0;
  for await (const _ of sub.values({ gte: 'e!', lt: 'e"' })) enterprises++;
  for await (const _ of sub.values({ gte: 'f!', lt: 'f"' })) facts++;
  return { enterprises, facts };
}

/** Reads every enterprise through the profile store, eight at a time. */
async function readEach(c: City) {
  let facts = 0;
  for (let i = 0; i < c.usccs.length; i += 8)
    await Promise.all(
      c.usccs.slice(i, i + 8).map(async (u) => {
        await c.profiles.getEnterprise(u);
        facts += (await c.profiles.getFacts(u)).length;
      }),
    );
  return facts;
}

async function load(dir: string, data: string, city: CityId, node: string): Promise<City> {
  const db = await openDatabase(join(dir, node));
  const profiles = createProfileStore({ db });
  await createIngester({ db, profiles, tokenise: (s) => s, originNode: node, logger: silentLogger() }).run(
    [`${node}/enterprises.ndjson`, `${node}/facts.ndjson`].map((f) => openSource(join(data, f))),
  );
  const evaluator = createEvaluator({
    store: evaluationStore(db),
    profiles,
    inputs: profileInputs({ db, profiles }),
    signer: ed25519Signer(ed25519KeyPair().seed),
    nodeId: node,
    city,
    scheme: schemeForCity(city),
    now: () => NOW,
  });
  const usccs: string[] = [];
  for await (const e of profileInputs({ db, profiles }).scan((r) => evaluator.responsibleFor(r))) usccs.push(e.uscc);
  return { city, node, db, profiles, evaluator, usccs };
}

/** Runs the evaluation benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const enterprises = Number(process.env.BENCH_ENTERPRISES ?? 100_000);
  const dir = await mkdtemp(join(tmpdir(), 'bench-eval-'));
  const cities: City[] = [];
  try {
    const data = join(dir, 'data');
    await generate({ enterprises, seed: 'bench-evaluation', out: data });
    for (const [city, node] of [
      ['XM', 'xm-centre'],
      ['ZZ', 'zz-centre'],
      ['QZ', 'qz-centre'],
    ] as Array<[CityId, string]>)
      cities.push(await load(dir, data, city, node));
    const graded = cities.reduce((s, c) => s + c.usccs.length, 0);

    // Warm-up (JIT, caches) on one city; then rounds alternating the baseline and the full
    // evaluation (the first grades every enterprise, later ones re-grade all: `force`), best of
    // each kept, so that a busy machine slows both alike.
    await readScan(cities[1].db);
    let t = performance.now();
    for (const c of cities) await readEach(c);
    const eachMs = performance.now() - t;
    let facts = 0;
    let scanMs = Number.POSITIVE_INFINITY;
    let fullMs = Number.POSITIVE_INFINITY;
    let runs: EvaluationRunSummary[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      t = performance.now();
      facts = 0;
      for (const c of cities) facts += (await readScan(c.db)).facts;
      scanMs = Math.min(scanMs, performance.now() - t);
      t = performance.now();
      const these: EvaluationRunSummary[] = [];
      for (const c of cities) these.push(await c.evaluator.runAll({ force: round > 0 }));
      const ms = performance.now() - t;
      if (round === 0) runs = these;
      fullMs = Math.min(fullMs, ms);
    }
    t = performance.now();
    for (const c of cities) await c.evaluator.runAll();
    const againMs = performance.now() - t;

    // Incremental: one new fact about an enterprise, then its re-grade (timed), 300 enterprises.
    const zz = cities.find((c) => c.city === 'ZZ')!;
    const regrade: number[] = [];
    const check: number[] = [];
    const noop: number[] = [];
    const sample = zz.usccs.filter((_, i) => i % Math.max(1, Math.floor(zz.usccs.length / 300)) === 0).slice(0, 300);
    for (const [i, uscc] of sample.entries()) {
      let s = performance.now();
      const before = await zz.evaluator.reevaluate(uscc);
      noop.push(performance.now() - s);
      const f: CreditFact = {
        id: `BENCH-P${i}`,
        uscc,
        category: 'ADMINISTRATIVE',
        subtype: 'ADMIN_PENALTY',
        polarity: 'NEGATIVE',
        severity: 'GENERAL',
        legalDocumentRef: `罚〔2026〕${i}号`,
        sourceUnit: 'bench',
        decisionDate: '2026-11-20',
        publicUntil: '2027-05-20',
        usageRange: 'PUBLIC',
        status: 'ACTIVE',
        payload: { decisionNo: 'x', penaltyCategory: '罚款', content: 'x', authority: 'bench' },
        originNode: 'zz-centre',
        version: 1,
        updatedAt: '2026-11-20T00:00:00Z',
      };
      const records: IngestRecord[] = [{ kind: 'fact', record: f }];
      await zz.db.batch(zz.profiles.writeOps(records, await zz.profiles.existing(records)));
      s = performance.now();
      await zz.evaluator.changed(uscc);
      check.push(performance.now() - s);
      s = performance.now();
      const g = await zz.evaluator.reevaluate(uscc);
      regrade.push(performance.now() - s);
      if (g?.seq !== (before?.seq ?? 0) + 1) throw new Error('re-grade did not issue a new grade');
    }
    // Signing, which happens when a grade is issued (fetched by a centre, shown in the API).
    const records = await Promise.all(sample.map((u) => zz.evaluator.current(u)));
    t = performance.now();
    for (let k = 0; k < 10; k++) for (const r of records) zz.evaluator.issue(r!);
    const signMs = performance.now() - t;

    const grades = { A: 0, B: 0, C: 0, D: 0 };
    for (const r of runs) for (const g of Object.keys(grades) as Array<keyof typeof grades>) grades[g] += r.grades[g];
    const fullRate = rate(graded, fullMs);
    const scanRate = rate(graded, scanMs);
    return {
      enterprises: graded,
      facts,
      firstRunByCity: Object.fromEntries(
        cities.map((c, i) => [c.city, { enterprises: c.usccs.length, ms: runs[i].ms }]),
      ),
      grades,
      rounds: ROUNDS,
      fullEvaluation: { gradesPerSecond: fullRate, bestMs: Math.round(fullMs) },
      readScan: { enterprisesPerSecond: scanRate, bestMs: Math.round(scanMs) },
      readPerEnterprise: { enterprisesPerSecond: rate(graded, eachMs), ms: Math.round(eachMs) },
      ratioToReadScan: +(fullRate / scanRate).toFixed(2),
      ratioToReadPerEnterprise: +(fullRate / rate(graded, eachMs)).toFixed(2),
      secondRunNothingChanged: { enterprisesPerSecond: rate(graded, againMs), ms: Math.round(againMs) },
      incremental: {
        sample: sample.length,
        regradeAfterOneNewFact: { p50Ms: pct(regrade, 0.5), p99Ms: pct(regrade, 0.99) },
        changeCheck: { p50Ms: pct(check, 0.5), p99Ms: pct(check, 0.99) },
        unchangedReevaluate: { p50Ms: pct(noop, 0.5), p99Ms: pct(noop, 0.99) },
      },
      signingAtIssue: { attestationsPerSecond: rate(records.length * 10, signMs) },
      target: 'full evaluation ≥ 0.5 × readScan (issue 10)',
    };
  } finally {
    for (const c of cities) await c.db.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
