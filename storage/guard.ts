/**
 * The storage guard: the node's one Level database fails closed after a write error.
 *
 * Why: LevelDB 1.20 (classic-level) does not enter an error state when appending to its
 * write-ahead log fails (ENOSPC, EIO). Later writes, `sync: true` included, are acknowledged,
 * readable until restart, and dropped when the database is reopened: the log reader stops at the
 * torn record and discards everything after it (reproduced in `accesslog/disk-full.e2e.test.ts`).
 * So after any failed write no later acknowledgement can be trusted until the database has been
 * closed and reopened.
 *
 * How: the guard wraps the root database's private write methods (`_put`, `_del`, `_batch`,
 * `_clear` and chained-batch `_write`). Every write of every sublevel reaches one of them, because
 * a sublevel forwards its writes to its parent's public methods. The first failed write marks the
 * database `failed`; from then on every write is refused with {@link StorageFailedError} before it
 * reaches LevelDB, while reads keep working. Recovery (automatic, with back-off, or
 * {@link StorageGuard.recover}) checks free space, waits for writes in flight, closes and reopens
 * the database and its sublevels, proves that a synced write works, and runs the checks that
 * subsystems registered with {@link StorageGuard.onReopen} (the access log reloads its tree from
 * disk and checks it against its signed checkpoints) before writes are accepted again.
 *
 * Writes in flight together: LevelDB orders concurrent writers itself, so a write that succeeds
 * while an earlier one is still failing in another thread would be one of the lost ones. A
 * successful write therefore resolves only once every write dispatched before it completed has
 * settled, and rejects with {@link StorageFailedError} if any write failed meanwhile (its outcome
 * is then unknown: it may or may not be on disk after the reopen). When writes do not overlap,
 * which is the access log's group commit, this costs nothing.
 */
import { statfs } from 'node:fs/promises';
import type { AbstractLevel } from 'abstract-level';
import type { Logger } from 'pino';
import { CreditError } from '../model/errors.ts';

/** A write was refused, or its outcome is unknown, because the database failed a write. */
export class StorageFailedError extends CreditError {
  static override name = 'StorageFailedError';
  override readonly code = 'STORAGE_FAILED';
}

/** State of the node's database. */
export type StorageStatus = 'ok' | 'failed' | 'recovering';

/** What {@link StorageGuard.health} reports. */
export interface StorageHealth {
  status: StorageStatus;
  /** Why writes are refused (no paths, no data). */
  reason?: string;
  /** ISO time the current failure began. */
  since?: string;
  /** Writes that failed since the database was opened. */
  failures: number;
  /** Successful recoveries since the database was opened. */
  recoveries: number;
}

/** Settings of the guard. */
export interface StorageGuardOptions {
  /** Delay before the first automatic recovery attempt after a failure (ms); doubles per failed attempt. */
  retryMs?: number;
  /** Longest delay between automatic recovery attempts (ms). */
  maxRetryMs?: number;
  /** Free space the file system must have before a recovery attempt closes the database (bytes). */
  minFreeBytes?: number;
  logger?: Logger;
}

/** A check run after the database was reopened, before writes are accepted again. */
export type ReopenCheck = () => Promise<void>;

/** The guard of one database. */
export interface StorageGuard {
  health(): StorageHealth;
  /** Whether writes are accepted now (cheap; for hot paths). */
  readonly writable: boolean;
  /**
   * Closes, reopens and probes the database and runs the reopen checks, now. Resolves to the
   * resulting health; on failure the guard stays `failed` and retries later on its own.
   */
  recover(): Promise<StorageHealth>;
  /** Registers a reopen check; returns a function that removes it. A check that throws fails the recovery. */
  onReopen(check: ReopenCheck): () => void;
}

/** The private methods of an abstract-level database that write (abstract-level 3). */
interface WriteInternals {
  _put(key: unknown, value: unknown, options: Record<PropertyKey, unknown>): Promise<void>;
  _del(key: unknown, options: Record<PropertyKey, unknown>): Promise<void>;
  _batch(operations: unknown[], options: Record<PropertyKey, unknown>): Promise<void>;
  _clear(options: Record<PropertyKey, unknown>): Promise<void>;
  _chainedBatch(): { _write(options: unknown): Promise<void> };
  close(): Promise<void>;
  open(options?: unknown): Promise<void>;
  put(key: string, value: unknown, options: Record<PropertyKey, unknown>): Promise<void>;
  readonly status: string;
  readonly location?: unknown;
  hooks: { newsub: { add(fn: (sub: Reopenable) => void): void } };
}
interface Reopenable {
  readonly status: string;
  open(): Promise<void>;
  hooks: { newsub: { add(fn: (sub: Reopenable) => void): void } };
}

