/**
 * File sources: NDJSON (streamed line by line, each line validated as UTF-8 and JSON on its
 * own), CSV (streamed with csv-parse; the file is checked to be UTF-8 first so that a wrongly
 * encoded file is refused whole, before anything is written) and JSON arrays (bounded size).
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import type { RecordKind } from '../model/index.ts';
import { splitLines } from './lines.ts';
import { kindFromName, type RawRow, type ReadOptions, type Source, SourceError } from './types.ts';

/** Longest NDJSON line accepted (bytes). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Largest JSON array file accepted (bytes); larger inputs should be NDJSON. */
export const MAX_JSON_FILE_BYTES = 256 * 1024 * 1024;
/** Largest CSV record accepted (characters). */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function fileSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SourceError('NOT_A_FILE', `${path} is not a regular file`);
    return s.size;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError('NOT_FOUND', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
}

/** Checks a whole file is valid UTF-8, streaming; returns the byte offset of the first bad chunk or -1. */
async function firstInvalidUtf8(path: string): Promise<number> {
  let offset = 0;
  let carry = Buffer.alloc(0);
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = carry.length > 0 ? Buffer.concat([carry, c]) : c;
    // Hold back an incomplete trailing sequence (at most 3 bytes) for the next chunk.
    let cut = buf.length;
    for (let i = 1; i <= 3 && i <= buf.length; i++) {
      const b = buf[buf.length - i];
      if ((b & 0xc0) === 0x80) continue;
      if (b >= 0xc0) {
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (need > i) cut = buf.length - i;
      }
      break;
    }
    if (!isUtf8(buf.subarray(0, cut))) return offset;
    offset += cut;
    carry = Buffer.from(buf.subarray(cut));
  }
  return carry.length > 0 ? offset : -1;
}

abstract class FileSource implements Source {
  readonly id: string;
  readonly kind?: RecordKind;
  protected done = 0;
  protected total?: number;
  constructor(path: string, kind?: RecordKind) {
    this.id = resolve(path);
    const k = kind ?? kindFromName(path);
    if (k) this.kind = k;
  }
  progress() {
    return { done: this.done, total: this.total };
  }
  abstract rows(options?: ReadOptions): AsyncIterable<RawRow>;
  protected async *chunks(signal?: AbortSignal): AsyncGenerator<Buffer> {
    this.total = await fileSize(this.id);
    for await (const c of createReadStream(this.id, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) {
      this.done += c.length;
      yield c;
    }
  }
}

/** Newline-delimited JSON: one object per line. */
export class NdjsonSource extends FileSource {
  async *rows(options: ReadOptions = {}): AsyncGenerator<RawRow> {
    for await (const line of splitLines(this.chunks(options.signal), MAX_LINE_BYTES)) {
      const rowNumber = line.lineNumber;
      if ('tooLong' in line) {
        yield { rowNumber, error: { rule: 'LINE_TOO_LONG', message: `line is longer than ${MAX_LINE_BYTES} bytes` } };
        continue;
      }
      let bytes = line.bytes;
      if (rowNumber === 1 && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
      if (bytes.length === 0 || (bytes.length < 8 && bytes.toString().trim() === '')) continue;
      if (!isUtf8(bytes)) {
        yield { rowNumber, error: { rule: 'ENCODING', message: 'line is not valid UTF-8' } };
        continue;
      }
      let data: unknown;
      try {
        data = JSON.parse(bytes.toString('utf8'));
      } catch {
        yield { rowNumber, error: { rule: 'JSON', message: 'line is not valid JSON' } };
        continue;
      }
      yield this.kind ? { rowNumber, kind: this.kind, data } : { rowNumber, data };
    }
  }
}

/** CSV with a header row; `payload.x` columns or a JSON `payload` column carry fact payloads. */
export class CsvSource extends FileSource {
  async *rows(options: ReadOptions = {}): AsyncGenerator<RawRow> {
    this.total = await fileSize(this.id);
    const bad = await firstInvalidUtf8(this.id);
    if (bad >= 0)
      throw new SourceError('ENCODING', `${this.id} is not valid UTF-8 (near byte ${bad}); convert it first`);
    const skipped: RawRow[] = [];
    const parser = parseCsv({
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: false,
      max_record_size: MAX_CSV_RECORD_CHARS,
      skip_records_with_error: true,
      info: true,
      on_skip: (err) => {
        const line = (err as { lines?: number } | undefined)?.lines ?? 0;
        skipped.push({ rowNumber: line, error: csvIssue(err?.code) });
        return undefined;
      },
    });
    const feed = (async () => {
      try {
        for await (const c of this.chunks(options.signal)) {
          if (!parser.write(c)) await new Promise((r) => parser.once('drain', r));
        }
        parser.end();
      } catch (err) {
        parser.destroy(err as Error);
      }
    })();
    try {
      for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        while (skipped.length > 0) yield skipped.shift()!;
        yield this.kind
          ? { rowNumber: rec.info.lines, kind: this.kind, data: rec.record }
          : { rowNumber: rec.info.lines, data: rec.record };
      }
    } catch (err) {
      const e = err as { code?: string; lines?: number };
      // A truncated file (an unclosed quote at the end) fails its last record only.
      if (e.code === 'CSV_QUOTE_NOT_CLOSED' || e.code?.startsWith('CSV_')) {
        while (skipped.length > 0) yield skipped.shift()!;
        yield { rowNumber: e.lines ?? 0, error: csvIssue(e.code) };
      } else throw new SourceError('READ', `cannot read ${this.id}`, { cause: err });
    }
    while (skipped.length > 0) yield skipped.shift()!;
    await feed;
  }
}

/** Maps a csv-parse error code to a report rule. */
function csvIssue(code: string | undefined): { rule: string; message: string } {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return { rule: 'CSV_TRUNCATED', message: 'the record ends inside a quoted field (truncated file?)' };
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return { rule: 'CSV_COLUMNS', message: 'the record has a different number of fields than the header' };
    case 'CSV_MAX_RECORD_SIZE':
      return { rule: 'LINE_TOO_LONG', message: `the record is longer than ${MAX_CSV_RECORD_CHARS} characters` };
    default:
      return { rule: 'CSV', message: `malformed CSV record (${code ?? 'error'})` };
  }
}

/** A JSON file holding an array of rows (or `{ "items": [...] }`), read whole within a size limit. */
export class JsonArraySource extends FileSource {
  async *rows(_options: ReadOptions = {}): AsyncGenerator<RawRow> {
    const size = await fileSize(this.id);
    this.total = size;
    if (size > MAX_JSON_FILE_BYTES)
      throw new SourceError('TOO_LARGE', `${this.id} is larger than ${MAX_JSON_FILE_BYTES} bytes; use NDJSON`);
    const fh = await open(this.id);
    let bytes: Buffer;
    try {
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
    this.done = size;
    if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
    if (!isUtf8(bytes)) throw new SourceError('ENCODING', `${this.id} is not valid UTF-8`);
    if (bytes.toString().trim() === '') return;
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new SourceError('JSON', `${this.id} is not valid JSON: ${(err as Error).message}`);
    }
    const items = Array.isArray(doc) ? doc : (doc as { items?: unknown })?.items;
    if (!Array.isArray(items))
      throw new SourceError('JSON_SHAPE', `${this.id} must hold an array or { "items": [...] }`);
    for (let i = 0; i < items.length; i++) {
      yield this.kind ? { rowNumber: i + 1, kind: this.kind, data: items[i] } : { rowNumber: i + 1, data: items[i] };
    }
  }
}
