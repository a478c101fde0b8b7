import { cp, mkdtemp, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLog } from '../../accesslog/log.ts';
import { ed25519KeyPair, toBase64 } from '../../crypto/index.ts';
import { HEALTH_PROTOCOL } from '../../federation/health.ts';
import { createFederationHost, PeerUnavailableError } from '../../federation/host.ts';
import { peerIdOfKey, type SignedRoster } from '../../federation/roster.ts';
import { SECTIONS_PROTOCOL } from '../../federation/sections.ts';
import { loadOrCreateKeys } from '../../node/keystore.ts';
import { silentLogger } from '../../node/logger.ts';
import { openDatabase } from '../../storage/index.ts';
import { until } from '../../testkit/wait.ts';
import {
  type FederationState,
  freeBasePort,
  prepareFederation,
  processAlive,
  restartNode,
  startFederation,
  stopFederation,
} from '../federation/launcher.ts';
import { DEMO_NODES } from '../federation/topology.ts';
import { authorise, demoEnterprise, federationClients } from './client.ts';

const auditor = { sub: 'regulator-1', role: 'auditor' as const };
const alive = processAlive;
/** Polls a state the federation reports (every 300 ms), for 30 s unless a wait says otherwise. */
const wait = (timeoutMs = 30_000) => ({ timeoutMs, intervalMs: 300 });

