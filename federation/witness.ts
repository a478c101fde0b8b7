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
 */
import type { Logger } from 'pino';
import { type AccessLog, logOrigin } from '../accesslog/log.ts';
import {
  bytesEqual,
  type Checkpoint,
  checkConsistency,
  cosignCheckpoint,
  formatCheckpoint,
  fromBase64,
  type NoteVerifier,
  noteVerifier,
  openCheckpoint,
  SIG_COSIGNATURE_V1,
  toBase64,
  verifyCosignature,
} from '../crypto/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { type CheckpointPublisher, createCheckpointPublisher, LOG_PROTOCOL } from './publisher.ts';
import { type AlarmStore, createAlarmStore, seenKey, type WitnessAlarm } from './quarantine.ts';

export { LOG_PROTOCOL } from './publisher.ts';
export { QUARANTINE_KINDS, type WitnessAlarm } from './quarantine.ts';

/** Largest consistency proof accepted (c2sp.org/tlog-witness allows 63 lines). */
const MAX_PROOF_HASHES = 63;

/** What a node has accepted of one peer's log. */
interface Seen {
  size: number;
  root: string;
  note: string;
}

/** Fetches a consistency proof from a log's owner. */
export type ProofFetcher = (nodeId: string, size1: number, size2: number) => Promise<string[]>;

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

type Via = 'self' | 'relay' | { old: number; proof: string[] };
type Outcome =
  | { kind: 'cosigned'; line: string }
  | { kind: 'conflict'; size: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'none' };

const NONE: Outcome = { kind: 'none' };
const refused = (reason: string): Outcome => ({ kind: 'refused', reason });
/** Answers by which a log says it cannot prove up to a size: what a rolled-back log says. */
const REFUSALS = new Set(['BAD_REQUEST', 'NOT_FOUND']);

