/**
 * SQL source over Node's built-in SQLite engine (`node:sqlite`): `sqlite:/path/db.sqlite?table=T`
 * (optionally `&kind=enterprise|fact|loan`). A table with an `updatedAt` column is read
 * incrementally: only rows changed after the watermark, in `updatedAt` order.
 */
import { DatabaseSync } from 'node:sqlite';
import type { RecordKind } from '../model/index.ts';
import { kindFromName, type RawRow, type ReadOptions, type Source, SourceError } from './types.ts';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Reads one table of a SQLite database. */
export class SqliteSource implements Source {
  readonly id: string;
  readonly kind?: RecordKind;
  readonly #path: string;
  readonly #table: string;
  #done = 0;
  #total: number | undefined;

  constructor(path: string, table: string, kind?: RecordKind) {
    if (!IDENT.test(table)) throw new SourceError('SQL_TABLE', `invalid table name "${table}"`);
    this.#path = path;
    this.#table = table;
    this.id = `sqlite:${path}?table=${table}`;
    const k = kind ?? kindFromName(table);
    if (k) this.kind = k;
  }

  progress() {
    return { done: this.#done, total: this.#total };
  }

  async *rows(options: ReadOptions = {}): AsyncGenerator<RawRow> {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(this.#path, { readOnly: true });
    } catch (err) {
      throw new SourceError('NOT_FOUND', `cannot open SQLite database ${this.#path}`, { cause: err });
    }
    try {
      const exists = db
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name = ?")
        .get(this.#table);
      if (!exists) throw new SourceError('SQL_TABLE', `no table ${this.#table} in ${this.#path}`);
      const columns = (db.prepare(`PRAGMA table_info("${this.#table}")`).all() as Array<{ name: string }>).map(
        (c) => c.name,
      );
      const incremental = columns.includes('updatedAt');
      const where = incremental && options.since ? ' WHERE julianday(updatedAt) > julianday(?)' : '';
      const order = incremental ? ' ORDER BY updatedAt, rowid' : ' ORDER BY rowid';
      const args = where ? [options.since!] : [];
      this.#total = Number(
        (db.prepare(`SELECT count(*) AS n FROM "${this.#table}"${where}`).get(...args) as { n: number }).n,
      );
      const stmt = db.prepare(`SELECT * FROM "${this.#table}"${where}${order}`);
      let n = 0;
      for (const row of stmt.iterate(...args)) {
        options.signal?.throwIfAborted();
        n++;
        this.#done = n;
        const data: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row as Record<string, unknown>)) if (v !== null) data[k] = v;
        yield this.kind ? { rowNumber: n, kind: this.kind, data } : { rowNumber: n, data };
      }
    } finally {
      db.close();
    }
  }
}
