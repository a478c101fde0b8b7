/**
 * Joint queries: a bank officer runs an exposure or score query over up to 10,000 enterprises
 * with the other banks (usable but not visible), waiting for the result or polling the job.
 */
import { InvalidInputError, type Principal } from '../authz/index.ts';
import { type Context, who } from './root.ts';

/** SDL of joint queries. */
export const jointTypeDefs = /* GraphQL */ `
  enum JointKind { EXPOSURE SCORE }

  input JointQueryInput {
    kind: JointKind!
    "Up to 10,000 enterprises; each needs a consent covering joint:exposure or joint:score for this bank and purpose."
    usccs: [String!]!
    purpose: String!
    "Wait for the result (default true); false returns the running job at once, to poll with jointQueryJob."
    wait: Boolean
  }

  "One enterprise's answer: exposure at the other banks, or the multi-source score."
  type JointRow {
    uscc: String!
    "OK, REFUSED (no consent here, malformed code) or FAILED (the batch could not be computed)."
    status: String!
    reason: String
    "The consent the query relied on for this enterprise."
    consentId: ID
    outstandingYuan: Float
    overdueYuan: Float
    lenders: Int
    score: Float
    "Contributors whose part is missing for this enterprise (refused for lack of consent, or dropped out)."
    without: [String!]
  }

  type JointProvenance { node: String! queryId: String! checkpoint: String }

  type JointResult {
    kind: String!
    queryIds: [String!]!
    rows: [JointRow!]!
    contributors: [String!]!
    dropped: [String!]!
    provenance: [JointProvenance!]!
    model: String
  }

  type JointJob {
    id: ID!
    kind: String!
    status: String!
    done: Int!
    total: Int!
    startedAt: String!
    endedAt: String
    error: String
    result: JointResult
  }

  extend type Query {
    "A bank officer polls a joint query started on this node."
    jointQueryJob(id: ID!): JointJob!
  }

  extend type Mutation {
    "A bank officer runs a joint query (usable but not visible) over up to 10,000 enterprises."
    runJointQuery(input: JointQueryInput!): JointJob!
  }
`;

/** What an officer asks for. */
export interface JointQueryInput {
  kind: 'exposure' | 'score';
  usccs: string[];
  purpose: string;
  /** Wait for the result (default true); false returns the running job at once. */
  wait: boolean;
}

/** A joint-query job as the domain reports it. */
export interface JointJobView {
  id: string;
  kind: string;
  status: string;
  done: number;
  total: number;
  startedAt: string;
  endedAt?: string;
  error?: string;
  result?: unknown;
}

/** What the joint-query resolvers call. */
export interface JointResolverServices {
  /** Joint queries of a bank's officers (federated nodes). */
  joint?: {
    start(principal: Principal, input: JointQueryInput): Promise<JointJobView>;
    job(principal: Principal, id: string): JointJobView;
  };
}

/** Resolvers of joint queries. */
export function jointResolvers(s: JointResolverServices) {
  return {
    Query: {
      jointQueryJob: (_: unknown, a: { id: string }, ctx: Context) => {
        const p = who(ctx, 'bank-officer');
        if (!s.joint) throw new InvalidInputError('joint queries need a federation');
        return s.joint.job(p, a.id);
      },
    },
    Mutation: {
      runJointQuery: async (
        _: unknown,
        a: { input: { kind: 'EXPOSURE' | 'SCORE'; usccs: string[]; purpose: string; wait?: boolean | null } },
        ctx: Context,
      ) => {
        const p = who(ctx, 'bank-officer');
        if (!s.joint) throw new InvalidInputError('joint queries need a federation');
        if (a.input.usccs.length > 10_000) throw new InvalidInputError('at most 10,000 enterprises per query');
        return s.joint.start(p, {
          kind: a.input.kind === 'EXPOSURE' ? 'exposure' : 'score',
          usccs: a.input.usccs,
          purpose: a.input.purpose,
          wait: a.input.wait ?? true,
        });
      },
    },
  };
}
