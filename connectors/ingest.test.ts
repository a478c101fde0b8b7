import { copyFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeUscc } from '../model/index.ts';
import { createProfileStore } from '../profiles/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { jsonSublevel, openDatabase } from '../storage/index.ts';
import type { CommittedBatch, IngestReport } from './ingest.ts';
import { openSource } from './open.ts';
import { dump, ingestFixture, spawnReporting, tempDir } from './test-helpers.ts';

const CLI = new URL('../node/cli/main.ts', import.meta.url).pathname;
const code = (i: number) => composeUscc('9', '1', '350206', `MA${String(i).padStart(6, '0')}`);
const ent = (i: number, updatedAt: string, name = `企业${i}`) => ({
  uscc: code(i),
  name,
  establishedOn: '2018-03-03',
  legalRepresentative: '林芳',
  updatedAt,
});
const ndjson = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

describe('ingest runs', () => {
  it('re-running the same input is idempotent; a watermark re-run takes only new or changed rows', async () => {
    const dir = await tempDir();
    const path = join(dir, 'enterprises.ndjson');
    const rows = Array.from({ length: 50 }, (_, i) => ent(i, '2026-01-01T00:00:00Z'));
    await writeFile(path, ndjson(rows));
    const { ingester, db, profiles } = await ingestFixture(dir);
    const first = await ingester.run([openSource(path)]);
    expect(first).toMatchObject({ accepted: 50, unchanged: 0 });
    const snapshot = await dump(db);
    const again = await ingester.run([openSource(path)]);
    expect(again).toMatchObject({ accepted: 0, skippedByWatermark: 50 });
    expect(await dump(db)).toEqual(snapshot);

    rows[3] = ent(3, '2026-02-01T00:00:00Z', '新名称有限公司');
    rows.push(ent(50, '2026-02-01T00:00:00Z'));
    await writeFile(path, ndjson(rows));
    const third = await ingester.run([openSource(path)]);
    expect(third).toMatchObject({ accepted: 2, skippedByWatermark: 49 });
    expect((await profiles.getEnterprise(code(3)))?.name).toBe('新名称有限公司');
    expect((await profiles.count()).enterprises).toBe(51);
  });

  it('reports each batch once it is written, in order', async () => {
    const dir = await tempDir();
    const path = join(dir, 'enterprises.ndjson');
    await writeFile(path, ndjson(Array.from({ length: 45 }, (_, i) => ent(i, '2026-01-01T00:00:00Z'))));
    const { ingester, profiles } = await ingestFixture(dir);
    const seen: Array<{ batch: CommittedBatch; stored: Promise<number> }> = [];
    const r = await ingester.run([openSource(path)], {
      batchSize: 10,
      // Read the database as the batch is reported: a batch reported before its write would show.
      onBatch: (batch) => seen.push({ batch, stored: profiles.count().then((c) => c.enterprises) }),
    });
    expect(seen.map((s) => s.batch)).toEqual(
      [10, 10, 10, 10, 5].map((records, i) => ({
        batch: i + 1,
        source: openSource(path).id,
        records,
        accepted: Math.min(45, 10 * (i + 1)),
      })),
    );
    for (const s of seen) expect(await s.stored).toBeGreaterThanOrEqual(s.batch.accepted);
    expect(r.accepted).toBe(45);
  });

  it('reports duplicate codes and one entity under many codes, never merging them', async () => {
    const dir = await tempDir();
    const path = join(dir, 'enterprises.ndjson');
    await writeFile(
      path,
      ndjson([
        ent(1, '2026-01-01T00:00:00Z', '甲公司'),
        ent(1, '2026-01-01T00:00:00Z', '乙公司'),
        ent(1, '2026-01-01T00:00:00Z', '甲公司'),
        { ...ent(2, '2026-01-01T00:00:00Z', '甲公司') },
      ]),
    );
    const { ingester, profiles } = await ingestFixture(dir);
    const r = await ingester.run([openSource(path)]);
    expect(r).toMatchObject({ accepted: 2, duplicates: 1, repeatedRows: 1, duplicateCodes: [code(1)] });
    expect(r.reasons).toEqual({ DUPLICATE_CODE: 1 });
    expect(r.oneEntityManyCodes).toEqual([{ uscc: code(2), otherUscc: code(1) }]);
    expect((await profiles.getEnterprise(code(1)))?.name).toBe('甲公司');
    expect(await profiles.getEnterprise(code(2))).toBeDefined();
  });

  it('reads a real SQLite table incrementally by updatedAt', async () => {
    const dir = await tempDir();
    const file = join(dir, 'source.sqlite');
    const sql = new DatabaseSync(file);
    sql.exec(
      'CREATE TABLE enterprises (uscc TEXT, name TEXT, establishedOn TEXT, legalRepresentative TEXT, updatedAt TEXT, registeredCapitalWan REAL)',
    );
    const insert = sql.prepare('INSERT INTO enterprises VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 20; i++)
      insert.run(
        code(i),
        `企业${i}`,
        '2018-03-03',
        '林芳',
        `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
        100 + i,
      );
    const { ingester, profiles } = await ingestFixture(dir);
    expect(await ingester.run([openSource(`sqlite:${file}?table=enterprises`)])).toMatchObject({ accepted: 20 });
    sql
      .prepare('UPDATE enterprises SET name = ?, updatedAt = ? WHERE uscc = ?')
      .run('改名公司', '2026-03-01T00:00:00Z', code(5));
    insert.run(code(99), '新企业', '2020-01-01', '陈伟', '2026-03-02T00:00:00Z', 1);
    sql.close();
    const r = await ingester.run([openSource(`sqlite:${file}?table=enterprises`)]);
    expect(r).toMatchObject({ rows: 2, accepted: 2 });
    expect((await profiles.getEnterprise(code(5)))?.name).toBe('改名公司');
    await expect(ingester.run([openSource(`sqlite:${file}?table=nope`)])).rejects.toMatchObject({ rule: 'SQL_TABLE' });
    expect(() => openSource(`sqlite:${file}?table=x;DROP TABLE enterprises`)).toThrow(/invalid table name/);
  });

  it('follows HTTP pagination, retries a failing page, and passes the watermark', async () => {
    const all = Array.from({ length: 25 }, (_, i) => ent(i, `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`));
    let failures = 1;
    const seenSince: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname !== '/api/enterprises') {
        res.writeHead(404).end();
        return;
      }
      if (url.searchParams.get('since')) seenSince.push(url.searchParams.get('since')!);
      if (url.searchParams.get('cursor') === '10' && failures-- > 0) {
        res.writeHead(503).end();
        return;
      }
      const since = url.searchParams.get('since') ?? '';
      const rows = all.filter((r) => new Date(r.updatedAt).toISOString() > since);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = rows.slice(start, start + 10);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: page, nextCursor: start + 10 < rows.length ? String(start + 10) : null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/enterprises`;
    try {
      const { ingester } = await ingestFixture();
      expect(await ingester.run([openSource(base)])).toMatchObject({ rows: 25, accepted: 25 });
      expect(await ingester.run([openSource(base)])).toMatchObject({ rows: 0 });
      expect(seenSince).toContain('2026-01-25T00:00:00.000Z');
      await expect(
        ingester.run([openSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/missing/enterprises`)]),
      ).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});

/** One `--progress-json` line of `credit-node ingest`: a batch that has been written. */
interface BatchLine {
  batch: number;
  source: string;
  records: number;
  accepted: number;
}
const batchLines = (lines: string[]) => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BatchLine);

describe('an ingest run killed with SIGKILL at a batch it reported', () => {
  // Small batches, so that a run has about 200 of them and every kill point below leaves many to go.
  const BATCH_SIZE = 50;
  // Deadlines for what a child reports, and test limits above their sum: a slow machine fails with
  // the message of the deadline that passed, never with a hang.
  const LINE_MS = 60_000;
  const RUN_MS = 90_000;
  const LIMIT_MS = LINE_MS + RUN_MS + 30_000;
  let sources: string[] = [];
  let clean = '';
  let cleanDump: string[] = [];
  let cleanBatches: BatchLine[] = [];
  let cleanReport: IngestReport | undefined;
  const ingest = (dir: string) =>
    spawnReporting(process.execPath, [
      CLI,
      'ingest',
      '--data-dir',
      dir,
      '--json',
      '--progress-json',
      '--batch-size',
      String(BATCH_SIZE),
      ...sources,
    ]);

  beforeAll(async () => {
    const data = await tempDir('gen-');
    await generate({ enterprises: 1200, seed: 'kill', out: data });
    sources = ['xm-centre/enterprises.ndjson', 'xm-data/facts.ndjson', 'qz-centre/facts.ndjson'].map((f) =>
      join(data, f),
    );
    clean = await tempDir('clean-');
    const run = ingest(clean);
    expect(await run.finished(RUN_MS), run.stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
    cleanReport = JSON.parse(run.stdout.join('\n')) as IngestReport;
    cleanBatches = batchLines(run.stderr);
    expect(cleanBatches.map((b) => b.batch)).toEqual(cleanBatches.map((_, i) => i + 1));
    expect(cleanBatches.at(-1)?.accepted).toBe(cleanReport.accepted);
    const db = await openDatabase(join(clean, 'db'));
    try {
      cleanDump = await dump(db);
    } finally {
      await db.close();
    }
    expect(cleanDump.length).toBeGreaterThan(cleanReport.accepted);
  }, LIMIT_MS);

  it.each([
    { at: 'its 1st batch', pick: () => 1 },
    { at: 'its 3rd batch', pick: () => 3 },
    { at: 'its 6th batch', pick: () => 6 },
    {
      at: 'the 10th batch of its last source',
      pick: (all: BatchLine[]) => (all.find((b) => b.source === sources.at(-1))?.batch ?? 0) + 9,
    },
  ])(
    'killed after $at and run again, ends with the same database as an uninterrupted run',
    {
      timeout: LIMIT_MS,
    },
    async ({ pick }) => {
      const killAt = pick(cleanBatches);
      // The kill point lies well inside the run: at least 50 batches are still to come after it.
      expect(killAt).toBeGreaterThan(0);
      expect(cleanBatches.length - killAt).toBeGreaterThanOrEqual(50);

      const crashed = await tempDir('crash-');
      await copyFile(join(clean, 'node-keys.json'), join(crashed, 'node-keys.json'));
      const killed = ingest(crashed);
      try {
        await killed.line('stderr', (l) => l.startsWith('{') && (JSON.parse(l) as BatchLine).batch === killAt, LINE_MS);
        killed.child.kill('SIGKILL');
        expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });
      } finally {
        await killed.stop();
      }
      // Killed mid-run: no final report, and the last batch it reported is not the run's last.
      expect(killed.stdout).toEqual([]);
      const reported = batchLines(killed.stderr);
      expect(reported.length).toBeGreaterThanOrEqual(killAt);
      expect(reported.length).toBeLessThan(cleanBatches.length);

      // The database holds an unfinished run: still marked in progress, no watermark yet, every
      // record it reported written and fewer records than a whole run.
      let taken = 0;
      const db = await openDatabase(join(crashed, 'db'));
      try {
        const book = jsonSublevel(db, 'ingest');
        expect(await book.get('m!run')).toBe(1);
        expect(await book.keys({ gte: 'w!', lt: 'w"' }).all()).toEqual([]);
        taken = (await book.keys({ gte: 'h!', lt: 'h"' }).all()).length;
        const stored = Object.values(await createProfileStore({ db }).count()).reduce((a, b) => a + b, 0);
        expect(stored).toBe(taken);
        expect(taken).toBeGreaterThanOrEqual(reported.at(-1)?.accepted ?? Number.POSITIVE_INFINITY);
        expect(taken).toBeLessThan(cleanReport?.accepted ?? 0);
      } finally {
        await db.close();
      }

      // Run again, it resumes the same run: what was written counts as repeated, the rest is taken.
      const again = ingest(crashed);
      expect(await again.finished(RUN_MS), again.stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
      const report = JSON.parse(again.stdout.join('\n')) as IngestReport;
      expect(report.repeatedRows).toBe((cleanReport?.repeatedRows ?? 0) + taken);
      expect(report.accepted).toBe((cleanReport?.accepted ?? 0) - taken);
      expect(report.duplicates).toBe(cleanReport?.duplicates);

      const resumed = await openDatabase(join(crashed, 'db'));
      try {
        expect(await dump(resumed)).toEqual(cleanDump);
      } finally {
        await resumed.close();
      }
    },
  );
});
