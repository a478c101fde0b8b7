import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519KeyPair, ed25519Signer, toBase64 } from '../crypto/index.ts';
import { parseConfig } from '../node/config.ts';
import { type CreditNode, createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { peerIdOfKey, type RosterMember, type SignedRoster, signRoster } from './roster.ts';

const authority = ed25519KeyPair();
const sign = (r: SignedRoster) => signRoster({ ...r, signatures: [] }, ed25519Signer(authority.seed));
const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('roster in force across live nodes', () => {
  const ids = ['centre', 'bank', 'peer'] as const;
  const nodes: Record<string, CreditNode> = {};
  const members: Record<string, RosterMember> = {};
  let v1: SignedRoster;

  beforeAll(async () => {
    const base = await mkdtemp(join(tmpdir(), 'roster-e2e-'));
    for (const id of ids) {
      const dataDir = join(base, id);
      const config = parseConfig({
        nodeId: id,
        name: id,
        role: id === 'bank' ? 'bank' : id === 'centre' ? 'credit-centre' : 'city-peer',
        dataDir,
        api: { port: 0 },
        federation: { roster: 'roster.json', authorityKeys: [toBase64(authority.publicKey)] },
      });
      nodes[id] = await createCreditNode(
        { ...config, federation: { ...config.federation!, roster: join(dataDir, 'roster.json') } },
        { logger: silentLogger() },
      );
    }
    for (const id of ids) {
      await nodes[id].start();
      const pub = nodes[id].keys.identity.publicKey;
      members[id] = {
        nodeId: id,
        name: id,
        role: nodes[id].config.role,
        peerId: peerIdOfKey(pub),
        addresses: nodes[id].federation!.host.addresses(),
        signingKey: toBase64(pub),
        validFrom: '2020-01-01T00:00:00Z',
        validUntil: '2099-01-01T00:00:00Z',
      };
    }
    v1 = sign({
      roster: { federation: 't', version: 1, issuedAt: new Date().toISOString(), members: ids.map((i) => members[i]) },
      signatures: [],
    });
    for (const id of ids) await nodes[id].federation!.roster.offer(v1, 'test');
  });

  afterAll(async () => {
    for (const id of ids) await nodes[id]?.stop();
  });

  it('brings every member up', async () => {
    await nodes.centre.federation!.health.waitAllUp(10_000);
    expect(nodes.centre.federation!.health.peers().every((p) => p.up)).toBe(true);
  });

  it('refuses forged, older and tampered rosters, and raises an alarm on two rosters of one version', async () => {
    const roster = nodes.bank.federation!.roster;
    const forged = signRoster(
      { ...v1, roster: { ...v1.roster, version: 9 }, signatures: [] },
      ed25519Signer(ed25519KeyPair().seed),
    );
    expect(await roster.offer(forged, 'test')).toBe(false);
    expect(await roster.offer({ ...v1, roster: { ...v1.roster, version: 5 } }, 'test')).toBe(false);
    expect(await roster.offer(v1, 'test')).toBe(false);
    const twin = sign({ ...v1, roster: { ...v1.roster, federation: 'other' } });
    expect(await roster.offer(twin, 'test')).toBe(false);
    expect(roster.alarms()).toHaveLength(1);
    expect(roster.current()?.roster.version).toBe(1);
  });

  it('adopts a new version from the file without restart, spreads it, and shuts out a removed member', async () => {
    const v2 = sign({
      roster: { ...v1.roster, version: 2, members: [members.centre, members.bank] },
      signatures: [],
    });
    // Only the centre's file changes; the bank learns v2 from the centre.
    await writeFile(nodes.centre.config.federation!.roster, JSON.stringify(v2));
    await waitFor(() => nodes.bank.federation!.roster.current()?.roster.version === 2);
    expect(nodes.centre.federation!.roster.current()?.roster.version).toBe(2);
    // The removed peer still believes in v1, but nobody admits it any more.
    await expect(nodes.peer.federation!.host.request('centre', '/credit/health/1.0.0', {})).rejects.toThrow(
      /unreachable|no valid answer|not an active/,
    );
    expect(nodes.centre.federation!.host.connected()).not.toContain('peer');
  });
});
