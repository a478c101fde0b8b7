/** In-process federations of real nodes (real libp2p on loopback, real Level) for protocol tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519KeyPair, ed25519Signer, toBase64 } from '../crypto/index.ts';
import { parseConfig, type Role } from '../node/config.ts';
import { type CreditNode, createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { peerIdOfKey, type RosterMember, type SignedRoster, signRoster } from './roster.ts';

/** A started in-process federation. */
export interface TestFederation {
  nodes: Record<string, CreditNode>;
  members: Record<string, RosterMember>;
  /** Signs a roster with the test authority. */
  sign(r: SignedRoster): SignedRoster;
  /** The first roster, already in force on every node. */
  roster: SignedRoster;
  authority: ReturnType<typeof ed25519KeyPair>;
  stop(): Promise<void>;
}

/** Starts one node per entry of `roles` and puts a signed roster of all of them in force. */
export async function startTestFederation(roles: Record<string, Role>): Promise<TestFederation> {
  const authority = ed25519KeyPair();
  const sign = (r: SignedRoster) => signRoster({ ...r, signatures: [] }, ed25519Signer(authority.seed));
  const base = await mkdtemp(join(tmpdir(), 'fed-inproc-'));
  const nodes: Record<string, CreditNode> = {};
  const members: Record<string, RosterMember> = {};
  for (const [id, role] of Object.entries(roles)) {
    const dataDir = join(base, id);
    const config = parseConfig({
      nodeId: id,
      name: id,
      role,
      dataDir,
      api: { port: 0 },
      federation: { roster: join(dataDir, 'roster.json'), authorityKeys: [toBase64(authority.publicKey)] },
    });
    nodes[id] = await createCreditNode(config, { logger: silentLogger() });
    await nodes[id].start();
    const pub = nodes[id].keys.identity.publicKey;
    members[id] = {
      nodeId: id,
      name: id,
      role,
      peerId: peerIdOfKey(pub),
      addresses: nodes[id].federation!.host.addresses(),
      signingKey: toBase64(pub),
      validFrom: '2020-01-01T00:00:00Z',
      validUntil: '2099-01-01T00:00:00Z',
    };
  }
  const roster = sign({
    roster: { federation: 't', version: 1, issuedAt: new Date().toISOString(), members: Object.values(members) },
    signatures: [],
  });
  for (const n of Object.values(nodes)) await n.federation!.roster.offer(roster, 'test');
  return {
    nodes,
    members,
    sign,
    roster,
    authority,
    async stop() {
      for (const n of Object.values(nodes)) await n.stop();
    },
  };
}
