/** In-process federations of real nodes (real libp2p on loopback, real Level) for protocol tests. */
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngester, openSource } from '../connectors/index.ts';
import { ed25519KeyPair, ed25519Signer, toBase64 } from '../crypto/index.ts';
import type { Section } from '../model/index.ts';
import { parseConfig, type Role } from '../node/config.ts';
import { type CreditNode, createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { dataFor } from '../scenarios/federation/launcher.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { peerIdOfKey, type RosterMember, type SignedRoster, signRoster } from './roster.ts';

/** A started in-process federation. */
export interface TestFederation {
  nodes: Record<string, CreditNode>;
  /** Where the generated data is, when asked for. */
  dataDir?: string;
  members: Record<string, RosterMember>;
  /** Signs a roster with the test authority. */
  sign(r: SignedRoster): SignedRoster;
  /** The first roster, already in force on every node. */
  roster: SignedRoster;
  authority: ReturnType<typeof ed25519KeyPair>;
  stop(): Promise<void>;
}

/** Optional shape of a test federation. */
export interface TestFederationOptions {
  /** City of each member (roster and config). */
  cities?: Record<string, 'XM' | 'ZZ' | 'QZ'>;
  /** Sections each holder serves (default: all). */
  serves?: Record<string, Section[]>;
  /**
   * Generated data (scenarios/gen) of this many enterprises, each node ingesting its share as in the
   * demo; the data directory is returned as `dataDir`.
   */
  enterprises?: number;
}

/** Starts one node per entry of `roles` and puts a signed roster of all of them in force. */
export async function startTestFederation(
  roles: Record<string, Role>,
  options: TestFederationOptions = {},
): Promise<TestFederation> {
  const authority = ed25519KeyPair();
  const sign = (r: SignedRoster) => signRoster({ ...r, signatures: [] }, ed25519Signer(authority.seed));
  const base = await mkdtemp(join(tmpdir(), 'fed-inproc-'));
  const nodes: Record<string, CreditNode> = {};
  const members: Record<string, RosterMember> = {};
  for (const [id, role] of Object.entries(roles)) {
    const dataDir = join(base, id);
    const city = options.cities?.[id];
    const serves = options.serves?.[id];
    const config = parseConfig({
      nodeId: id,
      name: id,
      role,
      ...(city ? { city } : {}),
      ...(serves ? { serves } : {}),
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
      ...(city ? { city } : {}),
      ...(serves ? { serves } : {}),
      validFrom: '2020-01-01T00:00:00Z',
      validUntil: '2099-01-01T00:00:00Z',
    };
  }
  const roster = sign({
    roster: { federation: 't', version: 1, issuedAt: new Date().toISOString(), members: Object.values(members) },
    signatures: [],
  });
  for (const n of Object.values(nodes)) await n.federation!.roster.offer(roster, 'test');
  let dataDir: string | undefined;
  if (options.enterprises) {
    dataDir = join(base, 'data');
    await generate({ enterprises: options.enterprises, seed: 'test-federation', out: dataDir });
    for (const [id, n] of Object.entries(nodes)) {
      const files = [];
      for (const f of dataFor(id).map((x) => join(dataDir!, x)))
        if (
          await stat(f).then(
            () => true,
            () => false,
          )
        )
          files.push(f);
      if (files.length === 0) continue;
      await createIngester({
        db: n.db,
        profiles: n.profiles,
        tokenise: n.tokenise,
        originNode: id,
        logger: silentLogger(),
      }).run(files.map((f) => openSource(f)));
    }
  }
  return {
    dataDir,
    nodes,
    members,
    sign,
    roster,
    authority,
    async stop() {
      for (const n of Object.values(nodes)) await n.stop().catch(() => undefined);
    },
  };
}
