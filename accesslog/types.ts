/**
 * The access log's public types: what a log entry, a checkpoint, a listed entry and a proof bundle
 * look like, the {@link AccessLog} service interface, and what `createAccessLog` takes
 * ({@link AccessLogComponents}, {@link AccessLogInit}). Re-exported by ./log.ts.
 */
import type { Logger } from 'pino';
import type { RootDb, StorageGuard } from '../storage/index.ts';
import type { AccessLogState, LogAlarm } from './integrity.ts';
import type { AccessEvent, AccessLogPort } from './port.ts';
import type { ScrubStatus } from './scrub.ts';

/** A leaf of the log as stored and hashed. */
export interface LogEntry {
  /** 2: the consent is committed (`consent`); 1 (earlier entries): the consent id stood in clear (`consentId`). */
  v: 1 | 2;
  time: string;
  actor: AccessEvent['actor'];
  action: AccessEvent['action'];
  decision: AccessEvent['decision'];
  reason?: string;
  purpose?: string;
  /** Base64 commitment to the consent used or asked for: SHA-256(domain ‖ consent id ‖ 0 ‖ opening). */
  consent?: string;
  /** The consent id in clear (entries of version 1 only). */
  consentId?: string;
  scopes: string[];
  /** Base64 commitment to the enterprise: SHA-256(domain ‖ USCC ‖ 0 ‖ opening). */
  subject?: string;
  resultDigest?: string;
  correlationId: string;
}

/**
 * What opens an entry's commitments (kept in the node's private store, never in the tree): the
 * enterprise and the consent it stands for, and the random opening both commitments share.
 */
export interface EntryOpening {
  uscc?: string;
  consentId?: string;
  /** Base64 of 32 random bytes. */
  opening: string;
}

/** A signed checkpoint. */
export interface SignedCheckpoint {
  size: number;
  root: string;
  /** The C2SP signed note. */
  note: string;
}

/** A checkpoint as served to clients: the note carries the witnesses' cosignature lines. */
export interface CosignedCheckpoint extends SignedCheckpoint {
  /** Node ids of the witnesses whose cosignature lines follow the log's signature in `note`. */
  witnesses: string[];
}

/** An entry with its position and, for its own enterprise, the commitment opening. */
export interface ListedEntry {
  index: number;
  entry: LogEntry;
  leafHash: string;
  opening?: EntryOpening;
}

/** Everything needed to check one entry offline (`credit-node verify --bundle`). */
export interface ProofBundle {
  format: 'credit-data-space/proof-bundle@1';
  /** The log's verifier key (c2sp.org/signed-note). */
  logKey: string;
  index: number;
  /** The exact leaf bytes (canonical JSON). */
  entry: string;
  proof: string[];
  /** The signed checkpoint the proof leads to, with the witnesses' cosignature lines (c2sp.org/tlog-cosignature). */
  checkpoint: string;
  /** Node ids of the witnesses that cosigned `checkpoint`. */
  witnesses?: string[];
  /** Whether `checkpoint` carries the log's witness quorum (at least one cosignature when the quorum is 0). */
  cosigned?: boolean;
  opening?: EntryOpening;
}

/** How a proof bundle is issued. */
export interface BundleOptions {
  /** Cosignatures the bundle's checkpoint needs (default: the log's witness quorum). */
  minWitnesses?: number;
  /**
   * How long to wait for a checkpoint covering the entry to be cosigned by that many: a fresh
   * entry is in the next checkpoint within a second, cosigned a moment later. Default 3000 ms when
   * cosignatures are needed, else 0.
   */
  waitMs?: number;
  signal?: AbortSignal;
}

/** Filters of an auditor's query. */
export interface LogQuery {
  actorNode?: string;
  /**
   * A bank's (a node's) entries: those its actors made at it, and those of its requests that
   * another node decided or served (logged there with the principal `bank/…`).
   */
  bank?: string;
  principal?: string;
  purpose?: string;
  action?: string;
  decision?: 'ALLOW' | 'DENY';
  /** ISO times, inclusive. */
  from?: string;
  to?: string;
  limit?: number;
}

