/**
 * Ingest benchmark (DESIGN §11): generated NDJSON and CSV → validated one-table records.
 * Each figure is measured beside its baseline in the same run: raw parsing of the same file
 * (no validation, no writes). Also a long run to show that memory stays flat while streaming.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngester, openSource } from '../connectors/index.ts';
import { idNumberTokenizer } from '../connectors/produce.ts';
import { type RecordKind, validateRecord } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore } from '../profiles/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { openDatabase } from '../storage/index.ts';

const TOKEN_KEY = new Uint8Array(32).fill(1);
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);

async function timeRows(spec: string, kind: RecordKind, validate: boolean) {
  const ctx = { originNode: 'bench', tokenise: (s: string) => s };
  const t = performance.now();
  let n = 0;
  for await (const r of openSource(spec).rows()) {
    if (validate && 'data' in r) validateRecord(kind, r.data, ctx);
    n++;
  }
  return { rows: n, perSecond: rate(n, performance.now() - t) };
}

async function ingest(specs: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
  const db = await openDatabase(join(dir, 'db'));
  const ingester = createIngester({
    db,
    profiles: createProfileStore({ db }),
    tokenise: idNumberTokenizer(TOKEN_KEY),
    originNode: 'bench',
    logger: silentLogger(),
  });
  let peakRss = 0;
  let peakHeap = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  try {
    const r = await ingester.run(specs.map((s) => openSource(s)));
    return {
      rows: r.rows,
      accepted: r.accepted,
      perSecond: r.recordsPerSecond,
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      peakHeapMiB: Math.round(peakHeap / 2 ** 20),
    };
  } finally {
    clearInterval(timer);
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the ingest benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const data = await mkdtemp(join(tmpdir(), 'bench-gen-'));
  try {
    const enterprises = Number(process.env.BENCH_ENTERPRISES ?? 70_000);
    await generate({ enterprises, seed: 'bench', out: data });
    const facts = join(data, 'xm-data/facts.ndjson');
    const csv = join(data, 'xm-centre/enterprises.csv');
    const ndjsonRaw = await timeRows(facts, 'fact', false);
    const ndjsonValidated = await timeRows(facts, 'fact', true);
    const csvRaw = await timeRows(csv, 'enterprise', false);
    const csvValidated = await timeRows(csv, 'enterprise', true);
    const all = [
      'xm-centre/enterprises.ndjson',
      'xm-centre/facts.ndjson',
      'xm-data/facts.ndjson',
      'qz-centre/facts.ndjson',
      'zz-centre/facts.ndjson',
    ].map((f) => join(data, f));
    const durable = await ingest(all);
    return {
      enterprises,
      ndjson: {
        rawParsePerSecond: ndjsonRaw.perSecond,
        validatedPerSecond: ndjsonValidated.perSecond,
        ratio: +(ndjsonValidated.perSecond / ndjsonRaw.perSecond).toFixed(2),
        rows: ndjsonRaw.rows,
      },
      csv: {
        rawParsePerSecond: csvRaw.perSecond,
        validatedPerSecond: csvValidated.perSecond,
        ratio: +(csvValidated.perSecond / csvRaw.perSecond).toFixed(2),
        rows: csvRaw.rows,
      },
      durableIngest: { ...durable, ratioToRawNdjsonParse: +(durable.perSecond / ndjsonRaw.perSecond).toFixed(2) },
      target: '>= 100,000 records/s (DESIGN §11)',
    };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}
