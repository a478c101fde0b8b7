/** A small GraphQL client for the demo federation: issues tokens with each node's own key. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTokenService, type Principal, type TokenService } from '../../authz/index.ts';
import { loadConfig } from '../../node/config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../node/keystore.ts';
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
    const tokens = createTokenService({
      privateKeyPem: keys.apiPrivateKeyPem,
      publicKeyPem: keys.apiPublicKeyPem,
      issuer: `credit-node:${config.nodeId}`,
      audience: config.api.audience ?? `credit-node:${config.nodeId}`,
      ttlSeconds: 3600,
    });
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
