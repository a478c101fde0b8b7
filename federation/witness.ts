/**
 * Checkpoint witnessing (DESIGN §6): every node checks each peer's signed checkpoints, verifies
 * that each new one extends the last one it accepted (consistency proof fetched from the peer),
 * cosigns it (c2sp.org/tlog-cosignature) and hands the cosignature back. Two different trees of
 * the same size, an inconsistent extension, or two peers that saw different trees of one origin
 * raise an alarm (log, counter, API field) with the signed notes as evidence.
 */
import type { Logger } from 'pino';
import { type AccessLog, logOrigin } from '../accesslog/log.ts';
import {
  bytesEqual,
  checkConsistency,
  cosignCheckpoint,
  formatCheckpoint,
  fromBase64,
  type NoteVerifier,
  noteVerifier,
  openCheckpoint,
  SIG_COSIGNATURE_V1,
  verifyCosignature,
} from '../crypto/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { type FederationHost, PeerError } from './host.ts';

/** Protocol id of log queries and cosignature delivery. */
export const LOG_PROTOCOL = '/credit/log/1.0.0';

/** A detected misbehaviour. */
export interface WitnessAlarm {
  kind: 'SPLIT_VIEW' | 'INCONSISTENT' | 'BAD_SIGNATURE';
  origin: string;
  at: string;
  detail: string;
  /** Signed notes that prove it. */
  evidence: string[];
}

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
  /** Checks a checkpoint a peer published; cosigns it if it extends what was seen before. */
  observe(nodeId: string, note: string): Promise<void>;
  /** Compares another witness's view of the logs with this one's. */
  compare(fromNode: string, views: Record<string, { size: number; root: string; note: string }>): Promise<void>;
  /** The latest accepted checkpoint per peer, as shared with other witnesses. */
  views(): Record<string, Seen>;
  alarms(): WitnessAlarm[];
  register(): Promise<void>;
  start(): Promise<void>;
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

class WitnessImpl implements Witness {
  readonly #c: WitnessComponents;
  readonly #sub;
  readonly #log: Logger;
  #seen = new Map<string, Seen>();
  #alarms: WitnessAlarm[] = [];
  #queue = new Map<string, Promise<void>>();
  /** Size of the last cosignature each peer has received from us. */
  #delivered = new Map<string, number>();

  constructor(c: WitnessComponents) {
    this.#c = c;
    this.#sub = jsonSublevel<unknown>(c.db, 'federation');
    this.#log = c.logger.child({ component: 'witness' });
  }

  get #name() {
    return logOrigin(this.#c.nodeId);
  }

