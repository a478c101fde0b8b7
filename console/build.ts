/**
 * Builds the web console (Vite) when console/dist is missing or older than its sources:
 * `npm start` runs it before the demo, the browser tests before they open a page.
 * `node console/build.ts` builds when needed; `--force` always builds.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const INDEX = join(ROOT, 'dist', 'index.html');
/** The sources of the build: the console's own, and the shared modules it bundles. */
const SOURCES = [join(ROOT, 'src'), join(ROOT, 'index.html'), join(ROOT, 'vite.config.ts')];
const SHARED = ['crypto/encoding.ts', 'crypto/hash.ts', 'crypto/merkle.ts', 'crypto/note.ts', 'model/uscc.ts'].map(
  (f) => fileURLToPath(new URL(`../${f}`, import.meta.url)),
);

function newest(path: string): number {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

/** Whether the console needs a build: no dist, or a source newer than it. */
export function consoleStale(): boolean {
  const built = statSync(INDEX, { throwIfNoEntry: false });
  return !built || Math.max(...[...SOURCES, ...SHARED].map(newest)) > built.mtimeMs;
}

let building: Promise<boolean> | undefined;

/** Builds the console when stale (or always with `force`); resolves to whether it built. */
export function ensureConsoleBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && !consoleStale()) return Promise.resolve(false);
  building ??= (async () => {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: options.quiet ? 'warn' : 'info' });
    return true;
  })().finally(() => {
    building = undefined;
  });
  return building;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  ensureConsoleBuilt({ force, quiet: true }).then(
    (built) => process.stdout.write(built ? 'web console built (console/dist)\n' : 'web console up to date\n'),
    (err: Error) => {
      process.stderr.write(`web console build failed: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
