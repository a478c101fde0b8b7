/**
 * Story 1, a bank loan through the Credit Easy-Loan platform (信易贷): banks publish products
 * through their own nodes; an enterprise applies on the platform, is matched with its home
 * centre's grade and forwarded to the eligible banks, each asking for consent to exactly the
 * scopes its product needs; the enterprise approves per bank; the banks read the profile across
 * the nodes that hold it, run the joint queries, decide, and the enterprise sees the offers. The
 * platform's figures move by exactly what happened. Then post-loan monitoring (./monitoring.ts).
 */
import type { ConsentBody } from '../../../authz/index.ts';
import { signConsent } from '../../../authz/index.ts';
import type { DemoEnterprise, NodeClient } from '../client.ts';
import {
  as,
  bindKey,
  check,
  consentAt,
  dataOf,
  enterprisesOf,
  factsOf,
  loansOf,
  type Story,
  type StoryContext,
} from './kit.ts';
import { monitorBorrower } from './monitoring.ts';

type Row = Record<string, number | string | null>;
interface Match {
  bank: string;
  productId: string;
  productName: string;
  scopes: string[];
  status: string;
  consentId: string;
  consentBody: ConsentBody;
  decision: { outcome: string; amountYuan: number | null; ratePct: number | null; reasonCode: string | null } | null;
}

const PRODUCTS: Record<string, Record<string, unknown>> = {
  'bank-a': {
    code: 'XM-OPS-2026',
    name: '经营快贷 (operating loan)',
    minAmountYuan: 100_000,
    maxAmountYuan: 3_000_000,
    minTermMonths: 6,
    maxTermMonths: 36,
    minRatePct: 3.45,
    maxRatePct: 6,
    minGrade: 'C',
    scopes: ['registration', 'tax', 'evaluation', 'penalties', 'joint:exposure', 'joint:score', 'joint:listCheck'],
  },
  'bank-b': {
    code: 'SME-TAX-2026',
    name: '税易贷 (tax-record loan)',
    minAmountYuan: 50_000,
    maxAmountYuan: 2_000_000,
    minTermMonths: 3,
    maxTermMonths: 24,
    minRatePct: 3.2,
    maxRatePct: 5.5,
    cities: ['XM'],
    scopes: ['registration', 'tax', 'joint:exposure'],
  },
  'bank-c': {
    code: 'QZ-MFG-2026',
    name: '泉州制造贷 (Quanzhou manufacturing)',
    minAmountYuan: 200_000,
    maxAmountYuan: 5_000_000,
    minTermMonths: 12,
    maxTermMonths: 60,
    minRatePct: 3.6,
    maxRatePct: 5.8,
    cities: ['QZ'],
    industries: ['C'],
    scopes: ['registration', 'evaluation'],
  },
};
const APPLICATION = `id grade { grade evaluator } gradeMissing matches { bank productId productName scopes status consentId consentBody
  decision { outcome amountYuan ratePct reasonCode } }`;
const FIGURES = `{ platformFigures { authorisedShare loanShare totals { registered boundKey authorised applications matches decisions approvals refusals grantedYuan medianDecisionSeconds } } }`;
const SUMMED = [
  'registered',
  'boundKey',
  'applications',
  'matches',
  'decisions',
  'approvals',
  'refusals',
  'grantedYuan',
];

const LISTS = new Set(['DISHONEST_DEBTOR', 'SERIOUS_DISHONESTY', 'ABNORMAL_LIST']);

/**
 * An applicant from the demo data: new to the platform (a fresh one each run), on no list of any
 * centre, with a loan at bank-c (so the exposure query has something to add up), graded A or B.
 */
