/** A small GraphQL client for the demo federation: issues tokens with each node's own key. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { draftConsent, type Principal, signConsent, type TokenService } from '../../authz/index.ts';
import { fromBase64 } from '../../crypto/index.ts';
import { loadConfig } from '../../node/config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../node/keystore.ts';
import { nodeTokenService } from '../../node/tokens.ts';
import { type FederationState, nodeDir } from '../federation/launcher.ts';

/** A GraphQL answer. */
export interface Answer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** One node as seen by the demo. */
export interface NodeClient {
  nodeId: string;
  url: string;
  tokens: TokenService;
  token(p: Principal): string;
  gql(query: string, variables: Record<string, unknown>, as: Principal): Promise<Answer>;
}

/** Clients for every node of a running federation. */
export async function federationClients(dir: string): Promise<Map<string, NodeClient>> {
  const state = JSON.parse(await readFile(join(dir, 'federation.json'), 'utf8')) as FederationState;
  const out = new Map<string, NodeClient>();
  for (const n of state.nodes) {
    const config = await loadConfig(join(nodeDir(dir, n.nodeId), 'config.json'));
    const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE));
    const tokens = nodeTokenService(config, keys);
    out.set(n.nodeId, {
      nodeId: n.nodeId,
      url: `${n.url}/graphql`,
      tokens,
      token: (p) => tokens.issue(p),
      async gql(query, variables, as) {
        const res = await fetch(`${n.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.issue(as)}` },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(20_000),
        });
        return (await res.json()) as Answer;
      },
    });
  }
  return out;
}

/** A generated enterprise of the demo data, with its key pair. */
export interface DemoEnterprise {
  uscc: string;
  publicKey: string;
  seed: Uint8Array;
}

/** The `index`-th sample enterprise held by `holder` in a federation's generated data. */
export async function demoEnterprise(dir: string, holder: string, index = 0): Promise<DemoEnterprise> {
  const manifest = JSON.parse(await readFile(join(dir, 'data/manifest.json'), 'utf8'));
  const uscc = manifest.samples?.[holder]?.[index] as string | undefined;
  if (!uscc) throw new Error(`no sample enterprise ${index} for ${holder}`);
  for (const line of (await readFile(join(dir, 'data/keys/enterprises.ndjson'), 'utf8')).split('\n')) {
    if (!line.includes(`"${uscc}"`)) continue;
    const k = JSON.parse(line) as { publicKey: string; seed: string };
    return { uscc, publicKey: k.publicKey, seed: fromBase64(k.seed)! };
  }
  throw new Error(`no key pair for ${uscc}`);
}

/**
 * Has `centre` register the enterprise's key, then the enterprise grant `grantee` a consent
 * there. Returns the consent id; throws with the API's message on failure.
 */
export async function authorise(
  centre: NodeClient,
  e: DemoEnterprise,
  grantee: string,
  scopes: string[],
): Promise<string> {
  const reg = await centre.gql(
    `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { uscc } }`,
    { u: e.uscc, k: e.publicKey },
    { sub: 'staff-01', role: 'centre-staff' },
  );
  if (reg.errors) throw new Error(`key registration failed: ${reg.errors[0].message}`);
  const g = await centre.gql(
    `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { id } }`,
    { c: signConsent(draftConsent({ enterprise: e.uscc, home: centre.nodeId, grantee, scopes }), e.seed) },
    { sub: 'rep-01', role: 'enterprise', uscc: e.uscc },
  );
  const id = (g.data?.grantConsent as { id?: string } | undefined)?.id;
  if (!id) throw new Error(`grant failed: ${g.errors?.[0]?.message}`);
  return id;
}
