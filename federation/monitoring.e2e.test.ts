/**
 * Post-loan monitoring (信用波动预警) over real nodes (libp2p on loopback, Level, generated data):
 * a bank subscribes to a borrower under a `post-loan-monitoring` consent at every node that
 * determines facts; a new penalty, a Quanzhou listing and a dispute reach the bank's node as
 * alerts it lists and acknowledges; revocation ends the subscription everywhere; subscriptions
 * without a consent or a loan, forged alerts and alerts for enterprises the bank no longer lends
 * to are refused with codes, and nothing changes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { abnormalListingRow, codeOf, gql, penaltyRow } from '../easyloan/test-helpers.ts';
import type { LoanRecord } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { type DemoEnterprise, demoEnterprise } from '../scenarios/demo/client.ts';
import { until } from '../testkit/wait.ts';
import type { PeerError } from './host.ts';
import { MONITORING_PROTOCOL } from './monitoring-protocol.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
const officer: Principal = { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' };
const SCOPES = ['judicial', 'penalties', 'abnormalList', 'seriousDishonesty'];
let fed: TestFederation;
let n: Record<string, CreditNode>;
let borrower: DemoEnterprise;
let noLoan: DemoEnterprise;
let settled: DemoEnterprise;
let consentId = '';
const rep = (e: DemoEnterprise): Principal => ({ sub: 'rep-01', role: 'enterprise', uscc: e.uscc });
const wait = { timeoutMs: 20_000 };

const ALERTS = `query($u: String) { monitoringAlerts(uscc: $u) { id kind factId subtype section status origin consentId acknowledgedAt acknowledgedBy } }`;
const alertsOf = async (e: DemoEnterprise) =>
  (await gql(n['bank-a'], ALERTS, { u: e.uscc }, officer)).data!.monitoringAlerts;
const record = (node: string, facts: unknown[]) =>
  gql(n[node], `mutation($f: JSON!) { recordFacts(facts: $f) { recorded factIds alerts } }`, { f: facts }, staff);
const monitor = (e: DemoEnterprise) =>
  gql(
    n['bank-a'],
    `mutation($u: String!) { monitorBorrower(uscc: $u) { uscc status code holders } }`,
    { u: e.uscc },
    officer,
  );
const subscribers = async (node: string) =>
  (await n[node].easyLoan.alerts!.subscriptions(staff)).find((s) => s.bank === 'bank-a')?.borrowers ?? 0;

/** Books a loan on bank-a's book as an ingest of its loan file would. */
async function book(e: DemoEnterprise, status: LoanRecord['status'] = 'CURRENT') {
  const record: LoanRecord = {
    bank: 'bank-a',
    loanId: `L-${e.uscc.slice(-6)}`,
    uscc: e.uscc,
    outstandingYuan: status === 'SETTLED' ? 0 : 2_000_000,
    startDate: '2025-06-01',
    maturityDate: '2027-06-01',
    status,
    updatedAt: new Date().toISOString(),
  };
  const r = [{ kind: 'loan' as const, record }];
  await n['bank-a'].db.batch(n['bank-a'].profiles.writeOps(r, await n['bank-a'].profiles.existing(r)));
}

/** The enterprise grants bank-a a monitoring consent at its centre; resolves once bank-a holds it. */
async function grant(e: DemoEnterprise) {
  await n['xm-centre'].consents.registerKey(staff, e.uscc, e.publicKey);
  const body = draftConsent({
    enterprise: e.uscc,
    home: 'xm-centre',
    grantee: 'bank-a',
    scopes: SCOPES,
    purpose: 'post-loan-monitoring',
    days: 180,
  });
  const r = await n['xm-centre'].consents.grant(rep(e), signConsent(body, e.seed));
  await until(
    `consent of ${e.uscc} at bank-a`,
    async () => (await n['bank-a'].consents.get(r.id))?.status === 'ACTIVE',
    wait,
  );
  return r.id;
}

