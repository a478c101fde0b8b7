/**
 * Support for the easy-loan and monitoring tests over in-process federations of real nodes: a
 * GraphQL client per node and fixture rows of facts decided today (from the demo's).
 */
import type { Principal } from '../authz/index.ts';
import type { CreditNode } from '../node/credit-node.ts';

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

export { abnormalListingRow, penaltyRow } from '../scenarios/demo/facts.ts';
