/**
 * Checkpoint witnessing (DESIGN §6). Every node witnesses every other member's log:
 *
 * - **Push** (c2sp.org/tlog-witness style): each checkpoint a node signs is offered to every
 *   peer with a consistency proof from the size that peer last accepted ({@link CheckpointPublisher});
 *   the peer checks it and answers with its cosignature (c2sp.org/tlog-cosignature), or with the
 *   size it holds when the proof starts elsewhere (a conflict, like HTTP 409 there).
 * - **Pull**: the checkpoint a peer reports in each health exchange is checked the same way, with
 *   the consistency proof fetched from the peer; other witnesses' views are compared (gossip).
 *
 * A witness cosigns a checkpoint only if it extends the last one it accepted of that log. It
 * raises an alarm, with the signed notes as evidence, for two trees of one size (SPLIT_VIEW), a
 * bigger tree that does not extend the last one (INCONSISTENT), a note the log's key did not sign
 * (BAD_SIGNATURE), a log that shows a tree smaller than one it signed before and does not prove
 * the smaller one a prefix of it (ROLLBACK), and a log that answers health but fails or refuses
 * {@link WitnessInit.unresponsiveAfter} consistency requests in a row over at least
 * {@link WitnessInit.unresponsiveForMs} (UNRESPONSIVE_LOG). SPLIT_VIEW, INCONSISTENT and ROLLBACK
 * quarantine the node ({@link Witness.quarantined}): it is no longer cosigned and the federation
 * stops trusting its data until an operator clears its alarms ({@link Witness.clearAlarms}).
 *
 * Here: the public interface and the assembly, gossip between witnesses ({@link Witness.compare})
 * and the operator's clearing. The checks of one log's checkpoints and the alarms they raise are
 * in `witness-checks.ts`, the log protocol served and used in `log-protocol.ts`, the alarm store
 * and quarantine in `quarantine.ts`, the push of this node's own checkpoints in `publisher.ts`.
 */
import type { Logger } from 'pino';
import type { AccessLog } from '../accesslog/log.ts';
import { type NoteVerifier, noteVerifier, openCheckpoint } from '../crypto/index.ts';
import type { RootDb } from '../storage/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { deliverCosignature, logProtocol, requestConsistencyProof } from './log-protocol.ts';
import { type CheckpointPublisher, createCheckpointPublisher } from './publisher.ts';
import { type AlarmStore, createAlarmStore, type WitnessAlarm } from './quarantine.ts';
import { CheckpointChecks, type ProofFetcher, refused, type Seen } from './witness-checks.ts';

export { LOG_PROTOCOL } from './publisher.ts';
export { QUARANTINE_KINDS, type WitnessAlarm } from './quarantine.ts';
export type { ProofFetcher } from './witness-checks.ts';