async function freshApplicant(ctx: StoryContext): Promise<DemoEnterprise & { industry: string }> {
  const platform = ctx.node('easy-loan');
  const centre = ctx.node('xm-centre');
  const listed = new Set<string>();
  for (const holder of ['xm-centre', 'zz-centre', 'qz-centre'])
    for (const f of await factsOf(ctx.dir, holder)) if (LISTS.has(String(f.subtype))) listed.add(String(f.uscc));
  const bankC = new Set((await loansOf(ctx.dir, 'bank-c')).map((l) => l.uscc));
  const candidates = (await enterprisesOf(ctx.dir, 'xm-centre'))
    .slice(5)
    .filter((e) => !listed.has(e.uscc) && bankC.has(e.uscc));
  for (const e of candidates) {
    const apps = await platform.gql(`{ myLoanApplications { id } }`, {}, as.rep(e.uscc));
    if ((apps.data?.myLoanApplications as unknown[] | undefined)?.length !== 0) continue;
    const g = await centre.gql(`query($u: String!) { evaluation(uscc: $u) { grade } }`, { u: e.uscc }, as.rep(e.uscc));
    const grade = (g.data?.evaluation as { grade?: string } | null)?.grade;
    if (grade === 'A' || grade === 'B') return { ...e, industry: e.industry ?? 'C' };
  }
  throw new Error('no enterprise of the demo data is left that is new to the platform, unlisted and graded A or B');
}

const yuan = (n: number) => `${n.toLocaleString('en-US')} yuan`;

async function officerChecks(bank: NodeClient, uscc: string, kinds: string[]) {
  const officer = as.officer(bank.nodeId);
  const out: { exposure?: Row; score?: number; listed?: string[] } = {};
  if (kinds.includes('exposure')) {
    const r = await bank.gql(
      `mutation($u: [String!]!) { runJointQuery(input: { kind: EXPOSURE, usccs: $u, purpose: "loan-application" }) { status result { contributors rows { status reason outstandingYuan overdueYuan lenders } } } }`,
      { u: [uscc] },
      officer,
    );
    const job = dataOf(r, `${bank.nodeId}'s exposure query`).runJointQuery as { result: { rows: Row[] } };
    out.exposure = job.result.rows[0];
    check(out.exposure?.status === 'OK', `exposure not computed: ${out.exposure?.reason}`);
  }
  if (kinds.includes('score')) {
    const r = await bank.gql(
      `mutation($u: [String!]!) { runJointQuery(input: { kind: SCORE, usccs: $u, purpose: "loan-application" }) { result { rows { status reason score } } } }`,
      { u: [uscc] },
      officer,
    );
    const row = (dataOf(r, 'score query').runJointQuery as { result: { rows: Row[] } }).result.rows[0];
    check(row?.status === 'OK', `score not computed: ${row?.reason}`);
    out.score = row.score as number;
  }
  if (kinds.includes('lists')) {
    const r = await bank.gql(
      `mutation($u: [String!]!) { checkLists(usccs: $u, purpose: "loan-application") { rows { status listed { centre list } } unavailable } }`,
      { u: [uscc] },
      officer,
    );
    const rows = (
      dataOf(r, 'list check').checkLists as { rows: Array<{ listed: Array<{ centre: string; list: string }> }> }
    ).rows;
    out.listed = rows[0].listed.map((l) => `${l.list}@${l.centre}`);
  }
  return out;
}

