/**
 * Helpers shared by tests: a temporary node database and a full dump of it, and child processes
 * that report their progress line by line (for tests that kill a process at a reported point).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
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

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output is kept line by line and whose end is awaited from spawn on. */
export interface ReportingChild {
  child: ChildProcess;
  /** Lines printed so far on stdout and stderr. */
  stdout: string[];
  stderr: string[];
  /** Settles once the process has ended and its output has been read to the end. */
  exited: Promise<ChildExit>;
  /**
   * The first line on `stream` (already printed or still to come) that passes `test`. Rejects if
   * the process ends without printing one, or after `timeoutMs`.
   */
  line(stream: 'stdout' | 'stderr', test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** How the process ended on its own; after `timeoutMs` it is killed and this rejects. */
  finished(timeoutMs?: number): Promise<ChildExit>;
  /** Kills the process if it still runs (SIGKILL) and waits for its end: for `finally` blocks. */
  stop(): Promise<ChildExit>;
}

/**
 * Spawns a process that reports its progress on stdout/stderr. Every listener is attached right
 * after the spawn, so no line and no exit can be missed, however fast the process is.
 */
export function spawnReporting(command: string, args: string[], options: SpawnOptions = {}): ReportingChild {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  type Waiter = { stream: 'stdout' | 'stderr'; test: (l: string) => boolean; done: (l?: string) => void };
  const waiters = new Set<Waiter>();
  let ended: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      ended = { code, signal };
      for (const w of waiters) w.done();
      resolve(ended);
    });
  });
  exited.catch(() => undefined); // a spawn failure is reported to whoever awaits `exited`
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    const take = (l: string) => {
      lines[stream].push(l);
      for (const w of waiters) if (w.stream === stream && w.test(l)) w.done(l);
    };
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) take(l);
    });
    child[stream]?.on('end', () => {
      if (partial) take(partial);
      partial = '';
    });
  }
  const line = (stream: 'stdout' | 'stderr', test: (l: string) => boolean, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines[stream].find(test);
      if (seen !== undefined) return resolve(seen);
      const tail = () => lines.stderr.slice(-5).join('\n');
      if (ended)
        return reject(new Error(`process ended (${JSON.stringify(ended)}) before the line; stderr:\n${tail()}`));
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no such line on ${stream} within ${timeoutMs} ms; stderr:\n${tail()}`));
      }, timeoutMs);
      const w: Waiter = {
        stream,
        test,
        done: (l) => {
          clearTimeout(timer);
          waiters.delete(w);
          if (l !== undefined) resolve(l);
          else reject(new Error(`process ended (${JSON.stringify(ended)}) before the line; stderr:\n${tail()}`));
        },
      };
      waiters.add(w);
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  const finished = async (timeoutMs = 45_000) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`process still running after ${timeoutMs} ms; stderr:\n${lines.stderr.slice(-5).join('\n')}`));
        stop().catch(() => undefined);
      }, timeoutMs);
    });
    try {
      return await Promise.race([exited, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { child, stdout: lines.stdout, stderr: lines.stderr, exited, line, finished, stop };
}
