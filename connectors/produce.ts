/**
 * The CPU half of an ingest run: rows → validated, serialised records in batches, with the
 * rejections and warnings found on the way, produced while the previous batch is written.
 */
import { createHmac, hash } from 'node:crypto';
import { type IngestRecord, type Issue, validateRecord } from '../model/index.ts';
import { recordIdentity } from '../profiles/index.ts';
import { kindOfRow, type Source } from './types.ts';

/** A validated record ready to write, with its JSON (stored as is) and content hash. */
export interface Pending {
  source: string;
  rowNumber: number;
  value: IngestRecord;
  identity: string;
  hash: string;
  json: string;
  /** The row carried its own `updatedAt` (only those move the watermark). */
  timed: boolean;
}

/** One produced batch. */
export interface Produced {
  pendings: Pending[];
  rejections: Array<{ rowNumber: number; issues: Array<Pick<Issue, 'field' | 'rule' | 'message'>> }>;
  warnings: Issue[];
  rows: number;
  skippedByWatermark: number;
  /** Progress of the source after this batch. */
  done: number;
  total?: number;
}

/** Settings of one production. */
export interface ProduceOptions {
  originNode: string;
  /** Keyed token of a natural person's ID number. */
  tokenise: (id: string) => string;
  watermark?: string;
  batchSize: number;
  signal?: AbortSignal;
}

/** The keyed token of a natural person's ID number (never store the number itself). */
export function idNumberTokenizer(key: Uint8Array): (id: string) => string {
  return (id) => createHmac('sha256', key).update('id-number\0').update(id).digest('base64url');
}

/** Reads, validates and serialises a source in batches. */
export async function* produce(source: Source, o: ProduceOptions): AsyncGenerator<Produced> {
  const ctx = { originNode: o.originNode, tokenise: o.tokenise };
  const fresh = (): Produced => ({
    pendings: [],
    rejections: [],
    warnings: [],
    rows: 0,
    skippedByWatermark: 0,
    done: 0,
  });
  let out = fresh();
  const emit = () => {
    const p = source.progress();
    const b = { ...out, done: p.done, ...(p.total !== undefined ? { total: p.total } : {}) };
    out = fresh();
    return b;
  };
  for await (const raw of source.rows({ signal: o.signal, since: o.watermark })) {
    out.rows++;
    if ('error' in raw)
      out.rejections.push({ rowNumber: raw.rowNumber, issues: [{ field: raw.error.field ?? '', ...raw.error }] });
    else {
      const kind = kindOfRow(raw.data) ?? raw.kind ?? source.kind;
      if (!kind) {
        out.rejections.push({
          rowNumber: raw.rowNumber,
          issues: [
            {
              field: 'kind',
              rule: 'KIND_UNKNOWN',
              message: 'row kind unknown: add a kind field or name the source enterprises*, facts* or loans*',
            },
          ],
        });
      } else {
        const v = validateRecord(kind, raw.data, ctx);
        for (const w of v.warnings) out.warnings.push(w);
        if (!v.ok) out.rejections.push({ rowNumber: raw.rowNumber, issues: v.errors });
        else {
          const timed = typeof (raw.data as { updatedAt?: unknown }).updatedAt === 'string';
          if (timed && o.watermark !== undefined && v.value.record.updatedAt <= o.watermark) out.skippedByWatermark++;
          else {
            const json = JSON.stringify(v.value.record);
            out.pendings.push({
              source: source.id,
              rowNumber: raw.rowNumber,
              value: v.value,
              identity: recordIdentity(v.value),
              hash: hash('sha256', `${v.value.kind}\n${json}`, 'base64url'),
              json,
              timed,
            });
          }
        }
      }
    }
    if (out.pendings.length >= o.batchSize || out.rows >= o.batchSize * 4) yield emit();
  }
  yield emit();
}
