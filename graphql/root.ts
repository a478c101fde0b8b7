/**
 * The root fragment of the GraphQL adapter: the JSON scalar, the caller (`me`), the purposes, and
 * the `Query` and `Mutation` types every domain fragment extends; beside it, what the fragments'
 * resolvers share (the request context, the role check, page limits).
 */
import { ForbiddenError, InvalidInputError, type Principal, PURPOSES, UnauthenticatedError } from '../authz/index.ts';

/** Per-request context. */
export interface Context {
  principal?: Principal;
  correlationId: string;
}

/** SDL of the root types, the caller and the purposes. */
export const rootTypeDefs = /* GraphQL */ `
  "Arbitrary JSON (fact payloads)."
  scalar JSON

  enum Role { BANK_OFFICER ENTERPRISE CENTRE_STAFF AUDITOR GOV_SYSTEM PLATFORM_OPERATOR }

  type Principal { sub: String! role: Role! bank: String uscc: String department: String }

  type Purpose { id: ID! description: String! maxDays: Int! scopes: [String!]! maxRetentionDays: Int! }

  type Query {
    "The authenticated caller."
    me: Principal!
    purposes: [Purpose!]!
  }

  type Mutation
`;

const ROLE_TO_GQL: Record<Principal['role'], string> = {
  'bank-officer': 'BANK_OFFICER',
  enterprise: 'ENTERPRISE',
  'centre-staff': 'CENTRE_STAFF',
  auditor: 'AUDITOR',
  'gov-system': 'GOV_SYSTEM',
  'platform-operator': 'PLATFORM_OPERATOR',
};

/**
 * The signed-in caller, holding one of `roles` when any are given.
 * @throws UnauthenticatedError without a principal; ForbiddenError in another role.
 */
export function who(ctx: Context, ...roles: Principal['role'][]): Principal {
  if (!ctx.principal) throw new UnauthenticatedError('sign in with a bearer token');
  if (roles.length > 0 && !roles.includes(ctx.principal.role))
    throw new ForbiddenError(`this needs one of the roles ${roles.join(', ')}`);
  return ctx.principal;
}

/**
 * A page size argument: 50 (at most `max`) when absent, otherwise an integer from 1 to `max`.
 * @throws InvalidInputError naming the argument when it is out of range.
 */
export const limit = (n: number | null | undefined, max: number, name = 'first') => {
  if (n === null || n === undefined) return Math.min(50, max);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInputError(`${name} must be between 1 and ${max}`);
  return n;
};

/** Resolvers of the root fields. */
export function rootResolvers() {
  return {
    Query: {
      me: (_: unknown, __: unknown, ctx: Context) => {
        const p = who(ctx);
        return { ...p, role: ROLE_TO_GQL[p.role] };
      },
      purposes: () => PURPOSES,
    },
  };
}
