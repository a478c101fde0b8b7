/**
 * Post-loan monitoring at a node that determines facts (credit centre, city peer, data source):
 * banks subscribe to their borrowers under a `post-loan-monitoring` consent, and every change of a
 * fact this node determined about a subscribed borrower (a new negative fact, a dispute, a
 * decided objection, a correction, a repair) becomes an alert for each subscribed bank whose
 * consent covers the fact's section. Alerts go through a durable outbox (./outbox.ts): queued in
 * the batch that records a new fact, or right after a fact change is durable.
 *
 * - A subscription is accepted only under a live consent of that enterprise, for that bank (the
 *   authenticated peer), with the purpose `post-loan-monitoring`, fetched from its home if not
 *   held yet; otherwise `MONITORING_CONSENT_REQUIRED` with the reason. Each decision is logged.
 * - Before an alert is queued and again before it is sent, the consent is checked: a revoked or
 *   expired consent ends the subscription (also swept every 30 s, so it ends without a new fact);
 *   a paused one holds alerts back (they are not queued). A bank that answers `MONITORING_ENDED`
 *   or `NOT_A_BORROWER` ends it too.
 * - Every alert sent is an entry in this node's log (the bank as principal, the enterprise as
 *   subject, the consent, the section) before it leaves.
 *
 * Storage (sublevel `monitoring`): `s!<uscc>!<bank>` subscription, `b!<bank>!<uscc>` index.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessLogPort } from '../../accesslog/port.ts';
import type { ConsentService } from '../../authz/consents.ts';
import type { Principal } from '../../authz/principals.ts';
import { canonicalBytes, sha256, toBase64Url, toHex, toUtf8 } from '../../crypto/index.ts';
import { type CreditFact, FACT_SECTION } from '../../model/index.ts';
import type { FactChange, FactChangeReason } from '../../objections/fact-changes.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../../storage/index.ts';
import { createOutbox } from '../../storage/outbox.ts';
import { MonitoringConsentRequiredError } from '../errors.ts';
import type { AlertKind, MonitoringAlert, MonitoringPeers, SubscriptionAnswer, SubscriptionRequest } from '../ports.ts';
import { MONITORING_PURPOSE } from '../types.ts';
import { keyedLock, mustBe } from '../util.ts';
import { monitoringStanding } from './consent-state.ts';

/** How often subscriptions whose consent ended are removed. */
export const SUBSCRIPTION_SWEEP_MS = 30_000;

/** A bank's subscription to one borrower, as a holder keeps it. */
export interface Subscription {
  uscc: string;
  bank: string;
  consentId: string;
  home: string;
  scopes: string[];
  since: string;
}

/** What the alert service needs. */
export interface AlertServiceComponents {
  db: RootDb;
  consents: Pick<ConsentService, 'get' | 'resolve'>;
  log: AccessLogPort;
  nodeId: string;
  peers: () => MonitoringPeers | undefined;
  logger: Logger;
  now?: () => number;
}

