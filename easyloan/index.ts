/**
 * The Credit Easy-Loan platform (信易贷) and the loan journey (DESIGN §1, §5): products and
 * applications at the platform (./platform.ts), the banks' lending desks (./desk.ts), grades for
 * matching from the city centres (./grades.ts), and post-loan monitoring (信用波动预警): alerts at
 * the nodes that determine facts (./monitoring/alerts.ts, fed by fact changes and by facts recorded
 * while the node runs, ./monitoring/intake.ts), the banks' watch lists (./monitoring/watch.ts).
 * Start from {@link createEasyLoan}, which builds the parts a node's role plays.
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { ConsentService } from '../authz/consents.ts';
import type { EvaluationService } from '../evaluation/service.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { RootDb } from '../storage/index.ts';
import { createLenderDesk, type LenderDesk } from './desk.ts';
import { type Figures, figuresMetrics } from './figures.ts';
import { createGradeDesk, type GradeDesk } from './grades.ts';
import { type AlertService, createAlertService } from './monitoring/alerts.ts';
import { createFactIntake, type FactIntake } from './monitoring/intake.ts';
import { createWatchList, type WatchList } from './monitoring/watch.ts';
import { createEasyLoanPlatform, type EasyLoanPlatform } from './platform.ts';
import type { EasyLoanPeers, MonitoringPeers } from './ports.ts';

export type { InboxEntry, LenderDesk } from './desk.ts';
export { MONITORING_SCOPES } from './desk.ts';
export * from './errors.ts';
export type { FigureRow, Figures } from './figures.ts';
export { type GradeDesk, NotGradedError } from './grades.ts';
export { ineligibility, matchProducts } from './match.ts';
export type { AlertService, Subscription } from './monitoring/alerts.ts';
export type { FactIntake, RecordedFacts } from './monitoring/intake.ts';
export type { MonitorResult, StoredAlert, Watch, WatchList } from './monitoring/watch.ts';
export type { EasyLoanPlatform } from './platform.ts';
export * from './ports.ts';
export * from './types.ts';

/** What the easy-loan parts of a node need. */
export interface EasyLoanComponents {
  db: RootDb;
  consents: ConsentService;
  profiles: ProfileStore;
  log: AccessLogPort;
  nodeId: string;
  /** The node's role (`easy-loan`, `bank`, `credit-centre`, `city-peer`, `source`). */
  role: string;
  tokenise: (idNumber: string) => string;
  /** The node's evaluation service (city centres): grades for matching. */
  evaluation?: () => EvaluationService | undefined;
  /** The federation's requests; resolved on each use (wired after this). */
  peers?: () => { easyLoan: EasyLoanPeers; monitoring: MonitoringPeers } | undefined;
  logger: Logger;
  now?: () => number;
}

/** The parts of the easy-loan journey a node plays, by role. */
export interface EasyLoan {
  /** The platform (`easy-loan` node). */
  platform?: EasyLoanPlatform;
  /** A bank's lending desk and watch list (`bank` nodes). */
  desk?: LenderDesk;
  watch?: WatchList;
  /** Alerts and facts recorded while running (nodes that determine facts). */
  alerts?: AlertService;
  intake?: FactIntake;
  /** Grades for matching (city centres). */
  grades?: GradeDesk;
  /** Prometheus text of the parts (the platform's figures as last computed, refreshed in the background). */
  metrics(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const HOLDER_ROLES = new Set(['credit-centre', 'city-peer', 'source']);

/** Builds the parts of the easy-loan journey that `c.role` plays. */
export function createEasyLoan(c: EasyLoanComponents): EasyLoan {
  const common = { db: c.db, consents: c.consents, nodeId: c.nodeId, logger: c.logger, now: c.now };
  const easyLoanPeers = () => c.peers?.()?.easyLoan;
  const monitoringPeers = () => c.peers?.()?.monitoring;
  const platform =
    c.role === 'easy-loan' ? createEasyLoanPlatform({ ...common, log: c.log, peers: easyLoanPeers }) : undefined;
  const desk =
    c.role === 'bank' ? createLenderDesk({ ...common, profiles: c.profiles, peers: easyLoanPeers }) : undefined;
  const watch =
    c.role === 'bank'
      ? createWatchList({ ...common, profiles: c.profiles, log: c.log, peers: monitoringPeers })
      : undefined;
  const alerts = HOLDER_ROLES.has(c.role)
    ? createAlertService({ ...common, log: c.log, peers: monitoringPeers })
    : undefined;
  const intake = alerts
    ? createFactIntake({ db: c.db, profiles: c.profiles, alerts, nodeId: c.nodeId, tokenise: c.tokenise })
    : undefined;
  const grades =
    c.evaluation && (c.role === 'credit-centre' || c.role === 'city-peer')
      ? createGradeDesk({ evaluation: c.evaluation, log: c.log, nodeId: c.nodeId })
      : undefined;
  let figures: Figures | undefined;
  const refresh = () =>
    void platform
      ?.cachedFigures()
      .then((f) => {
        figures = f;
      })
      .catch(() => undefined);
  return {
    platform,
    desk,
    watch,
    alerts,
    intake,
    grades,
    metrics() {
      if (platform) refresh();
      return `${figures ? figuresMetrics(figures) : ''}${alerts?.metrics() ?? ''}${watch?.metrics() ?? ''}`;
    },
    async start() {
      await platform?.start();
      await alerts?.start();
      await watch?.start();
      refresh();
    },
    async stop() {
      await watch?.stop();
      await alerts?.stop();
      await platform?.stop();
    },
  };
}
