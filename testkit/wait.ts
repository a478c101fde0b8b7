/**
 * Waiting in tests for a state that a node, a log or a process reports. No test sleeps a fixed
 * time for an outcome: it polls the reported state with {@link until}, which has a deadline and,
 * when the deadline passes, fails naming what it waited for.
 */

/** How long {@link until} waits by default. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How often {@link until} probes by default. */
export const DEFAULT_INTERVAL_MS = 100;

/** Options of {@link until}. */
export interface UntilOptions {
  /** How long to wait at most, from the call (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Pause between two probes (default {@link DEFAULT_INTERVAL_MS}). */
  intervalMs?: number;
}

/** {@link until} gave up: the state it waited for was not reported by the deadline. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  /** What was waited for. */
  readonly what: string;
  constructor(what: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.what = what;
  }
}

/**
 * The values of `T` that count as reported: `T` without `null`, `undefined` and the falsy
 * literals (so a probe written as `cond && value` yields `value`'s type).
 */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a truthy value, and returns that value. A probe that throws is
 * tried again; a probe still pending at the deadline is not waited for.
 *
 * @param what what is waited for, as the failure should name it (e.g. `'consent X at bank-a'`)
 * @throws WaitTimeoutError naming `what` (and the last probe error, as its `cause`) when the
 *   deadline passes
 */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: UntilOptions = {},
): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (typeof what !== 'string' || what === '') throw new TypeError('until: `what` must name what is waited for');
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('until: `timeoutMs` must be a number ≥ 0');
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new TypeError('until: `intervalMs` must be a number ≥ 0');
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let probes = 0;
  for (;;) {
    probes++;
    const outcome = await probeBefore(probe, deadline);
    if (outcome.kind === 'value') {
      if (outcome.value) return outcome.value as Truthy<T>;
    } else if (outcome.kind === 'error') lastError = outcome.error;
    const left = deadline - Date.now();
    if (outcome.kind === 'pending' || left <= 0) {
      const last =
        outcome.kind === 'pending'
          ? '; the last probe was still pending'
          : lastError !== undefined
            ? `; last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
            : '';
      throw new WaitTimeoutError(
        what,
        `timed out after ${timeoutMs} ms (${probes} probes) waiting for ${what}${last}`,
        lastError !== undefined ? { cause: lastError } : undefined,
      );
    }
    await sleep(Math.min(intervalMs, left));
  }
}

type ProbeOutcome<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'pending' };

/** Runs one probe, giving up on it at the deadline. */
async function probeBefore<T>(probe: () => T | Promise<T>, deadline: number): Promise<ProbeOutcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeOutcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'pending' }), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      (async (): Promise<ProbeOutcome<T>> => ({ kind: 'value', value: await probe() }))().catch(
        (error: unknown): ProbeOutcome<T> => ({ kind: 'error', error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
