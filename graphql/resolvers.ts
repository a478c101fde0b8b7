/**
 * Resolvers: a thin adapter from GraphQL to the domain services. No business rule lives here;
 * every decision (who may see what) is made by the authz services.
 */
import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { AccessLog, ListedEntry } from '../accesslog/log.ts';
import {
  type AccessService,
  type ConsentRecord,
  type ConsentService,
  type ConsentStatus,
  ForbiddenError,
  InvalidInputError,
  type KeyBinding,
  type Principal,
  type ProfileSections,
  PURPOSES,
  UnauthenticatedError,
} from '../authz/index.ts';
import type { AgreementView, EvaluationService, EvaluationView, RecognitionRecord } from '../evaluation/index.ts';
import { CreditError } from '../model/errors.ts';
import { SECTIONS, type Section, validateUscc } from '../model/index.ts';

/** Per-request context. */
export interface Context {
  principal?: Principal;
  correlationId: string;
}

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

/** Services the resolvers call. */
export interface ResolverServices {
  access: AccessService;
  consents: ConsentService;
  log: AccessLog;
  federation?: () => FederationInfo;
  /** An enterprise's entries and erasure across the federation (this node only when stand-alone). */
  audit: EnterpriseAudit;
  /** An operator clears the witness alarms about a member, lifting its quarantine (federated nodes). */
  clearFederationAlarms?: (nodeId: string, by: string) => Promise<number>;
  /** Private list checks of a bank's officers (federated nodes). */
  listCheck?: (
    principal: Principal,
    usccs: string[],
    purpose: string,
    options: { centres?: string[]; correlationId: string },
  ) => Promise<unknown>;
  /** Joint queries of a bank's officers (federated nodes). */
  joint?: {
    start(principal: Principal, input: JointQueryInput): Promise<JointJobView>;
    job(principal: Principal, id: string): JointJobView;
  };
  /** Public credit evaluation and mutual recognition (city centres only). */
  evaluation?: EvaluationService;
}

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

/** The enterprise's audit across every node's log. */
export interface EnterpriseAudit {
  entries(
    actor: Principal,
    options: { limit: number; correlationId: string },
  ): Promise<{
    nodes: Array<{ node: string; entries: Array<ListedEntry & { bundle: unknown }> }>;
    unavailable: string[];
  }>;
  erase(actor: Principal, correlationId: string): Promise<{ erased: Record<string, number>; unavailable: string[] }>;
}

/** A section could not be fetched because the node holding it did not answer. */
class SectionUnavailableError extends CreditError {
  static override name = 'SectionUnavailableError';
  override readonly code = 'PEER_UNAVAILABLE';
}

const ROLE_TO_GQL: Record<Principal['role'], string> = {
  'bank-officer': 'BANK_OFFICER',
  enterprise: 'ENTERPRISE',
  'centre-staff': 'CENTRE_STAFF',
  auditor: 'AUDITOR',
};

