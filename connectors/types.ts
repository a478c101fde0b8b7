/**
 * The connector port: a source yields raw rows as an async iterable; the ingest run turns them
 * into validated one-table records. Adapters: CSV, JSON and NDJSON files, SQLite, HTTP JSON APIs.
 */

import { CreditError } from '../model/errors.ts';
import type { RecordKind } from '../model/index.ts';

/** One raw row, or a row that could not even be parsed. */
export type RawRow =
  | { rowNumber: number; kind?: RecordKind; data: unknown }
  | { rowNumber: number; error: { rule: string; message: string; field?: string } };

/** Options of one read of a source. */
export interface ReadOptions {
  signal?: AbortSignal;
  /** Only rows changed after this ISO time are wanted (sources may push it down). */
  since?: string;
}

/** Progress of a source, for progress bars. */
export interface SourceProgress {
  /** Bytes (files) or rows (other sources) read so far. */
  done: number;
  /** Total bytes or rows, when known. */
  total?: number;
}

/** A readable source of raw rows. */
export interface Source {
  /** Stable id of the source (normalised path or URL), the key of its watermark. */
  readonly id: string;
  /** Record kind of every row, when the source name tells it. */
  readonly kind?: RecordKind;
  rows(options?: ReadOptions): AsyncIterable<RawRow>;
  /** Current progress. */
  progress(): SourceProgress;
}

/** A source cannot be read at all: missing, unreadable, wrong encoding, or refused by a server. */
export class SourceError extends CreditError {
  static override name = 'SourceError';
  override readonly code = 'SOURCE_UNREADABLE';
  /** Stable rule of the failure, as used in reports (e.g. `ENCODING`). */
  readonly rule: string;
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
  }
}

/** Record kind from a file, table or path name: `enterprises*`, `facts*`, `loans*`. */
export function kindFromName(name: string): RecordKind | undefined {
  const base = name.split(/[\\/]/).pop()?.toLowerCase() ?? '';
  if (base.startsWith('enterprise')) return 'enterprise';
  if (base.startsWith('fact')) return 'fact';
  if (base.startsWith('loan')) return 'loan';
  return undefined;
}

/** Record kind from a row's `kind` field, if it is one. */
export function kindOfRow(data: unknown): RecordKind | undefined {
  const k = (data as { kind?: unknown } | null)?.kind;
  return k === 'enterprise' || k === 'fact' || k === 'loan' ? k : undefined;
}
