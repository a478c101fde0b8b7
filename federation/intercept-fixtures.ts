/**
 * Fixtures of the check-and-intercept and objection end-to-end tests: the three centres of 厦漳泉
 * (real nodes, libp2p on loopback, generated data), GraphQL calls as a principal, planted facts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Principal } from '../authz/index.ts';
import type { CreditFact, IngestRecord } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

/** A GraphQL answer, read field by field in assertions. */
export interface Answer {
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** The three centres, with helpers. */
export interface Centres {
  fed: TestFederation;
  n: Record<string, CreditNode>;
  /** A stored enterprise domiciled in each city (registration held by its centre). */
  firms: Record<'XM' | 'ZZ' | 'QZ', string[]>;
  gql(node: string, query: string, variables: Record<string, unknown>, as: Principal): Promise<Answer>;
  /** Stores facts at a node as an ingest would (one atomic batch). */
  put(node: string, facts: CreditFact[]): Promise<void>;
  status(node: string, factId: string): Promise<string | undefined>;
}

/** Starts xm-centre (credit centre), zz-centre and qz-centre (city peers) and bank-a, with generated data. */
export async function startCentres(enterprises = 80): Promise<Centres> {
  const fed = await startTestFederation(
    { 'xm-centre': 'credit-centre', 'zz-centre': 'city-peer', 'qz-centre': 'city-peer', 'bank-a': 'bank' },
    { cities: { 'xm-centre': 'XM', 'zz-centre': 'ZZ', 'qz-centre': 'QZ', 'bank-a': 'XM' }, enterprises },
  );
  const n = fed.nodes;
  const firms = { XM: [] as string[], ZZ: [] as string[], QZ: [] as string[] };
  for (const [city, node] of [
    ['XM', 'xm-centre'],
    ['ZZ', 'zz-centre'],
    ['QZ', 'qz-centre'],
  ] as const) {
    const rows = (await readFile(join(fed.dataDir!, node, 'enterprises.ndjson'), 'utf8')).split('\n').filter(Boolean);
    for (const row of rows) {
      const { uscc } = JSON.parse(row) as { uscc: string };
      const e = await n[node].profiles.getEnterprise(uscc);
      if (e?.status === 'EXISTING' && !firms[city].includes(uscc)) firms[city].push(uscc);
    }
  }
  return {
    fed,
    n,
    firms,
    async gql(node, query, variables, as) {
      const res = await fetch(`${n[node].url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${n[node].tokens.issue(as)}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(60_000),
      });
      return (await res.json()) as Answer;
    },
    async put(node, facts) {
      const records: IngestRecord[] = facts.map((record) => ({ kind: 'fact', record }));
      await n[node].db.batch(n[node].profiles.writeOps(records, await n[node].profiles.existing(records)));
    },
    status: async (node, factId) => (await n[node].factChanges.get(factId))?.status,
  };
}

/** The error code of an answer. */
export const codeOf = (a: Answer) => a.errors?.[0]?.extensions?.code;

/** An ISO date `days` before now. */
export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

let seq = 0;
/** A fact determined by `origin` (override anything). */
export function fact(
  origin: string,
  uscc: string,
  subtype: CreditFact['subtype'],
  over: Partial<CreditFact> = {},
): CreditFact {
  seq++;
  const base: CreditFact = {
    id: `E2E-${origin}-${subtype}-${seq}`,
    uscc,
    category: 'ADMINISTRATIVE',
    subtype,
    polarity: 'NEGATIVE',
    sourceUnit: `${origin} 测试认定单位`,
    decisionDate: daysAgo(30),
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: {},
    originNode: origin,
    version: 1,
    updatedAt: `${new Date().toISOString().slice(0, 19)}Z`,
  };
  const bySubtype: Partial<Record<CreditFact['subtype'], Partial<CreditFact>>> = {
    SERIOUS_DISHONESTY: {
      category: 'SERIOUS_DISHONESTY',
      severity: 'SERIOUS',
      legalDocumentRef: `严违〔2026〕${seq}号`,
      payload: {
        listName: '严重违法失信名单',
        authority: 'x',
        basis: '《严重违法失信名单管理办法》',
        listedOn: daysAgo(30),
      },
    },
    DISHONEST_DEBTOR: {
      category: 'JUDICIAL',
      legalDocumentRef: `(2026)闽执${seq}号`,
      payload: { caseNo: `(2026)闽执${seq}号`, court: 'x', obligation: '支付货款', performance: '全部未履行' },
    },
    ADMIN_PENALTY: {
      severity: 'SERIOUS',
      legalDocumentRef: `市监罚〔2026〕${seq}号`,
      publicUntil: daysAgo(-700),
      payload: { decisionNo: `罚〔2026〕${seq}号`, penaltyCategory: '吊销许可证', content: 'x', authority: 'x' },
    },
    HONOUR: {
      category: 'HONOUR',
      polarity: 'POSITIVE',
      payload: { title: '守合同重信用企业', grantor: 'x', year: 2025 },
    },
  };
  return { ...base, ...bySubtype[subtype], ...over };
}
