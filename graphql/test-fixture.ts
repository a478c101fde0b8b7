/** A real node over HTTP with generated data, for API end-to-end tests and benchmarks. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngester, openSource } from '../connectors/index.ts';
import { fromBase64 } from '../crypto/index.ts';
import { type NodeConfigInput, parseConfig } from '../node/config.ts';
import { type CreditNode, createCreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import { generate } from '../scenarios/gen/generate.ts';

/** A started node with data and helpers to call its API. */
export interface ApiFixture {
  node: CreditNode;
  url: string;
  /** Enterprise key pairs by USCC (base64 seed and public key). */
  keys: Map<string, { seed: Uint8Array; publicKey: string }>;
  /** Valid enterprises held by the node. */
  enterprises: string[];
  gql(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: GqlBody }>;
  stop(): Promise<void>;
}

/** A GraphQL response body. */
export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/** Options of {@link startApiNode}. */
export interface ApiNodeOptions {
  /** Serve profiles without consent checks or logging: the benchmark baseline only. */
  benchUnchecked?: boolean;
  /** API settings over the defaults (`port` is 0 unless given). */
  api?: NonNullable<NodeConfigInput['api']>;
}

/** Starts a credit-centre node with `enterprises` generated enterprises (Xiamen results and process data). */
export async function startApiNode(enterprises = 60, options: ApiNodeOptions = {}): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'api-'));
  const data = join(dir, 'data');
  const manifest = await generate({ enterprises, seed: 'api', out: data });
  const config = parseConfig({
    nodeId: 'xm-centre',
    name: 'Xiamen',
    role: 'credit-centre',
    city: 'XM',
    dataDir: join(dir, 'node'),
    api: { port: 0, ...options.api },
  });
  const node = await createCreditNode(config, { logger: silentLogger(), benchUnchecked: options.benchUnchecked });
  const ingester = createIngester({
    db: node.db,
    profiles: node.profiles,
    tokenise: node.tokenise,
    originNode: 'xm-centre',
    logger: silentLogger(),
  });
  await ingester.run(
    ['xm-centre/enterprises.ndjson', 'xm-centre/facts.ndjson', 'xm-data/facts.ndjson'].map((f) =>
      openSource(join(data, f)),
    ),
  );
  await node.start();
  const keys = new Map<string, { seed: Uint8Array; publicKey: string }>();
  for (const line of (await readFile(join(data, 'keys/enterprises.ndjson'), 'utf8')).trim().split('\n')) {
    const k = JSON.parse(line);
    keys.set(k.uscc, { seed: fromBase64(k.seed)!, publicKey: k.publicKey });
  }
  const held: string[] = [];
  for (const line of (await readFile(join(data, 'xm-centre/enterprises.ndjson'), 'utf8')).trim().split('\n')) {
    const e = JSON.parse(line);
    if (keys.has(e.uscc) && !held.includes(e.uscc) && (await node.profiles.getEnterprise(e.uscc))) held.push(e.uscc);
  }
  void manifest;
  const url = `${node.url}/graphql`;
  return {
    node,
    url,
    keys,
    enterprises: held,
    async gql(query, variables, token, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlBody };
    },
    stop: () => node.stop(),
  };
}
