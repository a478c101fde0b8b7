/**
 * What every demo story uses: the clients of the running federation, the principals of the
 * demo, a check that stops a story with the step that failed, waits on a state the nodes report
 * (with a deadline, never a fixed sleep), and the demo data (enterprises with their keys, facts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Principal } from '../../../authz/index.ts';
import { fromBase64 } from '../../../crypto/index.ts';
import { until } from '../../../testkit/wait.ts';
import { type Answer, type DemoEnterprise, federationClients, type NodeClient } from '../client.ts';

/** A failed step of a story. */
export class StoryError extends Error {
  static override name = 'StoryError';
}

/** What a story did. */
export interface StoryOutcome {
  /** Sub-steps whose capability is missing, by name, with why (never faked). */
  pending: Array<{ step: string; why: string }>;
  /** Figures and ids the story produced (printed with `--json`, checked by the tests). */
  facts: Record<string, unknown>;
}

/** One story of the demo. */
export interface Story {
  name: string;
  title: string;
  run(ctx: StoryContext): Promise<StoryOutcome>;
}

/** The context a story runs in. */
export interface StoryContext {
  dir: string;
  clients: Map<string, NodeClient>;
  node(id: string): NodeClient;
  say(line: string): void;
}

/** Creates the context of a running federation in `dir`. */
export async function storyContext(dir: string, say: (line: string) => void): Promise<StoryContext> {
  const clients = await federationClients(dir);
  return {
    dir,
    clients,
    say,
    node(id) {
      const c = clients.get(id);
      if (!c) throw new StoryError(`node ${id} is not running`);
      return c;
    },
  };
}

/** Stops the story with `message` unless `ok`. */
export function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new StoryError(message);
}

/** The code of an answer's first error. */
export const errorCode = (a: Answer) => a.errors?.[0]?.extensions?.code as string | undefined;

/** The answer's data, or a StoryError naming the step and the API's message. */
export function dataOf(a: Answer, step: string): Record<string, unknown> {
  if (a.errors || !a.data) throw new StoryError(`${step}: ${a.errors?.[0]?.message ?? 'no data'}`);
  return a.data;
}

/** Waits for a state the nodes report (polled every 250 ms; 30 s by default). */
export async function waitFor<T>(what: string | (() => string), probe: () => Promise<T>, timeoutMs = 30_000) {
  try {
    return await until(typeof what === 'string' ? what : 'a state', probe, { timeoutMs, intervalMs: 250 });
  } catch (err) {
    throw new StoryError(
      typeof what === 'string' ? (err as Error).message : `timed out after ${timeoutMs} ms waiting for ${what()}`,
    );
  }
}

/** The demo's principals. */
export const as = {
  staff: { sub: 'staff-01', role: 'centre-staff' } as Principal,
  auditor: { sub: 'regulator-01', role: 'auditor' } as Principal,
  operator: { sub: 'operator-01', role: 'platform-operator' } as Principal,
  officer: (bank: string, sub = `officer-${bank.slice(-1)}1`): Principal => ({ sub, role: 'bank-officer', bank }),
  rep: (uscc: string): Principal => ({ sub: 'rep-01', role: 'enterprise', uscc }),
  gov: (department: string): Principal => ({ sub: `${department}-system`, role: 'gov-system', department }),
};

const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim());

/** An enterprise of the demo data with its key pair and what its record says. */
export interface DataEnterprise extends DemoEnterprise {
  name?: string;
  /** GB/T 4754 code. */
  industry?: string;
}

/** Enterprises of the demo data held by `holder` (file order), each with its key pair. */
export async function enterprisesOf(dir: string, holder: string): Promise<DataEnterprise[]> {
  const keys = new Map<string, { publicKey: string; seed: string }>();
  for (const l of await lines(join(dir, 'data/keys/enterprises.ndjson'))) {
    const k = JSON.parse(l) as { uscc: string; publicKey: string; seed: string };
    keys.set(k.uscc, k);
  }
  const out: DataEnterprise[] = [];
  const seen = new Set<string>();
  for (const l of await lines(join(dir, `data/${holder}/enterprises.ndjson`))) {
    const row = JSON.parse(l) as { uscc?: string; name?: string; industryCode?: string };
    const k = row.uscc ? keys.get(row.uscc) : undefined;
    if (!row.uscc || !k || seen.has(row.uscc)) continue;
    seen.add(row.uscc);
    out.push({
      uscc: row.uscc,
      publicKey: k.publicKey,
      seed: fromBase64(k.seed)!,
      ...(row.name ? { name: row.name } : {}),
      ...(typeof row.industryCode === 'string' && /^[A-T](\d{2,4})?$/.test(row.industryCode)
        ? { industry: row.industryCode }
        : {}),
    });
  }
  return out;
}

/** Facts of the demo data determined by `holder`. */
export async function factsOf(dir: string, holder: string): Promise<Array<Record<string, unknown>>> {
  return (await lines(join(dir, `data/${holder}/facts.ndjson`))).map((l) => JSON.parse(l));
}

/**
 * Registers the enterprise's key at its city's centre (a signed binding that spreads to every
 * node) and waits until the nodes in `at` hold it.
 */
export async function bindKey(centre: NodeClient, e: DemoEnterprise, at: readonly NodeClient[] = []) {
  const r = await centre.gql(
    `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { issuedAt } }`,
    { u: e.uscc, k: e.publicKey },
    as.staff,
  );
  const issuedAt = (dataOf(r, 'key registration').registerEnterpriseKey as { issuedAt: string }).issuedAt;
  for (const node of at)
    await waitFor(`the key binding at ${node.nodeId}`, async () => {
      const b = await node.gql(`query($u: String!) { keyBinding(uscc: $u) { issuedAt } }`, { u: e.uscc }, as.auditor);
      return (b.data?.keyBinding as { issuedAt?: string } | null)?.issuedAt === issuedAt;
    });
}

/** Waits until `node` holds the consent in `status` (`absent`: holds none). */
export async function consentAt(node: NodeClient, id: string, status: string) {
  await waitFor(`consent ${id.slice(0, 8)}… ${status} at ${node.nodeId}`, async () => {
    const r = await node.gql(`query($id: ID!) { consent(id: $id) { status } }`, { id }, as.auditor);
    const s = (r.data?.consent as { status?: string } | null)?.status;
    return status === 'absent' ? s === undefined : s === status;
  });
}

/** Loans on a bank's book in the demo data. */
export async function loansOf(dir: string, bank: string): Promise<Array<{ uscc: string; outstandingYuan: number }>> {
  return (await lines(join(dir, `data/banks/${bank}/loans.ndjson`))).map((l) => JSON.parse(l));
}
