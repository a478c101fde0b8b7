/**
 * List checks: a bank officer checks up to 10,000 enterprises, privately, against the centres'
 * dishonest-debtor and serious-dishonesty lists.
 */
import { InvalidInputError, type Principal } from '../authz/index.ts';
import { type Context, who } from './root.ts';

/** SDL of list checks. */
export const listCheckTypeDefs = /* GraphQL */ `
  type Listing { centre: String! list: String! }
  "One enterprise's list check: the lists it is on, by centre (empty: on none of the centres that answered)."
  type ListCheckRow { uscc: String! status: String! reason: String listed: [Listing!]! }
  type CentreLists { centre: String! versions: JSON! }
  type ListCheckResult {
    rows: [ListCheckRow!]!
    centres: [CentreLists!]!
    "Centres that did not answer: their lists are not reflected in the rows."
    unavailable: [String!]!
  }

  extend type Mutation {
    "A bank officer checks up to 10,000 enterprises against the centres' dishonest-debtor and serious-dishonesty lists, privately."
    checkLists(usccs: [String!]!, purpose: String!, centres: [String!]): ListCheckResult!
  }
`;

/** What the list-check resolvers call. */
export interface ListCheckResolverServices {
  /** Private list checks of a bank's officers (federated nodes). */
  listCheck?: (
    principal: Principal,
    usccs: string[],
    purpose: string,
    options: { centres?: string[]; correlationId: string },
  ) => Promise<unknown>;
}

/** Resolvers of list checks. */
export function listCheckResolvers(s: ListCheckResolverServices) {
  return {
    Mutation: {
      checkLists: async (
        _: unknown,
        a: { usccs: string[]; purpose: string; centres?: string[] | null },
        ctx: Context,
      ) => {
        const p = who(ctx, 'bank-officer');
        if (!s.listCheck) throw new InvalidInputError('list checks need a federation');
        if (a.usccs.length > 10_000) throw new InvalidInputError('at most 10,000 enterprises per check');
        return s.listCheck(p, a.usccs, a.purpose, {
          ...(a.centres ? { centres: a.centres } : {}),
          correlationId: ctx.correlationId,
        });
      },
    },
  };
}
