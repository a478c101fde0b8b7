/**
 * What the joint-query benchmark's parts share (bench/joint.ts, bench/joint-list.ts): figures
 * (rates, medians, runs), generated USCCs, writes straight into a node's profile store, and the
 * measuring aids (event-loop delay, waiting for a quiet process, CPU profiles).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { composeUscc, type IngestRecord, USCC_ALPHABET } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';

const XM_DISTRICTS = ['350203', '350205', '350206', '350211', '350212', '350213'];
/** When set, a directory where the main thread's CPU profiles of marked runs are written. */
const PROFILE_DIR = process.env.BENCH_JOINT_PROFILE;

/** A numeric knob from the environment. */
export const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
export const ms = (x: number) => +x.toFixed(1);
export const rate = (n: number, t: number) => Math.round((n * 1000) / t);
export const ratio = (a: number, b: number) => +(a / b).toFixed(2);
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
}
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const best = (xs: readonly number[]) => Math.min(...xs);
/** Runs of a batch: each, the median and the best (least disturbed by the rest of the machine). */
export const runs = (xs: readonly number[], n: number) => ({
  runsMs: xs.map(ms),
  medianMs: ms(median(xs)),
  bestMs: ms(best(xs)),
  perSecond: { median: rate(n, median(xs)), best: rate(n, best(xs)) },
});
export const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** `count` distinct valid Xiamen USCCs whose organisation body starts with `prefix` (3 characters). */
export function usccs(count: number, prefix: string): string[] {
  const digits = USCC_ALPHABET.slice(0, 10);
  return Array.from({ length: count }, (_, i) => {
    let body = '';
    for (let k = i, j = 0; j < 5; j++, k = Math.floor(k / 10)) body = digits[k % 10] + body;
    return composeUscc('9', '1', XM_DISTRICTS[i % XM_DISTRICTS.length], `${prefix}${body}`);
  });
}

/** Writes records straight into a node's profile store (as ingest would), in atomic batches. */
export async function write(node: CreditNode, records: IngestRecord[]) {
  for (let i = 0; i < records.length; i += 5000) {
    const chunk = records.slice(i, i + 5000);
    await node.db.batch(
      node.profiles.writeOps(
        chunk,
        chunk.map(() => undefined),
      ) as never,
    );
  }
}

/** Runs `fn` over `items`, `width` at a time. */
export async function parallel<T>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Event-loop delay while `fn` runs. */
export async function withLoopDelay<T>(fn: () => Promise<T>) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    const value = await fn();
    // A stall at the very end is recorded only when the monitor's timer fires after it.
    await sleep(30);
    return { value, loop: { p99Ms: ms(h.percentile(99) / 1e6), maxMs: ms(h.max / 1e6) } };
  } finally {
    h.disable();
  }
}

/**
 * Waits (at most `maxMs`) until this process is quiet: under a quarter of a core over 500 ms (so
 * that what one run leaves behind, such as the witnesses cosigning its checkpoints, is not charged
 * to the next; other processes on the machine do not count). Returns how long it waited.
 */
export async function settle(maxMs = 30_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const cpu = process.cpuUsage();
    const w = performance.now();
    await sleep(500);
    const used = process.cpuUsage(cpu);
    if ((used.user + used.system) / 1000 < 0.25 * (performance.now() - w)) break;
  }
  return Math.round(performance.now() - t0);
}

/** Runs `fn` under the main thread's CPU profiler when BENCH_JOINT_PROFILE names a directory. */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
