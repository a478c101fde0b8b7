/**
 * What evaluation needs from the federation, as ports: the centres on the roster (their cities
 * and keys) and the requests it makes to them. `federation/evaluation-protocol.ts` implements
 * them over `/credit/evaluation/1.0.0`; a stand-alone node has no peers.
 */
import type { SignedAgreement } from './agreement.ts';
import type { SignedAttestation } from './attestation.ts';
import type { CentreInfo, DistributionRow } from './types.ts';

export type { CentreInfo, DistributionRow } from './types.ts';

/** Requests to other centres. Each rejects with a `PeerError` (its code) or `PeerUnavailableError`. */
export interface EvaluationPeers {
  /** The active credit centres and city peers on the roster that have a city (this node included). */
  centres(): CentreInfo[];
  /** Asks a centre for its current attestation of an enterprise (purpose `cross-city-recognition`). */
  fetchAttestation(
    node: string,
    request: { uscc: string; principal: string; correlationId: string },
  ): Promise<SignedAttestation>;
  /** Sends a new attestation to a centre that recognised an earlier one. */
  push(node: string, attestation: SignedAttestation, correlationId: string): Promise<void>;
  /** Sends an agreement this centre signed to the other party, to counter-sign. */
  propose(node: string, agreement: SignedAgreement): Promise<void>;
  /** Sends an agreement signed by both parties to a centre. */
  distribute(node: string, agreement: SignedAgreement): Promise<void>;
  /** Asks a centre for the distribution of its grades. */
  distribution(node: string): Promise<DistributionRow[]>;
}
