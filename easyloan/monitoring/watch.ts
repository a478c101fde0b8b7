/**
 * Post-loan monitoring at a bank (信用波动预警): its officers subscribe to their borrowers at every
 * node that determines facts, under a `post-loan-monitoring` consent, and receive, list and
 * acknowledge the alerts those nodes push.
 *
 * - A subscription needs a live monitoring consent of the enterprise for this bank
 *   (`MONITORING_CONSENT_REQUIRED`, with the reason) and a loan on this bank's book that is not
 *   settled (`NOT_A_BORROWER`); refused here, nothing leaves the bank.
 * - An alert is accepted only from the node that determined the fact, for a borrower this bank
 *   watches, under a consent that is live here and covers the fact's section, while the bank still
 *   lends to the enterprise: otherwise `MONITORING_ENDED` or `NOT_A_BORROWER` (the sender then ends
 *   the subscription). Accepted or refused, each alert is an entry in this node's log.
 * - A revoked or expired consent, or a settled loan, ends the watch: swept every 30 s, which also
 *   unsubscribes at every holder (who end it themselves at their next check anyway).
 *
 * Storage (sublevel `monitoring-watch`): `w!<uscc>` watch, `a!<alertId>` alert, `t!<receivedAt>!<alertId>` order.
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../../accesslog/port.ts';
import type { ConsentService } from '../../authz/consents.ts';
import type { Principal } from '../../authz/principals.ts';
import type { ProfileStore } from '../../profiles/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../../storage/index.ts';
import {
  AlertNotFoundError,
  ForbiddenError,
  InvalidInputError,
  MonitoringConsentRequiredError,
  MonitoringEndedError,
  NotABorrowerError,
  WrongRoleError,
} from '../errors.ts';
import type { MonitoringAlert, MonitoringPeers, SubscriptionRequest } from '../ports.ts';
import { MONITORING_PURPOSE } from '../types.ts';
import { keyedLock, mustBe, usccArg } from '../util.ts';
import { monitoringStanding } from './consent-state.ts';

/** How often watches whose consent or loan ended are closed. */
export const WATCH_SWEEP_MS = 30_000;
/** Subscriptions per request to a holder. */
export const SUBSCRIBE_BATCH = 1000;

/** A borrower the bank watches. */
export interface Watch {
  uscc: string;
  consentId: string;
  home: string;
  since: string;
  /** Per holder: `OK`, or the code it answered with. */
  holders: Record<string, string>;
  endedAt?: string;
  endReason?: string;
}

/** An alert as the bank keeps it. */
export interface StoredAlert extends MonitoringAlert {
  receivedAt: string;
  acknowledged?: { at: string; by: string; note?: string };
}

/** One borrower's outcome of a subscription request. */
export interface MonitorResult {
  uscc: string;
  status: 'SUBSCRIBED' | 'REFUSED';
  code?: string;
  reason?: string;
  holders: Record<string, string>;
}

/** What the watch list needs. */
export interface WatchComponents {
  db: RootDb;
  consents: Pick<ConsentService, 'get' | 'list'>;
  profiles: Pick<ProfileStore, 'getLoans'>;
  log: AccessLogPort;
  nodeId: string;
  peers: () => MonitoringPeers | undefined;
  logger: Logger;
  now?: () => number;
}

