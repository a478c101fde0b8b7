/**
 * The demo story, run against the real nodes of a running federation: an enterprise authorises
 * a bank for sections held at two different nodes, the bank reads them, a second bank is refused,
 * the enterprise audits both accesses with proofs the independent verifier accepts, then revokes,
 * and the bank's next read is refused at every node.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConsentBody, draftConsent, type Principal, signConsent } from '../../authz/index.ts';
import { CLI } from '../federation/launcher.ts';
import { type Answer, demoEnterprise, federationClients, type NodeClient } from './client.ts';

/** A failed step. */
export class StoryError extends Error {
  static override name = 'StoryError';
}

const PROFILE = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") {
  registration { name status domicileRegion } tax { subtype payload } servedBy { section node } } }`;

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new StoryError(message);
}
const errorCode = (a: Answer) => a.errors?.[0]?.extensions?.code;

async function waitFor(what: string | (() => string), fn: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StoryError(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}

/** What the story reports. */
export interface StoryResult {
  enterprise: string;
  consentId: string;
  bundles: string[];
  servedBy: Record<string, string>;
}

/** Runs the story; `say` narrates each step. Throws StoryError naming the failed step. */
export async function runStory(dir: string, say: (line: string) => void): Promise<StoryResult> {
  const clients = await federationClients(dir);
  const node = (id: string) => {
    const c = clients.get(id);
    check(c, `node ${id} is not running`);
    return c as NodeClient;
  };
  const key = await demoEnterprise(dir, 'xm-centre');
  const uscc = key.uscc;
  const centre = node('xm-centre');
  const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
  const enterprise: Principal = { sub: 'rep-01', role: 'enterprise', uscc };
  const officerA: Principal = { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' };
  const officerB: Principal = { sub: 'officer-b1', role: 'bank-officer', bank: 'bank-b' };
  const auditor: Principal = { sub: 'regulator-01', role: 'auditor' };

  say(`1. The Xiamen credit centre registers the key of enterprise ${uscc} (企业密钥登记).`);
  const reg = await centre.gql(
    `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { issuer } }`,
    { u: uscc, k: key.publicKey },
    staff,
  );
  check(!reg.errors, `key registration failed: ${reg.errors?.[0]?.message}`);

  say(
    '2. The enterprise signs a consent (授权) for bank-a: registration (held by xm-centre) and tax (held by xm-data), purpose loan-application, 30 days.',
  );
  const body: ConsentBody = draftConsent({
    enterprise: uscc,
    home: 'xm-centre',
    grantee: 'bank-a',
    scopes: ['registration', 'tax'],
  });
  const granted = await centre.gql(
    `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { id status } }`,
    { c: signConsent(body, key.seed) },
    enterprise,
  );
  check(!granted.errors, `grant failed: ${granted.errors?.[0]?.message}`);
  const consentId = (granted.data?.grantConsent as { id: string } | undefined)?.id ?? '';
  check(consentId, 'the grant returned no consent id');
  await waitFor('the consent to reach bank-a', async () => {
    const r = await node('bank-a').gql(`query($id: ID!) { consent(id: $id) { status } }`, { id: consentId }, officerA);
    return (r.data?.consent as { status?: string } | null)?.status === 'ACTIVE';
  });
  say(
    `   consent ${consentId.slice(0, 12)}… is kept by xm-centre (its home) and ACTIVE on bank-a and every data holder; the other banks never see it.`,
  );

  say("3. A bank-a officer reads the profile on bank-a's own node; the sections come from the nodes that hold them.");
  const read = await node('bank-a').gql(PROFILE, { u: uscc }, officerA);
  check(!read.errors, `bank-a read failed: ${read.errors?.[0]?.message}`);
  const profile = read.data?.enterprise as {
    registration: { name: string };
    tax: Array<{ payload: { year?: number; grade?: string } }>;
    servedBy: Array<{ section: string; node: string }>;
  };
  const servedBy = Object.fromEntries(profile.servedBy.map((s) => [s.section, s.node]));
  check(
    servedBy.registration === 'xm-centre' && servedBy.tax === 'xm-data',
    `unexpected holders: ${JSON.stringify(servedBy)}`,
  );
  const grades = profile.tax
    .filter((t) => t.payload.grade)
    .map((t) => `${t.payload.year}:${t.payload.grade}`)
    .join(', ');
  say(`   ${profile.registration.name} — registration from xm-centre, tax grades [${grades}] from xm-data.`);

  say("4. A bank-b officer, without consent, asks the same on bank-b's node: refused.");
  const refused = await node('bank-b').gql(PROFILE, { u: uscc }, officerB);
  check(errorCode(refused) === 'CONSENT_REQUIRED' && !refused.data?.enterprise, 'bank-b was not refused');
  say(
    `   refused with CONSENT_REQUIRED (missing ${((refused.errors?.[0]?.extensions?.missing as string[] | undefined) ?? []).join(', ')}), decided and logged at bank-b: the request never left it.`,
  );
  const bLog = await node('bank-b').gql(
    `{ auditEntries(filter: { decision: DENY, principal: "bank-b/officer-b1" }) { entries { reason } } }`,
    {},
    auditor,
  );
  check(
    (bLog.data?.auditEntries as { entries: Array<{ reason: string }> } | undefined)?.entries.length,
    "the refusal is not in bank-b's log",
  );

  say(
    '5. On the credit centre, the enterprise lists who used its data, or tried to, on every node of the federation, and checks each proof with the independent verifier under the roster witness policy.',
  );
  type Listed = { action: string; decision: string; principal: string; node: string; bundle: unknown };
  const roster = join(dir, 'roster.json');
  await mkdir(join(dir, 'proofs'), { recursive: true });
  const bundles: string[] = [];
  let lastProblem = 'no listing yet';
  // Proofs are issued against checkpoints a majority of witnesses has cosigned: wait for them.
  await waitFor(
    () => `cosigned proofs of both accesses (last: ${lastProblem})`,
    async () => {
      const r = await centre.gql(
        `{ myAccessLog(first: 50) { nodes { node entries { action decision principal node bundle } } unavailable } }`,
        {},
        enterprise,
      );
      const nodes = (r.data?.myAccessLog as { nodes: Array<{ node: string; entries: Listed[] }> } | undefined)?.nodes;
      const allow = nodes
        ?.find((x) => x.node === 'bank-a')
        ?.entries.find((e) => e.action === 'PROFILE_READ' && e.decision === 'ALLOW');
      const deny = nodes?.find((x) => x.node === 'bank-b')?.entries.find((e) => e.principal === 'bank-b/officer-b1');
      lastProblem =
        r.errors?.[0]?.message ??
        `allow ${!!allow}, deny ${!!deny}, ${nodes?.map((x) => `${x.node}:${x.entries.length}`).join(' ')}`;
      if (!allow || !deny) return false;
      bundles.length = 0;
      for (const [name, e] of [
        ['bank-a-read', allow],
        ['bank-b-refused', deny],
      ] as const) {
        const file = join(dir, 'proofs', `${name}.json`);
        await writeFile(file, JSON.stringify(e.bundle, null, 2));
        const v = spawnSync(process.execPath, [CLI, 'verify', 'bundle', '--roster', roster, file], {
          encoding: 'utf8',
        });
        lastProblem = `${name}: ${v.stderr.trim() || v.stdout.trim()}`;
        if (v.status !== 0) return false;
        bundles.push(file);
      }
      return true;
    },
    30_000,
  );
  say(
    `   ALLOW by bank-a/officer-a1 in bank-a's log: credit-node verify bundle --roster roster.json ${bundles[0]} → ok`,
  );
  say(
    `   DENY by bank-b/officer-b1 in bank-b's log: credit-node verify bundle --roster roster.json ${bundles[1]} → ok`,
  );

  say('6. The enterprise revokes the consent (撤销授权) on the credit centre.');
  const revoked = await centre.gql(
    `mutation($id: ID!) { revokeConsent(id: $id, reason: "loan declined") { status } }`,
    { id: consentId },
    enterprise,
  );
  check(!revoked.errors, `revoke failed: ${revoked.errors?.[0]?.message}`);
  const others = new Set(['bank-b', 'bank-c']);
  await waitFor('the revocation to reach every node that holds the consent', async () => {
    for (const c of clients.values()) {
      const r = await c.gql(`query($id: ID!) { consent(id: $id) { status } }`, { id: consentId }, auditor);
      const status = (r.data?.consent as { status?: string } | null)?.status;
      if (others.has(c.nodeId) ? status !== undefined : status !== 'REVOKED') return false;
    }
    return true;
  });
  say(`   the ${clients.size - others.size} nodes that hold the consent now hold it as REVOKED.`);

  say('7. bank-a reads again: refused.');
  const after = await node('bank-a').gql(PROFILE, { u: uscc }, officerA);
  check(errorCode(after) === 'CONSENT_REQUIRED' && !after.data?.enterprise, 'bank-a was not refused after revocation');
  say(`   refused with CONSENT_REQUIRED (${after.errors?.[0]?.extensions?.reason}).`);
  return { enterprise: uscc, consentId, bundles, servedBy };
}