describe('the federation across real processes on loopback', () => {
  let dir = '';
  let state: FederationState;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fed-story-'));
    await prepareFederation(dir, {
      basePort: await freeBasePort(DEMO_NODES.length),
      enterprises: 300,
      logLevel: 'warn',
    });
    state = (await startFederation(dir, { detached: true, timeoutMs: 90_000 })).state;
  }, 180_000);

  afterAll(async () => {
    if (dir) await stopFederation(dir);
  });

  it('a bank obtains sections held by a city peer (Zhangzhou) under a consent granted there; without it the bank refuses and logs, and the peer learns nothing', async () => {
    const clients = await federationClients(dir);
    const zzEnterprise = await demoEnterprise(dir, 'zz-centre');
    const uscc = zzEnterprise.uscc;
    const zz = clients.get('zz-centre')!;
    const bankC = clients.get('bank-c')!;
    const q = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { registration { uscc domicileRegion } evaluation { payload } servedBy { section node } } }`;
    const officer = { sub: 'officer-c1', role: 'bank-officer' as const, bank: 'bank-c' };
    const zzBefore = await zz.gql(`{ accessLog { size } }`, {}, auditor);
    const before = await bankC.gql(q, { u: uscc }, officer);
    expect(before.errors?.[0]?.extensions?.code).toBe('CONSENT_REQUIRED');
    const bankLog = await bankC.gql(
      `{ auditEntries(filter: { decision: DENY, principal: "bank-c/officer-c1" }) { entries { node reason } } }`,
      {},
      auditor,
    );
    expect((bankLog.data?.auditEntries as { entries: unknown[] }).entries).toContainEqual({
      node: 'bank-c',
      reason: 'NO_CONSENT',
    });
    const zzAfter = await zz.gql(`{ accessLog { size } }`, {}, auditor);
    expect((zzAfter.data?.accessLog as { size: number }).size).toBe(
      (zzBefore.data?.accessLog as { size: number }).size,
    );

    await authorise(zz, zzEnterprise, 'bank-c', ['registration', 'evaluation']);
    await until(
      'the zz-centre registration section at bank-c',
      async () => {
        const r = await clients.get('bank-c')!.gql(q, { u: uscc }, officer);
        return !r.errors && (r.data?.enterprise as { registration: { uscc: string } })?.registration?.uscc === uscc;
      },
      wait(),
    );
    const r = await clients.get('bank-c')!.gql(q, { u: uscc }, officer);
    const e = r.data?.enterprise as { servedBy: Array<{ section: string; node: string }> };
    expect(e.servedBy).toEqual([
      { section: 'registration', node: 'zz-centre' },
      { section: 'evaluation', node: 'zz-centre' },
    ]);
  }, 60_000);

  it("co-signs every node's checkpoints by at least two peers", async () => {
    const clients = await federationClients(dir);
    await until(
      'a checkpoint of every node cosigned by two peers',
      async () => {
        for (const c of clients.values()) {
          const r = await c.gql(`{ accessLog { cosigned { size witnesses } } }`, {}, auditor);
          const w = (r.data?.accessLog as { cosigned?: { witnesses: string[] } | null })?.cosigned?.witnesses ?? [];
          if (w.length < 2) return false;
        }
        return true;
      },
      wait(45_000),
    );
    const fed = await clients
      .get('xm-centre')!
      .gql(`{ federation { rosterVersion members { nodeId up } alarms { kind } } }`, {}, auditor);
    const f = fed.data?.federation as { members: Array<{ up: boolean }>; alarms: unknown[] };
    expect(f.members).toHaveLength(DEMO_NODES.length);
    expect(f.members.every((m) => m.up)).toBe(true);
    expect(f.alarms).toEqual([]);
  }, 60_000);

  it('a node outside the roster cannot open any protocol', async () => {
    const roster = JSON.parse(await readFile(join(dir, 'roster.json'), 'utf8')) as SignedRoster;
    const outsider = ed25519KeyPair();
    const host = createFederationHost({ identitySeed: outsider.seed, nodeId: 'outsider', logger: silentLogger() });
    await host.start();
    try {
      const self = {
        ...roster.roster.members[5],
        nodeId: 'outsider',
        peerId: peerIdOfKey(outsider.publicKey),
        signingKey: toBase64(outsider.publicKey),
        addresses: [],
      };
      // The outsider believes in a roster that lists it; no real member does.
      await host.setRoster({ ...roster, roster: { ...roster.roster, members: [...roster.roster.members, self] } });
      for (const protocol of [HEALTH_PROTOCOL, SECTIONS_PROTOCOL, '/credit/consent/1.0.0', '/credit/log/1.0.0']) {
        await expect(host.request('xm-centre', protocol, {}, { timeoutMs: 3000 })).rejects.toBeInstanceOf(
          PeerUnavailableError,
        );
      }
    } finally {
      await host.stop();
    }
  }, 60_000);

  it('a dead holder makes its sections PEER_UNAVAILABLE; restarted, it rejoins without manual steps', async () => {
    const clients = await federationClients(dir);
    const enterprise = await demoEnterprise(dir, 'xm-centre', 1);
    const uscc = enterprise.uscc;
    await authorise(clients.get('xm-centre')!, enterprise, 'bank-a', ['registration', 'tax']);
    const officer = { sub: 'officer-a2', role: 'bank-officer' as const, bank: 'bank-a' };
    const q = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { registration { uscc } tax { id } unavailable } }`;
    await until(
      'a full read at bank-a',
      async () => !(await clients.get('bank-a')!.gql(q, { u: uscc }, officer)).errors,
      wait(),
    );

    const xmData = state.nodes.find((n) => n.nodeId === 'xm-data')!;
    process.kill(xmData.pid, 'SIGKILL');
    await until('xm-data killed', () => !alive(xmData.pid), wait(5000));
    const partial = await clients.get('bank-a')!.gql(q, { u: uscc }, officer);
    const e = partial.data?.enterprise as { registration: { uscc: string }; tax: unknown; unavailable: string[] };
    expect(e.registration.uscc).toBe(uscc);
    expect(e.tax).toBeNull();
    expect(e.unavailable).toEqual(['tax']);
    expect(partial.errors?.[0]?.extensions?.code).toBe('PEER_UNAVAILABLE');

    await restartNode(dir, 'xm-data');
    await until(
      'the tax section at bank-a again',
      async () => {
        const r = await clients.get('bank-a')!.gql(q, { u: uscc }, officer);
        return !r.errors && (r.data?.enterprise as { tax: unknown[] | null })?.tax !== null;
      },
      wait(45_000),
    );
  }, 120_000);

  it('detects a node that shows two different histories of the same size (a forked log)', async () => {
    const clients = await federationClients(dir);
    const current = JSON.parse(await readFile(join(dir, 'federation.json'), 'utf8')) as FederationState;
    const bankC = current.nodes.find((n) => n.nodeId === 'bank-c')!;
    const home = join(dir, 'nodes', 'bank-c');
    process.kill(bankC.pid, 'SIGTERM');
    await until('bank-c stopped', () => !alive(bankC.pid), wait(15_000));
    // The operator copies the database and grows the two copies differently, with the node's own key.
    await cp(join(home, 'db'), join(home, 'db-fork'), { recursive: true });
    const keys = await loadOrCreateKeys(join(home, 'node-keys.json'));
    const grow = async (db: string, tag: string) => {
      const level = await openDatabase(join(home, db));
      const log = createAccessLog({
        db: level,
        identitySeed: keys.identity.seed,
        identityPublicKey: keys.identity.publicKey,
        nodeId: 'bank-c',
        logger: silentLogger(),
      });
      await log.start();
      for (let i = 0; i < 3; i++)
        await log.append({
          time: new Date().toISOString(),
          actor: { node: 'bank-c', principal: tag, role: 'bank-officer' },
          action: 'PROFILE_READ',
          decision: 'ALLOW',
          scopes: ['tax'],
          correlationId: `${tag}-${i}`,
        });
      await log.stop();
      await level.close();
      return log.size();
    };
    const size = await grow('db', 'history-a');
    expect(await grow('db-fork', 'history-b')).toBe(size);
    const seenAt = async (n: number) => {
      const r = await clients
        .get('xm-centre')!
        .gql(`{ federation { members { nodeId checkpointSize } } }`, {}, auditor);
      return (
        (r.data?.federation as { members: Array<{ nodeId: string; checkpointSize?: number }> }).members.find(
          (m) => m.nodeId === 'bank-c',
        )?.checkpointSize === n
      );
    };
    await restartNode(dir, 'bank-c');
    await until(`bank-c checkpoint of size ${size} at xm-centre`, () => seenAt(size), wait());
    // The node now shows the other history to the same peers.
    const again = (JSON.parse(await readFile(join(dir, 'federation.json'), 'utf8')) as FederationState).nodes.find(
      (n) => n.nodeId === 'bank-c',
    )!;
    process.kill(again.pid, 'SIGTERM');
    await until('bank-c stopped again', () => !alive(again.pid), wait(15_000));
    await rename(join(home, 'db'), join(home, 'db-a'));
    await rename(join(home, 'db-fork'), join(home, 'db'));
    await restartNode(dir, 'bank-c');
    await until(
      'SPLIT_VIEW about bank-c at xm-centre',
      async () => {
        const r = await clients.get('xm-centre')!.gql(`{ federation { alarms { kind origin } } }`, {}, auditor);
        return ((r.data?.federation as { alarms: Array<{ kind: string; origin?: string }> })?.alarms ?? []).some(
          (a) => a.kind === 'SPLIT_VIEW' && a.origin === 'credit-data-space/bank-c',
        );
      },
      wait(45_000),
    );
    const metrics = await (await fetch(`${current.nodes[0].url}/metrics`)).text();
    expect(metrics).toMatch(/credit_federation_alarms\{kind="SPLIT_VIEW"\} [1-9]/);
  }, 120_000);

  it('stops every node and leaves no process behind', async () => {
    const current = JSON.parse(await readFile(join(dir, 'federation.json'), 'utf8')) as FederationState;
    await stopFederation(dir);
    expect(current.nodes.filter((n) => alive(n.pid))).toEqual([]);
    dir = '';
  }, 60_000);
});