async function run(ctx: StoryContext) {
  const { say } = ctx;
  const platform = ctx.node('easy-loan');
  const figures = async () =>
    dataOf(await platform.gql(FIGURES, {}, as.operator), 'platform figures').platformFigures as {
      totals: Row;
      authorisedShare: number;
      loanShare: number;
    };
  const before = await figures();
  const firm = await freshApplicant(ctx);
  const rep = as.rep(firm.uscc);

  say('1. Three banks publish loan products through their own nodes; the platform keeps them as each bank’s own.');
  for (const [bank, product] of Object.entries(PRODUCTS)) {
    const r = await ctx
      .node(bank)
      .gql(
        `mutation($i: LoanProductInput!) { publishLoanProduct(input: $i) { id version } }`,
        { i: product },
        as.officer(bank),
      );
    const p = dataOf(r, `${bank} publishing`).publishLoanProduct as { id: string; version: number };
    say(
      `   ${bank}: ${product.name} → ${p.id} (version ${p.version}), consent asked for: ${(product.scopes as string[]).join(', ')}`,
    );
  }

  say(
    `2. Enterprise ${firm.uscc} (Xiamen, industry ${firm.industry}) has its key bound at the Xiamen centre, registers on the platform and applies for ${yuan(1_000_000)} over 12 months.`,
  );
  await bindKey(ctx.node('xm-centre'), firm, [platform]);
  dataOf(
    await platform.gql(
      `mutation($i: String!) { registerOnPlatform(industry: $i) { uscc } }`,
      { i: firm.industry },
      rep,
    ),
    'registration',
  );
  const refused = await platform.gql(
    `mutation { fileLoanApplication(input: { amountYuan: 80000000, termMonths: 12, purpose: "扩建厂房" }) { id } }`,
    {},
    rep,
  );
  check(
    refused.errors?.[0]?.extensions?.code === 'NO_MATCHING_PRODUCT',
    'an application no product offers was not refused',
  );
  say(`   (80,000,000 yuan first: refused with NO_MATCHING_PRODUCT, nothing kept.)`);
  const filed = await platform.gql(
    `mutation { fileLoanApplication(input: { amountYuan: 1000000, termMonths: 12, purpose: "采购原材料 (raw materials)" }) { ${APPLICATION} } }`,
    {},
    rep,
  );
  const app = dataOf(filed, 'the application').fileLoanApplication as {
    id: string;
    grade: { grade: string; evaluator: string };
    matches: Match[];
  };
  check(app.grade?.evaluator === 'xm-centre', `the platform matched without the home centre's grade`);
  check(
    app.matches.map((m) => m.bank).join() === 'bank-a,bank-b',
    `unexpected matches ${app.matches.map((m) => m.bank)}`,
  );
  say(
    `   matched with grade ${app.grade.grade} (signed by xm-centre): ${app.matches.map((m) => `${m.bank} ${m.productName}`).join('; ')}; bank-c's product is for Quanzhou only.`,
  );
  for (const m of app.matches)
    check(m.status === 'FORWARDED' && m.consentBody.home === 'easy-loan', `${m.bank} did not receive the application`);
  say('   each bank received the application and asked, at the platform, for consent to exactly its product’s scopes.');

  say('3. The enterprise reviews each request on the platform and signs one consent per bank with its own key.');
  for (const m of app.matches) {
    const signed = signConsent(m.consentBody, firm.seed);
    dataOf(
      await platform.gql(
        `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
        { id: m.consentId, s: signed.signature },
        rep,
      ),
      `approval for ${m.bank}`,
    );
    await consentAt(ctx.node(m.bank), m.consentId, 'ACTIVE');
    say(`   ${m.bank}: ${m.scopes.join(', ')} → ACTIVE at ${m.bank} (kept by easy-loan, its home).`);
  }

  say('4. bank-a reads the consented profile: each section comes from the node that holds it.');
  const bankA = ctx.node('bank-a');
  const ma = app.matches[0];
  const profile = await bankA.gql(
    `query($u: String!, $c: ID!) { enterprise(uscc: $u, purpose: "loan-application", consentId: $c) { registration { name } tax { payload } penalties { id } servedBy { section node } } }`,
    { u: firm.uscc, c: ma.consentId },
    as.officer('bank-a'),
  );
  const e = dataOf(profile, 'bank-a read').enterprise as {
    registration: { name: string };
    penalties: unknown[];
    servedBy: Array<{ section: string; node: string }>;
  };
  say(
    `   ${e.registration.name}: ${e.servedBy.map((s) => `${s.section}←${s.node}`).join(', ')}; ${e.penalties.length} penalties.`,
  );

  say(
    '5. bank-a runs the joint queries (usable but not visible): exposure at the other banks, the multi-source score, the private list check.',
  );
  const a = await officerChecks(bankA, firm.uscc, ['exposure', 'score', 'lists']);
  say(
    `   owes ${yuan(Number(a.exposure?.outstandingYuan ?? 0))} to ${a.exposure?.lenders} other bank(s); score ${a.score}; lists: ${a.listed?.length ? a.listed.join(', ') : 'none'}.`,
  );
  check(!a.listed?.length, 'the applicant is listed; this story needs one that is not');
  const rate = (a.score ?? 0) >= 600 ? 3.85 : 4.6;
  const approveA = await bankA.gql(
    `mutation($id: ID!, $r: Float!) { decideLoanApplication(input: { applicationId: $id, approve: true, amountYuan: 800000, ratePct: $r }) { loanId monitoringConsentId } }`,
    { id: app.id, r: rate },
    as.officer('bank-a'),
  );
  const decidedA = dataOf(approveA, 'bank-a decision').decideLoanApplication as {
    loanId: string;
    monitoringConsentId: string;
  };
  say(
    `   bank-a approves ${yuan(800_000)} at ${rate}% (booked as ${decidedA.loanId}; a post-loan monitoring consent is requested).`,
  );

  say('6. bank-b checks the exposure, which now includes bank-a’s new loan, and decides.');
  const b = await officerChecks(ctx.node('bank-b'), firm.uscc, ['exposure']);
  const owes = Number(b.exposure?.outstandingYuan ?? 0);
  const bApproves = owes <= 1_000_000;
  const decisionB = bApproves
    ? { applicationId: app.id, approve: true, amountYuan: 200_000, ratePct: 3.9 }
    : { applicationId: app.id, approve: false, reasonCode: 'HIGH_EXPOSURE' };
  dataOf(
    await ctx
      .node('bank-b')
      .gql(
        `mutation($i: LoanDecisionInput!) { decideLoanApplication(input: $i) { applicationId } }`,
        { i: decisionB },
        as.officer('bank-b'),
      ),
    'bank-b decision',
  );
  say(
    `   owes ${yuan(owes)} elsewhere → ${bApproves ? `approves ${yuan(200_000)} at 3.9%` : 'refuses: HIGH_EXPOSURE'}.`,
  );
  const twice = await ctx
    .node('bank-b')
    .gql(
      `mutation($i: LoanDecisionInput!) { decideLoanApplication(input: $i) { applicationId } }`,
      { i: decisionB },
      as.officer('bank-b'),
    );
  check(twice.errors?.[0]?.extensions?.code === 'ALREADY_DECIDED', 'a second decision was not refused');
  const notForwarded = await ctx
    .node('bank-c')
    .gql(
      `mutation($id: ID!) { decideLoanApplication(input: { applicationId: $id, approve: false, reasonCode: "LOW_SCORE" }) { applicationId } }`,
      { id: app.id },
      as.officer('bank-c'),
    );
  check(notForwarded.errors?.[0]?.extensions?.code === 'NOT_FORWARDED', 'a decision by bank-c was not refused');
  say(
    '   a second decision (ALREADY_DECIDED) and one by bank-c, not matched (NOT_FORWARDED), are refused; nothing changes.',
  );

  say('7. The enterprise sees every bank’s answer on the platform.');
  const mine = dataOf(await platform.gql(`{ myLoanApplications { ${APPLICATION} } }`, {}, rep), 'offers')
    .myLoanApplications as Array<{ id: string; matches: Match[] }>;
  const offers = mine.find((x) => x.id === app.id)?.matches ?? [];
  for (const m of offers)
    say(
      `   ${m.bank}: ${m.decision?.outcome}${m.decision?.amountYuan ? ` ${yuan(m.decision.amountYuan)} at ${m.decision.ratePct}%` : ` (${m.decision?.reasonCode})`}`,
    );
  check(
    offers.every((m) => m.status === 'DECIDED'),
    'not every bank answered',
  );

  say('8. The platform operator’s figures moved by exactly this story’s events.');
  const after = await figures();
  const granted = 800_000 + (bApproves ? 200_000 : 0);
  const expected: Row = {
    registered: 1,
    boundKey: 1,
    applications: 1,
    matches: 2,
    decisions: 2,
    approvals: bApproves ? 2 : 1,
    refusals: bApproves ? 0 : 1,
    grantedYuan: granted,
  };
  const delta = Object.fromEntries(SUMMED.map((k) => [k, Number(after.totals[k]) - Number(before.totals[k])]));
  check(
    JSON.stringify(delta) === JSON.stringify(expected),
    `figures moved by ${JSON.stringify(delta)}, expected ${JSON.stringify(expected)}`,
  );
  say(
    `   +1 enterprise (key bound), +1 application, +2 matches, +2 decisions, +${expected.approvals} approvals, +${yuan(granted)}; totals: ${after.totals.registered} registered, ${Math.round((after.authorisedShare ?? 0) * 100)}% with a valid authorisation, ${Math.round((after.loanShare ?? 0) * 100)}% with a loan, median decision ${after.totals.medianDecisionSeconds} s.`,
  );

  const monitoring = await monitorBorrower(ctx, firm, decidedA.monitoringConsentId);
  return {
    pending: [],
    facts: { enterprise: firm.uscc, applicationId: app.id, offers, figureDeltas: delta, ...monitoring },
  };
}

/** Story 1. */
export const bankLoanStory: Story = {
  name: 'bank-loan',
  title: 'A bank loan through the Credit Easy-Loan platform (信易贷)',
  run,
};
