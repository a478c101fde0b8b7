/**
 * The loan journey over real nodes (libp2p on loopback, Level, generated data): banks publish
 * products through their nodes, an enterprise applies at the easy-loan platform, is matched with
 * the grade of its home centre, approves each bank's consent request there, the banks read and
 * decide, and the enterprise sees every answer; bad input is refused with codes and changes
 * nothing; the platform's figures equal the counts of what happened.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsentBody, type Principal, signConsent } from '../authz/index.ts';
import { type Answer, codeOf, gql } from '../easyloan/test-helpers.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { type DemoEnterprise, demoEnterprise } from '../scenarios/demo/client.ts';
import { until } from '../testkit/wait.ts';
import { EASYLOAN_PROTOCOL } from './easyloan-protocol.ts';
import type { PeerError } from './host.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
const operator: Principal = { sub: 'op-01', role: 'platform-operator' };
const officer = (bank: string): Principal => ({ sub: `${bank}-officer`, role: 'bank-officer', bank });
let fed: TestFederation;
let n: Record<string, CreditNode>;
let firm: DemoEnterprise;
let outsider: DemoEnterprise;
const rep = (e: DemoEnterprise): Principal => ({ sub: 'rep-01', role: 'enterprise', uscc: e.uscc });

const PRODUCT = `id bank code status version minGrade scopes`;
const APPLICATION = `id uscc city industry amountYuan termMonths grade { grade evaluator } gradeMissing
  matches { bank productId status consentId consentStatus consentBody scopes decision { outcome amountYuan ratePct reasonCode } }`;
const product = (code: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: `经营贷 ${code}`,
  minAmountYuan: 100_000,
  maxAmountYuan: 5_000_000,
  minTermMonths: 6,
  maxTermMonths: 36,
  minRatePct: 3.45,
  maxRatePct: 6.5,
  scopes: ['registration', 'evaluation', 'penalties'],
  ...extra,
});
const publish = (bank: string, input: Record<string, unknown>) =>
  gql(
    n[bank],
    `mutation($i: LoanProductInput!) { publishLoanProduct(input: $i) { ${PRODUCT} } }`,
    { i: input },
    officer(bank),
  );
const file = (e: DemoEnterprise, input: Record<string, unknown>) =>
  gql(
    n['easy-loan'],
    `mutation($i: LoanApplicationInput!) { fileLoanApplication(input: $i) { ${APPLICATION} } }`,
    { i: input },
    rep(e),
  );
const mine = async (e: DemoEnterprise) =>
  (await gql(n['easy-loan'], `{ myLoanApplications { ${APPLICATION} } }`, {}, rep(e))).data!.myLoanApplications;
const decide = (bank: string, input: Record<string, unknown>) =>
  gql(
    n[bank],
    `mutation($i: LoanDecisionInput!) { decideLoanApplication(input: $i) { applicationId decision { outcome } loanId monitoringConsentId } }`,
    { i: input },
    officer(bank),
  );
const figures = async () =>
  (
    await gql(
      n['easy-loan'],
      `{ platformFigures { authorisedShare loanShare totals { registered boundKey authorised applications matches forwarded decisions approvals refusals grantedYuan enterprisesWithLoan medianDecisionSeconds }
        rows { city industry registered applications approvals grantedYuan } } }`,
      {},
      operator,
    )
  ).data!.platformFigures;

beforeAll(async () => {
  fed = await startTestFederation(
    {
      'xm-centre': 'credit-centre',
      'qz-centre': 'city-peer',
      'easy-loan': 'easy-loan',
      'bank-a': 'bank',
      'bank-b': 'bank',
      'bank-c': 'bank',
    },
    { cities: { 'xm-centre': 'XM', 'qz-centre': 'QZ', 'easy-loan': 'XM' }, enterprises: 200 },
  );
  n = fed.nodes;
  // A Xiamen enterprise the centre grades C or better, and another one.
  for (let i = 0; i < 5 && !firm; i++) {
    const e = await demoEnterprise(join(fed.dataDir!, '..'), 'xm-centre', i);
    const g = await n['xm-centre'].evaluation!.reevaluate(e.uscc);
    if (g && g.grade !== 'D') firm = e;
    else outsider ??= e;
  }
  outsider ??= await demoEnterprise(join(fed.dataDir!, '..'), 'xm-centre', 4);
  for (const e of [firm, outsider]) await n['xm-centre'].consents.registerKey(staff, e.uscc, e.publicKey);
  await until('the key bindings at the platform', async () => !!(await n['easy-loan'].consents.bindingFor(firm.uscc)), {
    timeoutMs: 20_000,
  });
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

describe('the loan journey on the Credit Easy-Loan platform', () => {
  let appId = '';
  let before: Awaited<ReturnType<typeof figures>>;

  it('banks publish products through their own nodes; a malformed product is refused at the bank and reaches no one', async () => {
    before = await figures();
    const a = await publish('bank-a', product('A-OPS', { minGrade: 'C' }));
    expect(a.errors).toBeUndefined();
    expect(a.data!.publishLoanProduct).toMatchObject({
      id: 'bank-a:A-OPS',
      bank: 'bank-a',
      status: 'ACTIVE',
      version: 1,
    });
    const b = await publish(
      'bank-b',
      product('B-SME', { cities: ['XM'], scopes: ['registration', 'tax'], minRatePct: 3.2 }),
    );
    expect(b.errors).toBeUndefined();
    // bank-c publishes for Quanzhou enterprises only: it is not matched with a Xiamen applicant.
    expect((await publish('bank-c', product('C-QZ', { cities: ['QZ'] }))).errors).toBeUndefined();
    for (const bad of [
      product('BAD', { minAmountYuan: 9_000_000 }),
      product('BAD', { scopes: ['registration', 'no-such-scope'] }),
      product('BAD', { minRatePct: 3.456 }),
      product('BAD', { cities: ['SH'] }),
    ]) {
      const r = await publish('bank-a', bad);
      expect(codeOf(r)).toBe('BAD_USER_INPUT');
    }
    // An officer of another bank cannot publish at bank-a's node (its token is not issued there).
    const forged = await fetch(`${n['bank-a'].url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${n['bank-b'].tokens.issue(officer('bank-b'))}`,
      },
      body: JSON.stringify({
        query: 'mutation($i: LoanProductInput!) { publishLoanProduct(input: $i) { id } }',
        variables: { i: product('X') },
      }),
    });
    expect(((await forged.json()) as Answer).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const listed = await gql(n['easy-loan'], `{ loanProducts { id } }`, {}, rep(firm));
    expect(listed.data!.loanProducts.map((p: { id: string }) => p.id).sort()).toEqual([
      'bank-a:A-OPS',
      'bank-b:B-SME',
      'bank-c:C-QZ',
    ]);
  });

  it('refuses applications no product offers, or from an enterprise not registered, and keeps nothing', async () => {
    expect(codeOf(await file(firm, { amountYuan: 1_000_000, termMonths: 12, purpose: '采购原材料' }))).toBe(
      'NOT_REGISTERED',
    );
    const reg = await gql(
      n['easy-loan'],
      `mutation { registerOnPlatform(industry: "C3311") { uscc city industry } }`,
      {},
      rep(firm),
    );
    expect(reg.data!.registerOnPlatform).toEqual({ uscc: firm.uscc, city: 'XM', industry: 'C3311' });
    expect(
      codeOf(
        await gql(n['easy-loan'], `mutation { registerOnPlatform(industry: "computers") { uscc } }`, {}, rep(firm)),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(codeOf(await file(firm, { amountYuan: 80_000_000, termMonths: 12, purpose: '扩产' }))).toBe(
      'NO_MATCHING_PRODUCT',
    );
    expect(codeOf(await file(firm, { amountYuan: 1_000_000, termMonths: 120, purpose: '扩产' }))).toBe(
      'NO_MATCHING_PRODUCT',
    );
    expect(codeOf(await file(firm, { amountYuan: 1.5, termMonths: 12, purpose: '扩产' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await file(firm, { amountYuan: 1_000_000, termMonths: 12, purpose: '' }))).toBe('BAD_USER_INPUT');
    expect(await mine(firm)).toEqual([]);
    // Applications live at the platform: a bank's node has none.
    expect(codeOf(await gql(n['bank-a'], `{ myLoanApplications { id } }`, {}, officer('bank-a')))).toBe('WRONG_ROLE');
  });

  it('matches with the home centre grade, forwards to each eligible bank with a consent request for exactly its scopes', async () => {
    const r = await file(firm, { amountYuan: 1_000_000, termMonths: 12, purpose: '采购原材料' });
    expect(r.errors).toBeUndefined();
    const app = r.data!.fileLoanApplication;
    appId = app.id;
    expect(app.grade).toMatchObject({ evaluator: 'xm-centre' });
    expect(app.grade.grade).not.toBe('D');
    expect(app.matches.map((m: { bank: string }) => m.bank)).toEqual(['bank-a', 'bank-b']);
    for (const m of app.matches) {
      expect(m.status).toBe('FORWARDED');
      expect(m.consentStatus).toBe('REQUESTED');
      expect(m.consentBody).toMatchObject({
        home: 'easy-loan',
        grantee: { node: m.bank },
        purpose: 'loan-application',
      });
      expect([...m.consentBody.scopes].sort()).toEqual([...m.scopes].sort());
    }
    expect(app.matches[1].scopes).toEqual(['registration', 'tax']);
    // The banks hold the application at once, and the consent request once consent sync delivers it.
    const inbox = await until(
      'the consent request at bank-a',
      async () => {
        const r = await gql(
          n['bank-a'],
          `{ lenderApplications { applicationId uscc consentId consentStatus product { id } } }`,
          {},
          officer('bank-a'),
        );
        return r.data?.lenderApplications?.[0]?.consentStatus === 'REQUESTED' && r;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(inbox.data!.lenderApplications).toEqual([
      {
        applicationId: appId,
        uscc: firm.uscc,
        consentId: app.matches[0].consentId,
        consentStatus: 'REQUESTED',
        product: { id: 'bank-a:A-OPS' },
      },
    ]);
    expect(
      (await gql(n['bank-c'], `{ lenderApplications { applicationId } }`, {}, officer('bank-c'))).data!
        .lenderApplications,
    ).toEqual([]);
  });

  it('the enterprise approves per bank at the platform; the bank reads the consented profile and decides; the enterprise sees every answer', async () => {
    const [ma, mb] = (await mine(firm))[0].matches;
    for (const m of [ma, mb]) {
      const signed = signConsent(m.consentBody as ConsentBody, firm.seed);
      const ok = await gql(
        n['easy-loan'],
        `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
        { id: m.consentId, s: signed.signature },
        rep(firm),
      );
      expect(ok.data!.approveConsent.status).toBe('ACTIVE');
    }
    await until(
      'the consent ACTIVE at bank-a',
      async () => (await n['bank-a'].consents.get(ma.consentId))?.status === 'ACTIVE',
      { timeoutMs: 20_000 },
    );
    const read = await gql(
      n['bank-a'],
      `query($u: String!, $c: ID!) { enterprise(uscc: $u, purpose: "loan-application", consentId: $c) { registration { uscc } evaluation { payload } servedBy { section node } } }`,
      { u: firm.uscc, c: ma.consentId },
      officer('bank-a'),
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.enterprise.registration.uscc).toBe(firm.uscc);
    // Out of bounds, then a refusal without a reason: refused at the bank, nothing sent.
    expect(
      codeOf(await decide('bank-a', { applicationId: appId, approve: true, amountYuan: 2_000_000, ratePct: 4.2 })),
    ).toBe('DECISION_INVALID');
    expect(
      codeOf(await decide('bank-a', { applicationId: appId, approve: true, amountYuan: 800_000, ratePct: 9 })),
    ).toBe('DECISION_INVALID');
    expect(codeOf(await decide('bank-b', { applicationId: appId, approve: false }))).toBe('DECISION_INVALID');
    const approved = await decide('bank-a', { applicationId: appId, approve: true, amountYuan: 800_000, ratePct: 4.2 });
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.decideLoanApplication).toMatchObject({
      decision: { outcome: 'APPROVED' },
      loanId: `el-${appId}`,
    });
    const monitoringId = approved.data!.decideLoanApplication.monitoringConsentId;
    expect(monitoringId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await n['easy-loan'].consents.get(monitoringId))?.body).toMatchObject({
      purpose: 'post-loan-monitoring',
      home: 'easy-loan',
    });
    expect(await n['bank-a'].profiles.getLoans(firm.uscc)).toContainEqual(
      expect.objectContaining({ loanId: `el-${appId}`, outstandingYuan: 800_000, status: 'CURRENT' }),
    );
    const refused = await decide('bank-b', { applicationId: appId, approve: false, reasonCode: 'HIGH_EXPOSURE' });
    expect(refused.errors).toBeUndefined();
    const answers = (await mine(firm))[0].matches.map((m: { bank: string; status: string; decision: unknown }) => [
      m.bank,
      m.status,
      m.decision,
    ]);
    expect(answers).toEqual([
      ['bank-a', 'DECIDED', { outcome: 'APPROVED', amountYuan: 800_000, ratePct: 4.2, reasonCode: null }],
      ['bank-b', 'DECIDED', { outcome: 'REFUSED', amountYuan: null, ratePct: null, reasonCode: 'HIGH_EXPOSURE' }],
    ]);
  });

  it('refuses a second decision and a decision by a bank the application was not forwarded to, at the bank and at the platform', async () => {
    const snapshot = JSON.stringify(await mine(firm));
    expect(
      codeOf(await decide('bank-b', { applicationId: appId, approve: true, amountYuan: 500_000, ratePct: 4 })),
    ).toBe('ALREADY_DECIDED');
    expect(codeOf(await decide('bank-c', { applicationId: appId, approve: false, reasonCode: 'LOW_SCORE' }))).toBe(
      'NOT_FORWARDED',
    );
    const decision = { outcome: 'REFUSED', reasonCode: 'LOW_SCORE', officer: 'x', decidedAt: new Date().toISOString() };
    // Straight to the platform over the protocol: bank-c was not matched; bank-b already decided.
    for (const [bank, code] of [
      ['bank-c', 'NOT_FORWARDED'],
      ['bank-b', 'ALREADY_DECIDED'],
    ] as const) {
      const err = (await n[bank]
        .federation!.host.request('easy-loan', EASYLOAN_PROTOCOL, {
          op: 'decision',
          applicationId: appId,
          productId: `${bank}:B-SME`,
          decision,
        })
        .catch((e) => e)) as PeerError;
      expect(err.code).toBe(code);
    }
    // A bank may not forward applications, and a centre may not publish.
    const asBank = (await n['bank-c']
      .federation!.host.request('bank-a', EASYLOAN_PROTOCOL, {
        op: 'grade',
        uscc: firm.uscc,
        correlationId: 'abcdefgh12',
      })
      .catch((e) => e)) as PeerError;
    expect(asBank.code).toBe('FORBIDDEN');
    const asCentre = (await n['xm-centre']
      .federation!.host.request('easy-loan', EASYLOAN_PROTOCOL, {
        op: 'product',
        input: product('Z'),
        publishedBy: 'x',
      })
      .catch((e) => e)) as PeerError;
    expect(asCentre.code).toBe('FORBIDDEN');
    expect(JSON.stringify(await mine(firm))).toBe(snapshot);
  });

  it('the platform figures equal the counts of what happened, by city and industry, and in /metrics', async () => {
    const f = await figures();
    const d = (k: string) => f.totals[k] - before.totals[k];
    expect({
      registered: d('registered'),
      boundKey: d('boundKey'),
      authorised: d('authorised'),
      applications: d('applications'),
      matches: d('matches'),
      forwarded: d('forwarded'),
      decisions: d('decisions'),
      approvals: d('approvals'),
      refusals: d('refusals'),
      grantedYuan: d('grantedYuan'),
      enterprisesWithLoan: d('enterprisesWithLoan'),
    }).toEqual({
      registered: 1,
      boundKey: 1,
      authorised: 1,
      applications: 1,
      matches: 2,
      forwarded: 2,
      decisions: 2,
      approvals: 1,
      refusals: 1,
      grantedYuan: 800_000,
      enterprisesWithLoan: 1,
    });
    expect(f.totals.medianDecisionSeconds).toBeGreaterThanOrEqual(0);
    expect(f.rows).toContainEqual({
      city: 'XM',
      industry: 'C',
      registered: 1,
      applications: 1,
      approvals: 1,
      grantedYuan: 800_000,
    });
    expect(f.authorisedShare).toBe(1);
    expect(f.loanShare).toBe(1);
    // Operators only: an enterprise and a bank officer are refused.
    expect(codeOf(await gql(n['easy-loan'], `{ platformFigures { at } }`, {}, rep(firm)))).toBe('FORBIDDEN');
    await until(
      'the figures in /metrics',
      async () =>
        (await (await fetch(`${n['easy-loan'].url}/metrics`)).text()).includes(
          'credit_easyloan_approvals{city="XM",industry="C"} 1',
        ),
      { timeoutMs: 15_000 },
    );
  });

  it('the enterprise not eligible for any product (its grade, its city) is told so and nothing is kept', async () => {
    await gql(n['easy-loan'], `mutation { registerOnPlatform(industry: "F51") { uscc } }`, {}, rep(outsider));
    await publish('bank-a', product('A-OPS', { minGrade: 'A', cities: ['QZ'] }));
    await publish('bank-b', product('B-SME', { cities: ['ZZ'], scopes: ['registration', 'tax'] }));
    const r = await file(outsider, { amountYuan: 1_000_000, termMonths: 12, purpose: '流动资金' });
    expect(codeOf(r)).toBe('NOT_ELIGIBLE');
    expect(await mine(outsider)).toEqual([]);
    const v = (await gql(n['easy-loan'], `{ loanProducts { id version } }`, {}, rep(outsider))).data!.loanProducts;
    expect(v).toContainEqual({ id: 'bank-a:A-OPS', version: 2 });
  });
});
