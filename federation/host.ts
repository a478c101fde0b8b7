/**
 * The federation host: a libp2p node (TCP + Noise + Yamux) whose identity is the node's Ed25519
 * key, admitting only roster members, with request/response protocols that carry one
 * length-prefixed JSON frame each way under size, time and per-peer concurrency limits.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { Logger } from 'pino';
import { fromUtf8, toUtf8 } from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import { isActive, type MemberRole, type RosterMember, type SignedRoster } from './roster.ts';

/** A peer could not be reached or did not answer in time. */
export class PeerUnavailableError extends CreditError {
  static override name = 'PeerUnavailableError';
  override readonly code = 'PEER_UNAVAILABLE';
}

/** A peer answered with an error; `code` is the peer's stable error code. */
export class PeerError extends CreditError {
  static override name = 'PeerError';
  override readonly code: string;
  readonly details: unknown;
  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** What a protocol handler knows about the request. */
export interface HandlerContext {
  /** The roster entry of the calling node. */
  peer: RosterMember;
  /** Aborts when the protocol's time limit passes or the host stops. */
  signal: AbortSignal;
}

/** A request/response protocol. */
export interface ProtocolSpec {
  /** Versioned protocol id, e.g. `/credit/health/1.0.0`. */
  id: string;
  /** Roles whose members may open this protocol to us; everyone else is refused unread. */
  roles: readonly MemberRole[];
  maxRequestBytes: number;
  timeoutMs: number;
  maxConcurrentPerPeer: number;
  /** Handles one request. Throw a CreditError to answer with its code. */
  handle(request: unknown, ctx: HandlerContext): Promise<unknown>;
}

/** Options of one outgoing request. */
export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** The federation host. */
export interface FederationHost {
  readonly peerId: string;
  /** Listening addresses, with `/p2p/<peerId>`. */
  addresses(): string[];
  /** The roster in force (already verified by the caller). */
  roster(): SignedRoster | undefined;
  /** Puts a verified roster in force: refreshes peer addresses and drops connections of removed members. */
  setRoster(roster: SignedRoster): Promise<void>;
  /** The active roster member behind a peer id. */
  memberByPeer(peerId: string): RosterMember | undefined;
  register(spec: ProtocolSpec): Promise<void>;
  /** Sends one request to a member and returns its answer. */
  request(nodeId: string, protocol: string, body: unknown, options?: RequestOptions): Promise<unknown>;
  /** Node ids of members with an open connection. */
  connected(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the host needs. */
export interface FederationHostComponents {
  identitySeed: Uint8Array;
  nodeId: string;
  logger: Logger;
}

/** Host settings. */
export interface FederationHostInit {
  listen?: string[];
  announce?: string[];
  /** Default per-request time limit. */
  requestTimeoutMs?: number;
  /** Default response size limit. */
  maxResponseBytes?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** libp2p's default read buffer; frames up to it are refused by their length (BAD_FRAME), not by overflow. */
const DEFAULT_READ_BUFFER = 4 * 1024 * 1024;
/** A read buffer that holds a whole frame of `max` bytes and its varint length prefix. */
const readBuffer = (max: number) => Math.max(DEFAULT_READ_BUFFER, max + 16);

type Frame = { ok: true; body: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };

const encode = (f: Frame) => toUtf8(JSON.stringify(f));

class Host implements FederationHost {
  readonly #c: FederationHostComponents;
  readonly #init: FederationHostInit;
  readonly #log: Logger;
  #p2p: Libp2p | undefined;
  #roster: SignedRoster | undefined;
  #byPeer = new Map<string, RosterMember>();
  #inflight = new Map<string, number>();
  #stopping = new AbortController();
  peerId = '';

  constructor(components: FederationHostComponents, init: FederationHostInit) {
    this.#c = components;
    this.#init = init;
    this.#log = components.logger.child({ component: 'federation' });
  }

  addresses() {
    return (this.#p2p?.getMultiaddrs() ?? []).map((a) => a.toString());
  }

  roster() {
    return this.#roster;
  }

  memberByPeer(peerId: string) {
    const m = this.#byPeer.get(peerId);
    return m && isActive(m) ? m : undefined;
  }

  async setRoster(roster: SignedRoster) {
    this.#roster = roster;
    this.#byPeer = new Map(roster.roster.members.map((m) => [m.peerId, m]));
    const p2p = this.#p2p;
    if (!p2p) return;
    for (const m of roster.roster.members) {
      if (m.peerId === this.peerId || m.addresses.length === 0) continue;
      try {
        await p2p.peerStore.merge(peerIdFromString(m.peerId), { multiaddrs: m.addresses.map((a) => multiaddr(a)) });
      } catch (err) {
        this.#log.warn({ member: m.nodeId, err: (err as Error).message }, 'roster member has unusable addresses');
      }
    }
    for (const conn of p2p.getConnections()) {
      if (!this.memberByPeer(conn.remotePeer.toString()))
        await conn.close().catch(() => conn.abort(new Error('removed')));
    }
  }

  #admits(peerId: PeerId): boolean {
    return this.memberByPeer(peerId.toString()) !== undefined;
  }

  async register(spec: ProtocolSpec) {
    if (!this.#p2p) throw new TypeError('register protocols after start()');
    await this.#p2p.handle(spec.id, (stream, connection) => this.#serve(spec, stream, connection), {
      maxInboundStreams: spec.maxConcurrentPerPeer,
    });
  }

  async #serve(spec: ProtocolSpec, stream: Stream, connection: Connection) {
    const peer = this.memberByPeer(connection.remotePeer.toString());
    if (!peer || !spec.roles.includes(peer.role)) {
      // Refused before reading a byte of payload.
      this.#log.warn({ protocol: spec.id, peer: peer?.nodeId ?? 'unknown' }, 'protocol refused');
      stream.abort(new Error('forbidden'));
      return;
    }
    const key = `${peer.nodeId}\0${spec.id}`;
    const n = this.#inflight.get(key) ?? 0;
    const lp = lpStream(stream, {
      maxDataLength: spec.maxRequestBytes,
      maxBufferSize: readBuffer(spec.maxRequestBytes),
    });
    const signal = AbortSignal.any([AbortSignal.timeout(spec.timeoutMs), this.#stopping.signal]);
    try {
      if (n >= spec.maxConcurrentPerPeer) {
        await lp.write(encode({ ok: false, error: { code: 'BUSY', message: 'too many concurrent requests' } }), {
          signal,
        });
        return;
      }
      this.#inflight.set(key, n + 1);
      let frame: Frame;
      try {
        let request: unknown;
        try {
          request = JSON.parse(fromUtf8((await lp.read({ signal })).subarray()));
        } catch (err) {
          throw new PeerError('BAD_FRAME', `malformed or oversized request: ${(err as Error).name}`);
        }
        frame = { ok: true, body: await spec.handle(request, { peer, signal }) };
      } catch (err) {
        const e = err as CreditError & { details?: unknown };
        const known = err instanceof CreditError;
        if (!known) this.#log.error({ protocol: spec.id, err: e?.message }, 'protocol handler failed');
        frame = {
          ok: false,
          error: known
            ? { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) }
            : { code: 'INTERNAL', message: 'internal error' },
        };
      }
      await lp.write(encode(frame), { signal });
      await stream.close({ signal });
    } catch (err) {
      stream.abort(err as Error);
    } finally {
      const left = (this.#inflight.get(key) ?? 1) - 1;
      if (left <= 0) this.#inflight.delete(key);
      else this.#inflight.set(key, left);
    }
  }

  async request(nodeId: string, protocol: string, body: unknown, options: RequestOptions = {}) {
    const p2p = this.#p2p;
    if (!p2p) throw new PeerUnavailableError('the federation host is not running');
    const member = this.#roster?.roster.members.find((m) => m.nodeId === nodeId);
    if (!member || !isActive(member)) throw new PeerUnavailableError(`node ${nodeId} is not an active roster member`);
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs ?? this.#init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
      this.#stopping.signal,
      ...(options.signal ? [options.signal] : []),
    ]);
    let stream: Stream;
    try {
      stream = await p2p.dialProtocol(peerIdFromString(member.peerId), protocol, { signal });
    } catch (err) {
      throw new PeerUnavailableError(`node ${nodeId} is unreachable on ${protocol}`, { cause: err });
    }
    const maxResponse = options.maxResponseBytes ?? this.#init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    // The read buffer must hold a whole frame (libp2p's default is 4 MiB, whatever maxDataLength says).
    const lp = lpStream(stream, { maxDataLength: maxResponse, maxBufferSize: readBuffer(maxResponse) });
    let frame: Frame;
    try {
      await lp.write(toUtf8(JSON.stringify(body)), { signal });
      frame = JSON.parse(fromUtf8((await lp.read({ signal })).subarray())) as Frame;
      await stream.close({ signal }).catch(() => undefined);
    } catch (err) {
      stream.abort(err as Error);
      if (signal.aborted)
        throw new PeerUnavailableError(`node ${nodeId} did not answer ${protocol} in time`, { cause: err });
      throw new PeerUnavailableError(`node ${nodeId} sent no valid answer on ${protocol}`, { cause: err });
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.ok !== 'boolean')
      throw new PeerUnavailableError(`node ${nodeId} answered ${protocol} with a malformed frame`);
    if (!frame.ok) {
      const e = frame.error ?? { code: 'INTERNAL', message: 'unknown error' };
      throw new PeerError(String(e.code), String(e.message), e.details);
    }
    return frame.body;
  }

  connected() {
    const out = new Set<string>();
    for (const c of this.#p2p?.getConnections() ?? []) {
      const m = this.memberByPeer(c.remotePeer.toString());
      if (m) out.add(m.nodeId);
    }
    return [...out];
  }

  async start() {
    const privateKey = await generateKeyPairFromSeed('Ed25519', this.#c.identitySeed);
    this.#stopping = new AbortController();
    this.#p2p = await createLibp2p({
      privateKey,
      addresses: { listen: this.#init.listen ?? ['/ip4/127.0.0.1/tcp/0'], announce: this.#init.announce ?? [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
      connectionGater: {
        denyDialMultiaddr: () => false,
        denyInboundEncryptedConnection: (peerId) => !this.#admits(peerId),
        denyOutboundEncryptedConnection: (peerId) => !this.#admits(peerId),
      },
    });
    this.peerId = this.#p2p.peerId.toString();
    if (this.#roster) await this.setRoster(this.#roster);
    this.#log.info({ peerId: this.peerId, addresses: this.addresses() }, 'federation host started');
  }

  async stop() {
    this.#stopping.abort(new Error('host stopping'));
    const p2p = this.#p2p;
    this.#p2p = undefined;
    await p2p?.stop();
  }
}

/** Creates a federation host; call `start()` before registering protocols. */
export function createFederationHost(
  components: FederationHostComponents,
  init: FederationHostInit = {},
): FederationHost {
  return new Host(components, init);
}
