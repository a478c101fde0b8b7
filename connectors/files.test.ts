import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeUscc } from '../model/index.ts';
import { MAX_LINE_BYTES } from './files.ts';
import { openSource } from './open.ts';
import { dump, ingestFixture, tempDir } from './test-helpers.ts';
import { SourceError } from './types.ts';

const A = composeUscc('9', '1', '350203', 'MA31DKY8');
const B = composeUscc('9', '1', '350602', 'MA2Y7K3P');
const ent = (uscc: string, extra: Record<string, unknown> = {}) => ({
  uscc,
  name: `测试企业${uscc.slice(-4)}有限公司`,
  establishedOn: '2015-06-01',
  legalRepresentative: '陈伟',
  ...extra,
});

async function file(name: string, content: string | Buffer) {
  const dir = await tempDir('files-');
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('file connectors', () => {
  it('NDJSON: rejects invalid JSON lines, wrong-encoding lines and a 10 MB line precisely, keeps the rest', async () => {
    const lines = [
      JSON.stringify(ent(A)),
      '{"uscc": "broken',
      Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]).toString('latin1'),
      `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`,
      JSON.stringify(ent(B)),
    ];
    const buf = Buffer.concat([
      Buffer.from(`${lines[0]}\n${lines[1]}\n`),
      Buffer.from([0xd5, 0xc5, 0xc8, 0xfd, 0x0a]), // GBK bytes for 张三
      Buffer.from(`${lines[3]}\n${lines[4]}\n`),
    ]);
    const { ingester, profiles } = await ingestFixture();
    const before = process.memoryUsage().heapUsed;
    const r = await ingester.run([openSource(await file('enterprises.ndjson', buf))]);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * MAX_LINE_BYTES);
    expect(r.accepted).toBe(2);
    expect(r.rejections.map((x) => [x.rowNumber, x.rule])).toEqual([
      [2, 'JSON'],
      [3, 'ENCODING'],
      [4, 'LINE_TOO_LONG'],
    ]);
    expect(await profiles.getEnterprise(B)).toMatchObject({ uscc: B, registrationRegion: '350602' });
  });

  it('NDJSON with a BOM, CRLF line ends and blank lines', async () => {
    const text = `\ufeff${JSON.stringify(ent(A))}\r\n\r\n${JSON.stringify(ent(B))}\r\n`;
    const { ingester } = await ingestFixture();
    const r = await ingester.run([openSource(await file('enterprises.ndjson', text))]);
    expect(r).toMatchObject({ accepted: 2, rejected: 0 });
  });

  it('CSV: BOM, quoted fields, a truncated last record', async () => {
    const csv = `\ufeffuscc,name,establishedOn,legalRepresentative,formerNames\n${A},"厦门""鹭岛""有限公司",2015-06-01,陈伟,"旧名一;旧名二"\n${B},"未闭合的引号,2016-01-01,林芳,`;
    const { ingester, profiles } = await ingestFixture();
    const r = await ingester.run([openSource(await file('enterprises.csv', csv))]);
    expect(r.accepted).toBe(1);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0].rule).toBe('CSV_TRUNCATED');
    expect(await profiles.getEnterprise(A)).toMatchObject({
      name: '厦门"鹭岛"有限公司',
      formerNames: ['旧名一', '旧名二'],
    });
  });

  it('CSV in a wrong encoding is refused whole and nothing is written', async () => {
    const header = Buffer.from('uscc,name,establishedOn\n');
    const good = Buffer.from(`${A},good,2015-06-01\n`);
    const gbk = Buffer.concat([
      Buffer.from(`${B},`),
      Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]),
      Buffer.from(',2015-06-01\n'),
    ]);
    const { ingester, db } = await ingestFixture();
    const source = openSource(await file('enterprises.csv', Buffer.concat([header, good, gbk])));
    await expect(ingester.run([source])).rejects.toMatchObject({ rule: 'ENCODING' });
    expect((await dump(db)).filter((k) => k.startsWith('!profiles!'))).toEqual([]);
  });

  it('empty files are read as zero rows', async () => {
    const { ingester } = await ingestFixture();
    const r = await ingester.run([
      openSource(await file('enterprises.ndjson', '')),
      openSource(await file('enterprises.csv', '')),
      openSource(await file('facts.json', '')),
    ]);
    expect(r).toMatchObject({ rows: 0, accepted: 0, rejected: 0 });
  });

  it('JSON array files, and JSON that is not an array is refused', async () => {
    const { ingester } = await ingestFixture();
    const r = await ingester.run([openSource(await file('enterprises.json', JSON.stringify([ent(A), ent(B)])))]);
    expect(r.accepted).toBe(2);
    await expect(ingester.run([openSource(await file('enterprises.json', '{"a":1}'))])).rejects.toBeInstanceOf(
      SourceError,
    );
  });

  it('names the rule for unknown columns, bad USCCs, prohibited fields and negative facts without a document', async () => {
    const rows = [
      { kind: 'enterprise', ...ent(A), favouriteColour: 'red' },
      { kind: 'enterprise', ...ent(`${A.slice(0, 17)}${A[17] === '0' ? '1' : '0'}`) },
      { kind: 'enterprise', ...ent(B), bloodType: 'O' },
      {
        kind: 'fact',
        id: 'F1',
        uscc: A,
        subtype: 'ADMIN_PENALTY',
        category: 'ADMINISTRATIVE',
        polarity: 'NEGATIVE',
        severity: 'GENERAL',
        sourceUnit: '厦门市市场监督管理局',
        decisionDate: '2026-01-10',
        publicUntil: '2026-06-10',
        payload: { decisionNo: 'X-1', penaltyCategory: '罚款', content: 'c', authority: 'a' },
      },
      {
        kind: 'fact',
        id: 'F2',
        uscc: A,
        subtype: 'TAX_GRADE',
        category: 'COMPLIANCE',
        polarity: 'POSITIVE',
        sourceUnit: 't',
        decisionDate: '2026-04-15',
        payload: { year: 2025, grade: 'M' },
      },
    ];
    const { ingester, db } = await ingestFixture();
    const r = await ingester.run([
      openSource(await file('mixed.ndjson', rows.map((x) => JSON.stringify(x)).join('\n'))),
    ]);
    expect(r.rejections.map((x) => [x.rowNumber, x.field, x.rule])).toEqual([
      [1, 'favouriteColour', 'UNKNOWN_FIELD'],
      [2, 'uscc', 'USCC_CHECKSUM'],
      [3, 'bloodType', 'PROHIBITED_FIELD'],
      [4, 'legalDocumentRef', 'NEGATIVE_WITHOUT_DOCUMENT'],
      [5, 'polarity', 'TAX_GRADE_M'],
    ]);
    expect((await dump(db)).filter((k) => k.startsWith('!profiles!'))).toEqual([]);
    for (const x of r.rejections) expect(x.message).not.toMatch(/陈伟|红|red|O\b/);
  });
});
