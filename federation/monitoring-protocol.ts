/**
 * Post-loan monitoring between banks and the nodes that determine facts
 * (`/credit/monitoring/1.0.0`): one JSON frame each way, at most 256 KiB in (1,000 subscriptions)
 * and 30 s. Each op is allowed to one side only, checked against the caller's roster entry:
 *
 * - `subscribe`, `unsubscribe` (bank → credit centre, city peer or source): the bank is the
 *   caller; each subscription names the enterprise, the consent and its home.
 * - `alert` (node that determined the fact → bank): one alert; it must name the caller as the
 *   node that determined the fact.
 *
 * Frames are checked here; the services decide the rest and their named errors travel back with
 * their codes. Requests from quarantined members are refused.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  ALERT_KINDS,
  type EasyLoan,
  type MonitoringAlert,
  type MonitoringPeers,
  type SubscriptionAnswer,
} from '../easyloan/index.ts';
import { FACT_SUBTYPES, SECTIONS } from '../model/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of post-loan monitoring. */
export const MONITORING_PROTOCOL = '/credit/monitoring/1.0.0';
/** Largest request frame: 1,000 subscriptions. */
export const MAX_MONITORING_FRAME_BYTES = 256 * 1024;
const HOLDER_ROLES: readonly string[] = ['credit-centre', 'city-peer', 'source'];
const ROLES = ['bank', 'credit-centre', 'city-peer', 'source'] as const;

const uscc = z.string().length(18);
const consentId = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const node = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const short = (max: number) => z.string().min(1).max(max);
const AlertSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    uscc,
    bank: node,
    consentId,
    kind: z.enum(ALERT_KINDS),
    factId: short(128),
    subtype: z.enum(FACT_SUBTYPES as [string, ...string[]]),
    section: z.enum(SECTIONS),
    status: short(16),
    severity: short(16).optional(),
    decisionDate: short(10),
    sourceUnit: short(200),
    legalDocumentRef: short(200).optional(),
    version: z.number().int().min(1),
    at: short(40),
    origin: node,
  })
  .strict();
const FrameSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('subscribe'),
      items: z
        .array(z.object({ uscc, consentId, home: node }).strict())
        .min(1)
        .max(1000),
    })
    .strict(),
  z.object({ op: z.literal('unsubscribe'), usccs: z.array(uscc).min(1).max(1000) }).strict(),
  z.object({ op: z.literal('alert'), alert: AlertSchema }).strict(),
]);
const AnswersSchema = z.array(
  z.union([
    z.object({ uscc, ok: z.literal(true) }).strict(),
    z.object({ uscc, ok: z.literal(false), code: short(40), reason: short(40).optional() }).strict(),
  ]),
);

/** What the protocol needs. */
export interface MonitoringProtocolComponents {
  host: FederationHost;
  nodeId: string;
  easyLoan: () => EasyLoan | undefined;
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** The protocol: its handler, and the requests monitoring makes. */
export interface MonitoringProtocol {
  peers: MonitoringPeers;
  register(): Promise<void>;
}

/** Creates the monitoring protocol. */
export function createMonitoringProtocol(c: MonitoringProtocolComponents): MonitoringProtocol {
  const quarantined = (id: string) => (c.quarantined?.() ?? []).includes(id);
  const ask = (to: string, frame: z.infer<typeof FrameSchema>) =>
    c.host.request(to, MONITORING_PROTOCOL, frame, { timeoutMs: 30_000 });
  const peers: MonitoringPeers = {
    holders: () =>
      (c.host.roster()?.roster.members ?? [])
        .filter((m) => isActive(m) && HOLDER_ROLES.includes(m.role) && m.nodeId !== c.nodeId && !quarantined(m.nodeId))
        .map((m) => m.nodeId),
    async subscribe(to, items) {
      const answers = AnswersSchema.safeParse(await ask(to, { op: 'subscribe', items }));
      if (!answers.success || answers.data.length !== items.length)
        throw new PeerError('BAD_RESPONSE', `${to} answered a subscription with a malformed frame`);
      return answers.data as SubscriptionAnswer[];
    },
    async unsubscribe(to, usccs) {
      await ask(to, { op: 'unsubscribe', usccs });
    },
    async alert(bank, alert) {
      await ask(bank, { op: 'alert', alert: alert as z.infer<typeof AlertSchema> });
    },
  };

  const handle = async (raw: unknown, peer: { nodeId: string; role: string }) => {
    if (quarantined(peer.nodeId)) throw new PeerError('QUARANTINED', 'requests of a quarantined member are refused');
    const parsed = FrameSchema.safeParse(raw);
    if (!parsed.success)
      throw new PeerError(
        'BAD_REQUEST',
        `malformed monitoring frame: ${parsed.error.issues[0]?.path.join('.') || 'op'}`,
      );
    const f = parsed.data;
    const parts = c.easyLoan();
    switch (f.op) {
      case 'subscribe':
      case 'unsubscribe': {
        if (peer.role !== 'bank') throw new PeerError('FORBIDDEN', 'only banks subscribe');
        if (!parts?.alerts) throw new PeerError('WRONG_ROLE', 'this node determines no facts');
        if (f.op === 'subscribe') return parts.alerts.subscribe(peer.nodeId, f.items);
        return { ended: await parts.alerts.unsubscribe(peer.nodeId, f.usccs) };
      }
      case 'alert':
        if (!HOLDER_ROLES.includes(peer.role) || f.alert.origin !== peer.nodeId)
          throw new PeerError('FORBIDDEN', 'an alert comes from the node that determined the fact');
        if (!parts?.watch) throw new PeerError('WRONG_ROLE', 'this node is not a bank');
        await parts.watch.receiveAlert(peer.nodeId, f.alert as MonitoringAlert);
        return { ok: true };
    }
  };

  return {
    peers,
    register: () =>
      c.host.register({
        id: MONITORING_PROTOCOL,
        roles: ROLES,
        maxRequestBytes: MAX_MONITORING_FRAME_BYTES,
        timeoutMs: 30_000,
        maxConcurrentPerPeer: 8,
        handle: (raw, ctx) => handle(raw, ctx.peer),
      }),
  };
}
