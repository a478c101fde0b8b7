/**
 * Objections (信用异议) and credit repair (信用修复) across the federation (DESIGN §9), and the
 * fact-change service they share (./fact-changes.ts). Start from {@link createRedress}, which wires
 * a node's objections, repair, their store, outbox and propagation; the node wires the fact-change
 * listeners (re-grade, list refresh) and the federation protocol (`/credit/objection/1.0.0`).
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import type { CreditFact } from '../model/index.ts';
import type { RootDb } from '../storage/index.ts';
import { createOutbox } from '../storage/outbox.ts';
import { NotFoundError } from './errors.ts';
import type { FactChange, FactChangeService } from './fact-changes.ts';
import { createObjectionService, type ObjectionService } from './objections.ts';
import type { ObjectionPeers } from './ports.ts';
import { createPropagation, OBJECTION_PURPOSE } from './propagation.ts';
import { createRepairService, type RepairService } from './repair.ts';
import { REPAIR_POLICY, type RepairPolicy } from './repair-policy.ts';
import { type ObjectionFiling, type ObjectionRecord, objectionStore } from './store.ts';
import type { WorkingDayRule } from './working-days.ts';

export * from './errors.ts';
export * from './fact-changes.ts';
export type { ObjectionDecisionInput, ObjectionService, ObjectionView } from './objections.ts';
export type { Delivery, ObjectionPeers } from './ports.ts';
export { OBJECTION_PURPOSE, REPAIR_PURPOSE } from './propagation.ts';
export type { RepairService } from './repair.ts';
export * from './repair-policy.ts';
export type { ObjectionDecision, ObjectionFiling, ObjectionRecord, RepairRecord } from './store.ts';
export * from './working-days.ts';

/** How often pending objections are checked against their deadlines by default. */
export const SWEEP_INTERVAL_MS = 60_000;

/** What a node's objections and repair need. */
export interface RedressComponents {
  db: RootDb;
  facts: FactChangeService;
  log: AccessLogPort;
  nodeId: string;
  /** The federation's requests; absent on a stand-alone node. */
  peers?: () => ObjectionPeers | undefined;
  logger: Logger;
}

/** Settings of objections and repair. */
export interface RedressInit {
  policy?: RepairPolicy;
  now?: () => number;
  isWorkingDay?: WorkingDayRule;
  sweepIntervalMs?: number;
}

/** A node's objections and repair, with the federation side. */
export interface Redress {
  objections: ObjectionService;
  repairs: RepairService;
  policy: RepairPolicy;
  /**
   * API: a fact's changes, oldest first: for centre staff and auditors, or the enterprise the fact
   * is about (the read is logged).
   */
  factHistory(p: Principal, factId: string, correlationId: string): Promise<FactChange[]>;
  /** Federation: does this node hold the fact about `uscc`, and who determined it. */
  locate(factId: string, uscc: string): Promise<{ held: boolean; originNode?: string }>;
  /** Federation: a determining node's change of a fact (applied here to a copy). */
  receiveStatus(peer: string, fact: CreditFact, change: FactChange, correlationId: string): Promise<{ held: boolean }>;
  /** Federation: an objection received elsewhere. */
  receiveFiling(peer: string, filing: ObjectionFiling): Promise<ObjectionRecord>;
  /** Federation: the decision on an objection this node received. */
  receiveDecision(peer: string, record: ObjectionRecord): Promise<void>;
  /** Checks pending objections against their deadlines (reminders) and counts what is pending, for `metrics`. */
  sweep(): Promise<{ pending: number; dueSoon: number; overdue: number; reminded: number; repairs: number }>;
  /** Messages waiting for delivery, per node. */
  pending(): Promise<Record<string, number>>;
  /** Prometheus text: pending, due-soon and overdue objections, pending applications. */
  metrics(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates a node's objections and repair. */
export function createRedress(c: RedressComponents, init: RedressInit = {}): Redress {
  const policy = init.policy ?? REPAIR_POLICY;
  const now = init.now ?? Date.now;
  const peers = () => c.peers?.();
  const store = objectionStore(c.db);
  const outbox = createOutbox<unknown>({
    db: c.db,
    name: 'objections-outbox',
    what: 'fact change',
    send: () => {
      const p = peers();
      return p ? (node, message) => p.deliver(node, message as never) : undefined;
    },
    logger: c.logger,
  });
  const propagation = createPropagation({ facts: c.facts, log: c.log, outbox, nodeId: c.nodeId, peers });
  const common = { facts: c.facts, store, propagation, outbox, log: c.log, nodeId: c.nodeId, policy, now };
  const objections = createObjectionService({ ...common, peers, isWorkingDay: init.isWorkingDay, logger: c.logger });
  const repairs = createRepairService(common);
  let counts = { pending: 0, dueSoon: 0, overdue: 0, repairs: 0 };
  let timer: NodeJS.Timeout | undefined;
  const sweep = async () => {
    const o = await objections.sweep();
    let pendingRepairs = 0;
    for await (const r of store.repairsHere()) if (r.status === 'APPLIED') pendingRepairs++;
    counts = { pending: o.pending, dueSoon: o.dueSoon, overdue: o.overdue, repairs: pendingRepairs };
    return { ...o, repairs: pendingRepairs };
  };
  const sweepQuietly = () =>
    void sweep().catch((err) => c.logger.error({ err: (err as Error).message }, 'objection sweep failed'));

  return {
    objections,
    repairs,
    policy,
    async factHistory(p, factId, correlationId) {
      const fact = await c.facts.get(factId);
      const allowed =
        fact !== undefined &&
        (p.role === 'centre-staff' || p.role === 'auditor' || (p.role === 'enterprise' && p.uscc === fact.uscc));
      const subject = allowed ? fact.uscc : p.uscc;
      await c.log.append({
        time: new Date(now()).toISOString(),
        actor: { node: c.nodeId, principal: `${p.role}:${p.sub}`, role: p.role },
        action: 'PROFILE_READ',
        decision: allowed ? 'ALLOW' : 'DENY',
        ...(allowed ? {} : { reason: 'NOT_FOUND' }),
        purpose: OBJECTION_PURPOSE,
        scopes: ['fact-history'],
        ...(subject ? { subject } : {}),
        correlationId: correlationId.slice(0, 64),
      });
      if (!allowed) throw new NotFoundError('no fact with this id that you may see is held here');
      return c.facts.history(factId);
    },
    async locate(factId, uscc) {
      const f = await c.facts.get(factId);
      return f && f.uscc === uscc ? { held: true, originNode: f.originNode } : { held: false };
    },
    receiveStatus: (peer, fact, change, correlationId) => propagation.receive(peer, fact, change, correlationId),
    receiveFiling: (peer, filing) => objections.receiveFiling(peer, filing),
    receiveDecision: (peer, record) => objections.receiveDecision(peer, record),
    sweep,
    pending: () => outbox.pending(),
    metrics() {
      const g = (name: string, help: string, v: number) =>
        `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${v}\n`;
      return (
        g('credit_objections_pending', 'Objections this node must decide, pending.', counts.pending) +
        g('credit_objections_due_soon', 'Pending objections close to their deadline (reminded).', counts.dueSoon) +
        g('credit_objections_overdue', 'Pending objections past their deadline.', counts.overdue) +
        g('credit_repair_applications_pending', 'Repair applications this node must decide, pending.', counts.repairs)
      );
    },
    async start() {
      await outbox.start();
      await sweep();
      timer = setInterval(sweepQuietly, init.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await outbox.stop();
    },
  };
}
