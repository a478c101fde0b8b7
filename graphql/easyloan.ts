/**
 * The Credit Easy-Loan journey (信易贷) and post-loan monitoring (信用波动预警): banks' officers
 * publish products and decide applications at their own nodes; enterprises register and apply at
 * the platform, where they see every bank's answer and approve the consent each bank asked for;
 * the platform operator reads the figures; banks watch their borrowers and acknowledge alerts;
 * centre staff record facts determined while the node runs. The services decide who may do what.
 */
import type { ConsentService } from '../authz/index.ts';
import type { EasyLoan, FigureRow, InboxEntry, LoanApplication, StoredAlert } from '../easyloan/index.ts';
import { WrongRoleError } from '../easyloan/index.ts';
import { type Context, who } from './root.ts';

/** SDL of the easy-loan journey. */
export const easyLoanTypeDefs = /* GraphQL */ `
  "A loan product a bank published on the platform (amounts in yuan, rates in percent a year)."
  type LoanProduct {
    id: ID!
    bank: String!
    code: String!
    name: String!
    minAmountYuan: Float!
    maxAmountYuan: Float!
    minTermMonths: Int!
    maxTermMonths: Int!
    minRatePct: Float!
    maxRatePct: Float!
    "Cities admitted (empty: all of 厦漳泉)."
    cities: [String!]!
    "GB/T 4754 sections or classes admitted (empty: all)."
    industries: [String!]!
    "Lowest public credit grade admitted (A best)."
    minGrade: String
    "The consent scopes the bank asks for: exactly these."
    scopes: [String!]!
    consentDays: Int!
    status: String!
    publishedBy: String!
    publishedAt: String!
    version: Int!
  }
  input LoanProductInput {
    code: String!
    name: String!
    minAmountYuan: Float!
    maxAmountYuan: Float!
    minTermMonths: Int!
    maxTermMonths: Int!
    minRatePct: Float!
    maxRatePct: Float!
    cities: [String!]
    industries: [String!]
    minGrade: String
    scopes: [String!]!
    consentDays: Int
  }
  type PlatformEnterprise { uscc: String! city: String! industry: String! registeredAt: String! }
  "The grade of the enterprise's home city centre the platform matched with (from its signed attestation)."
  type MatchedGrade { grade: String! evaluator: String! city: String! evaluatedAt: String! validUntil: String! }
  "A bank's answer: approved with amount, term and rate, or refused with a reason code."
  type LoanDecision {
    outcome: String!
    amountYuan: Float
    termMonths: Int
    ratePct: Float
    reasonCode: String
    officer: String!
    decidedAt: String!
  }
  "One bank's product matched to the application."
  type LoanMatch {
    bank: String!
    productId: String!
    productCode: String!
    productName: String!
    scopes: [String!]!
    "UNDELIVERED (the bank has not answered yet; retried), FORWARDED, DECIDED."
    status: String!
    "The consent request the bank made (kept by the platform): approve it with approveConsent."
    consentId: ID
    consentStatus: String
    "The canonical body of the consent request, to sign when approving."
    consentBody: JSON
    forwardedAt: String
    decision: LoanDecision
  }
  type LoanApplication {
    id: ID!
    uscc: String!
    city: String!
    industry: String!
    amountYuan: Float!
    termMonths: Int!
    purpose: String!
    filedAt: String!
    grade: MatchedGrade
    "Why no grade was used (NO_CENTRE, UNAVAILABLE, NOT_GRADED, STALE, BAD_ATTESTATION)."
    gradeMissing: String
    matches: [LoanMatch!]!
  }
  input LoanApplicationInput { amountYuan: Float! termMonths: Int! purpose: String! }
  "An application forwarded to this bank."
  type LenderApplication {
    applicationId: ID!
    uscc: String!
    city: String!
    industry: String!
    amountYuan: Float!
    termMonths: Int!
    purpose: String!
    filedAt: String!
    grade: MatchedGrade
    product: LoanProduct!
    consentId: ID!
    "The consent's status on this bank's node."
    consentStatus: String
    receivedAt: String!
    decision: LoanDecision
    "The post-loan monitoring consent asked for with an approval."
    monitoringConsentId: ID
    "The loan booked on this bank's book with an approval."
    loanId: String
  }
  input LoanDecisionInput {
    applicationId: ID!
    approve: Boolean!
    amountYuan: Float
    termMonths: Int
    ratePct: Float
    "LISTED, HIGH_EXPOSURE, LOW_SCORE, LOW_GRADE, CONSENT_NOT_GIVEN, INSUFFICIENT_DATA, OUTSIDE_POLICY."
    reasonCode: String
  }
  type PlatformFigureRow {
    city: String!
    industry: String!
    registered: Int!
    boundKey: Int!
    authorised: Int!
    applications: Int!
    matches: Int!
    forwarded: Int!
    decisions: Int!
    approvals: Int!
    refusals: Int!
    grantedYuan: Float!
    enterprisesWithLoan: Int!
    medianDecisionSeconds: Float
  }
  type PlatformFigures {
    at: String!
    totals: PlatformFigureRow!
    "By city and industry (GB/T 4754 section)."
    rows: [PlatformFigureRow!]!
    "Registered enterprises with a valid authorisation, as a share."
    authorisedShare: Float
    "Registered enterprises that obtained a loan, as a share."
    loanShare: Float
  }
  type MonitorResult {
    uscc: String!
    "SUBSCRIBED (at least one holder accepted) or REFUSED."
    status: String!
    code: String
    reason: String
    "Each holder's answer: OK or a code."
    holders: JSON!
  }
  type MonitoredBorrower {
    uscc: String!
    consentId: ID!
    since: String!
    "ACTIVE, PAUSED (consent paused: alerts held back), ENDED."
    status: String!
    endedAt: String
    endReason: String
    holders: JSON!
  }
  type MonitoringAlert {
    id: ID!
    uscc: String!
    consentId: ID!
    "NEW_FACT, DISPUTED, OBJECTION_REJECTED, WITHDRAWN, CORRECTED, REPAIRED."
    kind: String!
    factId: String!
    subtype: String!
    section: String!
    status: String!
    severity: String
    decisionDate: String!
    sourceUnit: String!
    legalDocumentRef: String
    version: Int!
    at: String!
    "The node that determined the fact and sent the alert."
    origin: String!
    receivedAt: String!
    acknowledgedAt: String
    acknowledgedBy: String
    note: String
  }
  type MonitoringSubscriptionCount { bank: String! borrowers: Int! }
  type RecordedFacts { recorded: Int! factIds: [String!]! "Alerts queued for monitoring banks." alerts: Int! }

  extend type Query {
    "Products on the platform (anyone signed in there; all: withdrawn too, for operators); at a bank, its own."
    loanProducts(all: Boolean): [LoanProduct!]!
    "The enterprise's applications at the platform, newest first, with every bank's answer."
    myLoanApplications: [LoanApplication!]!
    "The platform's figures by city and industry (platform operator, auditors)."
    platformFigures: PlatformFigures!
    "Applications forwarded to this bank (its officers)."
    lenderApplications(undecided: Boolean): [LenderApplication!]!
    "Borrowers this bank monitors (its officers)."
    monitoredBorrowers: [MonitoredBorrower!]!
    "Alerts about this bank's borrowers, newest first (its officers)."
    monitoringAlerts(unacknowledged: Boolean, uscc: String, first: Int): [MonitoringAlert!]!
    "Borrowers each bank monitors at this node (centre staff, auditors)."
    monitoringSubscriptions: [MonitoringSubscriptionCount!]!
  }

  extend type Mutation {
    "A bank officer publishes (or republishes) a product at the platform, through the bank's node."
    publishLoanProduct(input: LoanProductInput!): LoanProduct!
    withdrawLoanProduct(code: String!): LoanProduct!
    "An enterprise registers on the platform (its GB/T 4754 industry code)."
    registerOnPlatform(industry: String!): PlatformEnterprise!
    "An enterprise files a financing application: matched and forwarded to the eligible banks."
    fileLoanApplication(input: LoanApplicationInput!): LoanApplication!
    "A bank officer decides an application forwarded to the bank (reported to the platform)."
    decideLoanApplication(input: LoanDecisionInput!): LenderApplication!
    "A bank officer subscribes to alerts about a borrower (needs a post-loan-monitoring consent)."
    monitorBorrower(uscc: String!): MonitorResult!
    monitorBorrowers(usccs: [String!]!): [MonitorResult!]!
    stopMonitoring(uscc: String!): MonitoredBorrower!
    acknowledgeAlerts(ids: [ID!]!, note: String): [MonitoringAlert!]!
    "Centre staff record facts determined today (validated as an ingest would; alerts the monitoring banks)."
    recordFacts(facts: JSON!): RecordedFacts!
  }
`;