/** The witness. */
export interface Witness {
  /** Checks the checkpoint a peer reports as its latest; cosigns it if it extends what was seen before. */
  observe(nodeId: string, note: string): Promise<void>;
  /**
   * Checks a checkpoint a log pushed with a consistency proof from `old` (c2sp.org/tlog-witness
   * add-checkpoint): its cosignature line, or the size this witness holds when `old` is not it.
   * @throws PeerError `REFUSED` when the checkpoint is not cosigned (with the reason)
   */
  addCheckpoint(
    nodeId: string,
    push: { old: number; proof: string[]; checkpoint: string },
  ): Promise<{ cosignature: string } | { conflict: number }>;
  /** Compares another witness's view of the logs with this one's. */
  compare(fromNode: string, views: Record<string, { size: number; root: string; note: string }>): Promise<void>;
  /** The latest accepted checkpoint per peer, as shared with other witnesses. */
  views(): Record<string, Seen>;
  /** Uncleared alarms. */
  alarms(): WitnessAlarm[];
  /** Every alarm raised, cleared ones included (with who cleared them and when). */
  alarmHistory(): WitnessAlarm[];
  /**
   * Node ids the federation must not trust: an uncleared SPLIT_VIEW, INCONSISTENT or ROLLBACK
   * alarm names them. Never this node itself.
   */
  quarantined(): string[];
  /**
   * An operator clears every alarm about `nodeId` (persisted with `by` and the time) and lifts its
   * quarantine; this witness forgets the checkpoint it accepted of that log, so the next one the
   * node shows is accepted as a new starting point. @returns how many alarms were cleared
   */
  clearAlarms(nodeId: string, by: string): Promise<number>;
  register(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the witness needs. */
export interface WitnessComponents {
  host?: FederationHost;
  db: RootDb;
  log: AccessLog;
  nodeId: string;
  identitySeed: Uint8Array;
  logger: Logger;
  /** Public key of a peer's log (its roster signing key). */
  peerKey: (nodeId: string) => Uint8Array | undefined;
  /** Where consistency proofs come from (defaults to asking the peer over LOG_PROTOCOL). */
  proofs?: ProofFetcher;
  /** Delivers a cosignature to the log's owner (defaults to LOG_PROTOCOL). */
  deliver?: (nodeId: string, size: number, line: string) => Promise<void>;
  clock?: () => number;
}

/** Witness settings. */
export interface WitnessInit {
  /** Consecutive failed or refused consistency requests that make UNRESPONSIVE_LOG (default 3). */
  unresponsiveAfter?: number;
  /** ... and the least time from the first of them (default 5000 ms). */
  unresponsiveForMs?: number;
  /** Push this node's checkpoints to its peers (default: whenever there is a host). */
  push?: boolean;
  /** How often the publisher looks for a new checkpoint to push (default 100 ms). */
  pushIntervalMs?: number;
  /** Time limit of a consistency request to a peer (default 5000 ms). */
  requestTimeoutMs?: number;
}

/** Whether `note` is a checkpoint signed for verifier `v`. */
function signedBy(note: string, v: NoteVerifier): boolean {
  try {
    openCheckpoint(note, v);
    return true;
  } catch {
    return false;
  }
}

class WitnessImpl implements Witness {
  readonly #c: WitnessComponents;
  readonly #init: Required<Omit<WitnessInit, 'push'>> & { push: boolean };
  readonly #log: Logger;
  readonly #alarms: AlarmStore;
  readonly #checks: CheckpointChecks;
  #publisher: CheckpointPublisher | undefined;
  /** Relayed checkpoints (`size:root`) already found consistent, per log: not fetched again. */
  #relayed = new Map<string, Set<string>>();

  constructor(c: WitnessComponents, init: WitnessInit) {
    this.#c = c;
    this.#init = {
      unresponsiveAfter: init.unresponsiveAfter ?? 3,
      unresponsiveForMs: init.unresponsiveForMs ?? 5000,
      push: init.push ?? c.host !== undefined,
      pushIntervalMs: init.pushIntervalMs ?? 100,
      requestTimeoutMs: init.requestTimeoutMs ?? 5000,
    };
    this.#log = c.logger.child({ component: 'witness' });
    this.#alarms = createAlarmStore(c.db, c.nodeId);
    const timeoutMs = this.#init.requestTimeoutMs;
    this.#checks = new CheckpointChecks(
      {
        db: c.db,
        nodeId: c.nodeId,
        identitySeed: c.identitySeed,
        peerKey: c.peerKey,
        alarms: this.#alarms,
        logger: this.#log,
        proofs:
          c.proofs ?? ((nodeId, size1, size2) => requestConsistencyProof(c.host!, nodeId, size1, size2, timeoutMs)),
        deliver: c.deliver ?? ((nodeId, size, line) => deliverCosignature(c.host!, nodeId, size, line, timeoutMs)),
        now: () => this.#now(),
      },
      this.#init,
    );
  }