// The probe write, and only it, passes the guard while recovering.
const PROBE = Symbol('storage-probe');
const PROBE_KEY = '\u0000storage-probe';
const guards = new WeakMap<object, Guard>();

/** A failure message without file paths: `IO error: /x/000004.log: No space left on device` → its last part. */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { message?: string } };
  const message = e?.cause?.message ?? e?.message ?? String(err);
  const tail = message.split(': ').pop() ?? message;
  return e?.code && e.code !== tail ? `${e.code}: ${tail}` : tail;
}

class Guard implements StorageGuard {
  readonly #raw: WriteInternals;
  readonly #close: () => Promise<void>;
  readonly #log: Logger | undefined;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #minFree: number;
  #status: StorageStatus = 'ok';
  /** Why writes are refused: the failure, and what the last recovery attempt ran into. */
  #reason: string | undefined;
  #lastAttempt: string | undefined;
  #since: string | undefined;
  #failures = 0;
  #recoveries = 0;
  /** Sequence numbers of dispatched writes: the next one, and the lowest not yet settled. */
  #next = 0;
  #lowest = 0;
  readonly #settledAhead = new Set<number>();
  #waiters: Array<{ target: number; resolve: () => void }> = [];
  readonly #checks = new Set<ReopenCheck>();
  readonly #sublevels: Reopenable[] = [];
  #delay: number;
  #timer: NodeJS.Timeout | undefined;
  #recovering: Promise<StorageHealth> | undefined;
  #closedByOwner = false;

