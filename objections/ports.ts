/**
 * What objections and repair need from the federation, as a port. `federation/objection-protocol.ts`
 * implements it over `/credit/objection/1.0.0`; a stand-alone node has no peers.
 */
import type { CreditFact } from '../model/index.ts';
import type { FactChange } from './fact-changes.ts';
import type { ObjectionFiling, ObjectionRecord } from './store.ts';

/** A message the outbox delivers. */
export type Delivery =
  | { op: 'status'; fact: CreditFact; change: FactChange; correlationId: string }
  | { op: 'objection'; record: ObjectionRecord };

/** Requests to other nodes. Each rejects with a `PeerError` (its code) or `PeerUnavailableError`. */
export interface ObjectionPeers {
  /** Active members that may hold facts or copies of them (centres, city peers, sources, the easy-loan platform), this node left out. */
  holders(): string[];
  /** Asks a node whether it holds a fact about an enterprise, and which node determined it. */
  locate(node: string, q: { factId: string; uscc: string }): Promise<{ held: boolean; originNode?: string }>;
  /** Hands an objection to the node that determined the fact; answers with the objection as kept there. */
  file(node: string, filing: ObjectionFiling): Promise<ObjectionRecord>;
  /** Delivers a fact change or an objection's decision. */
  deliver(node: string, message: Delivery): Promise<void>;
}
