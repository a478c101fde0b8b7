import { spawn } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { composeUscc } from '../model/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { openDatabase } from '../storage/index.ts';
import { openSource } from './open.ts';
import { dump, ingestFixture, tempDir } from './test-helpers.ts';

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

  it('a run killed with SIGKILL and run again ends with the same database as an uninterrupted run', async () => {
    const data = await tempDir('gen-');
    await generate({ enterprises: 2500, seed: 'kill', out: data });
    const sources = ['xm-centre/enterprises.ndjson', 'xm-data/facts.ndjson', 'qz-centre/facts.ndjson'].map((f) =>
      join(data, f),
    );
    const run = (dir: string) =>
      new Promise<{ code: number | null; child: ReturnType<typeof spawn> }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'ingest', '--data-dir', dir, '--json', ...sources], {
          stdio: 'ignore',
        });
        child.on('exit', (code) => resolve({ code, child }));
      });
    const clean = await tempDir('clean-');
    expect((await run(clean)).code).toBe(0);

    const crashed = await tempDir('crash-');
    await copyFile(join(clean, 'node-keys.json'), join(crashed, 'node-keys.json'));
    const child = spawn(process.execPath, [CLI, 'ingest', '--data-dir', crashed, '--json', ...sources], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 900));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect((await run(crashed)).code).toBe(0);

    const a = await openDatabase(join(clean, 'db'));
    const b = await openDatabase(join(crashed, 'db'));
    try {
      const [da, db] = [await dump(a), await dump(b)];
      expect(da.length).toBeGreaterThan(20_000);
      expect(db).toEqual(da);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
