/**
 * The composition root: one function that validates config, opens the database and keys once,
 * wires every subsystem through its `components`, and starts and stops them in order.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type AccessLog, createAccessLog } from '../accesslog/log.ts';
import type { AccessAction } from '../accesslog/port.ts';
import {
  type AccessService,
  type ConsentService,
  type ConsentStatus,
  createAccessService,
  createBindingStore,
  createConsentService,
  localSectionSource,
  principalLabel,
  type TokenService,
} from '../authz/index.ts';
import { idNumberTokenizer } from '../connectors/produce.ts';
import { createConsoleHandler, logKeysOf } from '../console/serve.ts';
import { createHePool, type HePool, type HePoolStats } from '../crypto/he/index.ts';
import { ed25519Signer } from '../crypto/index.ts';
import { createEasyLoan, type EasyLoan } from '../easyloan/index.ts';
import { createEvaluationService, type EvaluationPeers, type EvaluationService } from '../evaluation/index.ts';
import { createFederatedAudit } from '../federation/audit.ts';
import { createJointJobs } from '../federation/joint/jobs.ts';
import { createGraphqlHandler } from '../graphql/server.ts';
import { createInterceptService, type InterceptPeers, type InterceptService } from '../intercept/index.ts';
import {
  createFactChanges,
  createRedress,
  type FactChangeService,
  type ObjectionPeers,
  type Redress,
} from '../objections/index.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { openDatabase, type RootDb, storageGuard } from '../storage/index.ts';
import type { NodeConfig } from './config.ts';
import { type NodeFederation, wireFederation } from './federation-wiring.ts';
import { KEY_FILE, loadOrCreateKeys, type NodeKeys } from './keystore.ts';
import type { Logger } from './logger.ts';
import { renderMetrics } from './metrics.ts';
import { nodeTokenService, trustedIssuers } from './tokens.ts';

/** The log action of a consent transition: ACTIVE first is a grant, after REQUESTED an approval, after PAUSED a resumption. */
function consentAction(to: ConsentStatus, prev: ConsentStatus | undefined): AccessAction {
  if (to === 'ACTIVE')
    return prev === undefined ? 'CONSENT_GRANTED' : prev === 'REQUESTED' ? 'CONSENT_APPROVED' : 'CONSENT_RESUMED';
  return `CONSENT_${to}`;
}

