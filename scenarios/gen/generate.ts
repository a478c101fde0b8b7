/**
 * Deterministic synthetic data for the whole federation (same seed → same bytes). Layout of DIR:
 * - `<holder>/enterprises.ndjson` and `.csv` (the same rows twice: ingest one of them)
 * - `<holder>/facts.ndjson`: facts held by that node
 *   holders: `xm-centre` (Xiamen results), `xm-data` (Xiamen process data: tax, social insurance,
 *   housing fund, utilities, real estate), `zz-centre`, `qz-centre` (all data of their city)
 * - `banks/<bank>/loans.ndjson`: each bank's private loan book
 * - `keys/enterprises.ndjson`: each valid enterprise's Ed25519 key pair (base64 seed and public key)
 * - `manifest.json`: counts per file, the deliberately invalid rows by rule, planted 重错码 cases
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519KeyPair, toBase64 } from '../../crypto/index.ts';
import type { CityId } from '../../model/index.ts';
import { GEN_TODAY, type GenEnterprise, loan, makeEnterprise, makeUscc, processFacts, resultFacts } from './records.ts';
import { Rng } from './rng.ts';
import { CsvWriter, NdjsonWriter } from './writer.ts';

/** Banks of the demo federation, each with its own loan book. */
export const GEN_BANKS = ['bank-a', 'bank-b', 'bank-c'] as const;
/** Which node holds an enterprise's results and process data, by domicile city. */
export const HOLDERS: Record<CityId, { results: string; process: string }> = {
  XM: { results: 'xm-centre', process: 'xm-data' },
  ZZ: { results: 'zz-centre', process: 'zz-centre' },
  QZ: { results: 'qz-centre', process: 'qz-centre' },
};
/** Columns of the CSV variant of enterprise files. */
export const ENTERPRISE_COLUMNS = [
  'uscc',
  'name',
  'formerNames',
  'status',
  'establishedOn',
  'registeredCapitalWan',
  'industryCode',
  'legalRepresentative',
  'legalRepIdNumber',
  'domicileRegion',
  'updatedAt',
  'religion',
] as const;

/** What one generated file holds. */
export interface FileManifest {
  kind: 'enterprise' | 'fact' | 'loan' | 'keys';
  rows: number;
  invalid: Record<string, number>;
}

/** The generator's manifest. */
export interface Manifest {
  seed: string;
  enterprises: number;
  today: string;
  banks: string[];
  files: Record<string, FileManifest>;
  /** Deliberately invalid rows per rule, in the NDJSON files (the CSV variants repeat the enterprise ones). */
  invalid: Record<string, number>;
  /** Codes planted twice with different content (重复赋码): the second row is a DUPLICATE_CODE. */
  duplicateCodes: string[];
  /** Entities planted under a second code (一码多赋): both rows valid, flagged ONE_ENTITY_MANY_CODES. */
  oneEntityManyCodes: Array<{ uscc: string; otherUscc: string }>;
  /** A few valid enterprises per holder, for demos and tests. */
  samples: Record<string, string[]>;
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  enterprises: number;
  seed: string;
  out: string;
}

const ENTERPRISE_DEFECTS = ['USCC_CHECKSUM', 'PROHIBITED_FIELD', 'DATE'] as const;
const FACT_DEFECTS = ['NEGATIVE_WITHOUT_DOCUMENT', 'UNKNOWN_FIELD', 'PUBLICITY_WINDOW'] as const;

