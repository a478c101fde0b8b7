/**
 * The consent lifecycle as pure rules (DESIGN §5): which transitions exist, what a well-formed
 * history is, and when a node adopts a copy of a consent record sent by its home node.
 *
 * One authority per consent: its home node (named in the signed body) makes every transition and
 * numbers them (`seq` = length of the history). Every other node keeps the newest copy it has
 * received, and only if that copy extends the history it already holds. Terminal states
 * (REVOKED, EXPIRED, REJECTED) are final: no later, reordered or duplicated message leaves them.
 */
import { canonicalJson } from '../crypto/index.ts';
import type { ConsentBody } from './documents.ts';

/** Lifecycle states. */
export const CONSENT_STATUSES = ['REQUESTED', 'ACTIVE', 'PAUSED', 'REVOKED', 'EXPIRED', 'REJECTED'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** States no transition leaves. */
export const TERMINAL_STATUSES: ReadonlySet<ConsentStatus> = new Set(['REVOKED', 'EXPIRED', 'REJECTED']);

/** The transitions each state allows. */
export const ALLOWED_TRANSITIONS: Readonly<Record<ConsentStatus, readonly ConsentStatus[]>> = {
  REQUESTED: ['ACTIVE', 'REJECTED'],
  ACTIVE: ['PAUSED', 'REVOKED', 'EXPIRED'],
  PAUSED: ['ACTIVE', 'REVOKED', 'EXPIRED'],
  REVOKED: [],
  EXPIRED: [],
  REJECTED: [],
};

/** One recorded transition. */
export interface Transition {
  to: ConsentStatus;
  at: string;
  by: { sub: string; role: string; node: string };
  reason?: string;
}

/** A consent as a node holds it. */
export interface ConsentRecord {
  id: string;
  body: ConsentBody;
  /** The enterprise's signature; absent while REQUESTED or REJECTED without one. */
  signature?: string;
  status: ConsentStatus;
  /** Every transition, oldest first; made by the home node only. */
  history: Transition[];
  /** Uses counted on this node (local: each node counts the reads it serves). */
  uses: number;
  /** Number of transitions (= history length); a copy is adopted only if newer. */
  seq: number;
}

const MAX_HISTORY = 1000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks that a record's history is a possible life of a consent: it starts with REQUESTED or
 * ACTIVE, every step is an allowed transition, the status is the last step, and `seq` counts the
 * steps. Returns the problem, or undefined when the history is well-formed.
 */
export function historyProblem(r: Pick<ConsentRecord, 'status' | 'history' | 'seq'>): string | undefined {
  if (!Array.isArray(r.history) || r.history.length === 0) return 'empty history';
  if (r.history.length > MAX_HISTORY) return 'history too long';
  if (r.seq !== r.history.length) return 'seq does not count the history';
  let prev: ConsentStatus | undefined;
  for (const [i, t] of r.history.entries()) {
    if (
      typeof t !== 'object' ||
      t === null ||
      !CONSENT_STATUSES.includes(t.to) ||
      typeof t.at !== 'string' ||
      !ISO_TIME.test(t.at) ||
      typeof t.by?.sub !== 'string' ||
      typeof t.by.role !== 'string' ||
      typeof t.by.node !== 'string' ||
      (t.reason !== undefined && (typeof t.reason !== 'string' || t.reason.length > 500))
    )
      return `transition ${i} is malformed`;
    if (prev === undefined ? t.to !== 'REQUESTED' && t.to !== 'ACTIVE' : !ALLOWED_TRANSITIONS[prev].includes(t.to))
      return `transition ${i} (${prev ?? 'start'} → ${t.to}) is not allowed`;
    prev = t.to;
  }
  if (prev !== r.status) return 'status is not the last transition';
  return undefined;
}

/** What a node does with a copy of a consent record received from the consent's home. */
export type MergeOutcome =
  | { apply: true }
  | { apply: false; why: 'DUPLICATE' | 'STALE' | 'TERMINAL' | 'CONFLICT' | 'HISTORY_REWRITTEN' };

/**
 * Decides whether to adopt `incoming` over `mine` (the copy held now, if any). A copy is adopted
 * only when it is newer, `mine` is not terminal, and its history extends `mine`'s unchanged; so
 * any order and any repetition of the home's messages ends in the home's latest state, and no
 * message can undo a revocation. `CONFLICT` and `HISTORY_REWRITTEN` mean the home contradicted
 * itself: the caller should raise it, not just drop it.
 */
export function mergeOutcome(mine: ConsentRecord | undefined, incoming: ConsentRecord): MergeOutcome {
  if (!mine) return { apply: true };
  const sameHistoryPrefix = (n: number) =>
    canonicalJson(incoming.history.slice(0, n)) === canonicalJson(mine.history.slice(0, n));
  if (incoming.seq < mine.seq) return { apply: false, why: sameHistoryPrefix(incoming.seq) ? 'STALE' : 'CONFLICT' };
  if (incoming.seq === mine.seq)
    return { apply: false, why: sameHistoryPrefix(incoming.seq) ? 'DUPLICATE' : 'CONFLICT' };
  if (TERMINAL_STATUSES.has(mine.status)) return { apply: false, why: 'TERMINAL' };
  if (!sameHistoryPrefix(mine.seq)) return { apply: false, why: 'HISTORY_REWRITTEN' };
  return { apply: true };
}