class WitnessImpl implements Witness {
  readonly #c: WitnessComponents;
  readonly #init: Required<Omit<WitnessInit, 'push'>> & { push: boolean };
  readonly #sub;
  readonly #log: Logger;
  readonly #alarms: AlarmStore;
  #seen = new Map<string, Seen>();
  #queue = new Map<string, Promise<unknown>>();
  /** Size of the last cosignature each peer has received from us. */
  #delivered = new Map<string, number>();
  /** Consecutive failed consistency requests per peer. */
  #failures = new Map<string, { count: number; since: number; last: string }>();
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
    this.#sub = jsonSublevel<unknown>(c.db, 'federation');
    this.#log = c.logger.child({ component: 'witness' });
    this.#alarms = createAlarmStore(c.db, c.nodeId);
  }

  get #name() {
    return logOrigin(this.#c.nodeId);
  }

  #now() {
    return this.#c.clock?.() ?? Date.now();
  }

  #verifier(nodeId: string): NoteVerifier | undefined {
    const key = this.#c.peerKey(nodeId);
    return key ? noteVerifier(logOrigin(nodeId), key) : undefined;
  }

  async #alarm(a: Omit<WitnessAlarm, 'at' | 'cleared' | 'origin'>) {
    const alarm = await this.#alarms.raise({ ...a, origin: logOrigin(a.nodeId) }, new Date(this.#now()).toISOString());
    if (alarm) this.#log.error({ kind: a.kind, peer: a.nodeId, detail: a.detail }, 'witness alarm');
  }

  async #proofs(nodeId: string, size1: number, size2: number): Promise<string[]> {
    if (this.#c.proofs) return this.#c.proofs(nodeId, size1, size2);
    const r = (await this.#c.host!.request(
      nodeId,
      LOG_PROTOCOL,
      { op: 'consistency', size1, size2 },
      { timeoutMs: this.#init.requestTimeoutMs },
    )) as { proof?: unknown };
    if (!Array.isArray(r?.proof)) throw new PeerError('BAD_RESPONSE', 'no proof in the answer');
    return r.proof as string[];
  }

  /** Runs `task` after every earlier one about the same log: one log at a time, in order. */
  #run<T>(nodeId: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#queue.get(nodeId) ?? Promise.resolve();
    const next = prev.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queue.set(nodeId, settled);
    void settled.then(() => {
      if (this.#queue.get(nodeId) === settled) this.#queue.delete(nodeId);
    });
    return next;
  }

  observe(nodeId: string, note: string): Promise<void> {
    return this.#run(nodeId, () => this.#check(nodeId, note, 'self')).then(
      () => undefined,
      (err) => this.#log.warn({ peer: nodeId, err: (err as Error).message }, 'checkpoint not witnessed'),
    );
  }

  async addCheckpoint(nodeId: string, push: { old: number; proof: string[]; checkpoint: string }) {
    const out = await this.#run(nodeId, () => this.#check(nodeId, push.checkpoint, push));
    if (out.kind === 'cosigned') return { cosignature: out.line };
    if (out.kind === 'conflict') return { conflict: out.size };
    throw new PeerError('REFUSED', out.kind === 'refused' ? out.reason : 'not cosigned');
  }

  /** Checks one checkpoint of `nodeId`'s log, shown by the log itself, relayed, or pushed with a proof. */
  async #check(nodeId: string, note: string, via: Via): Promise<Outcome> {
    const v = this.#verifier(nodeId);
    if (!v) return refused('not a log this node witnesses');
    let cp: Checkpoint;
    try {
      cp = openCheckpoint(note, v).checkpoint;
    } catch (err) {
      if (via !== 'relay')
        await this.#alarm({ kind: 'BAD_SIGNATURE', nodeId, detail: (err as Error).message, evidence: [note] });
      return refused(`checkpoint does not verify: ${(err as Error).message}`);
    }
    const last = this.#seen.get(nodeId);
    if (!last) return this.#accept(nodeId, cp, note, via);
    const lastRoot = fromBase64(last.root)!;
    if (cp.size === last.size) {
      if (!bytesEqual(cp.root, lastRoot)) {
        await this.#alarm({
          kind: 'SPLIT_VIEW',
          nodeId,
          detail: `two different trees of size ${cp.size}`,
          evidence: [last.note, note],
        });
        return refused(`a different tree of size ${cp.size} was seen before (split view)`);
      }
      if (typeof via === 'object' || this.#delivered.get(nodeId) !== cp.size) return this.#cosign(nodeId, cp, via);
      return NONE;
    }
    if (cp.size > last.size) {
      if (typeof via === 'object' && via.old !== last.size) return { kind: 'conflict', size: last.size };
      let proof: string[];
      if (typeof via === 'object') proof = via.proof;
      else {
        try {
          proof = await this.#proofs(nodeId, last.size, cp.size);
        } catch (err) {
          return this.#failed(nodeId, via, err, [last.note, note]);
        }
        this.#failures.delete(nodeId);
      }
      if (!(await this.#consistent(nodeId, last.size, cp.size, lastRoot, cp.root, proof, [last.note, note])))
        return refused(`size ${cp.size} does not extend size ${last.size}`);
      return this.#accept(nodeId, cp, note, via);
    }
    // A tree smaller than one this log signed before: a stale copy, or a rolled-back log.
    if (typeof via === 'object') {
      // The log itself pushed it: check it as the log's own claim, without holding up its push.
      void this.observe(nodeId, note);
      return { kind: 'conflict', size: last.size };
    }
    let proof: string[];
    try {
      proof = await this.#proofs(nodeId, cp.size, last.size);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR';
      if (via === 'self' && err instanceof PeerError && REFUSALS.has(code)) {
        await this.#alarm({
          kind: 'ROLLBACK',
          nodeId,
          detail:
            `shows a tree of size ${cp.size} after signing one of size ${last.size}, and refuses to prove ` +
            `the smaller a prefix of the bigger (${code}: ${(err as Error).message})`,
          evidence: [last.note, note],
        });
        return refused(`rolled back below size ${last.size}`);
      }
      return this.#failed(nodeId, via, err, [last.note, note]);
    }
    this.#failures.delete(nodeId);
    await this.#consistent(nodeId, cp.size, last.size, cp.root, lastRoot, proof, [note, last.note]);
    return NONE;
  }

  /** Verifies that `size2` extends `size1`; raises INCONSISTENT with the two notes if not. */
  async #consistent(
    nodeId: string,
    size1: number,
    size2: number,
    root1: Uint8Array,
    root2: Uint8Array,
    proof: unknown,
    evidence: [string, string],
  ): Promise<boolean> {
    if (size1 === 0) return true;
    try {
      if (!Array.isArray(proof) || proof.length > MAX_PROOF_HASHES) throw new TypeError('malformed proof');
      checkConsistency(
        size1,
        size2,
        root1,
        root2,
        proof.map((p) => (typeof p === 'string' ? fromBase64(p) : undefined) ?? new Uint8Array()),
      );
      return true;
    } catch (err) {
      await this.#alarm({
        kind: 'INCONSISTENT',
        nodeId,
        detail: `size ${size2} does not extend size ${size1}: ${(err as Error).message}`,
        evidence,
      });
      return false;
    }
  }

  /** A consistency request the log itself made necessary failed: counts towards UNRESPONSIVE_LOG. */
  async #failed(nodeId: string, via: Via, err: unknown, evidence: string[]): Promise<Outcome> {
    const code = (err as { code?: string }).code ?? 'ERROR';
    const reason = `consistency proof unavailable (${code}: ${(err as Error).message})`;
    if (via !== 'self') return refused(reason);
    const now = this.#now();
    const f = this.#failures.get(nodeId) ?? { count: 0, since: now, last: code };
    f.count++;
    f.last = code;
    this.#failures.set(nodeId, f);
    this.#log.warn({ peer: nodeId, code, failures: f.count }, 'consistency proof request failed');
    if (f.count >= this.#init.unresponsiveAfter && now - f.since >= this.#init.unresponsiveForMs)
      await this.#alarm({
        kind: 'UNRESPONSIVE_LOG',
        nodeId,
        detail:
          `answers health but failed or refused ${f.count} consistency requests in a row over ` +
          `${Math.round((now - f.since) / 1000)} s (last: ${code})`,
        evidence,
      });
    return refused(reason);
  }

  async #accept(nodeId: string, cp: Checkpoint, note: string, via: Via): Promise<Outcome> {
    const seen = { size: cp.size, root: toBase64(cp.root), note };
    this.#seen.set(nodeId, seen);
    await this.#sub.put(seenKey(nodeId), seen);
    return this.#cosign(nodeId, cp, via);
  }

  /** Cosigns an accepted checkpoint: returned to a push, else handed to its log (retried on later polls). */
  async #cosign(nodeId: string, cp: Checkpoint, via: Via): Promise<Outcome> {
    if (this.#alarms.isQuarantined(nodeId)) return refused('the log is quarantined after a witness alarm');
    const line = cosignCheckpoint(
      formatCheckpoint(cp),
      this.#name,
      this.#c.identitySeed,
      Math.floor(this.#now() / 1000),
    );
    if (typeof via !== 'object') {
      if (this.#c.deliver) await this.#c.deliver(nodeId, cp.size, line);
      else
        await this.#c.host!.request(
          nodeId,
          LOG_PROTOCOL,
          { op: 'cosign', size: cp.size, cosignature: line },
          { timeoutMs: this.#init.requestTimeoutMs },
        );
    }
    this.#delivered.set(nodeId, cp.size);
    return { kind: 'cosigned', line };
  }

  async compare(fromNode: string, views: Record<string, { size: number; root: string; note: string }>) {
    for (const [origin, view] of Object.entries(views ?? {})) {
      if (origin === fromNode || typeof view?.note !== 'string') continue;
      const mine = origin === this.#c.nodeId ? this.#c.log.latestCheckpoint() : this.#seen.get(origin);
      if (!mine || mine.size !== view.size || mine.root === view.root) {
        // Only a copy that the origin really signed is worth checking; a relayed forgery proves nothing.
        const v = this.#verifier(origin);
        const key = `${view.size}:${view.root}`;
        if (origin === this.#c.nodeId || !v || this.#relayed.get(origin)?.has(key) || !this.#signedBy(view.note, v))
          continue;
        const out = await this.#run(origin, () => this.#check(origin, view.note, 'relay')).catch((err) => {
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
          : this.#verifier(origin);
      if (v && this.#signedBy(view.note, v))
        await this.#alarm({
          kind: 'SPLIT_VIEW',
          nodeId: origin,
          detail: `${fromNode} saw a different tree of size ${view.size}`,
          evidence: [mine.note, view.note],
        });
    }
  }

  #signedBy(note: string, v: NoteVerifier): boolean {
    try {
      openCheckpoint(note, v);
      return true;
    } catch {
      return false;
    }
  }

  views() {
    return Object.fromEntries(this.#seen);
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
    return this.#run(nodeId, async () => {
      const n = await this.#alarms.clear(nodeId, by, new Date(this.#now()).toISOString());
      this.#seen.delete(nodeId);
      this.#delivered.delete(nodeId);
      this.#failures.delete(nodeId);
      this.#relayed.delete(nodeId);
      this.#log.warn({ peer: nodeId, by, alarms: n }, 'witness alarms cleared by an operator');
      return n;
    });
  }

  async register() {
    await this.#c.host!.register({
      id: LOG_PROTOCOL,
      roles: ['credit-centre', 'city-peer', 'easy-loan', 'bank', 'source'],
      maxRequestBytes: 16 * 1024,
      timeoutMs: 10_000,
      maxConcurrentPerPeer: 4,
      handle: async (raw, ctx) => {
        const r = (raw ?? {}) as {
          op?: string;
          size1?: number;
          size2?: number;
          size?: number;
          cosignature?: string;
          old?: number;
          proof?: unknown;
          checkpoint?: unknown;
        };
        if (r.op === 'consistency') {
          const { size1, size2 } = r;
          if (
            !Number.isSafeInteger(size1) ||
            !Number.isSafeInteger(size2) ||
            size1! < 0 ||
            size1! > size2! ||
            size2! > this.#c.log.size()
          )
            throw new PeerError('BAD_REQUEST', 'invalid sizes');
          return { proof: await this.#c.log.consistencyProof(size1!, size2!) };
        }
        if (r.op === 'add-checkpoint') {
          const proof = r.proof;
          if (
            !Number.isSafeInteger(r.old) ||
            r.old! < 0 ||
            typeof r.checkpoint !== 'string' ||
            !Array.isArray(proof) ||
            proof.length > MAX_PROOF_HASHES ||
            !proof.every((p) => typeof p === 'string' && p.length <= 64)
          )
            throw new PeerError('BAD_REQUEST', 'invalid checkpoint push');
          return this.addCheckpoint(ctx.peer.nodeId, {
            old: r.old!,
            proof: proof as string[],
            checkpoint: r.checkpoint,
          });
        }
        if (r.op === 'cosign') {
          const key = this.#c.peerKey(ctx.peer.nodeId);
          const size = r.size;
          if (!key || typeof r.cosignature !== 'string' || !Number.isSafeInteger(size))
            throw new PeerError('BAD_REQUEST', 'invalid cosignature');
          const cp = await this.#c.log.checkpointAt(size!);
          if (!cp) throw new PeerError('NOT_FOUND', 'no checkpoint of that size');
          try {
            verifyCosignature(
              formatCheckpoint({ origin: this.#c.log.origin, size: cp.size, root: fromBase64(cp.root)! }),
              r.cosignature,
              noteVerifier(logOrigin(ctx.peer.nodeId), key, SIG_COSIGNATURE_V1),
            );
          } catch (err) {
            throw new PeerError('BAD_REQUEST', (err as Error).message);
          }
          await this.#c.log.addCosignature(cp.size, ctx.peer.nodeId, r.cosignature);
          return { stored: true };
        }
        throw new PeerError('BAD_REQUEST', 'unknown op');
      },
    });
    if (this.#init.push && this.#c.host) {
      this.#publisher = createCheckpointPublisher(
        { host: this.#c.host, log: this.#c.log, nodeId: this.#c.nodeId, peerKey: this.#c.peerKey, logger: this.#log },
        { intervalMs: this.#init.pushIntervalMs },
      );
      this.#publisher.start();
    }
  }

  async start() {
    for await (const [k, v] of this.#sub.iterator({ gte: 'seen!', lt: 'seen"' }))
      this.#seen.set((k as string).slice(5), v as Seen);
    await this.#alarms.load();
  }

  async stop() {
    await this.#publisher?.stop();
    this.#publisher = undefined;
    await Promise.allSettled([...this.#queue.values()]);
  }
}

/** Creates a witness. */
export function createWitness(components: WitnessComponents, init: WitnessInit = {}): Witness {
  return new WitnessImpl(components, init);
}
