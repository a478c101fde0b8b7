/**
 * The node's one Level database, opened once, with one sublevel per subsystem (DESIGN §13).
 * Writes that must agree go in one `root.batch([...])` with the `sublevel` option.
 *
 * Every database opened here is guarded (./guard.ts): after a failed write it refuses writes
 * until it has been reopened and checked; `storageGuard(db)` reports its health.
 */
import { mkdir } from 'node:fs/promises';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { guardDatabase, type StorageGuardOptions } from './guard.ts';

export {
  guardDatabase,
  type ReopenCheck,
  StorageFailedError,
  type StorageGuard,
  type StorageGuardOptions,
  type StorageHealth,
  type StorageStatus,
  storageGuard,
} from './guard.ts';

type Format = string | Buffer | Uint8Array;
/** The root database type: string keys, JSON values unless a sublevel says otherwise. */
export type RootDb = AbstractLevel<Format, string, unknown>;
/** A sublevel of the root database with string keys and values of type `V`. */
export type Sublevel<V = unknown> = AbstractSublevel<RootDb, Format, string, V>;

/** Opens the named sublevel with JSON values. */
export function jsonSublevel<V = unknown>(db: RootDb, name: string): Sublevel<V> {
  return db.sublevel<string, V>(name, { valueEncoding: 'json' }) as unknown as Sublevel<V>;
}

/** Raised when the database is locked by another process. */
export class DatabaseLockedError extends Error {
  static override name = 'DatabaseLockedError';
  readonly code = 'DB_LOCKED';
}

/** Opens (creating if needed) the guarded node database at `location`, or an in-memory one. */
export async function openDatabase(
  location: string | { memory: true },
  options: StorageGuardOptions = {},
): Promise<RootDb> {
  if (typeof location !== 'string') {
    const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' });
    guardDatabase(db, options);
    await db.open();
    return db as unknown as RootDb;
  }
  await mkdir(location, { recursive: true });
  const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
  guardDatabase(db, options);
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED')
      throw new DatabaseLockedError('the database is in use by another process', { cause: err });
    throw err;
  }
  return db as unknown as RootDb;
}
