/**
 * Objections (信用异议) and credit repair (信用修复): an enterprise disputes a fact about itself or
 * applies for its repair and follows the outcome; the staff of the node that determined the fact
 * decide with reasons; staff and auditors list what is pending, due soon or overdue. Served by
 * every node that holds facts; the objection and repair services decide who may do what.
 */
import { InvalidInputError } from '../model/errors.ts';
import type { ObjectionView, Redress, RepairRecord } from '../objections/index.ts';
import { type Context, who } from './root.ts';

/** SDL of objections and repair. */
export const objectionTypeDefs = /* GraphQL */ `
  type FieldCorrection { field: String! old: JSON new: JSON }
  type ObjectionDecision {
    "ACCEPTED or REJECTED."
    outcome: String!
    "An accepted objection: WITHDRAWN or CORRECTED."
    resolution: String
    reasons: String!
    by: String!
    at: String!
    fields: [FieldCorrection!]
  }
  "An objection to a fact (信用异议), decided by the node that determined the fact."
  type Objection {
    id: ID!
    factId: String!
    uscc: String!
    subtype: String!
    "The node that determined the fact and decides."
    originNode: String!
    "The node where the enterprise filed it."
    receivedBy: String!
    "PENDING, ACCEPTED or REJECTED."
    status: String!
    reason: String!
    evidence: [String!]!
    filedAt: String!
    "The last day for a decision (20 working days after filing by default)."
    deadline: String!
    workingDaysLeft: Int
    overdue: Boolean!
    dueSoon: Boolean!
    remindedAt: String
    decision: ObjectionDecision
  }
  type RepairDecision { reasons: String! by: String! at: String! }
  "An application for credit repair (信用修复) at the node that determined the fact."
  type RepairApplication {
    id: ID!
    factId: String!
    uscc: String!
    subtype: String!
    evidence: [String!]!
    commitment: Boolean!
    "MINOR, GENERAL or SERIOUS: the publicity tier of the fact."
    tier: String!
    eligibleFrom: String!
    node: String!
    "APPLIED, APPROVED or REFUSED."
    status: String!
    appliedAt: String!
    decision: RepairDecision
  }
  "One change of a fact after it was determined (objection, correction, repair)."
  type FactChange {
    factId: String!
    uscc: String!
    from: String!
    to: String!
    version: Int!
    at: String!
    by: String!
    reason: String!
    ref: String
    origin: String!
    fields: [FieldCorrection!]
  }
  enum ObjectionOutcome { ACCEPT REJECT }
  enum ObjectionResolution { WITHDRAW CORRECT }

  extend type Query {
    "The caller's objections filed or decided at this node (enterprise)."
    myObjections: [Objection!]!
    "Objections this node decides (centre staff, auditors): by status, only overdue, or only due soon."
    objections(status: String, overdue: Boolean, dueSoon: Boolean): [Objection!]!
    "The caller's repair applications at this node (enterprise)."
    myRepairApplications: [RepairApplication!]!
    "Repair applications this node decides (centre staff, auditors)."
    repairApplications(status: String): [RepairApplication!]!
    "A fact's changes (centre staff, auditors, or the enterprise it is about)."
    factHistory(factId: String!): [FactChange!]!
  }

  extend type Mutation {
    "An enterprise disputes a fact about itself; the fact is DISPUTED at once on every node that serves it."
    fileObjection(factId: String!, reason: String!, evidence: [String!]): Objection!
    "Staff of the node that determined the fact decide, with reasons; an accepted objection withdraws or corrects it."
    decideObjection(
      id: ID!
      outcome: ObjectionOutcome!
      resolution: ObjectionResolution
      "Corrected fields (resolution CORRECT): severity, decisionDate, publicFrom, publicUntil, legalDocumentRef, payload."
      correction: JSON
      reasons: String!
    ): Objection!
    "An enterprise applies for repair at the node that determined the fact, after the minimum publicity period."
    applyForRepair(factId: String!, evidence: [String!]!, commitment: Boolean!): RepairApplication!
    "Staff of that node approve (the fact becomes REPAIRED everywhere) or refuse, with reasons."
    decideRepair(id: ID!, approve: Boolean!, reasons: String!): RepairApplication!
  }
`;

/** What the objection resolvers call. */
export interface ObjectionResolverServices {
  /** Objections and repair (nodes that hold facts). */
  redress?: Redress;
}

const objectionView = (o: ObjectionView) => ({ ...o, workingDaysLeft: o.workingDaysLeft ?? null });
const repairView = (r: RepairRecord) => r;

/** Resolvers of objections and repair. */
export function objectionResolvers(s: ObjectionResolverServices) {
  const redress = () => {
    if (!s.redress)
      throw new InvalidInputError('this node holds no facts: objections and repairs are made where facts are');
    return s.redress;
  };
  const opt = <T>(v: T | null | undefined) => (v === null ? undefined : v);
  return {
    Query: {
      myObjections: async (_: unknown, __: unknown, ctx: Context) =>
        (await redress().objections.mine(who(ctx))).map(objectionView),
      objections: async (
        _: unknown,
        a: { status?: string | null; overdue?: boolean | null; dueSoon?: boolean | null },
        ctx: Context,
      ) =>
        (
          await redress().objections.list(who(ctx), {
            status: opt(a.status),
            overdue: opt(a.overdue),
            dueSoon: opt(a.dueSoon),
          })
        ).map(objectionView),
      myRepairApplications: async (_: unknown, __: unknown, ctx: Context) =>
        (await redress().repairs.mine(who(ctx))).map(repairView),
      repairApplications: async (_: unknown, a: { status?: string | null }, ctx: Context) =>
        (await redress().repairs.list(who(ctx), { status: opt(a.status) })).map(repairView),
      factHistory: (_: unknown, a: { factId: string }, ctx: Context) =>
        redress().factHistory(who(ctx), a.factId, ctx.correlationId),
    },
    Mutation: {
      fileObjection: async (
        _: unknown,
        a: { factId: string; reason: string; evidence?: string[] | null },
        ctx: Context,
      ) =>
        objectionView(
          await redress().objections.file(who(ctx), {
            factId: a.factId,
            reason: a.reason,
            evidence: a.evidence ?? [],
            correlationId: ctx.correlationId,
          }),
        ),
      decideObjection: async (
        _: unknown,
        a: {
          id: string;
          outcome: 'ACCEPT' | 'REJECT';
          resolution?: 'WITHDRAW' | 'CORRECT' | null;
          correction?: Record<string, unknown> | null;
          reasons: string;
        },
        ctx: Context,
      ) =>
        objectionView(
          await redress().objections.decide(who(ctx), {
            id: a.id,
            outcome: a.outcome,
            resolution: opt(a.resolution),
            correction: opt(a.correction),
            reasons: a.reasons,
            correlationId: ctx.correlationId,
          }),
        ),
      applyForRepair: async (
        _: unknown,
        a: { factId: string; evidence: string[]; commitment: boolean },
        ctx: Context,
      ) => repairView(await redress().repairs.apply(who(ctx), { ...a, correlationId: ctx.correlationId })),
      decideRepair: async (_: unknown, a: { id: string; approve: boolean; reasons: string }, ctx: Context) =>
        repairView(await redress().repairs.decide(who(ctx), { ...a, correlationId: ctx.correlationId })),
    },
  };
}