/** What the easy-loan resolvers call. */
export interface EasyLoanResolverServices {
  /** The node's easy-loan parts (by role). */
  easyLoan?: EasyLoan;
  consents: ConsentService;
}

/** Drops nulls from GraphQL input (absent and null mean the same here). */
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

const alertView = (a: StoredAlert) => ({
  ...a,
  acknowledgedAt: a.acknowledged?.at ?? null,
  acknowledgedBy: a.acknowledged?.by ?? null,
  note: a.acknowledged?.note ?? null,
});
const lenderView = (e: InboxEntry & { consentStatus?: string }) => ({
  ...e.application,
  applicationId: e.application.id,
  product: e.product,
  consentId: e.consentId,
  consentStatus: e.consentStatus ?? null,
  receivedAt: e.receivedAt,
  decision: e.decision ?? null,
  monitoringConsentId: e.monitoringConsentId ?? null,
  loanId: e.loanId ?? null,
});
const rowView = (r: FigureRow) => r;

/** Resolvers of the easy-loan journey. */
export function easyLoanResolvers(s: EasyLoanResolverServices) {
  const need = <K extends keyof EasyLoan>(part: K, what: string): NonNullable<EasyLoan[K]> => {
    const x = s.easyLoan?.[part];
    if (!x) throw new WrongRoleError(`this node is not ${what}`);
    return x as NonNullable<EasyLoan[K]>;
  };
  const platform = () => need('platform', 'the easy-loan platform');
  const desk = () => need('desk', 'a bank');
  const watch = () => need('watch', 'a bank');
  const alerts = () => need('alerts', 'a node that determines facts');
  const applicationView = (a: LoanApplication) => ({
    ...a,
    matches: a.matches.map((m) => ({
      ...m,
      consentStatus: async () => (m.consentId ? ((await s.consents.get(m.consentId))?.status ?? null) : null),
      consentBody: async () => (m.consentId ? ((await s.consents.get(m.consentId))?.body ?? null) : null),
    })),
  });
  return {
    Query: {
      loanProducts: async (_: unknown, a: { all?: boolean | null }, ctx: Context) => {
        const p = who(ctx);
        if (s.easyLoan?.desk && p.role === 'bank-officer') return s.easyLoan.desk.products(p);
        return platform().products(p, { all: a.all === true });
      },
      myLoanApplications: async (_: unknown, __: unknown, ctx: Context) =>
        (await platform().myApplications(who(ctx))).map(applicationView),
      platformFigures: async (_: unknown, __: unknown, ctx: Context) => {
        const f = await platform().figures(who(ctx));
        return { ...f, totals: rowView(f.totals), rows: f.rows.map(rowView) };
      },
      lenderApplications: async (_: unknown, a: { undecided?: boolean | null }, ctx: Context) =>
        (await desk().inbox(who(ctx), { undecided: a.undecided === true })).map(lenderView),
      monitoredBorrowers: (_: unknown, __: unknown, ctx: Context) => watch().watched(who(ctx)),
      monitoringAlerts: async (
        _: unknown,
        a: { unacknowledged?: boolean | null; uscc?: string | null; first?: number | null },
        ctx: Context,
      ) => (await watch().alerts(who(ctx), defined(a) as never)).map(alertView),
      monitoringSubscriptions: (_: unknown, __: unknown, ctx: Context) => alerts().subscriptions(who(ctx)),
    },
    Mutation: {
      publishLoanProduct: (_: unknown, a: { input: Record<string, unknown> }, ctx: Context) =>
        desk().publish(who(ctx), defined(a.input)),
      withdrawLoanProduct: (_: unknown, a: { code: string }, ctx: Context) => desk().withdraw(who(ctx), a.code),
      registerOnPlatform: (_: unknown, a: { industry: string }, ctx: Context) =>
        platform().register(who(ctx), a.industry),
      fileLoanApplication: async (_: unknown, a: { input: Record<string, unknown> }, ctx: Context) =>
        applicationView(await platform().file(who(ctx), a.input, ctx.correlationId)),
      decideLoanApplication: async (_: unknown, a: { input: Record<string, unknown> }, ctx: Context) => {
        const e = await desk().decide(who(ctx), defined(a.input));
        const consent = await s.consents.get(e.consentId);
        return lenderView({ ...e, ...(consent ? { consentStatus: consent.status } : {}) });
      },
      monitorBorrower: async (_: unknown, a: { uscc: string }, ctx: Context) =>
        (await watch().monitor(who(ctx), [a.uscc]))[0],
      monitorBorrowers: (_: unknown, a: { usccs: string[] }, ctx: Context) => watch().monitor(who(ctx), a.usccs),
      stopMonitoring: async (_: unknown, a: { uscc: string }, ctx: Context) => ({
        ...(await watch().unmonitor(who(ctx), a.uscc)),
        status: 'ENDED',
      }),
      acknowledgeAlerts: async (_: unknown, a: { ids: string[]; note?: string | null }, ctx: Context) =>
        (await watch().acknowledge(who(ctx), a.ids, a.note ?? undefined)).map(alertView),
      recordFacts: (_: unknown, a: { facts: unknown }, ctx: Context) =>
        need('intake', 'a node that determines facts').record(who(ctx), a.facts),
    },
  };
}
