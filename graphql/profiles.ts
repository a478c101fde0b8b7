/**
 * Profiles and credit reports: a bank officer reads an enterprise's sections (one or many
 * enterprises per request) or has a signed report issued. Only the sections the query selects
 * are read; the access service decides and logs who may see them.
 */
import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { type AccessService, InvalidInputError, type ProfileSections } from '../authz/index.ts';
import { CreditError } from '../model/errors.ts';
import { SECTIONS, type Section } from '../model/index.ts';
import { type Context, who } from './root.ts';

/** SDL of profiles and reports. */
export const profileTypeDefs = /* GraphQL */ `
  "Registration section (登记注册): the legal person record."
  type Registration {
    uscc: String!
    usccStatus: String!
    name: String!
    formerNames: [String!]!
    orgType: String!
    registrationRegion: String!
    domicileRegion: String!
    status: String!
    establishedOn: String!
    registeredCapitalWan: Float
    industryCode: String
    legalRepresentative: String
    originNode: String!
    updatedAt: String!
  }

  "One credit fact of the one table (一张表)."
  type Fact {
    id: ID!
    subtype: String!
    category: String!
    polarity: String!
    severity: String
    legalDocumentRef: String
    sourceUnit: String!
    decisionDate: String!
    publicFrom: String
    publicUntil: String
    usageRange: String!
    status: String!
    payload: JSON!
    originNode: String!
    version: Int!
  }

  type SectionSource { section: String! node: String }

  "An enterprise profile: one field per section, each released only under a live consent."
  type EnterpriseProfile {
    uscc: String!
    registration: Registration
    tax: [Fact!]
    socialInsurance: [Fact!]
    housingFund: [Fact!]
    utilities: [Fact!]
    realEstate: [Fact!]
    judicial: [Fact!]
    penalties: [Fact!]
    licences: [Fact!]
    abnormalList: [Fact!]
    seriousDishonesty: [Fact!]
    honours: [Fact!]
    commitments: [Fact!]
    evaluation: [Fact!]
    "Which node served each section."
    servedBy: [SectionSource!]!
    "Sections that could not be fetched (PEER_UNAVAILABLE)."
    unavailable: [String!]!
  }

  type SectionCount { section: String! count: Int! }

  "A credit report; document + signature can be archived and verified later."
  type CreditReport {
    reportId: ID!
    generatedAt: String!
    issuer: String!
    uscc: String!
    purpose: String!
    "The consent the report was issued under, and until when the grantee may keep it (its retentionDays)."
    consentId: ID
    retainUntil: String
    sections: [String!]!
    summary: [SectionCount!]!
    profile: EnterpriseProfile!
    document: String!
    signature: String!
    signedBy: String!
  }

  extend type Query {
    "A bank officer reads an enterprise profile for a stated purpose."
    enterprise(uscc: String!, purpose: String!, consentId: ID): EnterpriseProfile
    "Several enterprises in one request (batched reads)."
    enterprises(usccs: [String!]!, purpose: String!): [EnterpriseProfile]!
    creditReport(uscc: String!, purpose: String!, consentId: ID): CreditReport
  }
`;

/** What the profile resolvers call. */
export interface ProfileResolverServices {
  access: AccessService;
}

/** A section could not be fetched because the node holding it did not answer. */
class SectionUnavailableError extends CreditError {
  static override name = 'SectionUnavailableError';
  override readonly code = 'PEER_UNAVAILABLE';
}

const SECTION_SET = new Set<string>(SECTIONS);

/** The profile sections selected under a field, fragments included. */
export function selectedSections(info: GraphQLResolveInfo, under?: string): Section[] {
  const out = new Set<Section>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const s of set?.selections ?? []) {
      if (s.kind === 'Field') {
        if (under && s.name.value === under) visit(s.selectionSet);
        else if (!under && SECTION_SET.has(s.name.value)) out.add(s.name.value as Section);
      } else if (s.kind === 'InlineFragment') visit(s.selectionSet);
      else if (s.kind === 'FragmentSpread') visit(info.fragments[s.name.value]?.selectionSet);
    }
  };
  for (const f of info.fieldNodes as FieldNode[]) visit(f.selectionSet);
  return [...out];
}

function profileView(p: ProfileSections) {
  const view: Record<string, unknown> = {
    uscc: p.uscc,
    registration: p.registration ?? null,
    servedBy: Object.entries(p.servedBy).map(([section, node]) => ({ section, node })),
    unavailable: p.unavailable,
  };
  for (const [s, facts] of Object.entries(p.facts)) view[s] = facts;
  return view;
}

/** Resolvers of profiles and reports. */
export function profileResolvers(s: ProfileResolverServices) {
  return {
    Query: {
      enterprise: async (
        _: unknown,
        a: { uscc: string; purpose: string; consentId?: string },
        ctx: Context,
        info: GraphQLResolveInfo,
      ) => {
        // Any signed-in role may ask; the access service refuses (and logs) all but bank officers.
        const principal = who(ctx);
        const p = await s.access.readProfile({
          principal,
          uscc: a.uscc,
          purpose: a.purpose,
          consentId: a.consentId,
          sections: selectedSections(info),
          correlationId: ctx.correlationId,
        });
        return profileView(p);
      },
      enterprises: async (
        _: unknown,
        a: { usccs: string[]; purpose: string },
        ctx: Context,
        info: GraphQLResolveInfo,
      ) => {
        const principal = who(ctx);
        if (a.usccs.length > 200) throw new InvalidInputError('at most 200 enterprises per request');
        const sections = selectedSections(info);
        const results = await s.access.readProfiles(
          a.usccs.map((uscc) => ({ principal, uscc, purpose: a.purpose, sections, correlationId: ctx.correlationId })),
        );
        return results.map((r) => (r instanceof Error ? r : profileView(r)));
      },
      creditReport: async (_: unknown, a: { uscc: string; purpose: string; consentId?: string }, ctx: Context) => {
        const principal = who(ctx);
        const { report, signed } = await s.access.report({
          principal,
          uscc: a.uscc,
          purpose: a.purpose,
          consentId: a.consentId,
          correlationId: ctx.correlationId,
        });
        return { ...report, profile: profileView(report.data as ProfileSections), ...signed };
      },
    },
    EnterpriseProfile: Object.fromEntries(
      SECTIONS.map((section) => [
        section,
        (parent: Record<string, unknown> & { unavailable?: string[] }) => {
          if (parent.unavailable?.includes(section))
            throw new SectionUnavailableError(`the node holding ${section} did not answer; try again later`);
          return parent[section] ?? null;
        },
      ]),
    ),
  };
}