  #verifier(nodeId: string): NoteVerifier | undefined {
    const key = this.#c.peerKey(nodeId);
    return key ? noteVerifier(logOrigin(nodeId), key) : undefined;
  }

  async #alarm(a: Omit<WitnessAlarm, 'at'>) {
    if (this.#alarms.some((x) => x.kind === a.kind && x.origin === a.origin && x.detail === a.detail)) return;
    const alarm = { ...a, at: new Date(this.#c.clock?.() ?? Date.now()).toISOString() };
    this.#alarms.push(alarm);
    this.#log.error({ kind: a.kind, origin: a.origin, detail: a.detail }, 'witness alarm');
    await this.#sub.put(`alarm!${alarm.at}!${this.#alarms.length}`, alarm);
  }

  async #proofs(nodeId: string, size1: number, size2: number): Promise<string[]> {
    if (this.#c.proofs) return this.#c.proofs(nodeId, size1, size2);
    const r = (await this.#c.host!.request(
      nodeId,
      LOG_PROTOCOL,
      { op: 'consistency', size1, size2 },
      { timeoutMs: 5000 },
    )) as { proof?: unknown };
    if (!Array.isArray(r?.proof)) throw new PeerError('BAD_RESPONSE', 'no proof in the answer');
    return r.proof as string[];
  }

  observe(nodeId: string, note: string): Promise<void> {
    // One peer at a time, in order; different peers in parallel.
    const prev = this.#queue.get(nodeId) ?? Promise.resolve();
    const next = prev
      .then(() => this.#observe(nodeId, note))
      .catch((err) => this.#log.warn({ peer: nodeId, err: (err as Error).message }, 'checkpoint not witnessed'));
    this.#queue.set(nodeId, next);
    return next;
  }

  async #observe(nodeId: string, note: string) {
    const v = this.#verifier(nodeId);
    if (!v) return;
    let cp: ReturnType<typeof openCheckpoint>['checkpoint'];
    try {
      cp = openCheckpoint(note, v).checkpoint;
    } catch (err) {
      await this.#alarm({ kind: 'BAD_SIGNATURE', origin: v.name, detail: (err as Error).message, evidence: [note] });
      return;
    }
    const last = this.#seen.get(nodeId);
    if (last) {
      if (cp.size === last.size) {
        if (!bytesEqual(cp.root, fromBase64(last.root)!))
          await this.#alarm({
            kind: 'SPLIT_VIEW',
            origin: v.name,
            detail: `two different trees of size ${cp.size}`,
            evidence: [last.note, note],
          });
        else if (this.#delivered.get(nodeId) !== cp.size) await this.#cosign(nodeId, cp);
        return;
      }
      const [small, big] =
        cp.size < last.size
          ? [
              { size: cp.size, root: cp.root, note },
              { ...last, root: fromBase64(last.root)! },
            ]
          : [
              { ...last, root: fromBase64(last.root)! },
              { size: cp.size, root: cp.root, note },
            ];
      if (small.size > 0) {
        try {
          const proof = await this.#proofs(nodeId, small.size, big.size);
          checkConsistency(
            small.size,
            big.size,
            small.root,
            big.root,
            proof.map((p) => fromBase64(p) ?? new Uint8Array()),
          );
        } catch (err) {
          if (err instanceof PeerError || (err as { code?: string }).code === 'PEER_UNAVAILABLE') throw err;
          await this.#alarm({
            kind: 'INCONSISTENT',
            origin: v.name,
            detail: `size ${big.size} does not extend size ${small.size}: ${(err as Error).message}`,
            evidence: [small.note, big.note],
          });
          return;
        }
      }
      if (cp.size < last.size) return;
    }
    const seen = { size: cp.size, root: Buffer.from(cp.root).toString('base64'), note };
    this.#seen.set(nodeId, seen);
    await this.#sub.put(`seen!${nodeId}`, seen);
    await this.#cosign(nodeId, cp);
  }

  /** Cosigns an accepted checkpoint and hands the cosignature to its log; retried on later polls until delivered. */
  async #cosign(nodeId: string, cp: { origin: string; size: number; root: Uint8Array }) {
    const line = cosignCheckpoint(
      formatCheckpoint(cp),
      this.#name,
      this.#c.identitySeed,
      Math.floor((this.#c.clock?.() ?? Date.now()) / 1000),
    );
    if (this.#c.deliver) await this.#c.deliver(nodeId, cp.size, line);
    else
      await this.#c.host!.request(
        nodeId,
        LOG_PROTOCOL,
        { op: 'cosign', size: cp.size, cosignature: line },
        { timeoutMs: 5000 },
      );
    this.#delivered.set(nodeId, cp.size);
  }

  async compare(fromNode: string, views: Record<string, { size: number; root: string; note: string }>) {
    for (const [origin, view] of Object.entries(views ?? {})) {
      if (origin === fromNode || typeof view?.note !== 'string') continue;
      const mine = origin === this.#c.nodeId ? this.#c.log.latestCheckpoint() : this.#seen.get(origin);
      if (!mine || mine.size !== view.size || mine.root === view.root) {
        // Only a copy that the origin really signed is worth checking; a relayed forgery proves nothing.
        const v = this.#verifier(origin);
        if (origin !== this.#c.nodeId && v && this.#signedBy(view.note, v)) await this.observe(origin, view.note);
        continue;
      }
      // Same size, different root: check the other witness's copy is really signed by the origin.
      const v =
        origin === this.#c.nodeId
          ? noteVerifier(this.#c.log.origin, this.#c.peerKey(origin) ?? new Uint8Array(32))
          : this.#verifier(origin);
      try {
        if (v) openCheckpoint(view.note, v);
        await this.#alarm({
          kind: 'SPLIT_VIEW',
          origin: logOrigin(origin),
          detail: `${fromNode} saw a different tree of size ${view.size}`,
          evidence: [mine.note, view.note],
        });
      } catch {
        // A forged copy from the other witness proves nothing about the origin.
      }
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
    return [...this.#alarms];
  }

  async register() {
    await this.#c.host!.register({
      id: LOG_PROTOCOL,
      roles: ['credit-centre', 'city-peer', 'easy-loan', 'bank', 'source'],
      maxRequestBytes: 8 * 1024,
      timeoutMs: 5000,
      maxConcurrentPerPeer: 4,
      handle: async (raw, ctx) => {
        const r = (raw ?? {}) as { op?: string; size1?: number; size2?: number; size?: number; cosignature?: string };
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
        if (r.op === 'cosign') {
          const key = this.#c.peerKey(ctx.peer.nodeId);
          const size = r.size;
          if (!key || typeof r.cosignature !== 'string' || !Number.isSafeInteger(size))
            throw new PeerError('BAD_REQUEST', 'invalid cosignature');
          const cps = await this.#c.log.checkpoints({ limit: 1, beforeSize: size! + 1 });
          const cp = cps[0];
          if (!cp || cp.size !== size) throw new PeerError('NOT_FOUND', 'no checkpoint of that size');
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
  }

  async start() {
    for await (const [k, v] of this.#sub.iterator({ gte: 'seen!', lt: 'seen"' }))
      this.#seen.set((k as string).slice(5), v as Seen);
    for await (const v of this.#sub.values({ gte: 'alarm!', lt: 'alarm"' })) this.#alarms.push(v as WitnessAlarm);
  }
}

/** Creates a witness. */
export function createWitness(components: WitnessComponents): Witness {
  return new WitnessImpl(components);
}