  constructor(db: AbstractLevel<never, never, never>, options: StorageGuardOptions) {
    const raw = db as unknown as WriteInternals;
    this.#raw = raw;
    this.#log = options.logger?.child({ component: 'storage' });
    this.#retryMs = options.retryMs ?? 1000;
    this.#maxRetryMs = options.maxRetryMs ?? 30_000;
    this.#minFree = options.minFreeBytes ?? 1 << 20;
    this.#delay = this.#retryMs;

    const put = raw._put.bind(raw);
    const del = raw._del.bind(raw);
    const batch = raw._batch.bind(raw);
    const clear = raw._clear.bind(raw);
    const chained = raw._chainedBatch.bind(raw);
    raw._put = (key, value, o) => (o?.[PROBE] ? put(key, value, o) : this.#write(() => put(key, value, o)));
    raw._del = (key, o) => this.#write(() => del(key, o));
    raw._batch = (ops, o) => this.#write(() => batch(ops, o));
    raw._clear = (o) => this.#write(() => clear(o));
    raw._chainedBatch = () => {
      const b = chained();
      const write = b._write.bind(b);
      b._write = (o) => this.#write(() => write(o));
      return b;
    };
    // Sublevels close with their root; remember them to reopen them after a recovery.
    const track = (sub: Reopenable) => {
      this.#sublevels.push(sub);
      sub.hooks.newsub.add(track);
    };
    raw.hooks.newsub.add(track);
    // The owner's close ends automatic recovery and waits for an attempt in progress.
    const close = raw.close.bind(raw);
    this.#close = close;
    // An owner who reopens it gets automatic recovery back (a failure stays a failure until recovered).
    const open = raw.open.bind(raw);
    raw.open = async (o?: unknown) => {
      await open(o);
      if ((o as { passive?: boolean } | undefined)?.passive || !this.#closedByOwner) return;
      this.#closedByOwner = false;
      if (this.#status !== 'ok') this.#schedule();
    };
    raw.close = async () => {
      this.#closedByOwner = true;
      clearTimeout(this.#timer);
      await this.#recovering;
      return close();
    };
  }

  get writable() {
    return this.#status === 'ok';
  }

  health(): StorageHealth {
    return {
      status: this.#status,
      ...(this.#reason
        ? { reason: this.#lastAttempt ? `${this.#reason}; last recovery attempt: ${this.#lastAttempt}` : this.#reason }
        : {}),
      ...(this.#since ? { since: this.#since } : {}),
      failures: this.#failures,
      recoveries: this.#recoveries,
    };
  }

  onReopen(check: ReopenCheck) {
    this.#checks.add(check);
    return () => {
      this.#checks.delete(check);
    };
  }

  #refusal() {
    return new StorageFailedError(
      `the database refuses writes until it has been reopened and checked (${this.#reason ?? 'recovering'})`,
    );
  }

  #write(run: () => Promise<void>): Promise<void> {
    if (this.#status !== 'ok') return Promise.reject(this.#refusal());
    const seq = this.#next++;
    const epoch = this.#failures;
    return run().then(
      () => {
        this.#settle(seq);
        const target = this.#next - 1;
        if (this.#lowest > target) return this.#confirm(epoch);
        return new Promise<void>((resolve) => this.#waiters.push({ target, resolve })).then(() => this.#confirm(epoch));
      },
      (err: unknown) => {
        this.#fail(err);
        this.#settle(seq);
        throw err;
      },
    );
  }

  #confirm(epoch: number) {
    if (this.#failures !== epoch)
      throw new StorageFailedError('a write in flight at the same time failed; this write may not be durable');
  }

  #settle(seq: number) {
    if (seq !== this.#lowest) {
      this.#settledAhead.add(seq);
      return;
    }
    this.#lowest++;
    while (this.#settledAhead.delete(this.#lowest)) this.#lowest++;
    let released = 0;
    while (released < this.#waiters.length && this.#waiters[released].target < this.#lowest)
      this.#waiters[released++].resolve();
    if (released > 0) this.#waiters = this.#waiters.slice(released);
  }

  #fail(err: unknown) {
    this.#failures++;
    if (this.#status !== 'ok') return;
    this.#status = 'failed';
    this.#reason = `a write failed (${describe(err)})`;
    this.#lastAttempt = undefined;
    this.#since = new Date().toISOString();
    this.#log?.error(
      { reason: this.#reason },
      'database write failed: writes refused until the database is reopened and checked',
    );
    this.#schedule();
  }

  #schedule() {
    clearTimeout(this.#timer);
    if (this.#closedByOwner) return;
    this.#timer = setTimeout(() => void this.recover(), this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, this.#maxRetryMs);
  }

  recover(): Promise<StorageHealth> {
    this.#recovering ??= this.#attempt().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  async #attempt(): Promise<StorageHealth> {
    if (this.#closedByOwner) return this.health();
    clearTimeout(this.#timer);
    const wasOk = this.#status === 'ok';
    this.#status = 'recovering';
    try {
      await this.#enoughSpace();
      while (this.#lowest < this.#next)
        await new Promise<void>((r) => this.#waiters.push({ target: this.#next - 1, resolve: r }));
      await this.#close();
      await this.#raw.open();
      for (const sub of this.#sublevels) if (sub.status === 'closed') await sub.open();
      await this.#raw.put(PROBE_KEY, { at: new Date().toISOString() }, { sync: true, [PROBE]: true });
      for (const check of this.#checks) await check();
    } catch (err) {
      this.#status = 'failed';
      if (wasOk) this.#reason = 'a check of the reopened database failed';
      this.#lastAttempt = describe(err);
      this.#since ??= new Date().toISOString();
      this.#log?.warn({ reason: this.health().reason }, 'database recovery attempt failed; retrying later');
      this.#schedule();
      return this.health();
    }
    this.#status = 'ok';
    this.#reason = undefined;
    this.#lastAttempt = undefined;
    this.#since = undefined;
    this.#delay = this.#retryMs;
    this.#recoveries++;
    this.#log?.info({ recoveries: this.#recoveries }, 'database reopened and checked: writes accepted again');
    return this.health();
  }

  async #enoughSpace() {
    if (typeof this.#raw.location !== 'string') return;
    const fs = await statfs(this.#raw.location);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < this.#minFree)
      throw new StorageFailedError(`only ${free} bytes free on the database's file system (need ${this.#minFree})`);
  }
}

/**
 * Guards `db` (once; later calls return the same guard). Install it before any sublevel is made:
 * sublevels made earlier are not reopened by a recovery.
 */
export function guardDatabase(db: object, options: StorageGuardOptions = {}): StorageGuard {
  let guard = guards.get(db);
  if (!guard) {
    guard = new Guard(db as AbstractLevel<never, never, never>, options);
    guards.set(db, guard);
  }
  return guard;
}

/** The guard of a database opened by `openDatabase`, if any. */
export function storageGuard(db: object): StorageGuard | undefined {
  return guards.get(db);
}
