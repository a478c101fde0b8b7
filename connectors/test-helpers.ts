/** Helpers shared by connector tests: a temporary node database and a full dump of it. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore } from '../profiles/index.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { createIngester } from './ingest.ts';
import { idNumberTokenizer } from './produce.ts';

/** A temporary directory. */
export const tempDir = (prefix = 'ingest-') => mkdtemp(join(tmpdir(), prefix));

/** Opens a fresh on-disk database with an ingester over it. */
export async function ingestFixture(dir?: string) {
  const location = join(dir ?? (await tempDir()), 'db');
  const db = await openDatabase(location);
  const profiles = createProfileStore({ db });
  const tokenKey = new Uint8Array(32).fill(7);
  const ingester = createIngester({
    db,
    profiles,
    tokenise: idNumberTokenizer(tokenKey),
    originNode: 'test',
    logger: silentLogger(),
  });
  return { db, profiles, ingester, location };
}

/** Every key and value of a database, in key order. */
export async function dump(db: RootDb): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator({ valueEncoding: 'utf8' } as never)) out.push(`${k}=${v as string}`);
  return out;
}
