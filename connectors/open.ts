/** Turns a SOURCE argument (a path, `sqlite:` spec or `http(s)://` URL) into a {@link Source}. */
import type { RecordKind } from '../model/index.ts';
import { CsvSource, JsonArraySource, NdjsonSource } from './files.ts';
import { HttpSource } from './http.ts';
import { SqliteSource } from './sqlite.ts';
import { type Source, SourceError } from './types.ts';

/** Opens a source by its spec. `kind` overrides what the name implies. */
export function openSource(spec: string, kind?: RecordKind): Source {
  if (spec.startsWith('http://') || spec.startsWith('https://')) return new HttpSource(spec);
  if (spec.startsWith('sqlite:')) {
    const [path, query = ''] = spec.slice('sqlite:'.length).split('?', 2);
    const params = new URLSearchParams(query);
    const table = params.get('table');
    if (!path || !table) throw new SourceError('SOURCE_SPEC', 'a sqlite source is sqlite:/path/db.sqlite?table=NAME');
    const k = params.get('kind');
    return new SqliteSource(path, table, kind ?? (k === 'enterprise' || k === 'fact' || k === 'loan' ? k : undefined));
  }
  const lower = spec.toLowerCase();
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return new NdjsonSource(spec, kind);
  if (lower.endsWith('.csv')) return new CsvSource(spec, kind);
  if (lower.endsWith('.json')) return new JsonArraySource(spec, kind);
  throw new SourceError(
    'SOURCE_SPEC',
    `cannot tell the format of ${spec}: use .ndjson, .jsonl, .csv, .json, sqlite: or http(s)://`,
  );
}
