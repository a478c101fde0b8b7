import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSource } from '../../connectors/open.ts';
import { ingestFixture, tempDir } from '../../connectors/test-helpers.ts';
import { validateUscc } from '../../model/index.ts';
import { generate } from './generate.ts';

async function files(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) out.push(...(await files(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe('synthetic federation data', () => {
  it('is deterministic: the same seed gives the same bytes', async () => {
    const [a, b] = [await tempDir('gen-a-'), await tempDir('gen-b-')];
    await generate({ enterprises: 300, seed: 's1', out: a });
    await generate({ enterprises: 300, seed: 's1', out: b });
    const names = await files(a);
    expect(await files(b)).toEqual(names);
    for (const f of names) expect(await readFile(join(b, f))).toEqual(await readFile(join(a, f)));
    const c = await tempDir('gen-c-');
    await generate({ enterprises: 300, seed: 's2', out: c });
    expect(await readFile(join(c, 'manifest.json'), 'utf8')).not.toEqual(
      await readFile(join(a, 'manifest.json'), 'utf8'),
    );
  });

  it('ingest rejects exactly the rows the manifest marks as broken and flags exactly the planted duplicate codes', async () => {
    const out = await tempDir('gen-m-');
    const m = await generate({ enterprises: 3000, seed: 'manifest', out });
    expect(Object.keys(m.invalid).sort()).toEqual(
      [
        'DATE',
        'NEGATIVE_WITHOUT_DOCUMENT',
        'PROHIBITED_FIELD',
        'PUBLICITY_WINDOW',
        'UNKNOWN_FIELD',
        'USCC_CHECKSUM',
      ].sort(),
    );
    const ndjsonFiles = Object.keys(m.files).filter((f) => f.endsWith('.ndjson') && !f.startsWith('keys/'));
    const { ingester, profiles } = await ingestFixture();
    const r = await ingester.run(ndjsonFiles.map((f) => openSource(join(out, f))));
    expect(r.reasons).toEqual({ ...m.invalid, DUPLICATE_CODE: m.duplicateCodes.length });
    expect(r.rejected).toBe(Object.values(m.invalid).reduce((s, n) => s + n, 0) + m.duplicateCodes.length);
    expect([...r.duplicateCodes].sort()).toEqual([...m.duplicateCodes].sort());
    const byCode = (a: { uscc: string }, b: { uscc: string }) => a.uscc.localeCompare(b.uscc);
    expect([...r.oneEntityManyCodes].sort(byCode)).toEqual([...m.oneEntityManyCodes].sort(byCode));
    const rows = ndjsonFiles.reduce((s, f) => s + m.files[f].rows, 0);
    expect(r.rows).toBe(rows);
    expect(r.accepted).toBe(rows - r.rejected);
    // Key pairs belong to valid codes; loans exist at three banks.
    const keys = (await readFile(join(out, 'keys/enterprises.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(keys.every((k) => validateUscc(k.uscc).valid)).toBe(true);
    expect(m.banks).toHaveLength(3);
    const loanRows = m.banks.map((b) => m.files[`banks/${b}/loans.ndjson`]?.rows ?? 0);
    expect(loanRows.every((n) => n > 0)).toBe(true);
    expect((await profiles.count()).loans).toBe(loanRows.reduce((s, n) => s + n, 0));
    const sections = new Set((await profiles.getFacts(m.samples['zz-centre'][0])).map((f) => f.subtype));
    expect(sections.has('TAX_GRADE') && sections.has('EVALUATION') && sections.has('SOCIAL_INSURANCE')).toBe(true);
  });

  it('the CSV variant of enterprise files yields the same outcome as the NDJSON one', async () => {
    const out = await tempDir('gen-csv-');
    const m = await generate({ enterprises: 1500, seed: 'csv', out });
    const csv = Object.keys(m.files).filter((f) => f.endsWith('enterprises.csv'));
    const { ingester } = await ingestFixture();
    const r = await ingester.run(csv.map((f) => openSource(join(out, f))));
    const expected: Record<string, number> = { DUPLICATE_CODE: m.duplicateCodes.length };
    for (const f of csv)
      for (const [rule, n] of Object.entries(m.files[f].invalid)) expected[rule] = (expected[rule] ?? 0) + n;
    expect(r.reasons).toEqual(expected);
  });
});
