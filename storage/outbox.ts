/**
 * A durable outbox of messages to other nodes: each message is written to the outbox's sublevel
 * (`d!<node>!<time>-<seq>`) in the same batch as the change it reports, then sent in order per node
 * and retried with back-off, across restarts, until the node has it. A node that read a message and
 * refused it (a code other than the retried ones: unavailable, busy, log or storage down) would
 * refuse it again: the message is dropped, logged, and `refused` told. Used for fact changes and
 * objection decisions (`objections-outbox`) and post-loan alerts (`monitoring-outbox`).
 */
import type { AbstractBatchOperation } from 'abstract-level';
import type { Logger } from 'pino';
import { jsonSublevel, type RootDb, type Sublevel } from './index.ts';

/** Pause before the first retry of a node that could not be reached (doubles up to the maximum). */
export const RETRY_MIN_MS = 250;
export const RETRY_MAX_MS = 30_000;
/** How long stopping waits for deliveries in flight. */
const STOP_WAIT_MS = 2_000;
const RETRY_CODES = new Set(['PEER_UNAVAILABLE', 'BUSY', 'LOG_UNAVAILABLE', 'STORAGE_FAILED']);

/** The outbox of one kind of message. */
export interface Outbox<M> {
  /** The write that queues `message` for `node`, for the caller's atomic batch. */
  op(node: string, message: M): AbstractBatchOperation<RootDb, string, unknown>;
  /** Starts delivering what is queued for `nodes` (default: every node with messages); call after committing ops. */
  kick(nodes?: Iterable<string>): void;
  /** Messages waiting, per node. */
  pending(): Promise<Record<string, number>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the outbox needs. */
export interface OutboxComponents<M> {
  db: RootDb;
  /** The sublevel the messages are kept in (also the logger's component name). */
  name: string;
  /** What a message is, for log lines (e.g. `alert`). */
  what?: string;
  /** Sends one message; rejects with a `PeerError` (refused) or `PeerUnavailableError` (retry). Absent: nothing is sent. */
  send: () => ((node: string, message: M) => Promise<void>) | undefined;
  /** Told of a message a node read and refused (not retried). */
  refused?: (node: string, message: M, code: string) => Promise<void>;
  logger: Logger;
}

/** Creates an outbox. */
export function createOutbox<M>(c: OutboxComponents<M>): Outbox<M> {
  const sub: Sublevel = jsonSublevel(c.db, c.name);
  const log = c.logger.child({ component: c.name });
  const what = c.what ?? 'message';
  let seq = 0;
  let running = false;
  const busy = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const backoff = new Map<string, { wait: number; timer?: NodeJS.Timeout }>();
  const nextKey = (node: string) =>
    `d!${node}!${Date.now().toString().padStart(15, '0')}-${(seq++).toString().padStart(9, '0')}`;

  const drain = async (node: string) => {
    const send = c.send();
    if (!send) return;
    for (;;) {
      if (!running) return;
      const batch: Array<[string, M]> = [];
      for await (const e of sub.iterator({ gte: `d!${node}!`, lt: `d!${node}!\xff`, limit: 64 }))
        batch.push(e as [string, M]);
      if (batch.length === 0) return;
      for (const [key, message] of batch) {
        try {
          await send(node, message);
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'INTERNAL';
          if (RETRY_CODES.has(code)) {
            retryLater(node);
            return;
          }
          log.warn({ peer: node, code }, `a node refused a ${what}; not retried`);
          await c.refused?.(node, message, code).catch(() => undefined);
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
    if (!running) return;
    if (busy.has(node)) {
      // Messages queued while a round runs are picked up by another round right after it.
      again.add(node);
      return;
    }
    const run = drain(node)
      .catch((err) => {
        log.error({ peer: node, err: (err as Error).message }, `${what} delivery failed`);
        retryLater(node);
      })
      .finally(() => {
        busy.delete(node);
        if (again.delete(node) && !backoff.get(node)?.timer) deliver(node);
      });
    busy.set(node, run);
  };
  const nodes = async () => {
    const out = new Set<string>();
    let from = 'd!';
    // One key per node: skip past each node's range.
    for (;;) {
      let found: string | undefined;
      for await (const k of sub.keys({ gt: from, lt: 'd"', limit: 1 })) found = k;
      if (!found) return [...out];
      const node = found.split('!')[1];
      out.add(node);
      from = `d!${node}!\xff`;
    }
  };

  return {
    op: (node, message) => ({ type: 'put', sublevel: sub, key: nextKey(node), value: message }),
    kick(only) {
      const go = (list: Iterable<string>) => {
        for (const n of list) if (!backoff.get(n)?.timer) deliver(n);
      };
      if (only) go(only);
      else void nodes().then(go);
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
