/**
 * `npm run bench`: runs every benchmark and prints one JSON object with the machine it ran on.
 * Each bench module exports `bench(): Promise<Record<string, unknown>>` and measures its figure
 * beside a baseline in the same run (ratios hold on a noisy machine; absolute times do not).
 * `npm run bench -- NAME...` runs only the named benches.
 */
import { cpus, totalmem } from 'node:os';

const BENCHES: Record<string, () => Promise<{ bench: () => Promise<Record<string, unknown>> }>> = {
  ingest: () => import('./ingest.ts'),
  api: () => import('./api.ts'),
  accesslog: () => import('./accesslog.ts'),
  federation: () => import('./federation.ts'),
  psi: () => import('./psi.ts'),
  he: () => import('./he.ts'),
  evaluation: () => import('./evaluation.ts'),
  joint: () => import('./joint.ts'),
  intercept: () => import('./intercept.ts'),
  alerts: () => import('./alerts.ts'),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}
const results: Record<string, unknown> = {};
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.error(`bench ${name}…`);
  results[name] = await (await load()).bench();
}
console.log(
  JSON.stringify(
    {
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        memGiB: Math.round(totalmem() / 2 ** 30),
      },
      at: new Date().toISOString(),
      results,
    },
    null,
    2,
  ),
);
