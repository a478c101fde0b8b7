/**
 * Consent propagation (`/credit/consent/1.0.0`).
 *
 * - `record`: a consent's home pushes every change it makes (grant, request, approval,
 *   rejection, pause, resumption, revocation, expiry) to every other member. Receivers accept a
 *   copy only from the home the signed body names, and only when it extends what they hold
 *   (`authz/lifecycle.ts`), so any order or repetition of messages ends in the home's latest
 *   state and nothing undoes a revocation.
 * - `binding`: a centre pushes every enterprise key binding it issues, so an enterprise can
 *   approve a request anywhere without a consent having carried its binding first.
 * - `request`: a bank's node creates a consent request at the consent's home.
 * - `get`: a node that meets a consent id it has not heard of fetches the home's copy.
 * - `items`: up to {@link MAX_ITEMS} `record` and `binding` messages in one request, each checked
 *   and applied as if sent alone, in order, with one result per message (`{ applied }` or
 *   `{ refused: code }`): how delivery sends a portfolio of consents without a round trip each.
 *
 * Delivery is durable: each change is written to an outbox (sublevel `consent-sync`,
 * `o!<peer>!<kind>!<key>!<version>`) and retried with back-off, across restarts, until the peer
 * has it. Delivery sends the current copy, so a peer that was away receives only the latest state.
 */
import type { Logger } from 'pino';
import {
  ConsentInvalidError,
  type ConsentRecord,
  type ConsentRouting,
  type ConsentService,
  ConsentStateError,
  ForbiddenError,
  type KeyBinding,
} from '../authz/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { type FederationHost, PeerError } from './host.ts';

/** Protocol id of consent propagation. */
export const CONSENT_PROTOCOL = '/credit/consent/1.0.0';

/** Roles whose nodes may keep consents (homes). */
export const HOME_ROLES: ReadonlySet<string> = new Set(['credit-centre', 'city-peer', 'easy-loan']);

/** Pause between delivery rounds to a peer that could not be reached (doubles up to the maximum). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** Items sent to one peer per delivery round. */
const ROUND_ITEMS = 256;
/** Most messages in one `items` request. */
export const MAX_ITEMS = 64;
/** Largest request (an `items` request is cut to stay well below it). */
const MAX_REQUEST_BYTES = 1024 * 1024;
const ITEMS_REQUEST_BYTES = 512 * 1024;

/** What consent propagation needs. */
export interface ConsentSyncComponents {
  host: FederationHost;
  consents: ConsentService;
  db: RootDb;
  nodeId: string;
  logger: Logger;
}

/** Consent propagation. */
export interface ConsentSync {
  register(): Promise<void>;
  /** Starts delivering what the outbox holds (also what a previous run left). */
  start(): Promise<void>;
  stop(): void;
  /** Resolves when the outbox is empty or `timeoutMs` passes; returns whether it is empty. */
  idle(timeoutMs?: number): Promise<boolean>;
  /** Items waiting for delivery, per peer. */
  pending(): Promise<Record<string, number>>;
  /** How the consent service reaches the homes of consents. */
  routing: ConsentRouting;
}

type Delivery = { op: 'record'; record: ConsentRecord; binding?: KeyBinding } | { op: 'binding'; binding: KeyBinding };
type Frame =
  | Delivery
  | { op: 'items'; items: Delivery[] }
  | { op: 'request'; record: ConsentRecord }
  | { op: 'get'; id: string };
/** What a receiver did with one message of an `items` request. */
type ItemResult = { applied: boolean } | { refused: string };

const pad = (n: number) => n.toString().padStart(10, '0');

/**
 * Whether bank `node` receives a consent: its grantee does; so does every other bank when the
 * consent covers the cross-bank exposure query, to which the other banks contribute and whose
 * consent each checks itself. No other bank ever sees a consent.
 */
export function seenByBank(record: ConsentRecord, node: string): boolean {
  return record.body.grantee.node === node || record.body.scopes.includes('joint:exposure');
}

