/**
 * A fair queue for outgoing requests to one peer: at most `concurrency` run at once, waiting
 * requests start in round-robin order across keys (one key per principal), and a request that
 * cannot start before its deadline fails instead of waiting forever. So one officer's batch of
 * two hundred reads takes turns with another officer's single read instead of starving it, and
 * the peer's own per-peer limit is never hit.
 */
import { PeerUnavailableError } from './host.ts';

/** Queue settings. */
export interface FairQueueInit {
  /** Requests running at once (keep below the peer's per-peer limit). */
  concurrency: number;
  /** Longest wait before a request starts, in ms. */
  deadlineMs: number;
  /** Most requests waiting per key; more are refused at once. */
  maxQueuedPerKey?: number;
}

/** A fair queue. */
export interface FairQueue {
  /** Runs `fn` when its turn comes; rejects with PeerUnavailableError when the deadline passes first. */
  run<T>(key: string, fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Requests running and waiting. */
  load(): { running: number; waiting: number };
}

/** Default number of requests waiting per key. */
export const DEFAULT_MAX_QUEUED_PER_KEY = 1000;

interface Job {
  start: () => void;
  timer: NodeJS.Timeout;
}

/** Creates a fair queue. */
export function createFairQueue(init: FairQueueInit): FairQueue {
  if (!Number.isInteger(init.concurrency) || init.concurrency < 1) throw new TypeError('concurrency must be >= 1');
  const maxQueued = init.maxQueuedPerKey ?? DEFAULT_MAX_QUEUED_PER_KEY;
  const waiting = new Map<string, Job[]>();
  /** Keys with waiting jobs, in turn order. */
  const turns: string[] = [];
  let running = 0;
  let queued = 0;

  const next = () => {
    while (running < init.concurrency && turns.length > 0) {
      const key = turns.shift()!;
      const jobs = waiting.get(key)!;
      const job = jobs.shift()!;
      queued--;
      if (jobs.length > 0) turns.push(key);
      else waiting.delete(key);
      clearTimeout(job.timer);
      running++;
      job.start();
    }
  };

  const remove = (key: string, job: Job) => {
    const jobs = waiting.get(key);
    const i = jobs?.indexOf(job) ?? -1;
    if (!jobs || i < 0) return false;
    jobs.splice(i, 1);
    queued--;
    if (jobs.length === 0) {
      waiting.delete(key);
      turns.splice(turns.indexOf(key), 1);
    }
    return true;
  };

  return {
    run<T>(key: string, fn: () => Promise<T>, options: { signal?: AbortSignal } = {}) {
      options.signal?.throwIfAborted();
      const execute = () =>
        fn().finally(() => {
          running--;
          next();
        });
      if (running < init.concurrency && turns.length === 0) {
        running++;
        return execute();
      }
      const jobs = waiting.get(key) ?? [];
      if (jobs.length >= maxQueued)
        return Promise.reject(new PeerUnavailableError('too many requests waiting for this peer; try again later'));
      return new Promise<T>((resolve, reject) => {
        const job: Job = {
          start: () => execute().then(resolve, reject),
          timer: setTimeout(() => {
            if (remove(key, job))
              reject(new PeerUnavailableError(`the peer stayed busy for ${init.deadlineMs} ms; try again later`));
          }, init.deadlineMs),
        };
        job.timer.unref?.();
        options.signal?.addEventListener(
          'abort',
          () => {
            if (remove(key, job)) {
              clearTimeout(job.timer);
              reject(options.signal!.reason as Error);
            }
          },
          { once: true },
        );
        if (jobs.length === 0) {
          waiting.set(key, jobs);
          turns.push(key);
        }
        jobs.push(job);
        queued++;
      });
    },
    load: () => ({ running, waiting: queued }),
  };
}
