/**
 * What check-and-intercept keeps, in the node's `intercept` sublevel:
 *
 * - `c!<checkId>` → {@link CheckRecord}: who checked which enterprises for which matter and what
 *   each got (so feedback can be matched to it)
 * - `f!<checkId>!<uscc>` → {@link FeedbackRecord}: what the business system did
 * - `n!<day>!<matter>!<department>` → {@link Counts}: checks, hits and feedback of one day
 *
 * A check or a feedback and the counters it moves are written in one atomic batch, one at a time
 * (counters are read, added to and written back), and the running totals per matter and
 * department are kept in memory for `/metrics`.
 */
import type { AbstractBatchOperation } from 'abstract-level';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import type { Decision } from './decide.ts';

/** What a business system did with a decision. */
export const FEEDBACK_OUTCOMES = ['APPLIED', 'OVERRIDDEN', 'NOT_APPLICABLE'] as const;
/** A feedback outcome. */
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

/** One check as kept for its feedback. */
export interface CheckRecord {
  id: string;
  matter: string;
  /** `<id>@<version>` of the measures list applied. */
  measures: string;
  department: string;
  /** The business system's principal id. */
  principal: string;
  at: string;
  usccs: string[];
  decisions: Decision[];
}

/** Feedback on one enterprise of a check. */
export interface FeedbackRecord {
  outcome: FeedbackOutcome;
  reason?: string;
  at: string;
  principal: string;
}

/** Counts of one day, matter and department (or totals). */
export interface Counts {
  /** Check calls (batches). */
  requests: number;
  /** Enterprises checked. */
  checks: number;
  /** Enterprises for which a measure applied (BLOCK, WARN or REWARD). */
  hits: number;
  PASS: number;
  WARN: number;
  BLOCK: number;
  REWARD: number;
  INCOMPLETE: number;
  APPLIED: number;
  OVERRIDDEN: number;
  NOT_APPLICABLE: number;
}

/** A row of the counters: one day, matter and department. */
export interface CounterRow extends Counts {
  day: string;
  matter: string;
  department: string;
}

/** An empty set of counts. */
export const zeroCounts = (): Counts => ({
  requests: 0,
  checks: 0,
  hits: 0,
  PASS: 0,
  WARN: 0,
  BLOCK: 0,
  REWARD: 0,
  INCOMPLETE: 0,
  APPLIED: 0,
  OVERRIDDEN: 0,
  NOT_APPLICABLE: 0,
});

type Op = AbstractBatchOperation<RootDb, string, unknown>;
const COUNT_KEYS = Object.keys(zeroCounts()) as Array<keyof Counts>;
const add = (into: Counts, d: Partial<Counts>) => {
  for (const k of COUNT_KEYS) into[k] += d[k] ?? 0;
};

/** The intercept store. */
export interface InterceptStore {
  check(id: string): Promise<CheckRecord | undefined>;
  /** Feedback already posted for these enterprises of a check (same order). */
  feedback(checkId: string, usccs: readonly string[]): Promise<Array<FeedbackRecord | undefined>>;
  /** Stores a check and counts it, atomically. */
  saveCheck(r: CheckRecord, day: string, delta: Partial<Counts>): Promise<void>;
  /** Stores feedback and counts it, atomically; `verify` runs inside the write turn (no race with another feedback). */
  saveFeedback(
    checkId: string,
    items: ReadonlyArray<[uscc: string, record: FeedbackRecord]>,
    key: { day: string; matter: string; department: string },
    delta: Partial<Counts>,
    verify: () => Promise<void>,
  ): Promise<void>;
  /** Counter rows of days in [from, to], optionally of one matter or department. */
  counters(q: { from: string; to: string; matter?: string; department?: string }): Promise<CounterRow[]>;
  /** Running totals per matter and department since the store was created. */
  totals(): Map<string, { matter: string; department: string; counts: Counts }>;
  /** Loads the running totals. */
  load(): Promise<void>;
}

/** Creates the intercept store over the node's database. */
export function interceptStore(db: RootDb): InterceptStore {
  const sub: Sublevel = jsonSublevel(db, 'intercept');
  const totals = new Map<string, { matter: string; department: string; counts: Counts }>();
  let turn: Promise<unknown> = Promise.resolve();
  /** Runs one read-add-write at a time. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn);
    turn = run.catch(() => undefined);
    return run;
  };
  const counterKey = (day: string, matter: string, department: string) => `n!${day}!${matter}!${department}`;
  const bump = async (ops: Op[], day: string, matter: string, department: string, delta: Partial<Counts>) => {
    const key = counterKey(day, matter, department);
    const now = ((await sub.get(key)) as Counts | undefined) ?? zeroCounts();
    add(now, delta);
    ops.push({ type: 'put', sublevel: sub, key, value: now } as Op);
    return () => {
      const k = `${matter}\0${department}`;
      const t = totals.get(k) ?? { matter, department, counts: zeroCounts() };
      add(t.counts, delta);
      totals.set(k, t);
    };
  };
  return {
    check: async (id) => (await sub.get(`c!${id}`)) as CheckRecord | undefined,
    feedback: async (checkId, usccs) =>
      (await sub.getMany(usccs.map((u) => `f!${checkId}!${u}`))) as Array<FeedbackRecord | undefined>,
    saveCheck: (r, day, delta) =>
      serial(async () => {
        const ops: Op[] = [{ type: 'put', sublevel: sub, key: `c!${r.id}`, value: r } as Op];
        const counted = await bump(ops, day, r.matter, r.department, delta);
        await db.batch(ops);
        counted();
      }),
    saveFeedback: (checkId, items, key, delta, verify) =>
      serial(async () => {
        await verify();
        const ops: Op[] = items.map(
          ([uscc, value]) => ({ type: 'put', sublevel: sub, key: `f!${checkId}!${uscc}`, value }) as Op,
        );
        const counted = await bump(ops, key.day, key.matter, key.department, delta);
        await db.batch(ops);
        counted();
      }),
    async counters(q) {
      const rows: CounterRow[] = [];
      for await (const [key, value] of sub.iterator({ gte: `n!${q.from}!`, lt: `n!${q.to}!\xff` })) {
        const [, day, matter, department] = key.split('!');
        if ((q.matter && matter !== q.matter) || (q.department && department !== q.department)) continue;
        rows.push({ day, matter, department, ...(value as Counts) });
      }
      return rows;
    },
    totals: () => totals,
    async load() {
      totals.clear();
      for await (const [key, value] of sub.iterator({ gte: 'n!', lt: 'n"' })) {
        const [, , matter, department] = key.split('!');
        const k = `${matter}\0${department}`;
        const t = totals.get(k) ?? { matter, department, counts: zeroCounts() };
        add(t.counts, value as Counts);
        totals.set(k, t);
      }
    },
  };
}
