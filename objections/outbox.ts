/**
 * Durable delivery of fact changes and objection decisions to other nodes: each message is written
 * to the outbox (sublevel `objections-outbox`, `d!<node>!<seq>`) in the same batch as the change
 * it reports, then sent in order, per node, and retried with back-off (across restarts) until the
 * node has it. A node that read a message and refused it (a `PeerError` other than `BUSY`) would
 * refuse it again: the message is dropped and the refusal logged.
 */
import type { AbstractBatchOperation } from 'abstract-level';
import type { Logger } from 'pino';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';

/** Sends one message; rejects with a `PeerError` (refused) or `PeerUnavailableError` (retry). */
export type Send = (node: string, message: unknown) => Promise<void>;

/** Pause before the first retry of a node that could not be reached (doubles up to the maximum). */
export const RETRY_MIN_MS = 250;
export const RETRY_MAX_MS = 30_000;
/** How long stopping waits for deliveries in flight. */
const STOP_WAIT_MS = 2_000;

/** The outbox. */
export interface Outbox {
  /** The write that queues `message` for `node`, for the caller's atomic batch. */
  op(node: string, message: unknown): AbstractBatchOperation<RootDb, string, unknown>;
  /** Starts delivering what is queued (call after committing ops). */
  kick(): void;
  /** Messages waiting, per node. */
  pending(): Promise<Record<string, number>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the outbox needs. */
export interface OutboxComponents {
  db: RootDb;
  /** How messages are sent (absent: nothing is delivered, e.g. on a stand-alone node). */
  send: () => Send | undefined;
  logger: Logger;
}

/** Creates the outbox. */
export function createOutbox(c: OutboxComponents): Outbox {
  const sub: Sublevel = jsonSublevel(c.db, 'objections-outbox');
  const log = c.logger.child({ component: 'objections-outbox' });
  let seq = 0;
  let running = false;
  const busy = new Map<string, Promise<void>>();
  const backoff = new Map<string, { wait: number; timer?: NodeJS.Timeout }>();
  // Keys sort by time, then by a counter within this process.
  const nextKey = (node: string) =>
    `d!${node}!${Date.now().toString().padStart(15, '0')}-${(seq++).toString().padStart(9, '0')}`;

  const drain = async (node: string) => {
    const send = c.send();
    if (!send) return;
    for (;;) {
      if (!running) return;
      const batch: Array<[string, unknown]> = [];
      for await (const e of sub.iterator({ gte: `d!${node}!`, lt: `d!${node}!\xff`, limit: 64 })) batch.push(e);
      if (batch.length === 0) return;
      for (const [key, message] of batch) {
        try {
          await send(node, message);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (
            code === 'PEER_UNAVAILABLE' ||
            code === 'BUSY' ||
            code === 'LOG_UNAVAILABLE' ||
            code === 'STORAGE_FAILED'
          ) {
            retryLater(node);
            return;
          }
          log.warn({ peer: node, code }, 'a node refused a fact change; not retried');
        }
        await sub.del(key);
      }
      backoff.delete(node);
    }
  };
  const retryLater = (node: string) => {
    if (!running) return;
    const b = backoff.get(node) ?? { wait: RETRY_MIN_MS / 2 };
    b.wait = Math.min(RETRY_MAX_MS, b.wait * 2);
    if (b.timer) clearTimeout(b.timer);
    b.timer = setTimeout(() => {
      b.timer = undefined;
      deliver(node);
    }, b.wait);
    b.timer.unref();
    backoff.set(node, b);
  };
  const deliver = (node: string) => {
    if (!running || busy.has(node)) return;
    const run = drain(node)
      .catch((err) => {
        log.error({ peer: node, err: (err as Error).message }, 'delivery failed');
        retryLater(node);
      })
      .finally(() => busy.delete(node));
    busy.set(node, run);
  };
  const nodes = async () => {
    const out = new Set<string>();
    for await (const k of sub.keys({ gte: 'd!', lt: 'd"' })) out.add(k.split('!')[1]);
    return [...out];
  };

  return {
    op: (node, message) => ({ type: 'put', sublevel: sub, key: nextKey(node), value: message }),
    kick() {
      void nodes().then((list) => {
        for (const n of list) if (!backoff.get(n)?.timer) deliver(n);
      });
    },
    async pending() {
      const out: Record<string, number> = {};
      for await (const k of sub.keys({ gte: 'd!', lt: 'd"' })) {
        const n = k.split('!')[1];
        out[n] = (out[n] ?? 0) + 1;
      }
      return out;
    },
    async start() {
      running = true;
      for (const n of await nodes()) deliver(n);
    },
    async stop() {
      running = false;
      for (const b of backoff.values()) if (b.timer) clearTimeout(b.timer);
      backoff.clear();
      // Deliveries in flight end when their request does (the host aborts them when it stops); wait briefly.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(busy.values()),
        new Promise((resolve) => {
          timer = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
