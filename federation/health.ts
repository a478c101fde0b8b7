/**
 * Health of the federation: who is up, which roster version each peer runs, and each peer's
 * latest log checkpoint. Each member is polled over `/credit/health/1.0.0`; a peer that fails
 * is retried with exponential back-off, which is also how a restarted node is rejoined.
 */
import type { Logger } from 'pino';
import type { FederationHost } from './host.ts';
import type { RosterService } from './roster-service.ts';

/** Protocol id of health exchange. */
export const HEALTH_PROTOCOL = '/credit/health/1.0.0';

/** What a node says about itself. */
export interface HealthReport {
  nodeId: string;
  role: string;
  rosterVersion: number;
  time: string;
  /** The node's latest signed checkpoint (C2SP signed note), if it keeps a log. */
  checkpoint?: string;
  /** The latest checkpoint this node accepted of each peer's log (its witness view). */
  views?: Record<string, { size: number; root: string; note: string }>;
}

/** What this node knows about one peer. */
export interface PeerHealth {
  nodeId: string;
  up: boolean;
  /** ISO time of the last successful exchange. */
  lastSeen?: string;
  /** Round-trip time of the last successful exchange, ms. */
  rttMs?: number;
  rosterVersion?: number;
  checkpoint?: string;
  /** Stable error code of the last failure. */
  error?: string;
}

/** The health tracker. */
export interface HealthService {
  /** This node's own report. */
  self(): HealthReport;
  /** Every other roster member, as last seen. */
  peers(): PeerHealth[];
  /** Polls every member once now (used at start-up and in tests). */
  pollAll(): Promise<void>;
  /** Called with each report a peer sends. */
  onReport(listener: (nodeId: string, report: HealthReport) => void): void;
  /** Resolves when every member has answered at least once, or rejects after `timeoutMs`. */
  waitAllUp(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the health service needs. */
export interface HealthServiceComponents {
  host: FederationHost;
  roster: RosterService;
  logger: Logger;
  nodeId: string;
  role: string;
  /** The latest signed checkpoint of this node's log. */
  checkpoint?: () => string | undefined;
  /** This node's witness view of its peers' logs. */
  views?: () => HealthReport['views'];
}

/** Health service settings. */
export interface HealthServiceInit {
  intervalMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
}

class Health implements HealthService {
  readonly #c: HealthServiceComponents;
  readonly #interval: number;
  readonly #maxBackoff: number;
  readonly #timeout: number;
  readonly #log: Logger;
  #state = new Map<string, PeerHealth & { nextAt: number; failures: number }>();
  #listeners: Array<(nodeId: string, report: HealthReport) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(components: HealthServiceComponents, init: HealthServiceInit) {
    this.#c = components;
    this.#interval = init.intervalMs ?? 2000;
    this.#maxBackoff = init.maxBackoffMs ?? 30_000;
    this.#timeout = init.timeoutMs ?? 3000;
    this.#log = components.logger.child({ component: 'health' });
  }

  self(): HealthReport {
    const checkpoint = this.#c.checkpoint?.();
    const views = this.#c.views?.();
    return {
      nodeId: this.#c.nodeId,
      role: this.#c.role,
      rosterVersion: this.#c.roster.current()?.roster.version ?? 0,
      time: new Date().toISOString(),
      ...(checkpoint ? { checkpoint } : {}),
      ...(views ? { views } : {}),
    };
  }

  peers(): PeerHealth[] {
    const members = this.#c.roster.current()?.roster.members ?? [];
    return members
      .filter((m) => m.nodeId !== this.#c.nodeId)
      .map((m) => {
        const s = this.#state.get(m.nodeId);
        if (!s) return { nodeId: m.nodeId, up: false };
        const { nextAt: _n, failures: _f, ...rest } = s;
        return rest;
      });
  }

  onReport(listener: (nodeId: string, report: HealthReport) => void) {
    this.#listeners.push(listener);
  }

  async #poll(nodeId: string, force: boolean) {
    const now = Date.now();
    const prev = this.#state.get(nodeId);
    if (!force && prev && prev.nextAt > now) return;
    const started = performance.now();
    try {
      const r = (await this.#c.host.request(nodeId, HEALTH_PROTOCOL, {}, { timeoutMs: this.#timeout })) as HealthReport;
      if (typeof r !== 'object' || r === null || r.nodeId !== nodeId) throw new Error('malformed health report');
      const checkpoint = typeof r.checkpoint === 'string' ? r.checkpoint : undefined;
      if (prev && !prev.up) this.#log.info({ peer: nodeId }, 'peer is up');
      this.#state.set(nodeId, {
        nodeId,
        up: true,
        lastSeen: new Date().toISOString(),
        rttMs: Math.round((performance.now() - started) * 100) / 100,
        rosterVersion: Number(r.rosterVersion) || 0,
        ...(checkpoint ? { checkpoint } : {}),
        nextAt: Date.now() + this.#interval,
        failures: 0,
      });
      for (const l of this.#listeners) l(nodeId, r);
    } catch (err) {
      const failures = (prev?.failures ?? 0) + 1;
      if (prev?.up !== false) this.#log.warn({ peer: nodeId, code: (err as { code?: string }).code }, 'peer is down');
      this.#state.set(nodeId, {
        ...(prev ?? { nodeId }),
        nodeId,
        up: false,
        error: (err as { code?: string }).code ?? 'PEER_UNAVAILABLE',
        failures,
        nextAt: Date.now() + Math.min(this.#maxBackoff, this.#interval * 2 ** Math.min(failures, 10)),
      });
    }
  }

  async #round(force: boolean) {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const members = this.#c.roster.current()?.roster.members ?? [];
      await Promise.all(members.filter((m) => m.nodeId !== this.#c.nodeId).map((m) => this.#poll(m.nodeId, force)));
    } finally {
      this.#polling = false;
    }
  }

  pollAll() {
    return this.#round(true);
  }

  async waitAllUp(timeoutMs: number, signal?: AbortSignal) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      await this.#round(true);
      const peers = this.peers();
      if (peers.every((p) => p.up)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    const down = this.peers()
      .filter((p) => !p.up)
      .map((p) => p.nodeId);
    throw new Error(`peers not up after ${timeoutMs} ms: ${down.join(', ')}`);
  }

  async start() {
    await this.#c.host.register({
      id: HEALTH_PROTOCOL,
      roles: ['credit-centre', 'bank', 'easy-loan', 'city-peer', 'source'],
      maxRequestBytes: 1024,
      timeoutMs: 3000,
      maxConcurrentPerPeer: 4,
      handle: async (_req, ctx) => {
        // A peer that reaches us is up: retry it now instead of waiting out its back-off.
        const s = this.#state.get(ctx.peer.nodeId);
        if (s && !s.up) {
          s.nextAt = 0;
          void this.#poll(ctx.peer.nodeId, true);
        }
        return this.self();
      },
    });
    this.#timer = setInterval(() => void this.#round(false), Math.max(100, Math.floor(this.#interval / 2)));
    this.#timer.unref();
  }

  async stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Creates the health service. */
export function createHealthService(components: HealthServiceComponents, init: HealthServiceInit = {}): HealthService {
  return new Health(components, init);
}
