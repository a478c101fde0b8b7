/**
 * Check-and-intercept (联合奖惩 查询—拦截—反馈, DESIGN §9) at a credit centre: a government
 * business system checks enterprises for a business matter before acting, gets per enterprise a
 * decision with its reasons, and later reports what it did.
 *
 * A check reads this centre's live listings and asks every other centre of 厦漳泉 for theirs in
 * parallel (each within the time limit; one that does not answer makes the decisions say so),
 * decides each enterprise from the measures list in force, logs one entry per enterprise
 * (`CHECK_AND_INTERCEPT`, the enterprise as subject) before anything is returned, and keeps the
 * check (for its feedback) and the counters. Bad input is refused before anything is read or kept:
 * one `DENY` entry, no subject, records the refusal.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessEvent, AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import { type CityId, FACT_SUBTYPES, type FactSubtype, validateUscc } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { RootDb } from '../storage/index.ts';
import { decide, type EnterpriseDecision, type Listing } from './decide.ts';
import {
  BadUsccError,
  BatchSizeError,
  CheckNotFoundError,
  FeedbackExistsError,
  ForbiddenError,
  InvalidInputError,
  UnknownMatterError,
} from './errors.ts';
import { checkFeedback, type FeedbackItem } from './feedback.ts';
import { readListings } from './listings.ts';
import type { MeasuresList } from './measures.ts';
import { triggerSubtypes } from './measures.ts';
import { measuresInForce } from './measures-list.ts';
import { renderInterceptMetrics } from './metrics.ts';
import type { InterceptPeers, ListingsAnswer, ListingsRequest } from './ports.ts';
import { type CounterRow, type Counts, interceptStore } from './store.ts';

/** Purpose recorded in the log entries of checks. */
export const INTERCEPT_PURPOSE = 'check-and-intercept';
/** Enterprises one check or one feedback call may name. */
export const MAX_CHECK_BATCH = 10_000;
/** How long a check waits for another centre's listings by default. */
export const DEFAULT_PEER_TIMEOUT_MS = 10_000;
/**
 * After a centre failed to answer, the next checks wait for it this long only, for
 * {@link SLOW_PEER_HOLD_MS} or until it answers again: a hung centre costs one check the full
 * limit, not every check (its decisions still say INCOMPLETE, never a silent PASS).
 */
export const SLOW_PEER_TIMEOUT_MS = 1_000;
export const SLOW_PEER_HOLD_MS = 30_000;
const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DEPARTMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The date in China (UTC+8) at `ms`, `YYYY-MM-DD`. */
export const chinaDate = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);

/** A check's answer. */
export interface CheckResult {
  checkId: string;
  matter: string;
  matterName: string;
  /** `<id>@<version>` of the measures list applied. */
  measures: string;
  checkedAt: string;
  /** Per enterprise, in the order asked. */
  results: EnterpriseDecision[];
  /** Centres whose listings are reflected (this one first). */
  centres: string[];
  /** Centres that did not answer in time. */
  unavailable: string[];
}

/** What the intercept service needs. */
export interface InterceptServiceComponents {
  db: RootDb;
  profiles: ProfileStore;
  log: AccessLogPort;
  nodeId: string;
  city?: CityId;
  /** The federation's other centres; absent on a stand-alone node. */
  peers?: () => InterceptPeers | undefined;
  logger: Logger;
}

/** Settings of the intercept service. */
export interface InterceptServiceInit {
  /** The measures list applied (default: the one in force in the repository). */
  measures?: MeasuresList;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** How long a check waits for another centre (default {@link DEFAULT_PEER_TIMEOUT_MS}). */
  peerTimeoutMs?: number;
}