/** Generates the data set and returns its manifest (also written to `out/manifest.json`). */
export async function generate(options: GenerateOptions): Promise<Manifest> {
  const { out } = options;
  const n = options.enterprises;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('enterprises must be a positive integer');
  const rng = new Rng(`credit-gen:${options.seed}`);
  await mkdir(out, { recursive: true });
  const files = new Map<string, NdjsonWriter | CsvWriter>();
  const invalidBy = new Map<string, Record<string, number>>();
  const ndjson = (rel: string) => {
    let w = files.get(rel);
    if (!w) {
      w = new NdjsonWriter(join(out, rel));
      files.set(rel, w);
    }
    return w as NdjsonWriter;
  };
  const csv = (rel: string) => {
    let w = files.get(rel);
    if (!w) {
      w = new CsvWriter(join(out, rel), ENTERPRISE_COLUMNS);
      files.set(rel, w);
    }
    return w as CsvWriter;
  };
  const markInvalid = (rel: string, rule: string) => {
    const m = invalidBy.get(rel) ?? {};
    m[rule] = (m[rule] ?? 0) + 1;
    invalidBy.set(rel, m);
  };
  const writeEnterprise = async (holder: string, row: Record<string, unknown>, rule?: string) => {
    await ndjson(`${holder}/enterprises.ndjson`).row(row);
    await csv(`${holder}/enterprises.csv`).row(row);
    if (rule) {
      markInvalid(`${holder}/enterprises.ndjson`, rule);
      markInvalid(`${holder}/enterprises.csv`, rule);
    }
  };

  const usccs = new Set<string>();
  const names = new Set<string>();
  let factSeq = 0;
  let loanSeq = 0;
  const nextId = () => `F${(++factSeq).toString(36).toUpperCase().padStart(7, '0')}`;
  const manifest: Manifest = {
    seed: options.seed,
    enterprises: n,
    today: GEN_TODAY,
    banks: [...GEN_BANKS],
    files: {},
    invalid: {},
    duplicateCodes: [],
    oneEntityManyCodes: [],
    samples: {},
  };
  // Planted problems at fixed intervals, at least one of each at any size.
  const every = Math.max(1, Math.floor(n / Math.max(1, Math.round(n / 500))));
  const keys = ndjson('keys/enterprises.ndjson');

  for (let i = 0; i < n; i++) {
    const e: GenEnterprise = makeEnterprise(rng, usccs, names);
    const { results, process } = HOLDERS[e.city];
    await writeEnterprise(results, e.row);
    const samples = manifest.samples[results] ?? [];
    manifest.samples[results] = samples;
    if (samples.length < 5) samples.push(e.uscc);
    const kp = ed25519KeyPair(rng.bytes(32));
    await keys.row({ uscc: e.uscc, publicKey: toBase64(kp.publicKey), seed: toBase64(kp.seed) });
    for (const f of resultFacts(rng, e, nextId)) await ndjson(`${results}/facts.ndjson`).row(f);
    for (const f of processFacts(rng, e, nextId)) await ndjson(`${process}/facts.ndjson`).row(f);
    if (rng.chance(0.6)) {
      const banks = GEN_BANKS.filter(() => rng.chance(0.5));
      for (const bank of banks.length > 0 ? banks : [rng.pick(GEN_BANKS)])
        await ndjson(`banks/${bank}/loans.ndjson`).row(loan(rng, bank, e.uscc, ++loanSeq));
    }

    if (i % every !== every - 1 && !(n < every && i === n - 1)) continue;
    // One of each planted problem, written next to this enterprise's own rows.
    const k = Math.floor(i / every);
    const defect = ENTERPRISE_DEFECTS[k % ENTERPRISE_DEFECTS.length];
    const bad = makeEnterprise(rng, usccs, names);
    const badHolder = HOLDERS[bad.city].results;
    if (defect === 'USCC_CHECKSUM') {
      const last = bad.uscc[17];
      bad.row.uscc = bad.uscc.slice(0, 17) + (last === '0' ? '1' : '0');
    } else if (defect === 'PROHIBITED_FIELD') bad.row.religion = '佛教';
    else bad.row.establishedOn = '2019-02-30';
    await writeEnterprise(
      badHolder,
      bad.row,
      defect === 'DATE' ? 'DATE' : defect === 'USCC_CHECKSUM' ? 'USCC_CHECKSUM' : 'PROHIBITED_FIELD',
    );

    const factDefect = FACT_DEFECTS[k % FACT_DEFECTS.length];
    const penalty = resultFacts(rng, e, nextId).find((f) => f.subtype === 'EVALUATION')!;
    const broken: Record<string, unknown> = {
      ...penalty,
      subtype: 'ADMIN_PENALTY',
      category: 'ADMINISTRATIVE',
      polarity: 'NEGATIVE',
      severity: 'GENERAL',
      legalDocumentRef: '市监罚〔2026〕1号',
      decisionDate: '2026-03-01',
      publicUntil: '2026-12-01',
      payload: {
        decisionNo: '罚字〔2026〕1号',
        penaltyCategory: '罚款',
        content: '违反规定',
        authority: String(penalty.sourceUnit),
      },
    };
    if (factDefect === 'NEGATIVE_WITHOUT_DOCUMENT') delete broken.legalDocumentRef;
    else if (factDefect === 'UNKNOWN_FIELD') broken.internalRemark = 'x';
    else broken.publicUntil = '2028-03-01';
    await ndjson(`${results}/facts.ndjson`).row(broken);
    markInvalid(`${results}/facts.ndjson`, factDefect);

    // 重复赋码: the same code again with other content, right after the original.
    await writeEnterprise(results, {
      ...e.row,
      name: `${String(e.row.name)}（重复）`,
      updatedAt: '2026-10-31T00:00:00Z',
    });
    manifest.duplicateCodes.push(e.uscc);
    // 一码多赋: the same entity under a second valid code.
    const other = makeUscc(rng, String(e.row.domicileRegion), usccs);
    await writeEnterprise(results, { ...e.row, uscc: other });
    manifest.oneEntityManyCodes.push({ uscc: other, otherUscc: e.uscc });
  }

  for (const [rel, w] of files) {
    await w.close();
    const kind = rel.startsWith('keys/')
      ? 'keys'
      : rel.includes('loans')
        ? 'loan'
        : rel.includes('facts')
          ? 'fact'
          : 'enterprise';
    manifest.files[rel] = { kind, rows: w.rows, invalid: invalidBy.get(rel) ?? {} };
    if (rel.endsWith('.ndjson'))
      for (const [rule, c] of Object.entries(invalidBy.get(rel) ?? {}))
        manifest.invalid[rule] = (manifest.invalid[rule] ?? 0) + c;
  }
  manifest.files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