/** A bank's post-loan monitoring. */
export interface WatchList {
  /** API: an officer subscribes to borrowers (each refused or subscribed on its own). */
  monitor(p: Principal, usccs: string[]): Promise<MonitorResult[]>;
  /** API: an officer ends a watch. */
  unmonitor(p: Principal, uscc: string): Promise<Watch>;
  /** API: watched borrowers with their standing now. */
  watched(p: Principal): Promise<Array<Watch & { status: 'ACTIVE' | 'PAUSED' | 'ENDED' }>>;
  /** API: alerts, newest first. */
  alerts(p: Principal, filter?: { unacknowledged?: boolean; uscc?: string; first?: number }): Promise<StoredAlert[]>;
  /** API: an officer acknowledges alerts. */
  acknowledge(p: Principal, ids: string[], note?: string): Promise<StoredAlert[]>;
  /** Federation: a holder pushes an alert. */
  receiveAlert(peer: string, alert: MonitoringAlert): Promise<void>;
  /** Told of every alert accepted (after it is durable). */
  onAlert(listener: (alert: StoredAlert) => void): () => void;
  /** Closes watches whose consent or loan ended; returns how many. */
  sweep(): Promise<number>;
  metrics(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates a bank's watch list. */
export function createWatchList(c: WatchComponents): WatchList {
  const now = c.now ?? Date.now;
  const sub: Sublevel = jsonSublevel(c.db, 'monitoring-watch');
  const log = c.logger.child({ component: 'monitoring-watch' });
  const locked = keyedLock();
  const listeners = new Set<(a: StoredAlert) => void>();
  const stats = { received: 0, refused: 0, watched: 0, unacknowledged: 0 };
  let timer: NodeJS.Timeout | undefined;
  const officer = (p: Principal) => {
    mustBe(p, 'bank-officer');
    if (p.bank !== c.nodeId) throw new WrongRoleError(`officers of ${p.bank} act at their own bank's node`);
    return p;
  };
  const lends = async (uscc: string) =>
    (await c.profiles.getLoans(uscc)).some((l) => l.bank === c.nodeId && l.status !== 'SETTLED');
  /** The live monitoring consent this bank holds for the enterprise, or why there is none. */
  const consentFor = async (p: Principal, uscc: string) => {
    const held = (await c.consents.list(p, { uscc, limit: 500 })).filter(
      (r) => r.body.purpose === MONITORING_PURPOSE && (!r.body.grantee.officer || r.body.grantee.officer === p.sub),
    );
    for (const r of held) {
      const s = monitoringStanding(r, c.nodeId, uscc, now());
      if (s.live) return r;
    }
    const latest = held.sort((a, b) => b.body.issuedAt.localeCompare(a.body.issuedAt))[0];
    const reason = latest
      ? (monitoringStanding(latest, c.nodeId, uscc, now()) as { reason: string }).reason
      : 'NO_CONSENT';
    throw new MonitoringConsentRequiredError(
      `no live ${MONITORING_PURPOSE} consent of this enterprise for this bank (${reason})`,
      reason,
    );
  };
  const record = (x: { peer: string; alert: MonitoringAlert; decision: 'ALLOW' | 'DENY'; reason?: string }) =>
    c.log.append({
      time: new Date(now()).toISOString(),
      actor: { node: c.nodeId, principal: `node:${x.peer}`, role: 'node' },
      action: 'PROFILE_READ',
      decision: x.decision,
      reason: x.reason ?? `ALERT_${x.alert.kind}`,
      purpose: MONITORING_PURPOSE,
      consentId: x.alert.consentId,
      scopes: [x.alert.section],
      subject: x.alert.uscc,
      correlationId: x.alert.id,
    });
  const endWatch = async (w: Watch, reason: string) => {
    const peers = c.peers();
    for (const node of Object.keys(w.holders)) await peers?.unsubscribe(node, [w.uscc]).catch(() => undefined);
    await sub.put(`w!${w.uscc}`, { ...w, endedAt: new Date(now()).toISOString(), endReason: reason });
    stats.watched = Math.max(0, stats.watched - 1);
  };

  const list: WatchList = {
    async monitor(p, usccs) {
      officer(p);
      if (!Array.isArray(usccs) || usccs.length === 0 || usccs.length > 10_000)
        throw new InvalidInputError('between 1 and 10,000 borrowers per request');
      const peers = c.peers();
      if (!peers) throw new WrongRoleError('monitoring needs a federation');
      const results = new Map<string, MonitorResult>();
      const wanted: SubscriptionRequest[] = [];
      for (const raw of usccs) {
        const uscc = usccArg(raw);
        try {
          const consent = await consentFor(p, uscc);
          if (!(await lends(uscc)))
            throw new NotABorrowerError('this bank has no loan to this enterprise that is not settled');
          wanted.push({ uscc, consentId: consent.id, home: consent.body.home });
          results.set(uscc, { uscc, status: 'REFUSED', code: 'PEER_UNAVAILABLE', holders: {} });
        } catch (err) {
          const e = err as { code?: string; reason?: string };
          if (usccs.length === 1) throw err;
          results.set(uscc, {
            uscc,
            status: 'REFUSED',
            code: e.code ?? 'INTERNAL',
            ...(e.reason ? { reason: e.reason } : {}),
            holders: {},
          });
        }
      }
      for (const node of peers.holders())
        for (let i = 0; i < wanted.length; i += SUBSCRIBE_BATCH) {
          const part = wanted.slice(i, i + SUBSCRIBE_BATCH);
          let answers: Array<{ uscc: string; ok: boolean; code?: string }>;
          try {
            answers = await peers.subscribe(node, part);
          } catch (err) {
            answers = part.map((x) => ({
              uscc: x.uscc,
              ok: false,
              code: (err as { code?: string }).code ?? 'PEER_UNAVAILABLE',
            }));
          }
          for (const a of answers) {
            const r = results.get(a.uscc);
            if (r) r.holders[node] = a.ok ? 'OK' : (a.code ?? 'REFUSED');
          }
        }
      const ops = [];
      for (const w of wanted) {
        const r = results.get(w.uscc)!;
        const codes = Object.values(r.holders);
        if (!codes.includes('OK')) {
          r.code = codes.find((x) => x !== 'PEER_UNAVAILABLE') ?? 'PEER_UNAVAILABLE';
          continue;
        }
        r.status = 'SUBSCRIBED';
        delete r.code;
        const held = (await sub.get(`w!${w.uscc}`)) as Watch | undefined;
        if (!held || held.endedAt) stats.watched++;
        ops.push({
          type: 'put' as const,
          key: `w!${w.uscc}`,
          value: { ...w, since: new Date(now()).toISOString(), holders: r.holders },
        });
      }
      await sub.batch(ops);
      return usccs.map((u) => results.get(usccArg(u))!);
    },
    async unmonitor(p, raw) {
      officer(p);
      const uscc = usccArg(raw);
      return locked(uscc, async () => {
        const w = (await sub.get(`w!${uscc}`)) as Watch | undefined;
        if (!w || w.endedAt) throw new MonitoringEndedError('this borrower is not watched');
        await endWatch(w, 'STOPPED');
        return (await sub.get(`w!${uscc}`)) as Watch;
      });
    },
    async watched(p) {
      officer(p);
      const out: Array<Watch & { status: 'ACTIVE' | 'PAUSED' | 'ENDED' }> = [];
      for await (const v of sub.values({ gte: 'w!', lt: 'w"' })) {
        const w = v as Watch;
        const s = monitoringStanding(await c.consents.get(w.consentId), c.nodeId, w.uscc, now());
        const status = w.endedAt || (!s.live && s.final) ? 'ENDED' : s.live ? 'ACTIVE' : 'PAUSED';
        out.push({ ...w, status, ...(!w.endedAt && !s.live && s.final ? { endReason: s.reason } : {}) });
      }
      return out;
    },
    async alerts(p, filter = {}) {
      officer(p);
      const first = Math.min(Math.max(1, filter.first ?? 50), 500);
      const out: StoredAlert[] = [];
      for await (const k of sub.keys({ gte: 't!', lt: 't"', reverse: true })) {
        const a = (await sub.get(`a!${k.slice(k.lastIndexOf('!') + 1)}`)) as StoredAlert | undefined;
        if (!a || (filter.unacknowledged && a.acknowledged) || (filter.uscc && a.uscc !== filter.uscc)) continue;
        out.push(a);
        if (out.length >= first) break;
      }
      return out;
    },
    async acknowledge(p, ids, note) {
      officer(p);
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 500)
        throw new InvalidInputError('between 1 and 500 alert ids');
      const found = (await sub.getMany(ids.map((id) => `a!${id}`))) as Array<StoredAlert | undefined>;
      const missing = ids.filter((_, i) => !found[i]);
      if (missing.length > 0) throw new AlertNotFoundError(`${missing.length} of these alerts are not held here`);
      const at = new Date(now()).toISOString();
      const next = (found as StoredAlert[]).map((a) =>
        a.acknowledged ? a : { ...a, acknowledged: { at, by: p.sub, ...(note ? { note: note.slice(0, 500) } : {}) } },
      );
      const newly = (found as StoredAlert[]).filter((a) => !a.acknowledged).length;
      stats.unacknowledged = Math.max(0, stats.unacknowledged - newly);
      await sub.batch(next.map((a) => ({ type: 'put' as const, key: `a!${a.id}`, value: a })));
      return next;
    },
    async receiveAlert(peer, alert) {
      await locked(alert.uscc, async () => {
        if (alert.bank !== c.nodeId || alert.origin !== peer)
          throw new ForbiddenError('an alert comes from the node that determined the fact, for the bank it names');
        const refuse = async (e: Error & { code: string }) => {
          stats.refused++;
          await record({ peer, alert, decision: 'DENY', reason: e.code });
          throw e;
        };
        const w = (await sub.get(`w!${alert.uscc}`)) as Watch | undefined;
        if (!w || w.endedAt) return refuse(new MonitoringEndedError('this bank does not watch this borrower'));
        const s = monitoringStanding(await c.consents.get(alert.consentId), c.nodeId, alert.uscc, now());
        if (!s.live) {
          if (s.final) await endWatch(w, s.reason);
          return refuse(new MonitoringEndedError(`the monitoring consent is not live here (${s.reason})`));
        }
        if (!s.record.body.scopes.includes(alert.section))
          return refuse(new MonitoringEndedError('the consent does not cover this section'));
        if (!(await lends(alert.uscc))) {
          await endWatch(w, 'NOT_A_BORROWER');
          return refuse(new NotABorrowerError('this bank no longer lends to this enterprise'));
        }
        if ((await sub.get(`a!${alert.id}`)) !== undefined) return;
        await record({ peer, alert, decision: 'ALLOW' });
        const stored: StoredAlert = { ...alert, receivedAt: new Date(now()).toISOString() };
        await sub.batch([
          { type: 'put', key: `a!${alert.id}`, value: stored },
          { type: 'put', key: `t!${stored.receivedAt}!${alert.id}`, value: '' },
        ]);
        stats.received++;
        stats.unacknowledged++;
        for (const l of listeners) l(stored);
      });
    },
    onAlert(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async sweep() {
      let n = 0;
      for await (const v of sub.values({ gte: 'w!', lt: 'w"' })) {
        const w = v as Watch;
        if (w.endedAt) continue;
        const s = monitoringStanding(await c.consents.get(w.consentId), c.nodeId, w.uscc, now());
        const reason = !s.live && s.final ? s.reason : !(await lends(w.uscc)) ? 'NOT_A_BORROWER' : undefined;
        if (!reason) continue;
        await locked(w.uscc, () => endWatch(w, reason));
        n++;
      }
      return n;
    },
    metrics() {
      return [
        '# HELP credit_monitoring_watched Borrowers this bank monitors.',
        '# TYPE credit_monitoring_watched gauge',
        `credit_monitoring_watched ${stats.watched}`,
        '# HELP credit_monitoring_alerts_received_total Alerts this bank accepted and refused.',
        '# TYPE credit_monitoring_alerts_received_total counter',
        `credit_monitoring_alerts_received_total{outcome="accepted"} ${stats.received}`,
        `credit_monitoring_alerts_received_total{outcome="refused"} ${stats.refused}`,
        '# HELP credit_monitoring_alerts_unacknowledged Alerts no officer acknowledged yet.',
        '# TYPE credit_monitoring_alerts_unacknowledged gauge',
        `credit_monitoring_alerts_unacknowledged ${stats.unacknowledged}`,
        '',
      ].join('\n');
    },
    async start() {
      stats.watched = 0;
      stats.unacknowledged = 0;
      for await (const v of sub.values({ gte: 'w!', lt: 'w"' })) if (!(v as Watch).endedAt) stats.watched++;
      for await (const v of sub.values({ gte: 'a!', lt: 'a"' }))
        if (!(v as StoredAlert).acknowledged) stats.unacknowledged++;
      const sweep = () =>
        void list.sweep().catch((err) => log.error({ err: (err as Error).message }, 'watch sweep failed'));
      timer = setInterval(sweep, WATCH_SWEEP_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return list;
}
