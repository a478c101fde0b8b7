/**
 * Wires the federation subsystems of one node: host, roster, health, consent propagation,
 * section fetching and checkpoint witnessing, and starts and stops them in order.
 */
import type { AccessLog } from '../accesslog/log.ts';
import { defaultWitnessQuorum } from '../accesslog/verify.ts';
import type { AccessService, ConsentRouting, ConsentService, SectionSource } from '../authz/index.ts';
import type { HePool } from '../crypto/he/index.ts';
import { ed25519Signer, fromBase64 } from '../crypto/index.ts';
import type { EasyLoan } from '../easyloan/index.ts';
import type { EvaluationService } from '../evaluation/index.ts';
import { createFederatedAudit, type FederatedAudit } from '../federation/audit.ts';
import { type ConsentSync, createConsentSync } from '../federation/consent-sync.ts';
import { createEasyLoanProtocol, type EasyLoanProtocol } from '../federation/easyloan-protocol.ts';
import { createEvaluationProtocol, type EvaluationProtocol } from '../federation/evaluation-protocol.ts';
import { createHealthService, type HealthService } from '../federation/health.ts';
import { createFederationHost, type FederationHost } from '../federation/host.ts';
import { createInterceptProtocol, type InterceptProtocol } from '../federation/intercept-protocol.ts';
import { createJointQueries, type JointQueries } from '../federation/joint/protocol.ts';
import { createListCheck, type ListCheck } from '../federation/list-check.ts';
import { createMonitoringProtocol, type MonitoringProtocol } from '../federation/monitoring-protocol.ts';
import { createObjectionProtocol, type ObjectionProtocol } from '../federation/objection-protocol.ts';
import { createRosterService, type RosterService } from '../federation/roster-service.ts';
import { createSectionFetching } from '../federation/sections.ts';
import { createWitness, type Witness } from '../federation/witness.ts';
import type { InterceptService } from '../intercept/index.ts';
import { SCORE_MODEL_V1, SECTIONS } from '../model/index.ts';
import type { Redress } from '../objections/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { RootDb } from '../storage/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeKeys } from './keystore.ts';
import type { Logger } from './logger.ts';

