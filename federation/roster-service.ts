/**
 * Keeps the roster in force: loads it from the node's roster file and its database, adopts a
 * newer validly signed version whether it arrives by file (`credit-node roster publish`) or from
 * a peer, persists it, and passes it on to peers. No restart is needed for a new version.
 */
import { type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { canonicalJson } from '../crypto/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import type { FederationHost } from './host.ts';
import { RosterError, type RosterTrust, type SignedRoster, verifyRoster } from './roster.ts';

/** Protocol id of roster exchange. */
export const ROSTER_PROTOCOL = '/credit/roster/1.0.0';

/** The roster in force and how it changes. */
export interface RosterService {
  current(): SignedRoster | undefined;
  /** Offers a candidate roster; adopts it when validly signed and newer. Returns true if adopted. */
  offer(candidate: unknown, source: string): Promise<boolean>;
  /** Calls `listener` after each adoption. */
  onChange(listener: (roster: SignedRoster) => void): void;
  /** Alarms raised by conflicting rosters of the same version (authority equivocation). */
  alarms(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the roster service needs. */
export interface RosterServiceComponents {
  host: FederationHost;
  db: RootDb;
  trust: RosterTrust;
  logger: Logger;
  nodeId: string;
}

/** Roster service settings. */
export interface RosterServiceInit {
  /** Roster file to watch. */
  path: string;
  /** File polling interval. */
  pollMs?: number;
}

class Service implements RosterService {
  readonly #c: RosterServiceComponents;
  readonly #init: RosterServiceInit;
  readonly #log: Logger;
  readonly #store;
  #current: SignedRoster | undefined;
  #listeners: Array<(r: SignedRoster) => void> = [];
  #alarms: string[] = [];
  #watcher: StatWatcher | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(components: RosterServiceComponents, init: RosterServiceInit) {
    this.#c = components;
    this.#init = init;
    this.#log = components.logger.child({ component: 'roster' });
    this.#store = jsonSublevel<SignedRoster>(components.db, 'federation');
  }

  current() {
    return this.#current;
  }

  onChange(listener: (roster: SignedRoster) => void) {
    this.#listeners.push(listener);
  }

  alarms() {
    return [...this.#alarms];
  }

  offer(candidate: unknown, source: string): Promise<boolean> {
    // Serialised so that two offers cannot race each other past the version check.
    const next = this.#queue.then(() => this.#adopt(candidate, source));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #adopt(candidate: unknown, source: string): Promise<boolean> {
    let roster: SignedRoster;
    try {
      roster = verifyRoster(candidate, this.#c.trust);
    } catch (err) {
      this.#log.warn({ source, reason: (err as Error).message }, 'roster refused');
      if (err instanceof RosterError) return false;
      throw err;
    }
    const cur = this.#current;
    if (cur && roster.roster.version <= cur.roster.version) {
      if (
        roster.roster.version === cur.roster.version &&
        canonicalJson(roster.roster) !== canonicalJson(cur.roster) &&
        !this.#alarms.some((a) => a.startsWith(`roster v${roster.roster.version}`))
      ) {
        const alarm = `roster v${roster.roster.version}: two different signed rosters with the same version (from ${source})`;
        this.#alarms.push(alarm);
        this.#log.error({ source, version: roster.roster.version }, 'conflicting rosters with the same version');
      }
      return false;
    }
    await this.#store.put('roster', roster, { sync: true } as never);
    this.#current = roster;
    await this.#c.host.setRoster(roster);
    if (!roster.roster.members.some((m) => m.nodeId === this.#c.nodeId))
      this.#log.warn({ version: roster.roster.version }, 'this node is not on the roster in force');
    this.#log.info({ version: roster.roster.version, members: roster.roster.members.length, source }, 'roster adopted');
    for (const l of this.#listeners) l(roster);
    void this.#spread(roster);
    return true;
  }

  /** Pushes a newly adopted roster to every other member; failures are expected and ignored. */
  async #spread(roster: SignedRoster) {
    await Promise.allSettled(
      roster.roster.members
        .filter((m) => m.nodeId !== this.#c.nodeId)
        .map((m) => this.#c.host.request(m.nodeId, ROSTER_PROTOCOL, { roster }, { timeoutMs: 3000 })),
    );
  }

  async #readFile(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#init.path, 'utf8');
    } catch (err) {
      this.#log.warn({ reason: (err as NodeJS.ErrnoException).code }, 'roster file unreadable');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.#log.warn('roster file is not valid JSON');
      return;
    }
    await this.offer(parsed, 'file');
  }

  async start() {
    const stored = await this.#store.get('roster');
    if (stored) await this.offer(stored, 'database');
    await this.#readFile();
    await this.#c.host.register({
      id: ROSTER_PROTOCOL,
      roles: ['credit-centre', 'bank', 'easy-loan', 'city-peer', 'source'],
      maxRequestBytes: 1024 * 1024,
      timeoutMs: 5000,
      maxConcurrentPerPeer: 2,
      handle: async (req) => {
        const offered = (req as { roster?: unknown })?.roster;
        if (offered !== undefined) await this.offer(offered, 'peer');
        return { version: this.#current?.roster.version ?? 0 };
      },
    });
    this.#watcher = watchFile(this.#init.path, { interval: this.#init.pollMs ?? 1000, persistent: false }, () => {
      void this.#readFile();
    });
  }

  async stop() {
    if (this.#watcher) unwatchFile(this.#init.path);
    this.#watcher = undefined;
    await this.#queue;
  }
}

/** Creates the roster service. The host must be started before `start()`. */
export function createRosterService(components: RosterServiceComponents, init: RosterServiceInit): RosterService {
  return new Service(components, init);
}