/** The check-and-intercept service of a centre. */
export interface InterceptService {
  readonly measures: MeasuresList;
  /** API: a business system checks 1 to {@link MAX_CHECK_BATCH} enterprises for a matter. */
  check(
    principal: Principal,
    req: { matter: string; usccs: readonly string[]; correlationId: string },
  ): Promise<CheckResult>;
  /** API: the business system that checked reports what it did, per enterprise. */
  feedback(
    principal: Principal,
    req: { checkId: string; items: readonly FeedbackItem[]; correlationId: string },
  ): Promise<{ checkId: string; accepted: number }>;
  /** API: counters per day, matter and department (centre staff, auditors). */
  counters(
    principal: Principal,
    q?: { from?: string; to?: string; matter?: string; department?: string },
  ): Promise<CounterRow[]>;
  /** Prometheus text of the running totals. */
  metrics(): string;
  /** Federation: another centre asks for this centre's listings of a batch (logged per enterprise). */
  serveListings(peer: { nodeId: string }, req: ListingsRequest): Promise<ListingsAnswer>;
  start(): Promise<void>;
}

const actorOf = (node: string, p: Principal) => ({
  node,
  principal: `gov-system:${p.department}/${p.sub}`,
  role: p.role,
});

/** Creates the check-and-intercept service of a centre. */
export function createInterceptService(
  c: InterceptServiceComponents,
  init: InterceptServiceInit = {},
): InterceptService {
  const measures = init.measures ?? measuresInForce();
  const measuresRef = `${measures.id}@${measures.version}`;
  const now = init.now ?? Date.now;
  const peerTimeoutMs = init.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  /** Centres that failed to answer lately, until when they get the short limit. */
  const failedUntil = new Map<string, number>();
  const store = interceptStore(c.db);
  const log = c.logger.child({ component: 'intercept' });

  /** Logs one refusal (no subject: a refused batch names no enterprise in the log) and throws. */
  const refuse = async (p: Principal, scope: string, correlationId: string, err: Error & { code: string }) => {
    await c.log.append({
      time: new Date(now()).toISOString(),
      actor: actorOf(c.nodeId, p),
      action: 'CHECK_AND_INTERCEPT',
      decision: 'DENY',
      reason: err.code,
      purpose: INTERCEPT_PURPOSE,
      scopes: [scope],
      correlationId,
    });
    throw err;
  };
  const gate = async (p: Principal, scope: string, correlationId: string) => {
    if (p.role !== 'gov-system' || !p.department)
      await refuse(
        p,
        scope,
        correlationId,
        new ForbiddenError('checks and their feedback are made by government business systems (role gov-system)'),
      );
  };
  /** Entries of a decision about each enterprise, appended as one group-committed batch. */
  const logEach = (events: AccessEvent[]) => Promise.all(events.map((e) => c.log.append(e, { bulk: true })));

  /** Asks every other centre for its listings; those that do not answer are `unavailable`. */
  const consult = async (req: ListingsRequest) => {
    const peers = c.peers?.();
    const centres = peers?.centres() ?? [];
    const answered: Array<{ node: string; answer: ListingsAnswer }> = [];
    const unavailable: string[] = [];
    await Promise.all(
      centres.map(async ({ nodeId }) => {
        const failedLately = (failedUntil.get(nodeId) ?? 0) > now();
        const timeoutMs = failedLately ? Math.min(peerTimeoutMs, SLOW_PEER_TIMEOUT_MS) : peerTimeoutMs;
        try {
          answered.push({ node: nodeId, answer: await peers!.listings(nodeId, req, { timeoutMs }) });
          failedUntil.delete(nodeId);
        } catch (err) {
          if (!failedLately)
            log.warn({ peer: nodeId, code: (err as { code?: string }).code }, 'a centre gave no listings');
          failedUntil.set(nodeId, now() + SLOW_PEER_HOLD_MS);
          unavailable.push(nodeId);
        }
      }),
    );
    return { answered: answered.sort((a, b) => a.node.localeCompare(b.node)), unavailable: unavailable.sort() };
  };

  return {
    measures,

    async check(p, req) {
      // Only a known matter is written to the log: the caller's text never is.
      const matter =
        typeof req.matter === 'string' && Object.hasOwn(measures.matters, req.matter) ? req.matter : undefined;
      const scope = `intercept:${matter ?? 'unknown'}`;
      await gate(p, scope, req.correlationId);
      if (!matter)
        await refuse(p, scope, req.correlationId, new UnknownMatterError('the matter is not on the measures list'));
      const usccs = Array.isArray(req.usccs) ? req.usccs : [];
      if (usccs.length === 0 || usccs.length > MAX_CHECK_BATCH)
        await refuse(
          p,
          scope,
          req.correlationId,
          new BatchSizeError(`check 1 to ${MAX_CHECK_BATCH} enterprises at a time (got ${usccs.length})`),
        );
      const codes: string[] = [];
      const bad: number[] = [];
      for (const [i, u] of usccs.entries()) {
        const v = validateUscc(typeof u === 'string' ? u : '');
        if (v.valid) codes.push(v.code);
        else bad.push(i);
      }
      if (bad.length > 0)
        await refuse(
          p,
          scope,
          req.correlationId,
          new BadUsccError(`${bad.length} code(s) are not valid USCCs (positions ${bad.slice(0, 20).join(', ')})`, bad),
        );
      const at = now();
      const today = chinaDate(at);
      const subtypes = triggerSubtypes(measures, matter!);
      const request: ListingsRequest = {
        matter: matter!,
        department: p.department!,
        principal: p.sub,
        usccs: codes,
        subtypes,
        correlationId: req.correlationId,
      };
      const [local, remote] = await Promise.all([
        readListings(c.profiles, codes, subtypes, c.nodeId, today),
        consult(request),
      ]);
      for (const { answer } of remote.answered)
        for (const [i, found] of answer.hits) if (i >= 0 && i < codes.length) local[i].push(...(found as Listing[]));
      const results = codes.map((u, i) => decide(measures, matter!, u, local[i], remote.unavailable));
      const checkId = randomUUID();
      const time = new Date(at).toISOString();
      await logEach(
        results.map((r) => ({
          time,
          actor: actorOf(c.nodeId, p),
          action: 'CHECK_AND_INTERCEPT',
          decision: 'ALLOW',
          reason: `DECISION:${r.decision}`,
          purpose: INTERCEPT_PURPOSE,
          scopes: [scope],
          subject: r.uscc,
          correlationId: req.correlationId,
        })),
      );
      const delta: Partial<Counts> = { requests: 1, checks: results.length };
      for (const r of results) {
        delta[r.decision] = (delta[r.decision] ?? 0) + 1;
        if (r.decision === 'BLOCK' || r.decision === 'WARN' || r.decision === 'REWARD')
          delta.hits = (delta.hits ?? 0) + 1;
      }
      await store.saveCheck(
        {
          id: checkId,
          matter: matter!,
          measures: measuresRef,
          department: p.department!,
          principal: p.sub,
          at: time,
          usccs: codes,
          decisions: results.map((r) => r.decision),
        },
        today,
        delta,
      );
      return {
        checkId,
        matter: matter!,
        matterName: measures.matters[matter!].name,
        measures: measuresRef,
        checkedAt: time,
        results,
        centres: [c.nodeId, ...remote.answered.map((a) => a.node)],
        unavailable: remote.unavailable,
      };
    },

    async feedback(p, req) {
      await gate(p, 'intercept:feedback', req.correlationId);
      const check =
        typeof req.checkId === 'string' && req.checkId.length <= 64 ? await store.check(req.checkId) : undefined;
      if (!check || check.department !== p.department)
        await refuse(
          p,
          'intercept:feedback',
          req.correlationId,
          new CheckNotFoundError('no check with this id was made here by your department'),
        );
      const scope = `intercept:${check!.matter}`;
      const items = Array.isArray(req.items) ? req.items : [];
      if (items.length === 0 || items.length > MAX_CHECK_BATCH)
        await refuse(
          p,
          scope,
          req.correlationId,
          new BatchSizeError(`give feedback on 1 to ${MAX_CHECK_BATCH} enterprises`),
        );
      const at = now();
      const { records, problems } = checkFeedback(items, check!.usccs, p.sub, new Date(at).toISOString());
      if (problems.length > 0) {
        const err = new InvalidInputError(`feedback refused: ${problems[0].field} ${problems[0].message}`, problems);
        await refuse(p, scope, req.correlationId, err);
      }
      const delta: Partial<Counts> = {};
      for (const [, r] of records) delta[r.outcome] = (delta[r.outcome] ?? 0) + 1;
      await store.saveFeedback(
        check!.id,
        records,
        { day: chinaDate(at), matter: check!.matter, department: check!.department },
        delta,
        async () => {
          const before = await store.feedback(
            check!.id,
            records.map(([u]) => u),
          );
          if (before.some((x) => x !== undefined))
            await refuse(
              p,
              scope,
              req.correlationId,
              new FeedbackExistsError('feedback on some of these enterprises was already given'),
            );
          await logEach(
            records.map(([uscc, r]) => ({
              time: r.at,
              actor: actorOf(c.nodeId, p),
              action: 'CHECK_AND_INTERCEPT',
              decision: 'ALLOW',
              reason: `FEEDBACK:${r.outcome}`,
              purpose: INTERCEPT_PURPOSE,
              scopes: [scope],
              subject: uscc,
              correlationId: req.correlationId,
            })),
          );
        },
      );
      return { checkId: check!.id, accepted: records.length };
    },

    async counters(p, q = {}) {
      if (p.role !== 'centre-staff' && p.role !== 'auditor')
        throw new ForbiddenError('the counters are shown to centre staff and auditors');
      const to = q.to ?? chinaDate(now());
      const from = q.from ?? chinaDate(Date.parse(`${to}T00:00:00Z`) - 30 * DAY_MS);
      if (!ISO_DATE.test(from) || !ISO_DATE.test(to) || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to)))
        throw new InvalidInputError('from and to must be dates YYYY-MM-DD');
      if (from > to || Date.parse(to) - Date.parse(from) > 366 * DAY_MS)
        throw new InvalidInputError('from must be at most 366 days before to');
      if (q.matter !== undefined && !Object.hasOwn(measures.matters, q.matter))
        throw new UnknownMatterError('unknown matter');
      if (q.department !== undefined && !DEPARTMENT_RE.test(q.department))
        throw new InvalidInputError('department is not a department code');
      return store.counters({ from, to, matter: q.matter, department: q.department });
    },

    metrics: () => renderInterceptMetrics(store.totals().values()),

    async serveListings(peer, req) {
      const subtypes = req.subtypes.filter((s): s is FactSubtype => (FACT_SUBTYPES as string[]).includes(s));
      const codes = req.usccs.map((u) => validateUscc(u));
      if (codes.some((v) => !v.valid) || subtypes.length !== req.subtypes.length)
        throw new InvalidInputError('malformed listings request');
      const usccs = codes.map((v) => (v.valid ? v.code : ''));
      const at = now();
      const found = await readListings(c.profiles, usccs, subtypes, c.nodeId, chinaDate(at));
      const time = new Date(at).toISOString();
      await logEach(
        usccs.map((subject) => ({
          time,
          actor: { node: c.nodeId, principal: `${peer.nodeId}/${req.department}/${req.principal}`, role: 'gov-system' },
          action: 'CHECK_AND_INTERCEPT',
          decision: 'ALLOW',
          reason: 'LISTINGS_SERVED',
          purpose: INTERCEPT_PURPOSE,
          scopes: [`intercept:${req.matter}`],
          subject,
          correlationId: req.correlationId,
        })),
      );
      const hits: ListingsAnswer['hits'] = [];
      for (const [i, l] of found.entries()) if (l.length > 0) hits.push([i, l]);
      return { hits };
    },

    start: () => store.load(),
  };
}
