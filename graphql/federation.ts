/**
 * Federation status and alarms: the members, their health and the witness alarms (split views,
 * roster conflicts) as this node sees them; an operator clears the alarms about a member.
 */
import { InvalidInputError } from '../authz/index.ts';
import { type Context, who } from './root.ts';

/** SDL of the federation's status and alarms. */
export const federationTypeDefs = /* GraphQL */ `
  type FederationMember {
    nodeId: String!
    name: String!
    role: String!
    city: String
    up: Boolean!
    lastSeen: String
    rttMs: Float
    rosterVersion: Int
    checkpointSize: Int
    "Its data is not trusted until an operator clears the witness alarms about it."
    quarantined: Boolean!
  }

  type FederationAlarm { kind: String! nodeId: String origin: String at: String detail: String! evidence: [String!]! }

  type Federation {
    nodeId: String!
    role: String!
    rosterVersion: Int!
    members: [FederationMember!]!
    alarms: [FederationAlarm!]!
    quarantined: [String!]!
  }

  extend type Query {
    "Federation members, their health, and alarms (split views, roster conflicts)."
    federation: Federation
  }

  extend type Mutation {
    "An operator (centre staff) clears the witness alarms about a member, lifting its quarantine; returns how many."
    clearFederationAlarms(node: String!): Int!
  }
`;

/** What the federation tells the API about itself. */
export interface FederationInfo {
  nodeId: string;
  role: string;
  rosterVersion: number;
  members: Array<{
    nodeId: string;
    name: string;
    role: string;
    city?: string;
    up: boolean;
    lastSeen?: string;
    rttMs?: number;
    rosterVersion?: number;
    checkpointSize?: number;
    quarantined: boolean;
  }>;
  alarms: Array<{ kind: string; nodeId?: string; origin?: string; at?: string; detail: string; evidence?: string[] }>;
  /** Members whose data is not trusted (an uncleared split-view, inconsistency or rollback alarm). */
  quarantined: string[];
}

/** What the federation resolvers call (both absent on a stand-alone node). */
export interface FederationResolverServices {
  federation?: () => FederationInfo;
  /** An operator clears the witness alarms about a member, lifting its quarantine (federated nodes). */
  clearFederationAlarms?: (nodeId: string, by: string) => Promise<number>;
}

/** Resolvers of the federation's status and alarms. */
export function federationResolvers(s: FederationResolverServices) {
  return {
    Query: {
      federation: (_: unknown, __: unknown, ctx: Context) => {
        who(ctx);
        return s.federation?.() ?? null;
      },
    },
    Mutation: {
      clearFederationAlarms: async (_: unknown, a: { node: string }, ctx: Context) => {
        const p = who(ctx, 'centre-staff');
        if (!s.clearFederationAlarms) throw new InvalidInputError('this node is not in a federation');
        return s.clearFederationAlarms(a.node, `${p.role}:${p.sub}`);
      },
    },
  };
}
