/**
 * The GraphQL schema (SDL), shape per DESIGN §10: the root fragment (./root.ts) and one fragment
 * per domain, each extending `Query` and `Mutation` with its fields, merged by
 * `makeExecutableSchema`. Every field is gated in its resolver (./resolvers.ts).
 */
import { accessLogTypeDefs } from './access-log.ts';
import { consentTypeDefs } from './consents.ts';
import { easyLoanTypeDefs } from './easyloan.ts';
import { evaluationTypeDefs } from './evaluation.ts';
import { federationTypeDefs } from './federation.ts';
import { interceptTypeDefs } from './intercept.ts';
import { jointTypeDefs } from './joint.ts';
import { listCheckTypeDefs } from './list-check.ts';
import { objectionTypeDefs } from './objections.ts';
import { profileTypeDefs } from './profiles.ts';
import { rootTypeDefs } from './root.ts';

/** The schema's SDL fragments, the root first. */
export const typeDefs = [
  rootTypeDefs,
  profileTypeDefs,
  consentTypeDefs,
  jointTypeDefs,
  listCheckTypeDefs,
  federationTypeDefs,
  accessLogTypeDefs,
  evaluationTypeDefs,
  interceptTypeDefs,
  objectionTypeDefs,
  easyLoanTypeDefs,
];
