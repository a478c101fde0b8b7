/**
 * Working days (工作日) for objection deadlines: Monday to Friday by default, dates in China
 * (UTC+8). The statutory holiday calendar and its adjusted working weekends (调休) are not built
 * in: pass `isWorkingDay` to apply them.
 */

/** Whether a date `YYYY-MM-DD` is a working day. */
export type WorkingDayRule = (date: string) => boolean;

/** Monday to Friday. */
export const weekdays: WorkingDayRule = (date) => {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d !== 0 && d !== 6;
};

/** The date in China (UTC+8) at `ms`, `YYYY-MM-DD`. */
export const chinaDate = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);

const next = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The date `n` working days after `date` (the day itself not counted). */
export function addWorkingDays(date: string, n: number, isWorkingDay: WorkingDayRule = weekdays): string {
  if (!Number.isInteger(n) || n < 0) throw new TypeError('n must be a whole number of days ≥ 0');
  let d = date;
  for (let left = n; left > 0; ) {
    d = next(d, 1);
    if (isWorkingDay(d)) left--;
  }
  return d;
}

/**
 * Working days from `from` until `to`: after `from`, up to and including `to`; negative when `to`
 * is before `from` (that many working days overdue).
 */
export function workingDaysBetween(from: string, to: string, isWorkingDay: WorkingDayRule = weekdays): number {
  if (from === to) return 0;
  const sign = from < to ? 1 : -1;
  const [a, b] = sign > 0 ? [from, to] : [to, from];
  let n = 0;
  for (let d = next(a, 1); d <= b; d = next(d, 1)) if (isWorkingDay(d)) n++;
  return sign * n;
}
