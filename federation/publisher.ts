/**
 * The log owner's side of witnessing: every checkpoint this node signs is pushed to every other
 * active roster member (`add-checkpoint` on the log protocol, c2sp.org/tlog-witness style) with a
 * consistency proof from the size that member last accepted, and the cosignature it answers with
 * is verified and stored with the checkpoint.
 *
 * Policy: the publisher looks for a new checkpoint every `intervalMs` (100 ms) and pushes, in
 * order, every checkpoint signed since the last one a peer answered for (the newest
 * `maxBacklog` of them), so that each checkpoint is cosigned by every reachable honest peer. A
 * peer that cannot be reached is retried with exponential back-off; when it is back, the
 * checkpoints of the meantime are pushed (again at most `maxBacklog`).
 */
import type { Logger } from 'pino';
import { type AccessLog, logOrigin, type SignedCheckpoint } from '../accesslog/log.ts';
import { formatCheckpoint, fromBase64, noteVerifier, SIG_COSIGNATURE_V1, verifyCosignature } from '../crypto/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of log queries, checkpoint pushes and cosignature delivery (served by the witness). */
export const LOG_PROTOCOL = '/credit/log/1.0.0';

/** Pushes this node's checkpoints to its witnesses. */
export interface CheckpointPublisher {
  start(): void;
  /** Stops pushing and waits for the pushes in flight. */
  stop(): Promise<void>;
}

/** What the publisher needs. */
export interface CheckpointPublisherComponents {
  host: FederationHost;
  log: AccessLog;
  nodeId: string;
  /** A member's roster signing key (its cosigner key). */
  peerKey: (nodeId: string) => Uint8Array | undefined;
  logger: Logger;
}

/** Publisher settings. */
export interface CheckpointPublisherInit {
  intervalMs?: number;
  /** Checkpoints pushed at most to a peer in one round, newest kept (default 16). */
  maxBacklog?: number;
  timeoutMs?: number;
  maxBackoffMs?: number;
}

/** Pause after a witness refused a checkpoint, before the next one is offered. */
const REFUSED_BACKOFF_MS = 2000;

interface PeerState {
  /** Size of this log the peer holds, as it last told us. */
  known?: number;
  /** Largest size the peer has answered for (cosigned, or refused for good). */
  pushed: number;
  busy: boolean;
  nextAt: number;
  failures: number;
}

class Publisher implements CheckpointPublisher {
  readonly #c: CheckpointPublisherComponents;
  readonly #interval: number;
  readonly #backlog: number;
  readonly #timeout: number;
  readonly #maxBackoff: number;
  readonly #peers = new Map<string, PeerState>();
  readonly #inflight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(c: CheckpointPublisherComponents, init: CheckpointPublisherInit) {
    this.#c = c;
    this.#interval = init.intervalMs ?? 100;
    this.#backlog = init.maxBacklog ?? 16;
    this.#timeout = init.timeoutMs ?? 8000;
    this.#maxBackoff = init.maxBackoffMs ?? 30_000;
  }

  #tick() {
    const latest = this.#c.log.latestCheckpoint();
    if (!latest) return;
    const now = Date.now();
    const members = this.#c.host.roster()?.roster.members ?? [];
    for (const m of members) {
      if (m.nodeId === this.#c.nodeId || !isActive(m)) continue;
      let st = this.#peers.get(m.nodeId);
      if (!st) {
        st = { pushed: -1, busy: false, nextAt: 0, failures: 0 };
        this.#peers.set(m.nodeId, st);
      }
      if (st.busy || st.nextAt > now || st.pushed >= latest.size) continue;
      st.busy = true;
      const p = this.#round(m.nodeId, st, latest).finally(() => {
        st.busy = false;
        this.#inflight.delete(p);
      });
      this.#inflight.add(p);
    }
  }

  /** Pushes to one peer the checkpoints it has not answered for, oldest first. */
  async #round(peer: string, st: PeerState, latest: SignedCheckpoint) {
    try {
      // A peer never answered yet gets the latest only: older ones add nothing to what it checks.
      const due =
        st.pushed < 0
          ? [latest]
          : (
              await this.#c.log.checkpoints({
                limit: this.#backlog,
                beforeSize: latest.size + 1,
                withCosignatures: false,
              })
            )
              .filter((cp) => cp.size > st.pushed)
              .reverse();
      for (const cp of due) await this.#push(peer, st, cp);
      st.failures = 0;
    } catch (err) {
      st.failures++;
      st.nextAt = Date.now() + Math.min(this.#maxBackoff, this.#interval * 2 ** Math.min(st.failures + 2, 12));
      this.#c.logger.debug(
        { peer, code: (err as { code?: string }).code, failures: st.failures },
        'checkpoint push failed; retrying later',
      );
    }
  }

  async #push(peer: string, st: PeerState, cp: SignedCheckpoint) {
    let old = st.known ?? 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (old > cp.size) {
        // The peer already holds a bigger tree of this log: nothing to prove for this one.
        st.pushed = Math.max(st.pushed, cp.size);
        return;
      }
      const proof = old > 0 && old < cp.size ? await this.#c.log.consistencyProof(old, cp.size) : [];
      let answer: { cosignature?: unknown; conflict?: unknown };
      try {
        answer = (await this.#c.host.request(
          peer,
          LOG_PROTOCOL,
          { op: 'add-checkpoint', old, proof, checkpoint: cp.note },
          { timeoutMs: this.#timeout },
        )) as typeof answer;
      } catch (err) {
        if (err instanceof PeerError && err.code === 'REFUSED') {
          // Refused for good (e.g. the peer raised an alarm about this log): not retried.
          this.#c.logger.error({ peer, size: cp.size, reason: err.message }, 'a witness refused to cosign');
          st.pushed = Math.max(st.pushed, cp.size);
          st.nextAt = Date.now() + REFUSED_BACKOFF_MS;
          return;
        }
        throw err;
      }
      if (typeof answer?.cosignature === 'string') {
        const key = this.#c.peerKey(peer);
        if (!key) throw new PeerError('BAD_RESPONSE', 'unknown witness key');
        verifyCosignature(
          formatCheckpoint({ origin: this.#c.log.origin, size: cp.size, root: fromBase64(cp.root)! }),
          answer.cosignature,
          noteVerifier(logOrigin(peer), key, SIG_COSIGNATURE_V1),
        );
        await this.#c.log.addCosignature(cp.size, peer, answer.cosignature);
        st.known = cp.size;
        st.pushed = Math.max(st.pushed, cp.size);
        return;
      }
      const size = answer?.conflict;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
        throw new PeerError('BAD_RESPONSE', 'neither a cosignature nor a conflict');
      st.known = size;
      if (size > this.#c.log.size()) {
        this.#c.logger.error(
          { peer, witnessSize: size, size: this.#c.log.size() },
          'a witness holds a bigger tree of this log than this node has: the log was rolled back',
        );
        st.pushed = Math.max(st.pushed, cp.size);
        return;
      }
      old = size;
    }
    throw new PeerError('CONFLICT', 'the witness keeps answering with another size');
  }

  start() {
    this.#timer = setInterval(() => this.#tick(), this.#interval);
    this.#timer.unref();
  }

  async stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inflight]);
  }
}

/** Creates the checkpoint publisher of a node. */
export function createCheckpointPublisher(
  components: CheckpointPublisherComponents,
  init: CheckpointPublisherInit = {},
): CheckpointPublisher {
  return new Publisher(components, init);
}