/** The federation side of a node. */
export interface NodeFederation {
  host: FederationHost;
  roster: RosterService;
  health: HealthService;
  witness: Witness;
  consentSync: ConsentSync;
  /** How consents reach their home nodes. */
  consentRouting: ConsentRouting;
  /** An enterprise's entries and erasure across the federation. */
  audit: FederatedAudit;
  /** Joint queries (exposure, score): this node's requesting, coordinating and contributing roles. */
  joint: JointQueries;
  /** Private list checks: a centre's prepared lists, a bank's checks. */
  listCheck: ListCheck;
  /** Evaluation exchanges between centres (attestations, agreements, distributions). */
  evaluation: EvaluationProtocol;
  /** Check-and-intercept between centres (listings of the other cities). */
  intercept: InterceptProtocol;
  /** Objections, fact changes and repair between the nodes holding facts. */
  objections: ObjectionProtocol;
  /** The Credit Easy-Loan journey: products, applications, decisions, grades for matching. */
  easyLoan: EasyLoanProtocol;
  /** Post-loan monitoring: subscriptions and alerts between banks and the nodes determining facts. */
  monitoring: MonitoringProtocol;
  /** Reads sections from whichever nodes hold them. */
  source: SectionSource;
  /** Roster and witness alarms. */
  alarms(): unknown[];
  /** Node ids whose data the federation must not trust (uncleared SPLIT_VIEW, INCONSISTENT or ROLLBACK alarms). */
  quarantined(): string[];
  /** An operator clears the witness alarms about a node, lifting its quarantine. @returns alarms cleared */
  clearAlarms(nodeId: string, by: string): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the federation wiring needs from the node. */
export interface FederationWiringComponents {
  config: NodeConfig & { federation: NonNullable<NodeConfig['federation']> };
  keys: NodeKeys;
  db: RootDb;
  logger: Logger;
  accessLog: AccessLog;
  consents: ConsentService;
  /** The access service; resolved lazily because it reads through this federation's source. */
  access: () => AccessService;
  local: SectionSource;
  profiles: ProfileStore;
  /** The node's HE worker pool, created on first use. */
  he: () => Promise<HePool>;
  /** The node's evaluation service (city nodes only); resolved lazily: it uses this federation's peers. */
  evaluation?: () => EvaluationService | undefined;
  /** The node's check-and-intercept service (centres only); resolved lazily: it uses this federation's peers. */
  intercept?: () => InterceptService | undefined;
  /** The node's objections and repair (nodes holding facts); resolved lazily: they use this federation's peers. */
  redress?: () => Redress | undefined;
  /** The node's easy-loan parts (by role); resolved lazily: they use this federation's peers. */
  easyLoan?: () => EasyLoan | undefined;
}

/** Creates the federation side of a node. */
export function wireFederation(c: FederationWiringComponents): NodeFederation {
  const { config, keys, db, logger } = c;
  const host = createFederationHost(
    { identitySeed: keys.identity.seed, nodeId: config.nodeId, logger },
    { listen: [...config.p2p.listen], announce: [...config.p2p.announce] },
  );
  const roster = createRosterService(
    { host, db, trust: config.federation, logger, nodeId: config.nodeId },
    { path: config.federation.roster },
  );
  const peerKey = (nodeId: string) => {
    if (nodeId === config.nodeId) return keys.identity.publicKey;
    const m = roster.current()?.roster.members.find((x) => x.nodeId === nodeId);
    return m ? fromBase64(m.signingKey) : undefined;
  };
  const witness = createWitness({
    host,
    db,
    log: c.accessLog,
    nodeId: config.nodeId,
    identitySeed: keys.identity.seed,
    logger,
    peerKey,
  });
  // Checkpoints are served to clients as witnessed once a majority of the other members cosigned them.
  c.accessLog.setWitnessQuorum(() =>
    defaultWitnessQuorum((roster.current()?.roster.members ?? []).filter((m) => m.nodeId !== config.nodeId).length),
  );
  const health = createHealthService({
    host,
    roster,
    logger,
    nodeId: config.nodeId,
    role: config.role,
    checkpoint: () => c.accessLog.latestCheckpoint()?.note,
    views: () => witness.views(),
  });
  health.onReport((nodeId, report) => {
    if (typeof report.checkpoint === 'string') void witness.observe(nodeId, report.checkpoint);
    if (report.views && typeof report.views === 'object') void witness.compare(nodeId, report.views);
  });
  const audit = createFederatedAudit({ host, log: c.accessLog, nodeId: config.nodeId });
  const joint = createJointQueries({
    host,
    consents: c.consents,
    log: c.accessLog,
    profiles: c.profiles,
    he: c.he,
    nodeId: config.nodeId,
    role: config.role,
    signer: ed25519Signer(keys.identity.seed),
    serves: () => config.serves ?? SECTIONS,
    quarantined: () => witness.quarantined(),
    model: SCORE_MODEL_V1,
    logger,
  });
  const listCheck = createListCheck({
    host,
    db,
    profiles: c.profiles,
    consents: c.consents,
    log: c.accessLog,
    nodeId: config.nodeId,
    role: config.role,
    signer: ed25519Signer(keys.identity.seed),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const consentSync = createConsentSync({ host, consents: c.consents, db, nodeId: config.nodeId, logger });
  const evaluation = createEvaluationProtocol({
    host,
    evaluation: () => c.evaluation?.(),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const intercept = createInterceptProtocol({
    host,
    nodeId: config.nodeId,
    intercept: () => c.intercept?.(),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const objections = createObjectionProtocol({
    host,
    nodeId: config.nodeId,
    redress: () => c.redress?.(),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const easyLoan = createEasyLoanProtocol({
    host,
    nodeId: config.nodeId,
    easyLoan: () => c.easyLoan?.(),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const monitoring = createMonitoringProtocol({
    host,
    nodeId: config.nodeId,
    easyLoan: () => c.easyLoan?.(),
    quarantined: () => witness.quarantined(),
    logger,
  });
  const sections = createSectionFetching({
    host,
    get access() {
      return c.access();
    },
    log: c.accessLog,
    local: c.local,
    nodeId: config.nodeId,
    role: config.role,
    signer: ed25519Signer(keys.identity.seed),
    quarantined: () => witness.quarantined(),
    logger,
  });
  return {
    host,
    roster,
    health,
    witness,
    consentSync,
    consentRouting: consentSync.routing,
    audit,
    joint,
    listCheck,
    evaluation,
    intercept,
    objections,
    easyLoan,
    monitoring,
    source: sections.source,
    alarms: () => [...roster.alarms().map((detail) => ({ kind: 'ROSTER_CONFLICT', detail })), ...witness.alarms()],
    quarantined: () => witness.quarantined(),
    clearAlarms: (nodeId, by) => witness.clearAlarms(nodeId, by),
    async start() {
      await host.start();
      await roster.start();
      await witness.start();
      await sections.register();
      await consentSync.register();
      await audit.register();
      await joint.register();
      await listCheck.register();
      await evaluation.register();
      await intercept.register();
      await objections.register();
      await easyLoan.register();
      await monitoring.register();
      await witness.register();
      await consentSync.start();
      await health.start();
    },
    async stop() {
      consentSync.stop();
      listCheck.stop();
      await health.stop();
      await witness.stop();
      await roster.stop();
      await host.stop();
    },
  };
}
