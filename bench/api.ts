import autocannon from 'autocannon';
import { draftConsent, signConsent } from '../authz/index.ts';
import { startApiNode } from '../graphql/test-fixture.ts';

const QUERY = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { uscc registration { name status } tax { id payload } } }`;

async function load(url: string, token: string, uscc: string, seconds: number) {
  const r = await autocannon({
    url,
    method: 'POST',
    connections: 16,
    // The load generator runs in its own thread, not on the node's event loop.
    workers: 1,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY, variables: { u: uscc } }),
  });
  return {
    requestsPerSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/** Runs the API benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const checked = await startApiNode(200);
  const unchecked = await startApiNode(200, { benchUnchecked: true });
  try {
    const uscc = checked.enterprises[0];
    const staff = checked.node.tokens.issue({ sub: 'staff', role: 'centre-staff' });
    await checked.gql(
      `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { uscc } }`,
      { u: uscc, k: checked.keys.get(uscc)!.publicKey },
      staff,
    );
    const consent = signConsent(
      draftConsent({ enterprise: uscc, home: 'xm-centre', grantee: 'bank-a', scopes: ['registration', 'tax'] }),
      checked.keys.get(uscc)!.seed,
    );
    const ent = checked.node.tokens.issue({ sub: 'rep', role: 'enterprise', uscc });
    const g = await checked.gql(
      `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { status } }`,
      { c: consent },
      ent,
    );
    if (g.body.errors) throw new Error(`bench setup failed: ${g.body.errors[0].message}`);
    const officer = { sub: 'officer-1', role: 'bank-officer' as const, bank: 'bank-a' };
    const probe = await checked.gql(QUERY, { u: uscc }, checked.node.tokens.issue(officer));
    if (probe.body.errors) throw new Error(`bench probe failed: ${probe.body.errors[0].message}`);
    const logBefore = checked.node.accessLog.size();
    const withChecks = await load(checked.url, checked.node.tokens.issue(officer), uscc, seconds);
    const logged = checked.node.accessLog.size() - logBefore;
    const baseline = await load(unchecked.url, unchecked.node.tokens.issue(officer), unchecked.enterprises[0], seconds);
    return {
      query: 'enterprise(registration, tax) with consent check + durable log append',
      withConsentAndLog: { ...withChecks, logEntriesAppended: logged },
      withoutConsentAndLog: baseline,
      ratio: +(withChecks.requestsPerSecond / baseline.requestsPerSecond).toFixed(2),
      target: '>= 1,000 requests/s, p99 <= 50 ms (DESIGN §11)',
    };
  } finally {
    await checked.stop();
    await unchecked.stop();
  }
}