/** Post-loan monitoring at a node that determines facts. */
export interface AlertService {
  /** Federation: bank `peer` subscribes to borrowers. */
  subscribe(peer: string, items: SubscriptionRequest[]): Promise<SubscriptionAnswer[]>;
  /** Federation: bank `peer` ends subscriptions. */
  unsubscribe(peer: string, usccs: string[]): Promise<number>;
  /** Writes alerting subscribed banks of new facts this node determined, for the caller's batch. */
  opsForNewFacts(facts: readonly CreditFact[]): Promise<{ ops: unknown[]; banks: Set<string>; alerts: number }>;
  /** Starts delivering after a batch with such ops is committed. */
  kick(banks?: Iterable<string>): void;
  /** The fact-change listener: a change of a fact determined here alerts the subscribed banks. */
  factChanged(change: FactChange, fact: CreditFact): Promise<void>;
  /** API: subscriptions per bank (centre staff, auditors). */
  subscriptions(p: Principal): Promise<Array<{ bank: string; borrowers: number }>>;
  /** Removes subscriptions whose consent ended; returns how many. */
  sweep(): Promise<number>;
  /** Prometheus text. */
  metrics(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const KIND_OF: Record<FactChangeReason, AlertKind> = {
  OBJECTION_FILED: 'DISPUTED',
  OBJECTION_REJECTED: 'OBJECTION_REJECTED',
  OBJECTION_WITHDRAWN: 'WITHDRAWN',
  OBJECTION_CORRECTED: 'CORRECTED',
  REPAIRED: 'REPAIRED',
};

/** Creates the alert service of a node that determines facts. */
export function createAlertService(c: AlertServiceComponents): AlertService {
  const now = c.now ?? Date.now;
  const sub: Sublevel = jsonSublevel(c.db, 'monitoring');
  const log = c.logger.child({ component: 'monitoring' });
  const locked = keyedLock();
  const counts = new Map<string, number>();
  const sent = { alerts: 0, dropped: 0, ended: 0 };
  /** Alerts whose release is already logged (a retry after a restart logs again). */
  const logged = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const bump = (bank: string, d: number) => counts.set(bank, Math.max(0, (counts.get(bank) ?? 0) + d));
  const endOps = (s: Pick<Subscription, 'uscc' | 'bank'>) => [
    { type: 'del' as const, key: `s!${s.uscc}!${s.bank}` },
    { type: 'del' as const, key: `b!${s.bank}!${s.uscc}` },
  ];
  const end = async (s: Pick<Subscription, 'uscc' | 'bank'>) => {
    if ((await sub.get(`s!${s.uscc}!${s.bank}`)) === undefined) return;
    await sub.batch(endOps(s));
    bump(s.bank, -1);
    sent.ended++;
  };

  const outbox = createOutbox<MonitoringAlert>({
    db: c.db,
    name: 'monitoring-outbox',
    what: 'alert',
    send: () => {
      const peers = c.peers();
      return peers ? (bank, alert) => release(peers, bank, alert) : undefined;
    },
    refused: async (bank, alert, code) => {
      sent.dropped++;
      if (code === 'MONITORING_ENDED' || code === 'NOT_A_BORROWER') await end({ uscc: alert.uscc, bank });
    },
    logger: c.logger,
  });

  /** Checks the consent again, logs the release, then sends. */
  const release = async (peers: MonitoringPeers, bank: string, alert: MonitoringAlert) => {
    const standing = monitoringStanding(await c.consents.get(alert.consentId), bank, alert.uscc, now());
    if (!standing.live) {
      sent.dropped++;
      if (standing.final) await end({ uscc: alert.uscc, bank });
      return;
    }
    if (!logged.has(alert.id)) {
      await c.log.append({
        time: new Date(now()).toISOString(),
        actor: { node: c.nodeId, principal: `node:${bank}`, role: 'bank' },
        action: 'PROFILE_READ',
        decision: 'ALLOW',
        reason: `ALERT_${alert.kind}`,
        purpose: MONITORING_PURPOSE,
        consentId: alert.consentId,
        scopes: [alert.section],
        subject: alert.uscc,
        resultDigest: toHex(sha256(canonicalBytes(alert))),
        correlationId: alert.id,
      });
      logged.add(alert.id);
      if (logged.size > 100_000) logged.clear();
    }
    await peers.alert(bank, alert);
    sent.alerts++;
  };

  /** Alerts (and subscriptions ended) for one change of a fact determined here. */
  const alertsFor = async (fact: CreditFact, kind: AlertKind, at: string) => {
    const ops: unknown[] = [];
    const banks = new Set<string>();
    const section = FACT_SECTION[fact.subtype];
    for await (const v of sub.values({ gte: `s!${fact.uscc}!`, lt: `s!${fact.uscc}!\xff` })) {
      const s = v as Subscription;
      const standing = monitoringStanding(await c.consents.get(s.consentId), s.bank, s.uscc, now());
      if (!standing.live) {
        if (standing.final) {
          ops.push(...endOps(s).map((o) => ({ ...o, sublevel: sub })));
          bump(s.bank, -1);
          sent.ended++;
        }
        continue;
      }
      if (!standing.record.body.scopes.includes(section)) continue;
      const alert: MonitoringAlert = {
        id: toBase64Url(sha256(toUtf8(`${c.nodeId}|${fact.id}|${fact.version}|${s.bank}`))),
        uscc: fact.uscc,
        bank: s.bank,
        consentId: s.consentId,
        kind,
        factId: fact.id,
        subtype: fact.subtype,
        section,
        status: fact.status,
        ...(fact.severity ? { severity: fact.severity } : {}),
        decisionDate: fact.decisionDate,
        sourceUnit: fact.sourceUnit,
        ...(fact.legalDocumentRef ? { legalDocumentRef: fact.legalDocumentRef } : {}),
        version: fact.version,
        at,
        origin: c.nodeId,
      };
      ops.push(outbox.op(s.bank, alert));
      banks.add(s.bank);
    }
    return { ops, banks };
  };

  const service: AlertService = {
    async subscribe(peer, items) {
      const answers: SubscriptionAnswer[] = [];
      const correlationId = randomUUID();
      for (const item of items) {
        const answer = await locked(`${item.uscc}!${peer}`, async (): Promise<SubscriptionAnswer> => {
          const record = await c.consents.resolve(item.consentId, item.home).catch(() => undefined);
          const standing = monitoringStanding(record, peer, item.uscc, now());
          await c.log.append({
            time: new Date(now()).toISOString(),
            actor: { node: c.nodeId, principal: `node:${peer}`, role: 'bank' },
            action: 'PROFILE_READ',
            decision: standing.live ? 'ALLOW' : 'DENY',
            reason: standing.live ? 'MONITORING_SUBSCRIBED' : standing.reason,
            purpose: MONITORING_PURPOSE,
            ...(record ? { consentId: record.id } : {}),
            scopes: standing.live ? [...standing.record.body.scopes] : ['monitoring'],
            subject: item.uscc,
            correlationId,
          });
          if (!standing.live) {
            const e = new MonitoringConsentRequiredError('no live monitoring consent', standing.reason);
            return { uscc: item.uscc, ok: false, code: e.code, reason: e.reason };
          }
          const s: Subscription = {
            uscc: item.uscc,
            bank: peer,
            consentId: standing.record.id,
            home: standing.record.body.home,
            scopes: [...standing.record.body.scopes],
            since: new Date(now()).toISOString(),
          };
          const fresh = (await sub.get(`s!${s.uscc}!${peer}`)) === undefined;
          await sub.batch([
            { type: 'put', key: `s!${s.uscc}!${peer}`, value: s },
            { type: 'put', key: `b!${peer}!${s.uscc}`, value: '' },
          ]);
          if (fresh) bump(peer, 1);
          return { uscc: item.uscc, ok: true };
        });
        answers.push(answer);
      }
      return answers;
    },
    async unsubscribe(peer, usccs) {
      let n = 0;
      for (const uscc of usccs)
        await locked(`${uscc}!${peer}`, async () => {
          if ((await sub.get(`s!${uscc}!${peer}`)) === undefined) return;
          await sub.batch(endOps({ uscc, bank: peer }));
          bump(peer, -1);
          n++;
        });
      return n;
    },
    async opsForNewFacts(facts) {
      const ops: unknown[] = [];
      const banks = new Set<string>();
      let alerts = 0;
      for (const f of facts) {
        if (f.originNode !== c.nodeId || f.polarity !== 'NEGATIVE') continue;
        const r = await alertsFor(f, 'NEW_FACT', f.updatedAt);
        ops.push(...r.ops);
        for (const b of r.banks) banks.add(b);
        alerts += r.banks.size;
      }
      return { ops, banks, alerts };
    },
    kick: (banks) => outbox.kick(banks),
    async factChanged(change, fact) {
      // Only the determining node alerts: copies elsewhere apply the same change.
      if (change.origin !== c.nodeId || fact.originNode !== c.nodeId) return;
      const { ops, banks } = await alertsFor(fact, KIND_OF[change.reason], change.at);
      if (ops.length === 0) return;
      await c.db.batch(ops as never);
      outbox.kick(banks);
    },
    async subscriptions(p) {
      mustBe(p, 'centre-staff', 'auditor');
      return [...counts.entries()].filter(([, n]) => n > 0).map(([bank, borrowers]) => ({ bank, borrowers }));
    },
    async sweep() {
      let ended = 0;
      for await (const v of sub.values({ gte: 's!', lt: 's"' })) {
        const s = v as Subscription;
        const standing = monitoringStanding(await c.consents.get(s.consentId), s.bank, s.uscc, now());
        if (standing.live || !standing.final) continue;
        await locked(`${s.uscc}!${s.bank}`, () => end(s));
        ended++;
      }
      return ended;
    },
    metrics() {
      const lines = [
        '# HELP credit_monitoring_subscriptions Borrowers banks monitor at this node, per bank.',
        '# TYPE credit_monitoring_subscriptions gauge',
        ...[...counts.entries()].map(([b, n]) => `credit_monitoring_subscriptions{bank="${b}"} ${n}`),
        '# HELP credit_monitoring_alerts_total Alerts this node sent, dropped (consent no longer live, or refused) and subscriptions ended.',
        '# TYPE credit_monitoring_alerts_total counter',
        `credit_monitoring_alerts_total{outcome="sent"} ${sent.alerts}`,
        `credit_monitoring_alerts_total{outcome="dropped"} ${sent.dropped}`,
        `credit_monitoring_alerts_total{outcome="ended"} ${sent.ended}`,
      ];
      return `${lines.join('\n')}\n`;
    },
    async start() {
      counts.clear();
      for await (const k of sub.keys({ gte: 'b!', lt: 'b"' })) bump(k.split('!')[1], 1);
      await outbox.start();
      const sweep = () =>
        void service.sweep().catch((err) => log.error({ err: (err as Error).message }, 'subscription sweep failed'));
      timer = setInterval(sweep, SUBSCRIPTION_SWEEP_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await outbox.stop();
    },
  };
  return service;
}
