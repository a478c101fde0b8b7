import { describe, expect, it } from 'vitest';
import { until, WaitTimeoutError } from './wait.ts';

describe('until', () => {
  it('returns the first truthy value a probe reports', async () => {
    let calls = 0;
    const got = await until('the third probe', () => (++calls >= 3 ? { calls } : undefined), { intervalMs: 5 });
    expect(got).toEqual({ calls: 3 });
    expect(calls).toBe(3);
  });

  it('awaits an asynchronous probe', async () => {
    let calls = 0;
    expect(await until('an async probe', async () => ++calls === 2, { intervalMs: 5 })).toBe(true);
  });

  it('fails at the deadline with an error naming what it waited for', async () => {
    const started = Date.now();
    const err = await until('a state that never comes', () => false, { timeoutMs: 200, intervalMs: 20 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).name).toBe('WaitTimeoutError');
    expect((err as WaitTimeoutError).what).toBe('a state that never comes');
    expect((err as Error).message).toMatch(/timed out after 200 ms .*waiting for a state that never comes$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('tries a probe that throws again, and returns once it succeeds', async () => {
    let calls = 0;
    const got = await until(
      'a probe that fails twice',
      () => {
        if (++calls < 3) throw new Error(`not yet (${calls})`);
        return 'ready';
      },
      { intervalMs: 5 },
    );
    expect(got).toBe('ready');
    expect(calls).toBe(3);
  });

  it('names the last probe error when the deadline passes, and keeps it as the cause', async () => {
    let calls = 0;
    const err = (await until(
      'a reachable node',
      async () => {
        throw new Error(`connection refused (${++calls})`);
      },
      { timeoutMs: 100, intervalMs: 10 },
    ).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(err.message).toMatch(/waiting for a reachable node; last probe error: connection refused \(\d+\)$/);
    expect(err.message).toContain(`(${calls})`);
    expect((err.cause as Error).message).toBe(`connection refused (${calls})`);
  });

  it('does not wait past the deadline for a probe that never settles', async () => {
    const started = Date.now();
    const err = await until('a hung probe', () => new Promise<boolean>(() => {}), { timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/waiting for a hung probe; the last probe was still pending$/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a wait that names nothing or has no usable deadline', async () => {
    await expect(until('', () => true)).rejects.toBeInstanceOf(TypeError);
    await expect(until('x', () => true, { timeoutMs: Number.NaN })).rejects.toBeInstanceOf(TypeError);
  });
});