  #now() {
    return this.#c.clock?.() ?? Date.now();
  }

  observe(nodeId: string, note: string): Promise<void> {
    return this.#checks.observe(nodeId, note);
  }

  async addCheckpoint(nodeId: string, push: { old: number; proof: string[]; checkpoint: string }) {
    const out = await this.#checks.push(nodeId, push);
    if (out.kind === 'cosigned') return { cosignature: out.line };
    if (out.kind === 'conflict') return { conflict: out.size };
    throw new PeerError('REFUSED', out.kind === 'refused' ? out.reason : 'not cosigned');
  }

  async compare(fromNode: string, views: Record<string, { size: number; root: string; note: string }>) {
    for (const [origin, view] of Object.entries(views ?? {})) {
      if (origin === fromNode || typeof view?.note !== 'string') continue;
      const mine = origin === this.#c.nodeId ? this.#c.log.latestCheckpoint() : this.#checks.seen(origin);
      if (!mine || mine.size !== view.size || mine.root === view.root) {
        // Only a copy that the origin really signed is worth checking; a relayed forgery proves nothing.
        const v = this.#checks.verifier(origin);
        const key = `${view.size}:${view.root}`;
        if (origin === this.#c.nodeId || !v || this.#relayed.get(origin)?.has(key) || !signedBy(view.note, v)) continue;
        const out = await this.#checks.relay(origin, view.note).catch((err) => {
          this.#log.warn({ peer: origin, err: (err as Error).message }, 'relayed checkpoint not checked');
          return refused('not checked');
        });
        if (out.kind === 'none' || out.kind === 'cosigned') {
          // Consistent with what this witness holds, which only grows: no need to check it again.
          const set = this.#relayed.get(origin) ?? new Set<string>();
          if (set.size >= 64) set.clear();
          set.add(key);
          this.#relayed.set(origin, set);
        }
        continue;
      }
      // Same size, different root: check the other witness's copy is really signed by the origin.
      const v =
        origin === this.#c.nodeId
          ? noteVerifier(this.#c.log.origin, this.#c.peerKey(origin) ?? new Uint8Array(32))
          : this.#checks.verifier(origin);
      if (v && signedBy(view.note, v))
        await this.#checks.alarm({
          kind: 'SPLIT_VIEW',
          nodeId: origin,
          detail: `${fromNode} saw a different tree of size ${view.size}`,
          evidence: [mine.note, view.note],
        });
    }
  }

  views() {
    return this.#checks.views();
  }

  alarms() {
    return this.#alarms.active();
  }

  alarmHistory() {
    return this.#alarms.all();
  }

  quarantined() {
    return this.#alarms.quarantined();
  }

  clearAlarms(nodeId: string, by: string) {
    // In the log's queue, so that no check of that log is half-way through.
    return this.#checks.run(nodeId, async () => {
      const n = await this.#alarms.clear(nodeId, by, new Date(this.#now()).toISOString());
      this.#checks.forget(nodeId);
      this.#relayed.delete(nodeId);
      this.#log.warn({ peer: nodeId, by, alarms: n }, 'witness alarms cleared by an operator');
      return n;
    });
  }

  async register() {
    await this.#c.host!.register(
      logProtocol({
        log: this.#c.log,
        peerKey: this.#c.peerKey,
        addCheckpoint: (nodeId, push) => this.addCheckpoint(nodeId, push),
      }),
    );
    if (this.#init.push && this.#c.host) {
      this.#publisher = createCheckpointPublisher(
        { host: this.#c.host, log: this.#c.log, nodeId: this.#c.nodeId, peerKey: this.#c.peerKey, logger: this.#log },
        { intervalMs: this.#init.pushIntervalMs },
      );
      this.#publisher.start();
    }
  }

  async start() {
    await this.#checks.load();
    await this.#alarms.load();
  }

  async stop() {
    await this.#publisher?.stop();
    this.#publisher = undefined;
    await this.#checks.idle();
  }
}

/** Creates a witness. */
export function createWitness(components: WitnessComponents, init: WitnessInit = {}): Witness {
  return new WitnessImpl(components, init);
}
