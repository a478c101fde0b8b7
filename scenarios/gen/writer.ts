/** Buffered NDJSON and CSV file writers for the generator. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const CSV_SPECIAL = /[",\r\n]/;

/** Quotes a CSV cell when needed (RFC 4180). */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.join(';') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return CSV_SPECIAL.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Appends lines to a file with back-pressure, counting rows. */
export class LineWriter {
  readonly path: string;
  rows = 0;
  #stream: WriteStream | undefined;
  #buf: string[] = [];

  constructor(path: string) {
    this.path = path;
  }

  async #open() {
    if (!this.#stream) {
      await mkdir(dirname(this.path), { recursive: true });
      this.#stream = createWriteStream(this.path);
    }
    return this.#stream;
  }

  async line(text: string) {
    this.#buf.push(text);
    if (this.#buf.length >= 2000) await this.flush();
  }

  async flush() {
    if (this.#buf.length === 0) return;
    const s = await this.#open();
    const chunk = `${this.#buf.join('\n')}\n`;
    this.#buf = [];
    if (!s.write(chunk)) await new Promise<void>((r) => s.once('drain', () => r()));
  }

  async close() {
    await this.flush();
    const s = await this.#open();
    await new Promise<void>((resolve, reject) => s.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** NDJSON rows. */
export class NdjsonWriter extends LineWriter {
  async row(obj: object) {
    this.rows++;
    await this.line(JSON.stringify(obj));
  }
}

/** CSV rows under a fixed header. */
export class CsvWriter extends LineWriter {
  readonly columns: readonly string[];
  constructor(path: string, columns: readonly string[]) {
    super(path);
    this.columns = columns;
    void this.line(columns.join(','));
  }
  async row(obj: Record<string, unknown>) {
    this.rows++;
    await this.line(this.columns.map((c) => csvCell(obj[c])).join(','));
  }
}
