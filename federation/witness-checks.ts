/**
 * The witness's checks of one log's checkpoints (DESIGN §6), one log at a time and in order: a
 * checkpoint the log shows in health (`self`), one another witness relayed (`relay`), or one the
 * log pushed with a consistency proof. A checkpoint that extends the last one accepted of that
 * log is accepted (persisted as `seen!<nodeId>` in sublevel `federation`) and cosigned; anything
 * else is refused, and raises an alarm when the notes prove misbehaviour (SPLIT_VIEW,
 * INCONSISTENT, BAD_SIGNATURE, ROLLBACK) or the log keeps failing consistency requests
 * (UNRESPONSIVE_LOG). A quarantined log is not cosigned.
 */
import type { Logger } from 'pino';
import { logOrigin } from '../accesslog/log.ts';
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
  toBase64,
} from '../crypto/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import { PeerError } from './host.ts';
import { MAX_PROOF_HASHES } from './log-protocol.ts';
import { type AlarmStore, seenKey, type WitnessAlarm } from './quarantine.ts';

/** What a node has accepted of one peer's log. */
export interface Seen {
  size: number;
  root: string;
  note: string;
}

/** Fetches a consistency proof from a log's owner. */
export type ProofFetcher = (nodeId: string, size1: number, size2: number) => Promise<string[]>;

/** How a checkpoint reached the witness: shown by the log, relayed by a witness, or pushed with a proof. */
export type Via = 'self' | 'relay' | { old: number; proof: string[] };

/** What came of checking a checkpoint. */
export type Outcome =
  | { kind: 'cosigned'; line: string }
  | { kind: 'conflict'; size: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'none' };

const NONE: Outcome = { kind: 'none' };
/** A refusal with its reason. */
export const refused = (reason: string): Outcome => ({ kind: 'refused', reason });
/** Answers by which a log says it cannot prove up to a size: what a rolled-back log says. */
const REFUSALS = new Set(['BAD_REQUEST', 'NOT_FOUND']);

/** What the checks need. */
export interface CheckpointChecksComponents {
  db: RootDb;
  nodeId: string;
  identitySeed: Uint8Array;
  /** Public key of a peer's log (its roster signing key). */
  peerKey: (nodeId: string) => Uint8Array | undefined;
  alarms: AlarmStore;
  logger: Logger;
  proofs: ProofFetcher;
  /** Hands a cosignature to the log's owner. */
  deliver: (nodeId: string, size: number, line: string) => Promise<void>;
  now: () => number;
}

/** When failing consistency requests make UNRESPONSIVE_LOG. */
export interface CheckpointChecksInit {
  unresponsiveAfter: number;
  unresponsiveForMs: number;
}

/** The witness's state of every log it witnesses, and the checks that change it. */
export class CheckpointChecks {
  readonly #c: CheckpointChecksComponents;
  readonly #init: CheckpointChecksInit;
  readonly #sub: Sublevel<unknown>;
  #seen = new Map<string, Seen>();
  #queue = new Map<string, Promise<unknown>>();
  /** Size of the last cosignature each peer has received from us. */
  #delivered = new Map<string, number>();
  /** Consecutive failed consistency requests per peer. */
  #failures = new Map<string, { count: number; since: number; last: string }>();

  constructor(c: CheckpointChecksComponents, init: CheckpointChecksInit) {
    this.#c = c;
    this.#init = init;
    this.#sub = jsonSublevel<unknown>(c.db, 'federation');
  }

