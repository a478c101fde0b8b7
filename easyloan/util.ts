/** Small helpers shared by the easy-loan services: per-key locks, ids, the signed-in caller's checks. */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../authz/principals.ts';
import { toBase64Url } from '../crypto/index.ts';
import { validateUscc } from '../model/index.ts';
import { ForbiddenError, InvalidInputError } from './errors.ts';

/** Runs work on one key one at a time (decisions on one application, alerts of one subscription). */
export function keyedLock() {
  const locks = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  };
}

/** A random id (128 bits, base64url). */
export const newId = () => toBase64Url(new Uint8Array(randomBytes(16)));

/** The caller, if it holds `role`. @throws ForbiddenError */
export function mustBe(p: Principal, ...roles: Principal['role'][]): Principal {
  if (!roles.includes(p.role)) throw new ForbiddenError(`this needs one of the roles ${roles.join(', ')}`);
  return p;
}

/** A valid USCC in canonical form. @throws InvalidInputError naming the argument */
export function usccArg(input: unknown, name = 'uscc'): string {
  const r = validateUscc(typeof input === 'string' ? input : '');
  if (!r.valid)
    throw new InvalidInputError(`${name} is not a valid USCC`, [
      { field: name, rule: 'USCC', message: 'not a valid USCC' },
    ]);
  return r.code;
}

/** `YYYY-MM-DD` of a time. */
export const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The date `months` months after `date` (`YYYY-MM-DD`), clamped to the month's last day. */
export function addMonthsIso(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Median of numbers (undefined when empty). */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