/** Creates consent propagation and subscribes to local changes. */
export function createConsentSync(c: ConsentSyncComponents): ConsentSync {
  const log = c.logger.child({ component: 'consent-sync' });
  const outbox = jsonSublevel<true>(c.db, 'consent-sync');
  const others = () => (c.host.roster()?.roster.members ?? []).filter((m) => m.nodeId !== c.nodeId);
  const running = new Map<string, Promise<void>>();
  const backoff = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = true;

  /** Records a change for the members that need it, durably, then starts delivery. */
  const enqueue = async (kind: 'c' | 'b', key: string, version: string, record?: ConsentRecord) => {
    // A consent goes to the holders, gateways and homes, and to the banks that may act on it (seenByBank).
    const peers = others()
      .filter((m) => kind === 'b' || m.role !== 'bank' || (record !== undefined && seenByBank(record, m.nodeId)))
      .map((m) => m.nodeId);
    await outbox.batch(
      peers.map((p) => ({ type: 'put' as const, key: `o!${p}!${kind}!${key}!${version}`, value: true })),
    );
    for (const p of peers) kick(p);
  };

  /** Sends one peer what its outbox holds, in rounds, until empty or the peer is unreachable. */
  const deliver = async (peer: string) => {
    for (;;) {
      const keys: string[] = [];
      for await (const k of outbox.keys({ gte: `o!${peer}!`, lt: `o!${peer}!\xff`, limit: ROUND_ITEMS })) keys.push(k);
      if (keys.length === 0 || stopped) return;
      // The newest version of each item: the current copy is sent once for all its versions.
      const items = new Map<string, string[]>();
      for (const k of keys) {
        const [, , kind, id] = k.split('!');
        const item = `${kind}!${id}`;
        items.set(item, [...(items.get(item) ?? []), k]);
      }
      // The current copies, cut into `items` requests of at most MAX_ITEMS and ITEMS_REQUEST_BYTES.
      const requests: Array<{ frames: Delivery[]; kinds: string[]; done: string[] }> = [];
      let open = { frames: [] as Delivery[], kinds: [] as string[], done: [] as string[], bytes: 0 };
      for (const [item, versions] of items) {
        const [kind, id] = item.split('!');
        const frame: Delivery | undefined =
          kind === 'c'
            ? await recordFrame(id)
            : await c.consents.bindingFor(id).then((b) => (b ? { op: 'binding' as const, binding: b } : undefined));
        const bytes = frame ? JSON.stringify(frame).length : 0;
        if (open.frames.length === MAX_ITEMS || (open.frames.length > 0 && open.bytes + bytes > ITEMS_REQUEST_BYTES)) {
          requests.push(open);
          open = { frames: [], kinds: [], done: [], bytes: 0 };
        }
        if (frame) {
          open.frames.push(frame);
          open.kinds.push(kind);
          open.bytes += bytes;
        }
        open.done.push(...versions);
      }
      requests.push(open);
      for (const r of requests) {
        if (r.frames.length > 0) await send(peer, r.frames, r.kinds);
        await outbox.batch(r.done.map((key) => ({ type: 'del' as const, key })));
      }
    }
  };

  /**
   * Delivers messages to a peer in one `items` request (one at a time to a peer that does not
   * take `items`). Throws when the peer is unreachable or busy (delivery is retried); a message
   * the peer read and refused is logged and not retried: retrying would not change its mind.
   */
  const send = async (peer: string, frames: Delivery[], kinds: string[]) => {
    const refusedBy = (code: string, k: number) =>
      log.warn({ peer, code, item: kinds[k] }, 'peer refused a consent message');
    try {
      const answer = (await c.host.request(peer, CONSENT_PROTOCOL, { op: 'items', items: frames } satisfies Frame, {
        timeoutMs: 15_000,
      })) as { results?: unknown };
      const results = Array.isArray(answer?.results) ? (answer.results as ItemResult[]) : [];
      frames.forEach((_, k) => {
        const r = results[k];
        if (!r || typeof r !== 'object') refusedBy('BAD_RESPONSE', k);
        else if ('refused' in r) refusedBy(String(r.refused), k);
      });
      return;
    } catch (err) {
      if (!(err instanceof PeerError) || err.code === 'BUSY') throw err;
    }
    // A peer that refused the `items` request as a whole (an earlier version, a message that failed
    // it): one message at a time, so that the others still arrive.
    for (const [k, frame] of frames.entries())
      try {
        await c.host.request(peer, CONSENT_PROTOCOL, frame, { timeoutMs: 5000 });
      } catch (err) {
        if (!(err instanceof PeerError) || err.code === 'BUSY') throw err;
        refusedBy(err.code, k);
      }
  };

  const recordFrame = async (id: string): Promise<Delivery | undefined> => {
    const record = await c.consents.get(id);
    if (!record) return undefined;
    const binding = await c.consents.bindingFor(record.body.enterprise);
    return { op: 'record', record, ...(binding ? { binding } : {}) };
  };

  /** Starts (or notes the need for) a delivery round to `peer`. */
  function kick(peer: string) {
    if (stopped || running.has(peer)) return;
    const job = deliver(peer)
      .then(() => {
        backoff.delete(peer);
      })
      .catch((err) => {
        const wait = Math.min(RETRY_MAX_MS, (backoff.get(peer) ?? RETRY_MIN_MS / 2) * 2);
        backoff.set(peer, wait);
        log.debug({ peer, wait, err: (err as Error).message }, 'consent delivery postponed');
        const t = setTimeout(() => {
          timers.delete(t);
          kick(peer);
        }, wait);
        t.unref();
        timers.add(t);
      })
      .finally(() => running.delete(peer));
    running.set(peer, job);
  }

  c.consents.onChange((record) => {
    if (record.body.home !== c.nodeId) return;
    void enqueue('c', record.id, pad(record.seq), record).catch((err) =>
      log.error({ err: (err as Error).message }, 'consent change not queued for delivery'),
    );
  });

  c.consents.onBindingChange((b) => {
    if (b.body.issuer !== c.nodeId) return;
    void enqueue('b', b.body.uscc, b.body.issuedAt).catch((err) =>
      log.error({ err: (err as Error).message }, 'key binding not queued for delivery'),
    );
  });

  const handle = async (raw: unknown, peer: { nodeId: string; role: string }) => {
    const f = (raw ?? {}) as Partial<Frame> & Record<string, unknown>;
    const bad = (m: string) => new PeerError('BAD_REQUEST', m);
    switch (f.op) {
      case 'binding': {
        try {
          return { applied: await c.consents.importBinding(f.binding as KeyBinding) };
        } catch (err) {
          throw bad((err as Error).message);
        }
      }
      case 'record': {
        const record = f.record as ConsentRecord | undefined;
        if (!record || typeof record !== 'object' || typeof record.body !== 'object')
          throw bad('missing consent record');
        if (record.body?.home !== peer.nodeId)
          throw new PeerError('FORBIDDEN', 'only the home node of a consent may publish it');
        try {
          if (f.binding) await c.consents.importBinding(f.binding as KeyBinding).catch(() => false);
          return { applied: await c.consents.importRecord(record, peer.nodeId) };
        } catch (err) {
          throw bad((err as Error).message);
        }
      }
      case 'request': {
        if (peer.role !== 'bank') throw new PeerError('FORBIDDEN', 'only a bank requests consent');
        try {
          return { record: await c.consents.acceptRequest(f.record as ConsentRecord, peer.nodeId) };
        } catch (err) {
          const code = (err as { code?: string }).code;
          throw new PeerError(
            code === 'FORBIDDEN' || code === 'CONFLICT' ? code : 'BAD_REQUEST',
            (err as Error).message,
          );
        }
      }
      case 'get': {
        const record = typeof f.id === 'string' ? await c.consents.get(f.id) : undefined;
        // A bank sees only the consents it may act on; this node answers only for consents it keeps.
        if (!record || record.body.home !== c.nodeId || (peer.role === 'bank' && !seenByBank(record, peer.nodeId)))
          throw new PeerError('NOT_FOUND', 'no such consent kept here');
        return recordFrame(record.id);
      }
      case 'items': {
        const items = f.items as unknown;
        if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS)
          throw bad(`items must hold 1 to ${MAX_ITEMS} consent messages`);
        // Each message as if sent alone, in order (a binding before the consents that need it).
        const results: ItemResult[] = [];
        for (const item of items) {
          const op = (item as { op?: unknown } | null)?.op;
          if (op !== 'record' && op !== 'binding') {
            results.push({ refused: 'BAD_REQUEST' });
            continue;
          }
          try {
            results.push((await handle(item, peer)) as { applied: boolean });
          } catch (err) {
            if (!(err instanceof PeerError)) throw err;
            results.push({ refused: err.code });
          }
        }
        return { results };
      }
      default:
        throw bad('unknown op');
    }
  };

  const isHome = (nodeId: string) => {
    const m = c.host.roster()?.roster.members.find((x) => x.nodeId === nodeId);
    return m !== undefined && HOME_ROLES.has(m.role);
  };
  const routing: ConsentRouting = {
    mayBeHome: isHome,
    defaultHome: () =>
      c.host.roster()?.roster.members.find((m) => m.role === 'credit-centre')?.nodeId ??
      c.host.roster()?.roster.members.find((m) => HOME_ROLES.has(m.role))?.nodeId,
    async submitRequest(record) {
      try {
        const r = (await c.host.request(record.body.home, CONSENT_PROTOCOL, { op: 'request', record })) as {
          record?: ConsentRecord;
        };
        if (!r?.record) throw new ConsentInvalidError('the home node did not return the request');
        return r.record;
      } catch (err) {
        if (!(err instanceof PeerError)) throw err;
        if (err.code === 'FORBIDDEN') throw new ForbiddenError(err.message);
        if (err.code === 'CONFLICT') throw new ConsentStateError(err.message);
        throw new ConsentInvalidError(`the home node refused the request: ${err.message}`);
      }
    },
    async fetch(id, home) {
      try {
        const r = (await c.host.request(home, CONSENT_PROTOCOL, { op: 'get', id })) as {
          record?: ConsentRecord;
          binding?: KeyBinding;
        };
        return r?.record ? { record: r.record, ...(r.binding ? { binding: r.binding } : {}) } : undefined;
      } catch (err) {
        if (err instanceof PeerError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      }
    },
  };

  return {
    routing,
    register: () =>
      c.host.register({
        id: CONSENT_PROTOCOL,
        roles: ['credit-centre', 'city-peer', 'easy-loan', 'bank', 'source'],
        maxRequestBytes: MAX_REQUEST_BYTES,
        timeoutMs: 15_000,
        maxConcurrentPerPeer: 8,
        handle: (raw, ctx) => handle(raw, ctx.peer),
      }),
    async start() {
      stopped = false;
      const peers = new Set<string>();
      for await (const k of outbox.keys({ gte: 'o!', lt: 'o"' })) peers.add(k.split('!')[1]);
      for (const p of peers) kick(p);
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    async idle(timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (running.size > 0) await Promise.race([...running.values(), new Promise((r) => setTimeout(r, 200))]);
        else {
          let empty = true;
          for await (const _ of outbox.keys({ gte: 'o!', lt: 'o"', limit: 1 })) empty = false;
          if (empty) return true;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      return false;
    },
    async pending() {
      const out: Record<string, number> = {};
      for await (const k of outbox.keys({ gte: 'o!', lt: 'o"' })) {
        const p = k.split('!')[1];
        out[p] = (out[p] ?? 0) + 1;
      }
      return out;
    },
  };
}
