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

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StoryError(`timed out waiting for ${what}`);
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
  say(`   consent ${consentId.slice(0, 12)}… is ACTIVE on every node.`);

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
    '5. The enterprise lists who used its data on the credit centre, with inclusion proofs, and checks them with the independent verifier.',
  );
  const entries = await centre.gql(
    `{ myAccessEntries(first: 50) { decision principal node time bundle } accessLog { verifierKey } }`,
    {},
    enterprise,
  );
  check(!entries.errors, `listing failed: ${entries.errors?.[0]?.message}`);
  const list = entries.data?.myAccessEntries as Array<{ decision: string; principal: string; bundle: unknown }>;
  const vkey = (entries.data?.accessLog as { verifierKey: string } | undefined)?.verifierKey ?? '';
  const allow = list.find((e) => e.decision === 'ALLOW' && e.principal === 'bank-a/officer-a1');
  check(allow, "the enterprise does not see bank-a's read");
  await mkdir(join(dir, 'proofs'), { recursive: true });
  const bundles: string[] = [];
  for (const [name, e] of [['bank-a-read', allow]] as const) {
    const file = join(dir, 'proofs', `${name}.json`);
    await writeFile(file, JSON.stringify(e.bundle, null, 2));
    const v = spawnSync(process.execPath, [CLI, 'verify', 'bundle', '--key', vkey, file], { encoding: 'utf8' });
    check(v.status === 0, `credit-node verify rejected ${file}: ${v.stderr}`);
    bundles.push(file);
    say(`   ${e.decision} by ${e.principal}: credit-node verify bundle ${file} → ok`);
  }

  say('6. The enterprise revokes the consent (撤销授权) on the credit centre.');
  const revoked = await centre.gql(
    `mutation($id: ID!) { revokeConsent(id: $id, reason: "loan declined") { status } }`,
    { id: consentId },
    enterprise,
  );
  check(!revoked.errors, `revoke failed: ${revoked.errors?.[0]?.message}`);
  await waitFor('the revocation to reach every node', async () => {
    for (const c of clients.values()) {
      const r = await c.gql(`query($id: ID!) { consent(id: $id) { status } }`, { id: consentId }, auditor);
      if ((r.data?.consent as { status?: string } | null)?.status !== 'REVOKED') return false;
    }
    return true;
  });
  say(`   every one of the ${clients.size} nodes now holds the consent as REVOKED.`);

  say('7. bank-a reads again: refused.');
  const after = await node('bank-a').gql(PROFILE, { u: uscc }, officerA);
  check(errorCode(after) === 'CONSENT_REQUIRED' && !after.data?.enterprise, 'bank-a was not refused after revocation');
  say(`   refused with CONSENT_REQUIRED (${after.errors?.[0]?.extensions?.reason}).`);
  return { enterprise: uscc, consentId, bundles, servedBy };
}
