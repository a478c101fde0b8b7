/**
 * Resolvers: a thin adapter from GraphQL to the domain services, one resolver map per domain
 * fragment (beside its SDL), merged here. No business rule lives here; every decision (who may
 * see what) is made by the authz services.
 */
import { type AccessLogResolverServices, accessLogResolvers } from './access-log.ts';
import { type ConsentResolverServices, consentResolvers } from './consents.ts';
import { type EasyLoanResolverServices, easyLoanResolvers } from './easyloan.ts';
import { type EvaluationResolverServices, evaluationResolvers } from './evaluation.ts';
import { type FederationResolverServices, federationResolvers } from './federation.ts';
import { type InterceptResolverServices, interceptResolvers } from './intercept.ts';
import { type JointResolverServices, jointResolvers } from './joint.ts';
import { type ListCheckResolverServices, listCheckResolvers } from './list-check.ts';
import { type ObjectionResolverServices, objectionResolvers } from './objections.ts';
import { type ProfileResolverServices, profileResolvers } from './profiles.ts';
import { rootResolvers } from './root.ts';

export type { EnterpriseAudit } from './access-log.ts';
export type { FederationInfo } from './federation.ts';
export type { JointJobView, JointQueryInput } from './joint.ts';
export { selectedSections } from './profiles.ts';
export type { Context } from './root.ts';

/** Services the resolvers call: what each domain's resolvers call, together. */
export interface ResolverServices
  extends ProfileResolverServices,
    ConsentResolverServices,
    AccessLogResolverServices,
    FederationResolverServices,
    JointResolverServices,
    ListCheckResolverServices,
    EvaluationResolverServices,
    InterceptResolverServices,
    ObjectionResolverServices,
    EasyLoanResolverServices {}

/** Builds the resolver map: the domains' maps merged, in the order of the schema's fragments. */
export function createResolvers(s: ResolverServices) {
  const root = rootResolvers();
  const profiles = profileResolvers(s);
  const consents = consentResolvers(s);
  const joint = jointResolvers(s);
  const listCheck = listCheckResolvers(s);
  const federation = federationResolvers(s);
  const accessLog = accessLogResolvers(s);
  const evaluation = evaluationResolvers(s);
  const intercept = interceptResolvers(s);
  const objections = objectionResolvers(s);
  const easyLoan = easyLoanResolvers(s);
  return {
    Query: {
      ...root.Query,
      ...profiles.Query,
      ...consents.Query,
      ...joint.Query,
      ...federation.Query,
      ...accessLog.Query,
      ...evaluation.Query,
      ...intercept.Query,
      ...objections.Query,
      ...easyLoan.Query,
    },
    EnterpriseProfile: profiles.EnterpriseProfile,
    Mutation: {
      ...consents.Mutation,
      ...joint.Mutation,
      ...listCheck.Mutation,
      ...federation.Mutation,
      ...accessLog.Mutation,
      ...evaluation.Mutation,
      ...intercept.Mutation,
      ...objections.Mutation,
      ...easyLoan.Mutation,
    },
  };
}
