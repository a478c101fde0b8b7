/**
 * Support for the easy-loan and monitoring tests over in-process federations of real nodes: a
 * GraphQL client per node, enterprises of the generated data with their keys, and fixture rows of
 * facts decided today.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../authz/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { addMonthsIso, day } from './util.ts';

/** A GraphQL answer. */
export interface Answer {
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** Calls a node's GraphQL API as `as`, with a token the node issues. */
export async function gql(
  node: CreditNode,
  query: string,
  variables: Record<string, unknown>,
  as: Principal,
): Promise<Answer> {
  const res = await fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${node.tokens.issue(as)}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  return (await res.json()) as Answer;
}

/** The code of an answer's first error. */
export const codeOf = (a: Answer) => a.errors?.[0]?.extensions?.code;

/** A new administrative penalty decided today, as a department would report it (fact row). */
export function penaltyRow(uscc: string, options: { id?: string; severity?: 'MINOR' | 'GENERAL' } = {}) {
  const today = day(Date.now());
  const severity = options.severity ?? 'GENERAL';
  return {
    id: options.id ?? `pen-${randomUUID()}`,
    uscc,
    category: 'ADMINISTRATIVE',
    subtype: 'ADMIN_PENALTY',
    polarity: 'NEGATIVE',
    severity,
    legalDocumentRef: `厦市监罚〔${today.slice(0, 4)}〕${Math.floor(Math.random() * 9000) + 1000}号`,
    sourceUnit: '厦门市市场监督管理局',
    decisionDate: today,
    publicFrom: today,
    publicUntil: addMonthsIso(today, severity === 'MINOR' ? 3 : 6),
    usageRange: 'PUBLIC',
    payload: {
      decisionNo: `XM-${today}-${randomUUID().slice(0, 8)}`,
      penaltyCategory: '罚款',
      content: '未按规定公示年度报告',
      authority: '厦门市市场监督管理局',
      fineWan: 1.5,
    },
  };
}

/** A new abnormal-operation listing decided today (fact row). */
export function abnormalListingRow(uscc: string, sourceUnit = '泉州市市场监督管理局') {
  const today = day(Date.now());
  return {
    id: `abn-${randomUUID()}`,
    uscc,
    category: 'ABNORMAL_OPERATION',
    subtype: 'ABNORMAL_LIST',
    polarity: 'NEGATIVE',
    legalDocumentRef: `泉市监异〔${today.slice(0, 4)}〕${Math.floor(Math.random() * 9000) + 1000}号`,
    sourceUnit,
    decisionDate: today,
    publicFrom: today,
    usageRange: 'PUBLIC',
    payload: { reason: '通过登记的住所无法联系', listedOn: today, authority: sourceUnit },
  };
}
