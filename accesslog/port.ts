/**
 * The access-log port: what every subsystem that touches enterprise data calls to record an
 * access or a decision (DESIGN §6). The signed Merkle log implements it; tests may use an
 * in-memory fake that keeps the same contract.
 *
 * Contract: `append` resolves only once the entry is durable. If it rejects, the caller must
 * refuse the access it was about to grant (fail closed) and return no data.
 */
import { CreditError } from '../model/errors.ts';

/** Actions recorded in the log. */
export const ACCESS_ACTIONS = [
  'PROFILE_READ',
  'REPORT_ISSUED',
  'CONSENT_REQUESTED',
  'CONSENT_GRANTED',
  'CONSENT_APPROVED',
  'CONSENT_REJECTED',
  'CONSENT_PAUSED',
  'CONSENT_RESUMED',
  'CONSENT_REVOKED',
  'CONSENT_EXPIRED',
  'PEER_FETCH',
  'JOINT_QUERY',
  'CHECK_AND_INTERCEPT',
  'OBJECTION',
  'REPAIR',
  'ENTRIES_LISTED',
  'OPENINGS_ERASED',
] as const;
/** An action recorded in the log. */
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

/** One access or decision, as handed to the log. */
export interface AccessEvent {
  /** ISO 8601 time of the decision. */
  time: string;
  /** Who acted: the node serving the request and the authenticated principal. */
  actor: { node: string; principal: string; role: string };
  action: AccessAction;
  decision: 'ALLOW' | 'DENY';
  /** Stable code of the denial reason (e.g. `CONSENT_REQUIRED`), when denied. */
  reason?: string;
  purpose?: string;
  consentId?: string;
  /** Sections or joint-query kinds concerned. */
  scopes: string[];
  /**
   * USCC of the enterprise concerned. The log never stores it bare in a leaf: it becomes a
   * keyed commitment whose opening stays in the node's private store.
   */
  subject?: string;
  /** Hex SHA-256 of the canonical result returned (allowed reads). */
  resultDigest?: string;
  /** Shared by every node serving one request. */
  correlationId: string;
}

/** Where an appended entry sits in the log. */
export interface AppendReceipt {
  /** 0-based leaf index. */
  index: number;
  /** Hex RFC 6962 leaf hash. */
  leafHash: string;
}

/** Options of {@link AccessLogPort.append}. */
export interface AppendOptions {
  signal?: AbortSignal;
  /** One of a batch operation's many entries: committed after the single entries waiting. */
  bulk?: boolean;
}

/** The write side of the access log. */
export interface AccessLogPort {
  /**
   * Appends durably. Rejects with `AccessLogUnavailableError` when the entry cannot be made durable.
   * `bulk`: the entry is one of many a batch operation appends at once (a joint query's decisions,
   * a batch check); the log commits waiting single entries first, so that a batch of thousands
   * never holds a profile read back by more than the one commit already under way.
   */
  append(event: AccessEvent, options?: AppendOptions): Promise<AppendReceipt>;
}

/** The log could not make an entry durable; the access it recorded must not happen. */
export class AccessLogUnavailableError extends CreditError {
  static override name = 'AccessLogUnavailableError';
  override readonly code = 'LOG_UNAVAILABLE';
}