/** A running (or stopped) credit node. */
export interface CreditNode {
  readonly config: NodeConfig;
  readonly keys: NodeKeys;
  readonly db: RootDb;
  readonly logger: Logger;
  readonly profiles: ProfileStore;
  /** The signed access log: every use of credit data is recorded here. */
  readonly accessLog: AccessLog;
  readonly tokens: TokenService;
  readonly consents: ConsentService;
  readonly access: AccessService;
  /** Tokenises natural-person ID numbers with the node's commitment key. */
  tokenise(idNumber: string): string;
  /** Federation services, when the config names a roster. */
  readonly federation: NodeFederation | undefined;
  /** Public credit evaluation and mutual recognition: city centres (credit centre or city peer with a city) only. */
  readonly evaluation: EvaluationService | undefined;
  /** Check-and-intercept for government business systems: credit centres and city peers only. */
  readonly intercept: InterceptService | undefined;
  /** Objections and credit repair: every node that holds facts (not banks). */
  readonly redress: Redress | undefined;
  /** Changes of facts after they were determined, with their history (objections, repair). */
  readonly factChanges: FactChangeService;
  /** The Credit Easy-Loan journey: the platform, a bank's lending desk and watch list, grades, post-loan alerts. */
  readonly easyLoan: EasyLoan;
  /** Base URL of the HTTP API once started. */
  readonly url: string | undefined;
  /**
   * What the HE worker threads hold (WASM heap, live node-seal objects, key pairs), or undefined
   * before the first joint query started them: a key pair left behind is a leak.
   */
  heStats(): Promise<HePoolStats | undefined>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Options that are not part of the config file. */
export interface CreateNodeOptions {
  logger: Logger;
  /** Passphrase of a sealed key file. */
  passphrase?: string;
  /** Use an in-memory database (tests). */
  memory?: boolean;
  /** Serve profiles without consent checks or logging: the benchmark baseline only. */
  benchUnchecked?: boolean;
}

/** Creates a node: opens its database and keys; {@link CreditNode.start} starts serving. */
export async function createCreditNode(config: NodeConfig, options: CreateNodeOptions): Promise<CreditNode> {
  const logger = options.logger.child({ node: config.nodeId });
  const db = await openDatabase(options.memory ? { memory: true } : join(config.dataDir, 'db'), { logger });
  const storage = storageGuard(db);
  let keys: NodeKeys;
  try {
    keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), { passphrase: options.passphrase });
  } catch (err) {
    await db.close();
    throw err;
  }
  const profiles = createProfileStore({ db });
  const accessLog = createAccessLog({
    db,
    identitySeed: keys.identity.seed,
    identityPublicKey: keys.identity.publicKey,
    nodeId: config.nodeId,
    logger,
  });
  const tokenise = idNumberTokenizer(keys.commitmentKey);

  const tokens = nodeTokenService(config, keys);
  const bindings = createBindingStore({
    db,
    nodeId: config.nodeId,
    identitySeed: keys.identity.seed,
    trustedIssuers: (uscc) => trustedIssuers(config, keys, federation?.roster.current()?.roster.members, uscc),
  });
  const consents = createConsentService({
    db,
    nodeId: config.nodeId,
    bindings,
    routing: () => federation?.consentRouting,
    logger,
  });
  // Every lifecycle change a consent's home makes is an entry in its access log (DESIGN §6).
  consents.onChange((record, t) => {
    const action = consentAction(t.to, record.history.at(-2)?.to);
    void accessLog
      .append({
        time: t.at,
        actor: {
          node: config.nodeId,
          // An officer only ever acts on consents granted to its own bank.
          principal: principalLabel({ ...t.by, bank: record.body.grantee.node }),
          role: t.by.role,
        },
        action,
        decision: 'ALLOW',
        ...(t.reason ? { reason: 'STATED' } : {}),
        purpose: record.body.purpose,
        consentId: record.id,
        scopes: [...record.body.scopes],
        subject: record.body.enterprise,
        // Random: anything derived from the consent id would let log readers link entries to it.
        correlationId: randomUUID(),
      })
      .catch((err) => logger.error({ err: (err as Error).message }, 'consent change not logged'));
  });
  const local = localSectionSource(profiles, config.nodeId);
  // Public credit evaluation (DESIGN §8): a city's centre grades the enterprises domiciled in its city.
  const evaluation: EvaluationService | undefined =
    config.city && (config.role === 'credit-centre' || config.role === 'city-peer')
      ? createEvaluationService({
          db,
          profiles,
          log: accessLog,
          signer: ed25519Signer(keys.identity.seed),
          nodeId: config.nodeId,
          role: config.role,
          city: config.city,
          peers: (): EvaluationPeers | undefined => federation?.evaluation.peers,
          logger,
        })
      : undefined;
  // Check-and-intercept, objections and repair (DESIGN §9).
  const isCentre = config.role === 'credit-centre' || config.role === 'city-peer';
  const intercept: InterceptService | undefined = isCentre
    ? createInterceptService({
        db,
        profiles,
        log: accessLog,
        nodeId: config.nodeId,
        city: config.city,
        peers: (): InterceptPeers | undefined => federation?.intercept.peers,
        logger,
      })
    : undefined;
  const factChanges = createFactChanges({ db, profiles, nodeId: config.nodeId, logger });
  const redress: Redress | undefined =
    config.role === 'bank'
      ? undefined
      : createRedress({
          db,
          facts: factChanges,
          log: accessLog,
          nodeId: config.nodeId,
          peers: (): ObjectionPeers | undefined => federation?.objections.peers,
          logger,
        });
  // A disputed, corrected or repaired fact: the grade is recomputed here, the centre's lists rescanned.
  factChanges.onChange(async (change) => {
    await evaluation?.reevaluate(change.uscc);
    if (isCentre && federation)
      void federation.listCheck
        .refresh()
        .catch((err) => logger.error({ err: (err as Error).message }, 'list refresh after a fact change failed'));
  });
  // The Credit Easy-Loan journey and post-loan monitoring: each node plays the parts of its role.
  const easyLoan = createEasyLoan({
    db,
    consents,
    profiles,
    log: accessLog,
    nodeId: config.nodeId,
    role: config.role,
    tokenise,
    evaluation: () => evaluation,
    peers: () =>
      federation ? { easyLoan: federation.easyLoan.peers, monitoring: federation.monitoring.peers } : undefined,
    logger,
  });
  if (easyLoan.alerts) factChanges.onChange((change, fact) => easyLoan.alerts?.factChanged(change, fact));
  // Facts recorded while running: re-graded and the centre's lists rescanned, as after a fact change.
  easyLoan.intake?.onRecorded(async (usccs) => {
    for (const uscc of usccs) await evaluation?.reevaluate(uscc);
    if (isCentre && federation)
      void federation.listCheck
        .refresh()
        .catch((err) => logger.error({ err: (err as Error).message }, 'list refresh after new facts failed'));
  });
  // The HE worker pool (node-seal in worker threads) is started on the first joint query only.
  let hePool: HePool | undefined;
  const he = async () => {
    hePool ??= createHePool();
    return hePool;
  };
  const jobs = createJointJobs();
  let access: AccessService | undefined;
  const federation = config.federation
    ? wireFederation({
        config: { ...config, federation: config.federation },
        keys,
        db,
        logger,
        accessLog,
        consents,
        access: () => access!,
        local,
        profiles,
        he,
        evaluation: () => evaluation,
        intercept: () => intercept,
        redress: () => redress,
        easyLoan: () => easyLoan,
      })
    : undefined;
  access = createAccessService({
    consents,
    source: federation?.source ?? local,
    log: accessLog,
    nodeId: config.nodeId,
    identitySeed: keys.identity.seed,
    unchecked: options.benchUnchecked,
  });
  const graphql = createGraphqlHandler(
    {
      access,
      consents,
      log: accessLog,
      tokens,
      logger,
      audit: federation?.audit ?? createFederatedAudit({ log: accessLog, nodeId: config.nodeId }),
      clearFederationAlarms: federation ? (id, by) => federation.clearAlarms(id, by) : undefined,
      evaluation,
      intercept,
      redress,
      easyLoan,
      listCheck: federation
        ? (principal, usccs, purpose, options) => federation.listCheck.check(principal, usccs, purpose, options)
        : undefined,
      joint: federation
        ? {
            start: (principal, input) =>
              jobs.start(
                principal,
                input.kind,
                input.usccs.length,
                (progress) =>
                  federation.joint.run(principal, input.kind, input.usccs, input.purpose, {
                    onProgress: progress,
                  }),
                input.wait,
              ),
            job: (principal, id) => jobs.get(principal, id),
          }
        : undefined,
      federation: federation
        ? () => {
            const peers = new Map(federation.health.peers().map((p) => [p.nodeId, p]));
            const quarantined = federation.quarantined();
            return {
              nodeId: config.nodeId,
              role: config.role,
              rosterVersion: federation.roster.current()?.roster.version ?? 0,
              members: (federation.roster.current()?.roster.members ?? []).map((m) => {
                const p = peers.get(m.nodeId);
                const size = p?.checkpoint ? Number(p.checkpoint.split('\n')[1]) : undefined;
                return {
                  nodeId: m.nodeId,
                  name: m.name,
                  role: m.role,
                  city: m.city,
                  up: m.nodeId === config.nodeId || (p?.up ?? false),
                  lastSeen: p?.lastSeen,
                  rttMs: p?.rttMs,
                  rosterVersion: p?.rosterVersion,
                  checkpointSize: m.nodeId === config.nodeId ? accessLog.latestCheckpoint()?.size : size,
                  quarantined: quarantined.includes(m.nodeId),
                };
              }),
              alarms: federation.alarms() as Array<{ kind: string; detail: string }>,
              quarantined,
            };
          }
        : undefined,
    },
    { graphiql: config.api.graphiql, development: config.api.development, corsOrigins: config.api.corsOrigins },
  );

  // The web console (console/dist, when built) at `/`, and the log keys it verifies proofs with.
  const consoleHandler = createConsoleHandler({
    logKeys: () => logKeysOf(config.nodeId, keys.identity.publicKey, federation?.roster.current()?.roster),
  });

  let server: Server | undefined;
  let url: string | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/graphql')) {
      graphql(req, res).catch((err) => {
        logger.error({ err: (err as Error).message }, 'graphql transport failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } }] }));
      });
      return;
    }
    if (req.url === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        renderMetrics(
          config,
          accessLog,
          federation,
          storage,
          () => `${intercept?.metrics() ?? ''}${redress?.metrics() ?? ''}${easyLoan.metrics()}`,
        ),
      );
      return;
    }
    if (req.url === '/health' && req.method === 'GET') {
      // 503 while the access log accepts no entries (every data read is refused then): storage failed
      // or being reopened, or the stored log lost what it signed. Alarms alone make it `degraded`.
      const log = accessLog.state();
      const logAlarms = accessLog.alarms();
      res.writeHead(log.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: log.status !== 'ok' ? log.status : logAlarms.length > 0 ? 'degraded' : 'ok',
          ...(log.reason ? { reason: log.reason } : {}),
          nodeId: config.nodeId,
          role: config.role,
          storage: storage?.health(),
          logAlarms,
          ...(federation
            ? {
                peerId: federation.host.peerId,
                rosterVersion: federation.roster.current()?.roster.version ?? 0,
                peers: federation.health.peers(),
                alarms: federation.alarms(),
                quarantined: federation.quarantined(),
              }
            : {}),
        }),
      );
      return;
    }
    if (consoleHandler(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] }));
  };

  return {
    config,
    keys,
    db,
    logger,
    profiles,
    accessLog,
    tokens,
    consents,
    access,
    tokenise,
    federation,
    evaluation,
    intercept,
    redress,
    factChanges,
    easyLoan,
    get url() {
      return url;
    },
    heStats: async () => hePool?.stats(),
    async start() {
      await accessLog.start();
      await evaluation?.start();
      await intercept?.start();
      server = createServer(handle);
      server.requestTimeout = 30_000;
      server.headersTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.api.port, config.api.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      url = `http://${host}:${addr.port}`;
      await federation?.start();
      await redress?.start();
      await easyLoan.start();
      logger.info({ url, role: config.role }, 'node started');
    },
    async stop() {
      await easyLoan.stop();
      await redress?.stop();
      await federation?.stop();
      await hePool?.close();
      if (server) {
        const s = server;
        server = undefined;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await accessLog.stop();
      await db.close();
      logger.info('node stopped');
    },
  };
}