function who(ctx: Context, ...roles: Principal['role'][]): Principal {
  if (!ctx.principal) throw new UnauthenticatedError('sign in with a bearer token');
  if (roles.length > 0 && !roles.includes(ctx.principal.role))
    throw new ForbiddenError(`this needs one of the roles ${roles.join(', ')}`);
  return ctx.principal;
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

function entryView(e: ListedEntry, bundle?: unknown) {
  return {
    index: e.index,
    leafHash: e.leafHash,
    time: e.entry.time,
    node: e.entry.actor.node,
    principal: e.entry.actor.principal,
    role: e.entry.actor.role,
    action: e.entry.action,
    decision: e.entry.decision,
    reason: e.entry.reason ?? null,
    purpose: e.entry.purpose ?? null,
    // The consent id is known only to whoever holds the entry's opening (the enterprise); others see its commitment.
    consentId: e.opening?.consentId ?? e.entry.consentId ?? null,
    consentRef: e.entry.consent ?? null,
    scopes: e.entry.scopes,
    resultDigest: e.entry.resultDigest ?? null,
    correlationId: e.entry.correlationId,
    bundle: bundle ?? null,
  };
}

const limit = (n: number | null | undefined, max: number, name = 'first') => {
  if (n === null || n === undefined) return Math.min(50, max);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInputError(`${name} must be between 1 and ${max}`);
  return n;
};

/** A grade as the schema's Evaluation: the record with its explanation's fields. */
function evaluationView(v: EvaluationView) {
  const { explanation: e, ...rest } = v;
  return { ...rest, scoreGrade: e.scoreGrade, thresholds: e.thresholds, cap: e.cap ?? null, indicators: e.indicators };
}
const recognisedView = (r: RecognitionRecord) => ({
  ...r.outcome,
  evaluator: r.outcome.evaluator?.node ?? null,
  city: r.city,
  receivedAt: r.receivedAt,
  attestation: r.attestation,
});
const agreementView = (a: AgreementView) => ({ ...a.agreement.body, ...a });

/** Builds the resolver map. */
export function createResolvers(s: ResolverServices) {
  const evaluation = () => {
    if (!s.evaluation)
      throw new InvalidInputError('this node grades no enterprise: evaluation runs at the city centres');
    return s.evaluation;
  };
  return {
    Query: {
      me: (_: unknown, __: unknown, ctx: Context) => {
        const p = who(ctx);
        return { ...p, role: ROLE_TO_GQL[p.role] };
      },
      purposes: () => PURPOSES,
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
      accessLog: async (_: unknown, __: unknown, ctx: Context) => {
        who(ctx);
        // Clients are shown only checkpoints the witnesses have cosigned (one history for everyone).
        const served = (await s.log.cosignedCheckpoint()) ?? null;
        return {
          origin: s.log.origin,
          verifierKey: s.log.verifierKey,
          size: s.log.size(),
          witnessQuorum: s.log.witnessQuorum(),
          latestCheckpoint: served,
          cosigned: served,
        };
      },
      federation: (_: unknown, __: unknown, ctx: Context) => {
        who(ctx);
        return s.federation?.() ?? null;
      },
      myAccessEntries: async (_: unknown, a: { first?: number }, ctx: Context) => {
        const p = who(ctx, 'enterprise');
        const entries = await s.log.entriesFor(p.uscc!, { limit: limit(a.first, 200) });
        return Promise.all(entries.map(async (e) => entryView(e, await s.log.bundle(e.index, { waitMs: 3000 }))));
      },
      myAccessLog: async (_: unknown, a: { first?: number }, ctx: Context) => {
        const p = who(ctx, 'enterprise');
        const r = await s.audit.entries(p, { limit: limit(a.first, 200), correlationId: ctx.correlationId });
        return {
          nodes: r.nodes.map((n) => ({ node: n.node, entries: n.entries.map((e) => entryView(e, e.bundle)) })),
          unavailable: r.unavailable,
        };
      },
      jointQueryJob: (_: unknown, a: { id: string }, ctx: Context) => {
        const p = who(ctx, 'bank-officer');
        if (!s.joint) throw new InvalidInputError('joint queries need a federation');
        return s.joint.job(p, a.id);
      },
      auditEntries: async (_: unknown, a: { filter?: Record<string, string | number | undefined> }, ctx: Context) => {
        who(ctx, 'auditor');
        const f = a.filter ?? {};
        const r = await s.log.query({
          actorNode: (f.bank as string) ?? undefined,
          principal: (f.principal as string) ?? undefined,
          purpose: (f.purpose as string) ?? undefined,
          action: (f.action as string) ?? undefined,
          decision: (f.decision as 'ALLOW' | 'DENY') ?? undefined,
          from: (f.from as string) ?? undefined,
          to: (f.to as string) ?? undefined,
          limit: limit(f.first as number | undefined, 1000),
        });
        return { ...r, entries: r.entries.map((e) => entryView(e)) };
      },
      checkpoints: async (_: unknown, a: { first?: number; beforeSize?: number }) =>
        s.log.checkpoints({ limit: limit(a.first, 1000), beforeSize: a.beforeSize ?? undefined, witnessed: true }),
      consistencyProof: (_: unknown, a: { size1: number; size2: number }) => {
        if (a.size2 > s.log.size() || a.size1 < 0 || a.size1 > a.size2)
          throw new InvalidInputError(`sizes must satisfy 0 <= size1 <= size2 <= ${s.log.size()}`);
        return s.log.consistencyProof(a.size1, a.size2);
      },
      inclusionProof: (_: unknown, a: { index: number; size: number }) => {
        if (a.size > s.log.size() || a.index < 0 || a.index >= a.size)
          throw new InvalidInputError(`need 0 <= index < size <= ${s.log.size()}`);
        return s.log.inclusionProof(a.index, a.size);
      },
      evaluation: async (_: unknown, a: { uscc: string }, ctx: Context) =>
        evaluationView(await evaluation().view(who(ctx), a.uscc, ctx.correlationId)),
      recognisedEvaluations: async (_: unknown, a: { uscc: string }, ctx: Context) => {
        const v = await evaluation().recognisedView(who(ctx), a.uscc, ctx.correlationId);
        return { ...v, local: v.local && evaluationView(v.local), recognised: v.recognised.map(recognisedView) };
      },
      gradeDistribution: (_: unknown, __: unknown, ctx: Context) => evaluation().distributions(who(ctx)),
      recognitionAgreements: async (_: unknown, __: unknown, ctx: Context) =>
        (await evaluation().listAgreements(who(ctx))).map(agreementView),
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
      clearFederationAlarms: async (_: unknown, a: { node: string }, ctx: Context) => {
        const p = who(ctx, 'centre-staff');
        if (!s.clearFederationAlarms) throw new InvalidInputError('this node is not in a federation');
        return s.clearFederationAlarms(a.node, `${p.role}:${p.sub}`);
      },
      eraseMyAccessOpenings: async (_: unknown, __: unknown, ctx: Context) => {
        const r = await s.audit.erase(who(ctx, 'enterprise'), ctx.correlationId);
        return {
          erased: Object.entries(r.erased).map(([node, openings]) => ({ node, openings })),
          unavailable: r.unavailable,
        };
      },
      registerEnterpriseKey: async (_: unknown, a: { uscc: string; publicKey: string }, ctx: Context) => {
        const r = validateUscc(a.uscc);
        if (!r.valid) throw new InvalidInputError('uscc is not a valid USCC');
        return bindingView(await s.consents.registerKey(who(ctx, 'centre-staff'), r.code, a.publicKey));
      },
      runEvaluation: (_: unknown, a: { uscc?: string | null }, ctx: Context) =>
        evaluation().run(who(ctx), a.uscc ?? undefined),
      proposeRecognitionAgreement: async (
        _: unknown,
        a: { input: { with: string; freshnessDays?: number | null; days?: number | null; recognise?: unknown } },
        ctx: Context,
      ) =>
        agreementView(
          await evaluation().proposeAgreement(who(ctx), {
            with: a.input.with,
            ...(a.input.freshnessDays != null ? { freshnessDays: a.input.freshnessDays } : {}),
            ...(a.input.days != null ? { days: a.input.days } : {}),
            ...(a.input.recognise != null ? { recognise: a.input.recognise as never } : {}),
          }),
        ),
      signRecognitionAgreement: async (_: unknown, a: { id: string }, ctx: Context) =>
        agreementView(await evaluation().signAgreement(who(ctx), a.id)),
      importRecognitionAgreement: async (_: unknown, a: { agreement: unknown }, ctx: Context) =>
        agreementView(await evaluation().importAgreement(who(ctx), a.agreement)),
      recogniseAttestation: async (_: unknown, a: { attestation: unknown }, ctx: Context) => {
        who(ctx, 'centre-staff');
        const o = await evaluation().recognise(a.attestation);
        return { ...o, evaluator: o.evaluator?.node ?? null };
      },
    },
  };
}