/** The access log service. */
export interface AccessLog extends AccessLogPort {
  /** Origin line of checkpoints and name of the log key. */
  readonly origin: string;
  /** Verifier key string of the log (c2sp.org/signed-note). */
  readonly verifierKey: string;
  size(): number;
  latestCheckpoint(): SignedCheckpoint | undefined;
  /** Signs a checkpoint now if entries arrived since the last one. */
  checkpoint(): Promise<SignedCheckpoint | undefined>;
  /**
   * Stored checkpoints, newest first, each note with its cosignature lines appended (unless
   * `withCosignatures` is false). `witnessed` keeps only those carrying the witness quorum: what
   * clients are served.
   */
  checkpoints(options?: {
    limit?: number;
    beforeSize?: number;
    witnessed?: boolean;
    withCosignatures?: boolean;
  }): Promise<CosignedCheckpoint[]>;
  /** The log's own signed checkpoint at exactly `size`, without cosignatures. */
  checkpointAt(size: number): Promise<SignedCheckpoint | undefined>;
  /** Stores a witness's cosignature line for the checkpoint at `size` (verified by the caller). */
  addCosignature(size: number, witness: string, line: string): Promise<void>;
  /**
   * The newest checkpoint carrying at least `minWitnesses` cosignatures (default: the witness
   * quorum), as a note with the cosignature lines appended. With a quorum of 0 (a stand-alone
   * node) it is the latest checkpoint with whatever cosignatures it has.
   */
  cosignedCheckpoint(options?: { minWitnesses?: number }): Promise<CosignedCheckpoint | undefined>;
  /**
   * Sets how many witness cosignatures a checkpoint needs before it is served to clients as
   * witnessed (the federation sets a majority of the other roster members; default 0).
   */
  setWitnessQuorum(quorum: number | (() => number)): void;
  /** The witness quorum in force. */
  witnessQuorum(): number;
  /** One entry, authenticated against the tree. @throws AccessLogCorruptError when its stored bytes do not match */
  entry(index: number): Promise<ListedEntry | undefined>;
  inclusionProof(index: number, size: number): Promise<string[]>;
  consistencyProof(size1: number, size2: number): Promise<string[]>;
  /** An enterprise's own entries (newest first), found through the private index, authenticated like `entry`. */
  entriesFor(uscc: string, options?: { limit?: number }): Promise<ListedEntry[]>;
  /** An auditor's view: entries matching the filters, newest first; every entry scanned is authenticated. */
  query(q: LogQuery): Promise<{ entries: ListedEntry[]; scanned: number; truncated: boolean }>;
  /**
   * A proof bundle for one entry, against the newest checkpoint that covers it and carries the
   * witness quorum; if there is none within `waitMs` (default 3 s when a quorum is set), against
   * the covering checkpoint with the most cosignatures (or the latest checkpoint), marked
   * `cosigned: false`.
   */
  bundle(index: number, options?: BundleOptions): Promise<ProofBundle>;
  /** Erases an enterprise's openings: its entries stay in the tree but can no longer be linked to it. */
  erase(uscc: string): Promise<number>;
  /** Whether appends (and checkpoints) are accepted, and why not. */
  state(): AccessLogState;
  /** What the start-up check, the scrub and serving found wrong with the stored log. */
  alarms(): LogAlarm[];
  /** Progress of the background scrub. */
  scrubStatus(): ScrubStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the log needs. */
export interface AccessLogComponents {
  db: RootDb;
  /** Ed25519 seed of the node identity: signs checkpoints. */
  identitySeed: Uint8Array;
  identityPublicKey: Uint8Array;
  nodeId: string;
  logger: Logger;
  /** The guard of `db` (default: the one `openDatabase` installed, or a new one). */
  storage?: StorageGuard;
}

/** Log settings. */
export interface AccessLogInit {
  /** Checkpoint interval while entries arrive (ms). */
  checkpointIntervalMs?: number;
  /** Largest group-commit batch. */
  maxBatch?: number;
  /** Entries scanned at most by one auditor query. */
  maxScan?: number;
  /** Newest entries authenticated at start-up (default 4096). */
  startupCheck?: number;
  /** Entries the background scrub checks per second (default 10,000; 0: no background scrub). */
  scrubRate?: number;
  /** Pause between two full scrub passes (ms, default one hour). */
  scrubIntervalMs?: number;
}
