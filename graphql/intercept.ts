/**
 * Check-and-intercept (联合奖惩): a government business system checks enterprises for a business
 * matter and reports what it did; centre staff and auditors read the counters; anyone signed in
 * reads the measures list. Served by the credit centres; the intercept service decides who may do
 * what.
 */
import type { Reason } from '../intercept/decide.ts';
import type { CheckResult, FeedbackItem, InterceptService } from '../intercept/index.ts';
import { InvalidInputError } from '../model/errors.ts';
import { type Context, who } from './root.ts';

/** SDL of check-and-intercept. */
export const interceptTypeDefs = /* GraphQL */ `
  "Why a measure applies to an enterprise: the listing (the fact, the node that served it), the measure and its legal basis."
  type InterceptReason {
    measure: String!
    measureName: String!
    "What the measure calls for here (its onDisputed action when the fact is under objection)."
    action: String!
    measureAction: String!
    disputed: Boolean!
    legalBasis: String!
    ownerDepartment: String!
    list: String!
    listName: String!
    factId: String!
    subtype: String!
    status: String!
    node: String!
    originNode: String!
    sourceUnit: String!
    decisionDate: String!
    publicUntil: String
    legalDocumentRef: String
    grade: String
  }
  "One enterprise's decision: PASS, WARN, BLOCK, REWARD, or INCOMPLETE (a centre did not answer)."
  type InterceptDecision {
    uscc: String!
    decision: String!
    rewards: [String!]!
    reasons: [InterceptReason!]!
    "Centres that did not answer: their listings are not reflected."
    unavailable: [String!]!
  }
  type InterceptCheck {
    checkId: ID!
    matter: String!
    matterName: String!
    "The measures list applied, id@version."
    measures: String!
    checkedAt: String!
    results: [InterceptDecision!]!
    centres: [String!]!
    unavailable: [String!]!
  }
  enum InterceptOutcome { APPLIED OVERRIDDEN NOT_APPLICABLE }
  input InterceptFeedbackInput {
    uscc: String!
    outcome: InterceptOutcome!
    "Required when the decision was overridden."
    reason: String
  }
  type InterceptFeedbackResult { checkId: ID! accepted: Int! }
  "Counts of one day, matter and department."
  type InterceptCounter {
    day: String!
    matter: String!
    department: String!
    requests: Int!
    checks: Int!
    hits: Int!
    pass: Int!
    warn: Int!
    block: Int!
    reward: Int!
    incomplete: Int!
    applied: Int!
    overridden: Int!
    notApplicable: Int!
  }
  type JointMeasure {
    id: String!
    matter: String!
    name: String!
    lists: [String!]!
    action: String!
    onDisputed: String!
    category: Int
    legalBasis: String!
    ownerDepartment: String!
  }
  "The joint rewards and punishments measures list in force (联合奖惩措施清单)."
  type JointMeasuresList {
    id: String!
    version: String!
    title: String!
    basis: String!
    effectiveFrom: String!
    lists: JSON!
    matters: JSON!
    measures: [JointMeasure!]!
  }

  extend type Query {
    "The measures list in force (any signed-in caller)."
    jointMeasures: JointMeasuresList!
    "Checks, hits and feedback per day, matter and department (centre staff, auditors); default the last 30 days."
    interceptCounters(from: String, to: String, matter: String, department: String): [InterceptCounter!]!
  }

  extend type Mutation {
    "A government business system checks enterprises for a matter before acting (every check logged)."
    interceptCheck(matter: String!, usccs: [String!]!): InterceptCheck!
    "The business system that checked reports what it did with each decision."
    interceptFeedback(checkId: ID!, items: [InterceptFeedbackInput!]!): InterceptFeedbackResult!
  }
`;

/** What the intercept resolvers call. */
export interface InterceptResolverServices {
  /** Check-and-intercept (credit centres only). */
  intercept?: InterceptService;
}

const reasonView = ({ listing, ...r }: Reason) => ({ ...listing, ...r });
const checkView = (c: CheckResult) => ({
  ...c,
  results: c.results.map((d) => ({ ...d, reasons: d.reasons.map(reasonView) })),
});

/** Resolvers of check-and-intercept. */
export function interceptResolvers(s: InterceptResolverServices) {
  const intercept = () => {
    if (!s.intercept)
      throw new InvalidInputError('this node checks no one: check-and-intercept runs at the credit centres');
    return s.intercept;
  };
  return {
    Query: {
      jointMeasures: (_: unknown, __: unknown, ctx: Context) => {
        who(ctx);
        return intercept().measures;
      },
      interceptCounters: async (
        _: unknown,
        a: { from?: string | null; to?: string | null; matter?: string | null; department?: string | null },
        ctx: Context,
      ) =>
        (
          await intercept().counters(who(ctx), {
            ...(a.from != null ? { from: a.from } : {}),
            ...(a.to != null ? { to: a.to } : {}),
            ...(a.matter != null ? { matter: a.matter } : {}),
            ...(a.department != null ? { department: a.department } : {}),
          })
        ).map((r) => ({
          ...r,
          pass: r.PASS,
          warn: r.WARN,
          block: r.BLOCK,
          reward: r.REWARD,
          incomplete: r.INCOMPLETE,
          applied: r.APPLIED,
          overridden: r.OVERRIDDEN,
          notApplicable: r.NOT_APPLICABLE,
        })),
    },
    Mutation: {
      interceptCheck: async (_: unknown, a: { matter: string; usccs: string[] }, ctx: Context) =>
        checkView(await intercept().check(who(ctx), { ...a, correlationId: ctx.correlationId })),
      interceptFeedback: (_: unknown, a: { checkId: string; items: FeedbackItem[] }, ctx: Context) =>
        intercept().feedback(who(ctx), {
          checkId: a.checkId,
          items: a.items.map((i) => ({
            uscc: i.uscc,
            outcome: i.outcome,
            ...(i.reason != null ? { reason: i.reason } : {}),
          })),
          correlationId: ctx.correlationId,
        }),
    },
  };
}
