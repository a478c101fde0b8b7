/**
 * An enterprise's audit across the federation (`/credit/audit/1.0.0`): the node where an
 * enterprise signs in (a credit centre, city peer or the easy-loan platform) collects, from every
 * member, the entries that member's log holds about the enterprise, each with its proof bundle
 * and commitment opening, so the enterprise sees every use and every refused attempt wherever it
 * was decided and checks each one offline. The same protocol carries the enterprise's erasure
 * request (the openings are deleted everywhere; the entries stay in every tree).
 *
 * Only nodes where enterprises sign in may ask; every answer is itself an entry in the answering
 * node's log, so a centre that lists an enterprise's entries leaves a trace on every node it asked.
 */
import { z } from 'zod';
import type { AccessLog, ListedEntry, ProofBundle } from '../accesslog/log.ts';
import type { Principal } from '../authz/index.ts';
import { validateUscc } from '../model/index.ts';
import { type FederationHost, PeerError } from './host.ts';

/** Protocol id of the federated audit. */
export const AUDIT_PROTOCOL = '/credit/audit/1.0.0';

/** Roles of nodes where an enterprise signs in, which may ask on its behalf. */
const ASKING_ROLES = ['credit-centre', 'city-peer', 'easy-loan'] as const;
/** How long a bundle waits for its checkpoint to be cosigned by the witness quorum. */
const BUNDLE_WAIT_MS = 3000;
/** Most entries one node returns. */
export const MAX_AUDIT_ENTRIES = 200;

const RequestSchema = z
  .object({
    op: z.enum(['entries', 'erase']),
    uscc: z.string().length(18),
    /** The enterprise representative who asked (pseudonymous id). */
    principal: z.string().min(1).max(128),
    limit: z.number().int().min(1).max(MAX_AUDIT_ENTRIES).optional(),
    correlationId: z.string().min(8).max(64),
  })
  .strict();

/** One node's entries about an enterprise. */
export interface NodeEntries {
  node: string;
  entries: Array<ListedEntry & { bundle: ProofBundle }>;
}

/** What the audit protocol needs. */
export interface AuditComponents {
  /** Absent on a stand-alone node: the audit then covers this node only. */
  host?: FederationHost;
  log: AccessLog;
  nodeId: string;
}

/** The federated audit. */
export interface FederatedAudit {
  register(): Promise<void>;
  /** This node's and every other member's entries about the enterprise; members that did not answer are listed. */
  entries(
    actor: Principal,
    options: { limit: number; correlationId: string },
  ): Promise<{ nodes: NodeEntries[]; unavailable: string[] }>;
  /** Erases the enterprise's openings on this node and every other member; returns openings erased per node. */
  erase(actor: Principal, correlationId: string): Promise<{ erased: Record<string, number>; unavailable: string[] }>;
}

/** Creates the federated audit. */
export function createFederatedAudit(c: AuditComponents): FederatedAudit {
  const record = (op: 'entries' | 'erase', node: string, principal: string, uscc: string, correlationId: string) =>
    c.log.append({
      time: new Date().toISOString(),
      actor: { node, principal: `enterprise:${principal}`, role: 'enterprise' },
      action: op === 'entries' ? 'ENTRIES_LISTED' : 'OPENINGS_ERASED',
      decision: 'ALLOW',
      scopes: [],
      subject: uscc,
      correlationId,
    });

  const local = async (uscc: string, limit: number): Promise<NodeEntries> => {
    const listed = await c.log.entriesFor(uscc, { limit });
    return {
      node: c.nodeId,
      entries: await Promise.all(
        listed.map(async (e) => ({ ...e, bundle: await c.log.bundle(e.index, { waitMs: BUNDLE_WAIT_MS }) })),
      ),
    };
  };

  const others = () => (c.host?.roster()?.roster.members ?? []).filter((m) => m.nodeId !== c.nodeId);

  /** Asks every other member in parallel; a member that does not answer is listed, not waited for. */
  const fanOut = async <T>(body: z.infer<typeof RequestSchema>) => {
    const results = await Promise.allSettled(
      others().map(async (m) => ({
        node: m.nodeId,
        answer: (await c.host!.request(m.nodeId, AUDIT_PROTOCOL, body, { timeoutMs: 10_000 })) as T,
      })),
    );
    const ok: Array<{ node: string; answer: T }> = [];
    const unavailable: string[] = [];
    for (const [i, r] of results.entries())
      if (r.status === 'fulfilled') ok.push(r.value);
      else unavailable.push(others()[i]?.nodeId ?? '?');
    return { ok, unavailable };
  };

  const enterprise = (actor: Principal) => {
    const r = validateUscc(actor.uscc ?? '');
    if (actor.role !== 'enterprise' || !r.valid) throw new PeerError('FORBIDDEN', 'only an enterprise audits itself');
    return r.code;
  };

  return {
    register: async () =>
      c.host?.register({
        id: AUDIT_PROTOCOL,
        roles: ASKING_ROLES,
        maxRequestBytes: 4096,
        timeoutMs: 10_000,
        maxConcurrentPerPeer: 4,
        handle: async (raw, ctx) => {
          const parsed = RequestSchema.safeParse(raw);
          if (!parsed.success) throw new PeerError('BAD_REQUEST', 'malformed audit request');
          const q = parsed.data;
          const uscc = validateUscc(q.uscc);
          if (!uscc.valid || uscc.code !== q.uscc) throw new PeerError('BAD_REQUEST', 'not a valid USCC');
          // Recorded before anything is answered (fail closed): who asked, for whom.
          await record(q.op, ctx.peer.nodeId, q.principal, q.uscc, q.correlationId);
          if (q.op === 'erase') return { erased: await c.log.erase(q.uscc) };
          return local(q.uscc, q.limit ?? MAX_AUDIT_ENTRIES);
        },
      }),
    async entries(actor, options) {
      const uscc = enterprise(actor);
      const mine = await local(uscc, options.limit);
      const { ok, unavailable } = await fanOut<NodeEntries>({
        op: 'entries',
        uscc,
        principal: actor.sub,
        limit: options.limit,
        correlationId: options.correlationId,
      });
      const nodes = [mine, ...ok.map((x) => ({ node: x.node, entries: x.answer?.entries ?? [] }))];
      return { nodes, unavailable };
    },
    async erase(actor, correlationId) {
      const uscc = enterprise(actor);
      await record('erase', c.nodeId, actor.sub, uscc, correlationId);
      const erased: Record<string, number> = { [c.nodeId]: await c.log.erase(uscc) };
      const { ok, unavailable } = await fanOut<{ erased: number }>({
        op: 'erase',
        uscc,
        principal: actor.sub,
        correlationId,
      });
      for (const x of ok) erased[x.node] = Number(x.answer?.erased ?? 0);
      return { erased, unavailable };
    },
  };
}
