/**
 * The access log and its audit: the log's signed, witnessed checkpoints and proofs; an
 * enterprise's entries (on this node, or on every node of the federation) and the erasure of its
 * openings; an auditor's filtered listing.
 */
import type { AccessLog, ListedEntry } from '../accesslog/log.ts';
import { InvalidInputError, type Principal } from '../authz/index.ts';
import { type Context, limit, who } from './root.ts';

/** SDL of the access log and its audit. */
export const accessLogTypeDefs = /* GraphQL */ `
  enum Decision { ALLOW DENY }

  "A signed checkpoint; served to clients only once a majority of witnesses cosigned it (cosignature lines in the note)."
  type Checkpoint { size: Int! root: String! note: String! witnesses: [String!]! }

  type AccessEntry {
    index: Int!
    leafHash: String!
    time: String!
    node: String!
    principal: String!
    role: String!
    action: String!
    decision: Decision!
    reason: String
    purpose: String
    "The consent used or asked for: shown to the enterprise (from its opening), otherwise null."
    consentId: String
    "Commitment to the consent id (opened by the enterprise's opening)."
    consentRef: String
    scopes: [String!]!
    resultDigest: String
    correlationId: String!
    "The entry with its inclusion proof and signed checkpoint, for credit-node verify bundle."
    bundle: JSON
  }

  type CosignedCheckpoint { size: Int! root: String! note: String! witnesses: [String!]! }

  type AccessLogInfo {
    origin: String!
    verifierKey: String!
    size: Int!
    "Cosignatures a checkpoint needs before clients are shown it (a majority of the other members)."
    witnessQuorum: Int!
    "The newest checkpoint a majority of witnesses cosigned (note with cosignature lines)."
    latestCheckpoint: Checkpoint
    "The same checkpoint (kept for clients of the earlier schema)."
    cosigned: CosignedCheckpoint
  }

  "One node's entries about the signed-in enterprise."
  type NodeAccessEntries { node: String! entries: [AccessEntry!]! }

  "The signed-in enterprise's entries on every node of the federation; nodes that did not answer are listed."
  type MyAccessLog { nodes: [NodeAccessEntries!]! unavailable: [String!]! }

  type ErasedOpenings { node: String! openings: Int! }
  type ErasureResult { erased: [ErasedOpenings!]! unavailable: [String!]! }

  type AuditResult { entries: [AccessEntry!]! scanned: Int! truncated: Boolean! }

  input AuditFilter {
    "A bank's (a node's) entries: made at its node, or its requests that this node decided or served."
    bank: String
    principal: String
    purpose: String
    action: String
    decision: Decision
    from: String
    to: String
    first: Int
  }

  extend type Query {
    accessLog: AccessLogInfo!
    "An enterprise lists who used its data (with proofs)."
    myAccessEntries(first: Int): [AccessEntry!]!
    "An enterprise lists who used its data, or tried to, on every node of the federation (with proofs)."
    myAccessLog(first: Int): MyAccessLog!
    "An auditor lists entries by bank, purpose and time range."
    auditEntries(filter: AuditFilter): AuditResult!
    checkpoints(first: Int, beforeSize: Int): [Checkpoint!]!
    consistencyProof(size1: Int!, size2: Int!): [String!]!
    inclusionProof(index: Int!, size: Int!): [String!]!
  }

  extend type Mutation {
    "An enterprise has its commitment openings erased on every node: its entries stay in every log, unlinkable to it."
    eraseMyAccessOpenings: ErasureResult!
  }
`;

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

/** What the access-log resolvers call. */
export interface AccessLogResolverServices {
  log: AccessLog;
  /** An enterprise's entries and erasure across the federation (this node only when stand-alone). */
  audit: EnterpriseAudit;
}

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

/** Resolvers of the access log and its audit. */
export function accessLogResolvers(s: AccessLogResolverServices) {
  return {
    Query: {
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
      auditEntries: async (_: unknown, a: { filter?: Record<string, string | number | undefined> }, ctx: Context) => {
        who(ctx, 'auditor');
        const f = a.filter ?? {};
        const r = await s.log.query({
          bank: (f.bank as string) ?? undefined,
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
    },
    Mutation: {
      eraseMyAccessOpenings: async (_: unknown, __: unknown, ctx: Context) => {
        const r = await s.audit.erase(who(ctx, 'enterprise'), ctx.correlationId);
        return {
          erased: Object.entries(r.erased).map(([node, openings]) => ({ node, openings })),
          unavailable: r.unavailable,
        };
      },
    },
  };
}
