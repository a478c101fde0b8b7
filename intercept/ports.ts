/**
 * What check-and-intercept needs from the federation, as a port: the other centres to consult and
 * the listings request. `federation/intercept-protocol.ts` implements it over
 * `/credit/intercept/1.0.0`; a stand-alone node consults no one.
 */
import type { CityId, FactSubtype } from '../model/index.ts';
import type { Listing } from './decide.ts';

/** A request for the live listings of a batch, as one centre sends it to another. */
export interface ListingsRequest {
  matter: string;
  /** The department of the business system that checks (for the answering centre's log). */
  department: string;
  /** The business system's principal id (for the answering centre's log). */
  principal: string;
  usccs: string[];
  subtypes: FactSubtype[];
  correlationId: string;
}

/** A centre's answer: the listings it holds, by position in the batch (enterprises without any left out). */
export interface ListingsAnswer {
  hits: Array<[index: number, listings: Listing[]]>;
}

/** Requests to the other centres. Each rejects with a `PeerError` (its code) or `PeerUnavailableError`. */
export interface InterceptPeers {
  /** The other active credit centres and city peers, this node and quarantined members left out. */
  centres(): Array<{ nodeId: string; city?: CityId }>;
  /** Asks a centre for the live listings of a batch. */
  listings(node: string, request: ListingsRequest, options: { timeoutMs: number }): Promise<ListingsAnswer>;
}