beforeAll(async () => {
  fed = await startTestFederation(
    { 'xm-centre': 'credit-centre', 'qz-centre': 'city-peer', 'xm-data': 'source', 'bank-a': 'bank', 'bank-b': 'bank' },
    { cities: { 'xm-centre': 'XM', 'qz-centre': 'QZ', 'xm-data': 'XM' }, enterprises: 200 },
  );
  n = fed.nodes;
  const dir = join(fed.dataDir!, '..');
  [borrower, noLoan, settled] = await Promise.all([0, 1, 2].map((i) => demoEnterprise(dir, 'xm-centre', i)));
  await book(borrower);
  await book(settled);
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

describe('post-loan monitoring across the federation', () => {
  it('refuses a subscription without a monitoring consent, and for an enterprise the bank does not lend to; nothing reaches the holders', async () => {
    const r = await monitor(borrower);
    expect(codeOf(r)).toBe('MONITORING_CONSENT_REQUIRED');
    expect(r.errors![0].message).toContain('NO_CONSENT');
    await grant(noLoan);
    expect(codeOf(await monitor(noLoan))).toBe('NOT_A_BORROWER');
    for (const node of ['xm-centre', 'qz-centre', 'xm-data']) expect(await subscribers(node)).toBe(0);
    // A loan-application consent does not do for monitoring.
    expect(
      codeOf(await gql(n['bank-a'], `mutation { monitorBorrower(uscc: "not-a-code") { uscc } }`, {}, officer)),
    ).toBe('BAD_USER_INPUT');
  });

  it('subscribes at every node that determines facts; a holder refuses a bank that is not the grantee', async () => {
    consentId = await grant(borrower);
    const r = await monitor(borrower);
    expect(r.errors).toBeUndefined();
    expect(r.data!.monitorBorrower).toEqual({
      uscc: borrower.uscc,
      status: 'SUBSCRIBED',
      code: null,
      holders: { 'xm-centre': 'OK', 'qz-centre': 'OK', 'xm-data': 'OK' },
    });
    for (const node of ['xm-centre', 'qz-centre', 'xm-data']) expect(await subscribers(node)).toBe(1);
    // bank-b presents bank-a's consent: refused by the holder, which fetched and checked it.
    const answer = await n['bank-b'].federation!.host.request('xm-centre', MONITORING_PROTOCOL, {
      op: 'subscribe',
      items: [{ uscc: borrower.uscc, consentId, home: 'xm-centre' }],
    });
    expect(answer).toEqual([
      { uscc: borrower.uscc, ok: false, code: 'MONITORING_CONSENT_REQUIRED', reason: 'NO_CONSENT' },
    ]);
    const logged = await gql(
      n['xm-centre'],
      `{ auditEntries(filter: { principal: "node:bank-b" }) { entries { decision reason purpose } } }`,
      {},
      { sub: 'reg', role: 'auditor' },
    );
    expect(logged.data!.auditEntries.entries).toContainEqual({
      decision: 'DENY',
      reason: 'NO_CONSENT',
      purpose: 'post-loan-monitoring',
    });
  });

  it('a new penalty at the Xiamen centre and a listing at the Quanzhou centre reach the bank within seconds, logged at both ends; the officer acknowledges', async () => {
    const bad = await record('xm-centre', [
      penaltyRow(borrower.uscc),
      { ...penaltyRow(borrower.uscc), publicUntil: undefined },
    ]);
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(await alertsOf(borrower)).toEqual([]);
    const pen = penaltyRow(borrower.uscc);
    const started = Date.now();
    const r = await record('xm-centre', [pen]);
    expect(r.data!.recordFacts).toEqual({ recorded: 1, factIds: [pen.id], alerts: 1 });
    await until('the penalty alert at bank-a', async () => (await alertsOf(borrower)).length === 1, wait);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(codeOf(await record('xm-centre', [pen]))).toBe('FACT_EXISTS');
    await record('qz-centre', [abnormalListingRow(borrower.uscc)]);
    await until('the Quanzhou listing alert at bank-a', async () => (await alertsOf(borrower)).length === 2, wait);
    const alerts = await alertsOf(borrower);
    expect(
      alerts.map((a: { kind: string; subtype: string; origin: string }) => [a.kind, a.subtype, a.origin]).sort(),
    ).toEqual([
      ['NEW_FACT', 'ABNORMAL_LIST', 'qz-centre'],
      ['NEW_FACT', 'ADMIN_PENALTY', 'xm-centre'],
    ]);
    expect(alerts.every((a: { consentId: string }) => a.consentId === consentId)).toBe(true);
    // The enterprise sees both ends of the penalty alert in its access log.
    const seen = await gql(
      n['xm-centre'],
      `{ myAccessLog(first: 100) { nodes { node entries { action purpose principal } } } }`,
      {},
      rep(borrower),
    );
    const entries = seen.data!.myAccessLog.nodes.flatMap(
      (x: { node: string; entries: Array<Record<string, string>> }) =>
        x.entries.filter((e) => e.purpose === 'post-loan-monitoring').map((e) => `${x.node}:${e.principal}`),
    );
    expect(entries).toEqual(
      expect.arrayContaining(['xm-centre:node:bank-a', 'bank-a:node:xm-centre', 'qz-centre:node:bank-a']),
    );
    const ack = await gql(
      n['bank-a'],
      `mutation($ids: [ID!]!) { acknowledgeAlerts(ids: $ids, note: "客户经理已联系") { acknowledgedBy } }`,
      { ids: [alerts[0].id] },
      officer,
    );
    expect(ack.data!.acknowledgeAlerts).toEqual([{ acknowledgedBy: 'officer-a1' }]);
    expect(codeOf(await gql(n['bank-a'], `mutation { acknowledgeAlerts(ids: ["nope"]) { id } }`, {}, officer))).toBe(
      'ALERT_NOT_FOUND',
    );
    const open = await gql(n['bank-a'], `{ monitoringAlerts(unacknowledged: true) { id } }`, {}, officer);
    expect(open.data!.monitoringAlerts).toEqual([{ id: alerts[1].id }]);
  });

  it('a dispute of the penalty (objection filed by the enterprise) reaches the bank as an alert', async () => {
    const pen = (await alertsOf(borrower)).find((a: { subtype: string }) => a.subtype === 'ADMIN_PENALTY');
    const filed = await gql(
      n['xm-centre'],
      `mutation($f: String!) { fileObjection(factId: $f, reason: "已整改并缴清罚款") { status } }`,
      { f: pen.factId },
      rep(borrower),
    );
    expect(filed.errors).toBeUndefined();
    await until(
      'the dispute alert',
      async () => (await alertsOf(borrower)).some((a: { kind: string }) => a.kind === 'DISPUTED'),
      wait,
    );
  });

  it('refuses forged alerts: from a node that did not determine the fact, from a bank, for a borrower not watched', async () => {
    const before = (await alertsOf(borrower)).length;
    const alert = {
      id: 'A'.repeat(43),
      uscc: borrower.uscc,
      bank: 'bank-a',
      consentId,
      kind: 'NEW_FACT',
      factId: 'forged-1',
      subtype: 'ADMIN_PENALTY',
      section: 'penalties',
      status: 'ACTIVE',
      decisionDate: '2026-01-01',
      sourceUnit: 'x',
      version: 1,
      at: new Date().toISOString(),
      origin: 'xm-centre',
    };
    const send = (from: string, a: Record<string, unknown>): Promise<PeerError> =>
      n[from].federation!.host.request('bank-a', MONITORING_PROTOCOL, { op: 'alert', alert: a }).then(
        () => ({ code: 'ACCEPTED' }) as PeerError,
        (e) => e as PeerError,
      );
    expect((await send('xm-data', alert)).code).toBe('FORBIDDEN');
    expect((await send('bank-b', { ...alert, origin: 'bank-b' })).code).toBe('FORBIDDEN');
    expect((await send('xm-centre', { ...alert, uscc: noLoan.uscc })).code).toBe('MONITORING_ENDED');
    expect((await send('xm-centre', { ...alert, section: 'tax', subtype: 'TAX_ARREARS' })).code).toBe(
      'MONITORING_ENDED',
    );
    expect((await send('xm-centre', { ...alert, bank: 'bank-b' })).code).toBe('FORBIDDEN');
    expect((await alertsOf(borrower)).length).toBe(before);
  });

  it('alerts for an enterprise the bank no longer lends to are refused and end the subscription', async () => {
    await grant(settled);
    expect((await monitor(settled)).data!.monitorBorrower.status).toBe('SUBSCRIBED');
    const before = await subscribers('xm-centre');
    await book(settled, 'SETTLED');
    await record('xm-centre', [penaltyRow(settled.uscc)]);
    await until('the holder ended the subscription', async () => (await subscribers('xm-centre')) === before - 1, wait);
    expect(await alertsOf(settled)).toEqual([]);
  });

  it('revocation ends the subscription everywhere: no alert after it, the watch ENDED, every holder drops it', async () => {
    const before = (await alertsOf(borrower)).length;
    await n['xm-centre'].consents.revoke(rep(borrower), consentId, 'loan repaid');
    for (const node of ['bank-a', 'qz-centre', 'xm-data'])
      await until(
        `REVOKED at ${node}`,
        async () => (await n[node].consents.get(consentId))?.status === 'REVOKED',
        wait,
      );
    const watched = await gql(n['bank-a'], `{ monitoredBorrowers { uscc status endReason } }`, {}, officer);
    expect(watched.data!.monitoredBorrowers).toContainEqual({
      uscc: borrower.uscc,
      status: 'ENDED',
      endReason: 'REVOKED',
    });
    const r = await record('xm-centre', [penaltyRow(borrower.uscc)]);
    expect(r.data!.recordFacts.alerts).toBe(0);
    expect(await n['qz-centre'].easyLoan.alerts!.sweep()).toBe(1);
    expect(await n['xm-data'].easyLoan.alerts!.sweep()).toBe(1);
    for (const node of ['xm-centre', 'qz-centre', 'xm-data']) expect(await subscribers(node)).toBe(0);
    expect(await n['bank-a'].easyLoan.watch!.sweep()).toBe(1);
    expect((await alertsOf(borrower)).length).toBe(before);
    expect(codeOf(await monitor(borrower))).toBe('MONITORING_CONSENT_REQUIRED');
  });
});
