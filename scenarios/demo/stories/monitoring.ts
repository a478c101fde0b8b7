/**
 * The end of story 1, post-loan monitoring (信用波动预警): the borrower approves the bank's
 * monitoring consent on the platform, the bank subscribes at every node that determines facts, a
 * penalty decided today at the Xiamen centre reaches the bank's node as an alert within seconds
 * and is acknowledged; once the borrower revokes, the next penalty alerts no one.
 */
import { type ConsentBody, signConsent } from '../../../authz/index.ts';
import type { DemoEnterprise } from '../client.ts';
import { penaltyRow } from '../facts.ts';
import { as, check, consentAt, dataOf, type StoryContext, waitFor } from './kit.ts';

const ALERTS = `query($u: String) { monitoringAlerts(uscc: $u) { id kind subtype section origin sourceUnit } }`;

/** Runs the monitoring steps for a borrower of bank-a; returns the alert latency seen. */
export async function monitorBorrower(ctx: StoryContext, firm: DemoEnterprise, consentId: string) {
  const { say } = ctx;
  const platform = ctx.node('easy-loan');
  const bankA = ctx.node('bank-a');
  const centre = ctx.node('xm-centre');
  const rep = as.rep(firm.uscc);
  const officer = as.officer('bank-a');
  check(consentId, 'bank-a asked for no monitoring consent with its approval');

  say(
    '9. Post-loan monitoring (信用波动预警): the borrower approves bank-a’s post-loan-monitoring consent on the platform; bank-a subscribes.',
  );
  const c = dataOf(
    await platform.gql(`query($id: ID!) { consent(id: $id) { purpose scopes body } }`, { id: consentId }, rep),
    'the monitoring consent',
  ).consent as { purpose: string; scopes: string[]; body: ConsentBody };
  check(c.purpose === 'post-loan-monitoring', 'the consent is not for post-loan monitoring');
  dataOf(
    await platform.gql(
      `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
      { id: consentId, s: signConsent(c.body, firm.seed).signature },
      rep,
    ),
    'approval of the monitoring consent',
  );
  await consentAt(bankA, consentId, 'ACTIVE');
  const sub = dataOf(
    await bankA.gql(
      `mutation($u: String!) { monitorBorrower(uscc: $u) { status holders } }`,
      { u: firm.uscc },
      officer,
    ),
    'subscription',
  ).monitorBorrower as { status: string; holders: Record<string, string> };
  check(sub.status === 'SUBSCRIBED', 'bank-a did not subscribe');
  say(
    `   scopes ${c.scopes.join(', ')}; subscribed at ${Object.entries(sub.holders)
      .map(([n, s]) => `${n} ${s}`)
      .join(', ')}.`,
  );

  say('10. The Xiamen market regulator fines the borrower today; the centre records the penalty while running.');
  const started = Date.now();
  const rec = dataOf(
    await centre.gql(
      `mutation($f: JSON!) { recordFacts(facts: $f) { recorded alerts } }`,
      { f: [penaltyRow(firm.uscc, { severity: 'MINOR' })] },
      as.staff,
    ),
    'recording the penalty',
  ).recordFacts as { alerts: number };
  check(rec.alerts === 1, `the penalty queued ${rec.alerts} alerts`);
  const alerts = await waitFor('the alert at bank-a', async () => {
    const r = await bankA.gql(ALERTS, { u: firm.uscc }, officer);
    const list = (r.data?.monitoringAlerts ?? []) as Array<{
      id: string;
      kind: string;
      subtype: string;
      origin: string;
      sourceUnit: string;
    }>;
    return list.length > 0 && list;
  });
  const latencyMs = Date.now() - started;
  const a = alerts[0];
  say(
    `   bank-a's node has the alert after ${latencyMs} ms: ${a.kind} ${a.subtype} by ${a.sourceUnit}, sent by ${a.origin} (logged at both ends).`,
  );
  dataOf(
    await bankA.gql(
      `mutation($ids: [ID!]!) { acknowledgeAlerts(ids: $ids, note: "relationship manager called the borrower") { id } }`,
      { ids: [a.id] },
      officer,
    ),
    'acknowledging',
  );
  say('   the officer acknowledges it.');

  say('11. The borrower revokes the monitoring consent on the platform; the next penalty alerts no one.');
  dataOf(
    await platform.gql(
      `mutation($id: ID!) { revokeConsent(id: $id, reason: "loan repaid early") { status } }`,
      { id: consentId },
      rep,
    ),
    'revocation',
  );
  await consentAt(centre, consentId, 'REVOKED');
  await consentAt(bankA, consentId, 'REVOKED');
  const again = dataOf(
    await centre.gql(
      `mutation($f: JSON!) { recordFacts(facts: $f) { alerts } }`,
      { f: [penaltyRow(firm.uscc, { severity: 'MINOR' })] },
      as.staff,
    ),
    'second penalty',
  ).recordFacts as { alerts: number };
  check(again.alerts === 0, 'an alert was queued after the revocation');
  const watched = dataOf(await bankA.gql(`{ monitoredBorrowers { uscc status endReason } }`, {}, officer), 'watch list')
    .monitoredBorrowers as Array<{ uscc: string; status: string; endReason: string | null }>;
  const w = watched.find((x) => x.uscc === firm.uscc);
  check(w?.status === 'ENDED', `the watch is ${w?.status}`);
  say(
    `   the subscription ended at xm-centre with the revocation; bank-a's watch is ENDED (${w.endReason}); no new alert.`,
  );
  return { alertLatencyMs: latencyMs };
}
