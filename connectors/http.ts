/**
 * HTTP JSON API source with pagination. A page is a JSON array, or `{ items: [...], next }`
 * where `next` is the URL (absolute or relative) of the next page, or `{ items, nextCursor }`
 * continued with `?cursor=`. The watermark is passed as `?since=`. Every page has a size and
 * time limit; transient failures (network, 429, 5xx) are retried with back-off.
 */
import type { RecordKind } from '../model/index.ts';
import { kindFromName, type RawRow, type ReadOptions, type Source, SourceError } from './types.ts';

/** Limits of the HTTP source. */
export interface HttpLimits {
  maxPageBytes: number;
  maxPages: number;
  timeoutMs: number;
  retries: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxPageBytes: 16 * 1024 * 1024,
  maxPages: 100_000,
  timeoutMs: 30_000,
  retries: 3,
};

async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) throw new SourceError('TOO_LARGE', `page larger than ${max} bytes`);
  const reader = res.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new SourceError('TOO_LARGE', `page larger than ${max} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Reads every page of a paginated JSON API. */
export class HttpSource implements Source {
  readonly id: string;
  readonly kind?: RecordKind;
  readonly #url: URL;
  readonly #limits: HttpLimits;
  #done = 0;

  constructor(url: string, limits: Partial<HttpLimits> = {}) {
    this.#url = new URL(url);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:')
      throw new SourceError('URL', `unsupported URL scheme ${this.#url.protocol}`);
    this.#limits = { ...DEFAULT_HTTP_LIMITS, ...limits };
    const explicit = this.#url.searchParams.get('kind');
    const k =
      explicit === 'enterprise' || explicit === 'fact' || explicit === 'loan'
        ? explicit
        : kindFromName(this.#url.pathname);
    if (k) this.kind = k;
    this.id = this.#url.toString();
  }

  progress() {
    return { done: this.#done };
  }

  async #fetchPage(url: URL, signal?: AbortSignal): Promise<unknown> {
    let lastErr: unknown;
    for (let attempt = 0; attempt <= this.#limits.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      signal?.throwIfAborted();
      try {
        const res = await fetch(url, {
          headers: { accept: 'application/json' },
          redirect: 'error',
          signal: AbortSignal.any([AbortSignal.timeout(this.#limits.timeoutMs), ...(signal ? [signal] : [])]),
        });
        if (res.status === 429 || res.status >= 500) {
          lastErr = new SourceError('HTTP_STATUS', `${url.origin} answered ${res.status}`);
          await res.body?.cancel();
          continue;
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new SourceError('HTTP_STATUS', `${url.origin}${url.pathname} answered ${res.status}`);
        }
        const text = await readBounded(res, this.#limits.maxPageBytes);
        try {
          return JSON.parse(text);
        } catch {
          throw new SourceError('JSON', `${url.origin}${url.pathname} returned a page that is not JSON`);
        }
      } catch (err) {
        if (err instanceof SourceError) throw err;
        if (signal?.aborted) throw err;
        lastErr = err;
      }
    }
    throw new SourceError('HTTP_UNAVAILABLE', `${url.origin} unreachable after ${this.#limits.retries + 1} attempts`, {
      cause: lastErr,
    });
  }

  async *rows(options: ReadOptions = {}): AsyncGenerator<RawRow> {
    let url: URL | undefined = new URL(this.#url);
    url.searchParams.delete('kind');
    if (options.since) url.searchParams.set('since', options.since);
    let n = 0;
    const seen = new Set<string>();
    for (let page = 0; url; page++) {
      if (page >= this.#limits.maxPages)
        throw new SourceError('TOO_MANY_PAGES', `more than ${this.#limits.maxPages} pages`);
      if (seen.has(url.toString()))
        throw new SourceError('PAGINATION_LOOP', 'the API returned a page link seen before');
      seen.add(url.toString());
      const doc = await this.#fetchPage(url, options.signal);
      const items = Array.isArray(doc) ? doc : (doc as { items?: unknown })?.items;
      if (!Array.isArray(items)) throw new SourceError('JSON_SHAPE', 'a page must be an array or { items: [...] }');
      for (const data of items) {
        n++;
        this.#done = n;
        yield this.kind ? { rowNumber: n, kind: this.kind, data } : { rowNumber: n, data };
      }
      const next = Array.isArray(doc) ? undefined : (doc as { next?: unknown; nextCursor?: unknown });
      if (typeof next?.next === 'string' && next.next !== '') {
        url = new URL(next.next, url);
        if (url.origin !== this.#url.origin)
          throw new SourceError('PAGINATION_ORIGIN', 'the next page is on another origin');
      } else if (typeof next?.nextCursor === 'string' && next.nextCursor !== '') {
        url = new URL(url);
        url.searchParams.set('cursor', next.nextCursor);
      } else url = undefined;
    }
  }
}