  /** Reads the checkpoints accepted before; call once before use. */
  async load() {
    for await (const [k, v] of this.#sub.iterator({ gte: 'seen!', lt: 'seen"' }))
      this.#seen.set((k as string).slice(5), v as Seen);
  }

  /** The latest accepted checkpoint of one log. */
  seen(nodeId: string): Seen | undefined {
    return this.#seen.get(nodeId);
  }

  /** The latest accepted checkpoint per log. */
  views(): Record<string, Seen> {
    return Object.fromEntries(this.#seen);
  }

  /** Forgets what was accepted of a log (its stored checkpoint is deleted by the alarm store). */
  forget(nodeId: string) {
    this.#seen.delete(nodeId);
    this.#delivered.delete(nodeId);
    this.#failures.delete(nodeId);
  }

  /** The verifier of a log's checkpoints, if it is a log this node witnesses. */
  verifier(nodeId: string): NoteVerifier | undefined {
    const key = this.#c.peerKey(nodeId);
    return key ? noteVerifier(logOrigin(nodeId), key) : undefined;
  }

  /** Raises an alarm (unless the same one is uncleared already) and logs it. */
  async alarm(a: Omit<WitnessAlarm, 'at' | 'cleared' | 'origin'>) {
    const alarm = await this.#c.alarms.raise(
      { ...a, origin: logOrigin(a.nodeId) },
      new Date(this.#c.now()).toISOString(),
    );
    if (alarm) this.#c.logger.error({ kind: a.kind, peer: a.nodeId, detail: a.detail }, 'witness alarm');
  }

  /** Runs `task` after every earlier one about the same log: one log at a time, in order. */
  run<T>(nodeId: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#queue.get(nodeId) ?? Promise.resolve();
    const next = prev.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queue.set(nodeId, settled);
    void settled.then(() => {
      if (this.#queue.get(nodeId) === settled) this.#queue.delete(nodeId);
    });
    return next;
  }

  /** Waits for the checks queued now. */
  async idle() {
    await Promise.allSettled([...this.#queue.values()]);
  }

  /** Checks the checkpoint a log shows as its latest (errors are logged, not thrown). */
  observe(nodeId: string, note: string): Promise<void> {
    return this.run(nodeId, () => this.#check(nodeId, note, 'self')).then(
      () => undefined,
      (err) => this.#c.logger.warn({ peer: nodeId, err: (err as Error).message }, 'checkpoint not witnessed'),
    );
  }

  /** Checks a checkpoint the log pushed with a consistency proof from `old`. */
  push(nodeId: string, push: { old: number; proof: string[]; checkpoint: string }): Promise<Outcome> {
    return this.run(nodeId, () => this.#check(nodeId, push.checkpoint, push));
  }

  /** Checks a checkpoint of `nodeId`'s log that another witness relayed. */
  relay(nodeId: string, note: string): Promise<Outcome> {
    return this.run(nodeId, () => this.#check(nodeId, note, 'relay'));
  }

  /** Checks one checkpoint of `nodeId`'s log, shown by the log itself, relayed, or pushed with a proof. */
  async #check(nodeId: string, note: string, via: Via): Promise<Outcome> {
    const v = this.verifier(nodeId);
    if (!v) return refused('not a log this node witnesses');
    let cp: Checkpoint;
    try {
      cp = openCheckpoint(note, v).checkpoint;
    } catch (err) {
      if (via !== 'relay')
        await this.alarm({ kind: 'BAD_SIGNATURE', nodeId, detail: (err as Error).message, evidence: [note] });
      return refused(`checkpoint does not verify: ${(err as Error).message}`);
    }
    const last = this.#seen.get(nodeId);
    if (!last) return this.#accept(nodeId, cp, note, via);
    const lastRoot = fromBase64(last.root)!;
    if (cp.size === last.size) {
      if (!bytesEqual(cp.root, lastRoot)) {
        await this.alarm({
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
          proof = await this.#c.proofs(nodeId, last.size, cp.size);
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
      proof = await this.#c.proofs(nodeId, cp.size, last.size);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR';
      if (via === 'self' && err instanceof PeerError && REFUSALS.has(code)) {
        await this.alarm({
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
      await this.alarm({
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
    const now = this.#c.now();
    const f = this.#failures.get(nodeId) ?? { count: 0, since: now, last: code };
    f.count++;
    f.last = code;
    this.#failures.set(nodeId, f);
    this.#c.logger.warn({ peer: nodeId, code, failures: f.count }, 'consistency proof request failed');
    if (f.count >= this.#init.unresponsiveAfter && now - f.since >= this.#init.unresponsiveForMs)
      await this.alarm({
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
    if (this.#c.alarms.isQuarantined(nodeId)) return refused('the log is quarantined after a witness alarm');
    const line = cosignCheckpoint(
      formatCheckpoint(cp),
      logOrigin(this.#c.nodeId),
      this.#c.identitySeed,
      Math.floor(this.#c.now() / 1000),
    );
    if (typeof via !== 'object') await this.#c.deliver(nodeId, cp.size, line);
    this.#delivered.set(nodeId, cp.size);
    return { kind: 'cosigned', line };
  }
}
