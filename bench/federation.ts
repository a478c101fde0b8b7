import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorise, demoEnterprise, federationClients, type NodeClient } from '../scenarios/demo/client.ts';
import { freeBasePort, prepareFederation, startFederation, stopFederation } from '../scenarios/federation/launcher.ts';
import { DEMO_NODES } from '../scenarios/federation/topology.ts';

async function timeReads(
  client: NodeClient,
  query: string,
  uscc: string,
  as: Parameters<NodeClient['gql']>[2],
  n: number,
) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await client.gql(query, { u: uscc }, as);
    times.push(performance.now() - t);
    if (r.errors) throw new Error(`read failed: ${r.errors[0].message}`);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: +times[Math.floor(n / 2)].toFixed(2), p99Ms: +times[Math.floor(n * 0.99)].toFixed(2) };
}

/** Runs the federation benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-fed-'));
  try {
    await prepareFederation(dir, {
      basePort: await freeBasePort(DEMO_NODES.length),
      enterprises: 300,
      logLevel: 'warn',
    });
    await startFederation(dir, { detached: true, timeoutMs: 120_000 });
    const clients = await federationClients(dir);
    const centre = clients.get('xm-centre')!;
    const enterprise = await demoEnterprise(dir, 'xm-centre');
    const uscc = enterprise.uscc;
    await authorise(centre, enterprise, 'bank-a', ['registration', 'tax', 'evaluation']);
    const officer = { sub: 'officer-1', role: 'bank-officer' as const, bank: 'bank-a' };
    const remote = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { tax { id } } }`;
    const local = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { evaluation { id } } }`;
    // Wait (with a deadline) until the consent has reached bank-a and a read succeeds.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await clients.get('bank-a')!.gql(local, { u: uscc }, officer);
      if (!r.errors) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await timeReads(clients.get('bank-a')!, remote, uscc, officer, 20);
    const n = Number(process.env.BENCH_READS ?? 300);
    const crossNode = await timeReads(clients.get('bank-a')!, remote, uscc, officer, n);
    const atHolder = await timeReads(clients.get('bank-a')!, local, uscc, officer, n);
    return {
      reads: n,
      crossNode: { path: 'bank-a API → xm-centre (gateway) → xm-data (tax), libp2p on loopback', ...crossNode },
      baseline: { path: 'bank-a API → xm-centre, a section the gateway holds itself (evaluation)', ...atHolder },
      ratioP50: +(crossNode.p50Ms / atHolder.p50Ms).toFixed(2),
    };
  } finally {
    await stopFederation(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
