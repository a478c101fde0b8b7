/**
 * How a fact change reaches every node that serves the fact: the determining node queues it for
 * every other holder (in the batch of the change itself, see storage/outbox.ts); a holder applies it to
 * its copy only if it came from the fact's determining node and is newer, logs it, and its
 * listeners re-grade and refresh lists. Nodes that hold no copy answer that they hold none.
 * Also: finding the node that determined a fact, for a node that does not hold it.
 */
import type { AccessAction, AccessLogPort } from '../accesslog/port.ts';
import { type CreditFact, FACT_SECTION } from '../model/index.ts';
import type { Outbox } from '../storage/outbox.ts';
import type { BatchOp, FactChange, FactChangeService } from './fact-changes.ts';
import type { Delivery, ObjectionPeers } from './ports.ts';

/** Purpose of log entries about objections. */
export const OBJECTION_PURPOSE = 'credit-objection';
/** Purpose of log entries about repair. */
export const REPAIR_PURPOSE = 'credit-repair';

/** The log action of a change. */
export const actionOf = (change: Pick<FactChange, 'reason'>): AccessAction =>
  change.reason === 'REPAIRED' ? 'REPAIR' : 'OBJECTION';

/** What propagation needs. */
export interface PropagationComponents {
  facts: FactChangeService;
  log: AccessLogPort;
  outbox: Outbox<unknown>;
  nodeId: string;
  peers: () => ObjectionPeers | undefined;
}

/** Propagation of fact changes. */
export interface Propagation {
  /** Outbox writes sending a change to every other holder. */
  broadcast(fact: CreditFact, change: FactChange, correlationId: string): BatchOp[];
  /**
   * The fact if held here, else the node that determined it as some holder reports; `unavailable`
   * lists holders that did not answer.
   */
  locate(factId: string, uscc: string): Promise<{ fact?: CreditFact; originNode?: string; unavailable: string[] }>;
  /** A determining node's change of a fact: applied here if this node holds a copy, and logged. */
  receive(peer: string, fact: CreditFact, change: FactChange, correlationId: string): Promise<{ held: boolean }>;
}

/** Creates the propagation of a node. */
export function createPropagation(c: PropagationComponents): Propagation {
  return {
    broadcast(fact, change, correlationId) {
      const message: Delivery = { op: 'status', fact, change, correlationId };
      return (c.peers()?.holders() ?? []).map((node) => c.outbox.op(node, message));
    },
    async locate(factId, uscc) {
      const fact = await c.facts.get(factId);
      if (fact)
        return fact.uscc === uscc ? { fact, originNode: fact.originNode, unavailable: [] } : { unavailable: [] };
      const peers = c.peers();
      const unavailable: string[] = [];
      let originNode: string | undefined;
      await Promise.all(
        (peers?.holders() ?? []).map(async (node) => {
          try {
            const r = await peers!.locate(node, { factId, uscc });
            if (r.held && r.originNode) originNode ??= r.originNode;
          } catch {
            unavailable.push(node);
          }
        }),
      );
      return { originNode, unavailable: unavailable.sort() };
    },
    async receive(peer, fact, change, correlationId) {
      const applied = await c.facts.apply(peer, fact, change);
      if (!applied) return { held: (await c.facts.get(fact.id)) !== undefined };
      await c.log.append({
        time: new Date().toISOString(),
        actor: { node: c.nodeId, principal: `node:${peer}`, role: 'node' },
        action: actionOf(applied),
        decision: 'ALLOW',
        reason: `${applied.reason}:${applied.to}`,
        purpose: applied.reason === 'REPAIRED' ? REPAIR_PURPOSE : OBJECTION_PURPOSE,
        scopes: [FACT_SECTION[fact.subtype]],
        subject: fact.uscc,
        correlationId,
      });
      return { held: true };
    },
  };
}
