import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConsentBody } from './documents.ts';
import {
  ALLOWED_TRANSITIONS,
  type ConsentRecord,
  type ConsentStatus,
  historyProblem,
  mergeOutcome,
  TERMINAL_STATUSES,
  type Transition,
} from './lifecycle.ts';

const body = { enterprise: '91350200776049653A', home: 'xm-centre' } as unknown as ConsentBody;

/** The snapshots a home publishes for one life of a consent: one record per transition. */
function life(start: 'REQUESTED' | 'ACTIVE', choices: number[]): ConsentRecord[] {
  const step = (to: ConsentStatus, i: number): Transition => ({
    to,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    by: { sub: 'rep', role: 'enterprise', node: 'xm-centre' },
  });
  const history: Transition[] = [step(start, 0)];
  for (const c of choices) {
    const next = ALLOWED_TRANSITIONS[history[history.length - 1].to];
    if (next.length === 0) break;
    history.push(step(next[c % next.length], history.length));
  }
  return history.map((t, i) => ({
    id: 'c',
    body,
    status: t.to,
    history: history.slice(0, i + 1),
    uses: 0,
    seq: i + 1,
  }));
}

/** What a receiver holds after applying `messages` in order. */
function fold(messages: ConsentRecord[]): ConsentRecord | undefined {
  let held: ConsentRecord | undefined;
  for (const m of messages) if (mergeOutcome(held, m).apply) held = m;
  return held;
}

const lives = fc.tuple(
  fc.constantFrom<'REQUESTED' | 'ACTIVE'>('REQUESTED', 'ACTIVE'),
  fc.array(fc.nat(5), { maxLength: 12 }),
);

describe('consent lifecycle', () => {
  it('every life the home can make has a well-formed history', () => {
    fc.assert(
      fc.property(lives, ([start, choices]) => {
        for (const r of life(start, choices)) expect(historyProblem(r)).toBeUndefined();
      }),
    );
  });

  it('any order and repetition of the home messages ends in the home latest state', () => {
    fc.assert(
      fc.property(
        lives,
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 13, maxLength: 13 }),
        fc.array(fc.double({ noNaN: true }), { minLength: 39, maxLength: 39 }),
        ([start, choices], copies, order) => {
          const snaps = life(start, choices);
          // Each snapshot delivered one to three times, in any order.
          const messages = snaps
            .flatMap((r, i) => Array.from({ length: copies[i] }, () => r))
            .map((r, i) => ({ r, k: order[i] }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.r);
          expect(fold(messages)).toEqual(snaps[snaps.length - 1]);
        },
      ),
    );
  });

  it('no message leaves a terminal state, and a rewritten history is never adopted', () => {
    fc.assert(
      fc.property(lives, fc.array(fc.nat(5), { maxLength: 6 }), ([start, choices], other) => {
        const snaps = life(start, choices);
        const last = snaps[snaps.length - 1];
        // A second, different life of the same consent (what a replay at another node would have produced).
        const rival = life(start, other).map((r) => ({
          ...r,
          history: r.history.map((t) => ({ ...t, by: { ...t.by, node: 'bank-a' } })),
        }));
        const held = fold([...snaps, ...rival, ...rival.map((r) => ({ ...r, seq: r.seq + 100 }))]);
        if (TERMINAL_STATUSES.has(last.status)) expect(held?.status).toBe(last.status);
        expect(held?.history.every((t) => t.by.node === 'xm-centre')).toBe(true);
      }),
    );
  });

  it('refuses impossible histories', () => {
    const ok = life('ACTIVE', [2])[1];
    expect(historyProblem(ok)).toBeUndefined();
    expect(historyProblem({ ...ok, seq: 5 })).toMatch(/seq/);
    expect(historyProblem({ ...ok, status: 'ACTIVE' })).toMatch(/last transition/);
    expect(historyProblem({ ...ok, history: [], seq: 0 })).toMatch(/empty/);
    const revived = [...ok.history, { ...ok.history[0], to: 'ACTIVE' as const }];
    expect(historyProblem({ status: 'ACTIVE', history: revived, seq: 3 })).toMatch(/not allowed/);
    const start = { ...ok.history[0], to: 'PAUSED' as const };
    expect(historyProblem({ status: 'PAUSED', history: [start], seq: 1 })).toMatch(/not allowed/);
  });
});
