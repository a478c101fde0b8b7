import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519KeyPair, ed25519Signer, toBase64 } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createFederationHost, type FederationHost, PeerError, PeerUnavailableError } from './host.ts';
import { type MemberRole, peerIdOfKey, type SignedRoster, signRoster, verifyRoster } from './roster.ts';

const authority = ed25519KeyPair();
const trust = { authorityKeys: [toBase64(authority.publicKey)], threshold: 1 };

function member(nodeId: string, role: MemberRole, seed: Uint8Array, addresses: string[]) {
  const { publicKey } = ed25519KeyPair(seed);
  return {
    nodeId,
    name: nodeId,
    role,
    peerId: peerIdOfKey(publicKey),
    addresses,
    signingKey: toBase64(publicKey),
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2099-01-01T00:00:00Z',
  };
}

describe('federation host', () => {
  const seeds = { centre: ed25519KeyPair().seed, bank: ed25519KeyPair().seed, stranger: ed25519KeyPair().seed };
  const hosts: Record<string, FederationHost> = {};
  let roster: SignedRoster;

  beforeAll(async () => {
    for (const [id, seed] of Object.entries(seeds)) {
      hosts[id] = createFederationHost(
        { identitySeed: seed, nodeId: id, logger: silentLogger() },
        { requestTimeoutMs: 3000 },
      );
      await hosts[id].start();
    }
    const unsigned: SignedRoster = {
      roster: {
        federation: 'test',
        version: 1,
        issuedAt: new Date().toISOString(),
        members: [
          member('centre', 'credit-centre', seeds.centre, hosts.centre.addresses()),
          member('bank', 'bank', seeds.bank, hosts.bank.addresses()),
        ],
      },
      signatures: [],
    };
    roster = verifyRoster(signRoster(unsigned, ed25519Signer(authority.seed)), trust);
    // The stranger believes it is on a roster listing itself, to try its luck.
    const strangerView = verifyRoster(
      signRoster(
        {
          ...unsigned,
          roster: {
            ...unsigned.roster,
            members: [...unsigned.roster.members, member('stranger', 'bank', seeds.stranger, [])],
          },
        },
        ed25519Signer(authority.seed),
      ),
      trust,
    );
    await hosts.centre.setRoster(roster);
    await hosts.bank.setRoster(roster);
    await hosts.stranger.setRoster(strangerView);
    await hosts.centre.register({
      id: '/test/echo/1.0.0',
      roles: ['bank'],
      maxRequestBytes: 1024,
      timeoutMs: 2000,
      maxConcurrentPerPeer: 4,
      handle: async (req, ctx) => ({ echo: req, from: ctx.peer.nodeId }),
    });
    await hosts.centre.register({
      id: '/test/slow/1.0.0',
      roles: ['bank'],
      maxRequestBytes: 1024,
      timeoutMs: 5000,
      maxConcurrentPerPeer: 4,
      handle: (_req, ctx) =>
        new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    await hosts.centre.register({
      id: '/test/large/1.0.0',
      roles: ['bank'],
      maxRequestBytes: 12 * 1024 * 1024,
      timeoutMs: 20_000,
      maxConcurrentPerPeer: 1,
      handle: async (req) => ({
        length: String((req as { blob: string }).blob).length,
        blob: (req as { blob: string }).blob,
      }),
    });
    await hosts.centre.register({
      id: '/test/centre-only/1.0.0',
      roles: ['credit-centre'],
      maxRequestBytes: 1024,
      timeoutMs: 2000,
      maxConcurrentPerPeer: 4,
      handle: async () => 'secret',
    });
  });

  afterAll(async () => {
    await Promise.all(Object.values(hosts).map((h) => h.stop()));
  });

  it('answers a roster member over TCP + Noise + Yamux', async () => {
    expect(await hosts.bank.request('centre', '/test/echo/1.0.0', { hello: 'centre' })).toEqual({
      echo: { hello: 'centre' },
      from: 'bank',
    });
    expect(hosts.bank.connected()).toContain('centre');
  });

  it('refuses a peer that is not on the roster before any protocol runs', async () => {
    await expect(hosts.stranger.request('centre', '/test/echo/1.0.0', {})).rejects.toBeInstanceOf(PeerUnavailableError);
    expect(hosts.centre.connected()).not.toContain('stranger');
  });

  it('refuses a member whose role does not allow the protocol', async () => {
    await expect(hosts.bank.request('centre', '/test/centre-only/1.0.0', {})).rejects.toBeInstanceOf(
      PeerUnavailableError,
    );
  });

  it("carries frames larger than libp2p's default 4 MiB read buffer both ways when the limits allow them", async () => {
    const blob = 'y'.repeat(9 * 1024 * 1024);
    const answer = (await hosts.bank.request(
      'centre',
      '/test/large/1.0.0',
      { blob },
      { timeoutMs: 20_000, maxResponseBytes: 12 * 1024 * 1024 },
    )) as { length: number; blob: string };
    expect(answer.length).toBe(blob.length);
    expect(answer.blob.length).toBe(blob.length);
  });

  it('rejects an oversized request frame with BAD_FRAME', async () => {
    const err = await hosts.bank.request('centre', '/test/echo/1.0.0', { big: 'x'.repeat(5000) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).code).toBe('BAD_FRAME');
  });

  it('bounds the wait on a peer that never answers', async () => {
    const started = Date.now();
    const err = await hosts.bank
      .request('centre', '/test/slow/1.0.0', {}, { timeoutMs: 500 })
      .catch((e: PeerError) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reports an unknown node id as unavailable', async () => {
    await expect(hosts.bank.request('nobody', '/test/echo/1.0.0', {})).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('rejects rosters without a trusted signature or with a tampered body', () => {
    const forged = signRoster(roster, ed25519Signer(ed25519KeyPair().seed));
    expect(() => verifyRoster({ ...forged, signatures: forged.signatures.slice(1) }, trust)).toThrow(/valid authority/);
    const tampered = structuredClone(roster);
    tampered.roster.version = 2;
    expect(() => verifyRoster(tampered, trust)).toThrow(/valid authority/);
    const badPeer = structuredClone(roster);
    badPeer.roster.members[0].peerId = badPeer.roster.members[1].peerId;
    expect(() => verifyRoster(badPeer, trust)).toThrow(/duplicate peer|does not match/);
  });
});
