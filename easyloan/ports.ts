/**
 * What the platform, the banks' lending desks and post-loan monitoring need from the federation,
 * as ports. `federation/easyloan-protocol.ts` (`/credit/easyloan/1.0.0`) and
 * `federation/monitoring-protocol.ts` (`/credit/monitoring/1.0.0`) implement them; a stand-alone
 * node has none. Every request rejects with a `PeerError` (the peer's code) or
 * `PeerUnavailableError`.
 */
import type { SignedAttestation } from '../evaluation/attestation.ts';
import type { CityId } from '../model/index.ts';
import type { LoanApplication, LoanDecision, Product, ProductInput } from './types.ts';

/** An application as the platform forwards it to a bank: the application and the product it matched. */
export interface ForwardedApplication {
  application: Omit<LoanApplication, 'matches'>;
  product: Product;
}

/** A product as a bank's node sends it to the platform: the officer's input and who published it. */
export interface ProductPublication {
  input: ProductInput;
  /** The officer (pseudonymous id at the bank). */
  publishedBy: string;
}

/** A bank's decision as it reports it to the platform. */
export interface DecisionReport {
  applicationId: string;
  productId: string;
  decision: LoanDecision;
}

/** A centre's answer to the platform's grade request. */
export interface GradeAnswer {
  attestation: SignedAttestation;
  /** GB/T 4754 section letter of the enterprise's industry, as the centre graded it (`?` unknown). */
  industry: string;
}

/** Requests between the platform, the banks and the centres. */
export interface EasyLoanPeers {
  /** The active easy-loan platform of the roster. */
  platform(): string | undefined;
  /** The active credit centre or city peer of a city (not quarantined). */
  centreOf(city: CityId): string | undefined;
  /** The signing key of a member (base64), to check its attestations. */
  signingKey(nodeId: string): string | undefined;
  /** A bank publishes (or republishes) a product at the platform; answers with the platform's copy. */
  publish(platform: string, publication: ProductPublication): Promise<Product>;
  /** A bank withdraws a product. */
  withdraw(platform: string, code: string): Promise<Product>;
  /** The platform forwards an application; the bank answers with the consent request it created. */
  forward(bank: string, forwarded: ForwardedApplication): Promise<{ consentId: string }>;
  /** A bank reports its decision. */
  decide(platform: string, report: DecisionReport): Promise<void>;
  /** The platform asks an enterprise's home centre for its current grade (an applicant's, under its application). */
  grade(centre: string, request: { uscc: string; correlationId: string }): Promise<GradeAnswer>;
}

/** One subscription a bank asks a holder for. */
export interface SubscriptionRequest {
  uscc: string;
  consentId: string;
  /** Where the consent lives (so a holder that has not heard of it can fetch it). */
  home: string;
}

/** A holder's answer to one subscription: accepted, or refused with a code. */
export type SubscriptionAnswer =
  | { uscc: string; ok: true }
  | { uscc: string; ok: false; code: string; reason?: string };

/** An alert: a change of a fact about a monitored borrower, as the determining node pushes it. */
export interface MonitoringAlert {
  /** Stable id: the same change for the same bank is the same alert. */
  id: string;
  uscc: string;
  bank: string;
  consentId: string;
  kind: AlertKind;
  factId: string;
  subtype: string;
  section: string;
  /** The fact's status after the change. */
  status: string;
  severity?: string;
  decisionDate: string;
  sourceUnit: string;
  legalDocumentRef?: string;
  version: number;
  /** When the change was made at the determining node. */
  at: string;
  /** The node that determined the fact (and sends the alert). */
  origin: string;
}

/** What an alert reports. */
export const ALERT_KINDS = [
  'NEW_FACT',
  'DISPUTED',
  'OBJECTION_REJECTED',
  'WITHDRAWN',
  'CORRECTED',
  'REPAIRED',
] as const;
/** What an alert reports. */
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Requests between banks and the nodes holding facts. */
export interface MonitoringPeers {
  /** Active members that determine facts (credit centres, city peers, sources), this node left out. */
  holders(): string[];
  subscribe(node: string, items: SubscriptionRequest[]): Promise<SubscriptionAnswer[]>;
  unsubscribe(node: string, usccs: string[]): Promise<void>;
  alert(bank: string, alert: MonitoringAlert): Promise<void>;
}
