/**
 * Consents and enterprise key bindings: a bank requests a consent, the enterprise approves,
 * rejects, grants, pauses, resumes or revokes it; centre staff bind an enterprise's key. The
 * consent service decides every transition.
 */
import {
  type ConsentRecord,
  type ConsentService,
  type ConsentStatus,
  InvalidInputError,
  type KeyBinding,
} from '../authz/index.ts';
import { validateUscc } from '../model/index.ts';
import { type Context, limit, who } from './root.ts';

/** SDL of consents and key bindings. */
export const consentTypeDefs = /* GraphQL */ `
  enum ConsentStatus { REQUESTED ACTIVE PAUSED REVOKED EXPIRED REJECTED }

  type Transition { to: ConsentStatus! at: String! by: String! role: String! node: String! reason: String }

  type Consent {
    id: ID!
    enterprise: String!
    grantee: String!
    officer: String
    scopes: [String!]!
    purpose: String!
    notBefore: String!
    expiresAt: String!
    maxUses: Int
    uses: Int!
    retentionDays: Int!
    issuedAt: String!
    status: ConsentStatus!
    history: [Transition!]!
    "The canonical body the enterprise signs (JSON)."
    body: JSON!
    signature: String
    home: String!
  }

  type KeyBinding { uscc: String! publicKey: String! issuer: String! issuedAt: String! signature: String! }

  input ConsentRequestInput {
    enterprise: String!
    scopes: [String!]!
    purpose: String!
    days: Int!
    maxUses: Int
    retentionDays: Int
    officer: String
  }

  input SignedConsentInput { body: JSON! signature: String! }

  extend type Query {
    consent(id: ID!): Consent
    "An enterprise sees its own consents, a bank those granted to it, staff and auditors all."
    consents(uscc: String, status: ConsentStatus, first: Int): [Consent!]!
    keyBinding(uscc: String!): KeyBinding
  }

  extend type Mutation {
    requestConsent(input: ConsentRequestInput!): Consent!
    approveConsent(id: ID!, signature: String!): Consent!
    rejectConsent(id: ID!, reason: String): Consent!
    grantConsent(consent: SignedConsentInput!): Consent!
    pauseConsent(id: ID!, reason: String): Consent!
    resumeConsent(id: ID!, reason: String): Consent!
    revokeConsent(id: ID!, reason: String): Consent!
    registerEnterpriseKey(uscc: String!, publicKey: String!): KeyBinding!
  }
`;

/** What the consent resolvers call. */
export interface ConsentResolverServices {
  consents: ConsentService;
}

function consentView(r: ConsentRecord) {
  return {
    id: r.id,
    enterprise: r.body.enterprise,
    grantee: r.body.grantee.node,
    officer: r.body.grantee.officer ?? null,
    scopes: r.body.scopes,
    purpose: r.body.purpose,
    notBefore: r.body.notBefore,
    expiresAt: r.body.expiresAt,
    maxUses: r.body.maxUses ?? null,
    uses: r.uses,
    retentionDays: r.body.retentionDays,
    issuedAt: r.body.issuedAt,
    status: r.status,
    history: r.history.map((t) => ({
      to: t.to,
      at: t.at,
      by: t.by.sub,
      role: t.by.role,
      node: t.by.node,
      reason: t.reason ?? null,
    })),
    body: r.body,
    signature: r.signature ?? null,
    home: r.body.home,
  };
}

const bindingView = (b: KeyBinding) => ({ ...b.body, signature: b.signature });

/** Resolvers of consents and key bindings. */
export function consentResolvers(s: ConsentResolverServices) {
  return {
    Query: {
      consent: async (_: unknown, a: { id: string }, ctx: Context) => {
        const p = who(ctx);
        const r = await s.consents.get(a.id);
        if (!r) return null;
        const mine =
          (p.role === 'enterprise' && p.uscc === r.body.enterprise) ||
          (p.role === 'bank-officer' && p.bank === r.body.grantee.node) ||
          p.role === 'centre-staff' ||
          p.role === 'auditor';
        return mine ? consentView(r) : null;
      },
      consents: async (_: unknown, a: { uscc?: string; status?: ConsentStatus; first?: number }, ctx: Context) => {
        const p = who(ctx);
        if (a.uscc !== undefined && a.uscc !== null && !validateUscc(a.uscc).valid)
          throw new InvalidInputError('uscc is not a valid USCC');
        return (
          await s.consents.list(p, {
            uscc: a.uscc ?? undefined,
            status: a.status ?? undefined,
            limit: limit(a.first, 500),
          })
        ).map(consentView);
      },
      keyBinding: async (_: unknown, a: { uscc: string }, ctx: Context) => {
        who(ctx);
        const r = validateUscc(a.uscc);
        if (!r.valid) throw new InvalidInputError('uscc is not a valid USCC');
        const b = await s.consents.bindingFor(r.code);
        return b ? bindingView(b) : null;
      },
    },
    Mutation: {
      requestConsent: async (_: unknown, a: { input: Parameters<ConsentService['request']>[1] }, ctx: Context) =>
        consentView(await s.consents.request(who(ctx, 'bank-officer'), a.input)),
      approveConsent: async (_: unknown, a: { id: string; signature: string }, ctx: Context) =>
        consentView(await s.consents.approve(who(ctx, 'enterprise'), a.id, a.signature)),
      rejectConsent: async (_: unknown, a: { id: string; reason?: string }, ctx: Context) =>
        consentView(await s.consents.reject(who(ctx, 'enterprise'), a.id, a.reason ?? undefined)),
      grantConsent: async (_: unknown, a: { consent: { body: unknown; signature: string } }, ctx: Context) =>
        consentView(await s.consents.grant(who(ctx, 'enterprise'), a.consent as never)),
      pauseConsent: async (_: unknown, a: { id: string; reason?: string }, ctx: Context) =>
        consentView(await s.consents.pause(who(ctx, 'enterprise'), a.id, a.reason ?? undefined)),
      resumeConsent: async (_: unknown, a: { id: string; reason?: string }, ctx: Context) =>
        consentView(await s.consents.resume(who(ctx, 'enterprise'), a.id, a.reason ?? undefined)),
      revokeConsent: async (_: unknown, a: { id: string; reason?: string }, ctx: Context) =>
        consentView(await s.consents.revoke(who(ctx, 'enterprise'), a.id, a.reason ?? undefined)),
      registerEnterpriseKey: async (_: unknown, a: { uscc: string; publicKey: string }, ctx: Context) => {
        const r = validateUscc(a.uscc);
        if (!r.valid) throw new InvalidInputError('uscc is not a valid USCC');
        return bindingView(await s.consents.registerKey(who(ctx, 'centre-staff'), r.code, a.publicKey));
      },
    },
  };
}
