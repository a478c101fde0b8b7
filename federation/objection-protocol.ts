/**
 * Objections and repair across the federation (`/credit/objection/1.0.0`, DESIGN §9): one JSON
 * frame each way, at most 64 KiB in and 10 s. Every node that holds facts serves it (credit
 * centres, city peers, sources, the easy-loan platform).
 *
 * - `locate`: does this node hold a fact about an enterprise, and which node determined it
 *   (asked by the node where the enterprise files an objection or applies for a repair).
 * - `file`: an objection received from the enterprise, handed to the node that determined the
 *   fact (only the node that received it may hand it over: `receivedBy` is the caller).
 * - `status`: the determining node's new version of a fact (disputed, corrected, withdrawn,
 *   repaired), for the nodes holding a copy. Taken only from the node the fact names as its
 *   determining node, and only when newer than the copy.
 * - `objection`: the decision on an objection, for the node that received it.
 *
 * Frames are checked here (shape, the caller's role for each op, facts against the one-table
 * rules); the objection services decide the rest and their named errors travel back with their
 * codes. Requests from quarantined members are refused.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { FACT_STATUSES, FACT_SUBTYPES, type FactSubtype, validateRecord } from '../model/index.ts';
import { FACT_CHANGE_REASONS, type ObjectionPeers, type ObjectionRecord, type Redress } from '../objections/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of objections and fact changes. */
export const OBJECTION_PROTOCOL = '/credit/objection/1.0.0';
/** Largest request frame. */
export const MAX_OBJECTION_FRAME_BYTES = 64 * 1024;
/** Roles of nodes that hold facts or copies (and serve this protocol). */
const HOLDER_ROLES = ['credit-centre', 'city-peer', 'source', 'easy-loan'] as const;
/** Roles where enterprises sign in and file objections. */
const SIGN_IN_ROLES: readonly string[] = ['credit-centre', 'city-peer', 'easy-loan'];
/** Roles of nodes that determine facts. */
const DETERMINING_ROLES: readonly string[] = ['credit-centre', 'city-peer', 'source'];

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);
const node = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const uscc = z.string().length(18);
const time = z.string().min(20).max(40);
const correlationId = z.string().regex(/^[A-Za-z0-9._:-]{8,64}$/);
const subtype = z.enum(FACT_SUBTYPES as [FactSubtype, ...FactSubtype[]]);
const filingFields = {
  id: z.string().uuid(),
  factId: id,
  uscc,
  principal: z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/),
  reason: z.string().min(1).max(1000),
  evidence: z.array(z.string().min(1).max(200)).max(50),
  receivedBy: node,
  receivedAt: time,
  correlationId,
};
const FilingSchema = z.object(filingFields).strict();
const FieldChangeSchema = z.object({ field: z.string().max(40), old: z.unknown(), new: z.unknown() }).strict();
const RecordSchema = z
  .object({
    ...filingFields,
    subtype,
    originNode: node,
    status: z.enum(['PENDING', 'ACCEPTED', 'REJECTED']),
    filedAt: time,
    deadline: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    remindedAt: time.optional(),
    decision: z
      .object({
        outcome: z.enum(['ACCEPTED', 'REJECTED']),
        resolution: z.enum(['WITHDRAWN', 'CORRECTED']).optional(),
        reasons: z.string().min(1).max(2000),
        by: z.string().max(200),
        at: time,
        fields: z.array(FieldChangeSchema).max(10).optional(),
      })
      .strict()
      .optional(),
    copy: z.boolean().optional(),
  })
  .strict();
const ChangeSchema = z
  .object({
    factId: id,
    uscc,
    from: z.enum(FACT_STATUSES),
    to: z.enum(FACT_STATUSES),
    version: z.number().int().min(1),
    at: time,
    by: z.string().max(200),
    reason: z.enum(FACT_CHANGE_REASONS),
    ref: z.string().max(64).optional(),
    origin: node,
    fields: z.array(FieldChangeSchema).max(10).optional(),
  })
  .strict();
const FrameSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('locate'), factId: id, uscc }).strict(),
  z.object({ op: z.literal('file'), filing: FilingSchema }).strict(),
  z
    .object({ op: z.literal('status'), fact: z.record(z.string(), z.unknown()), change: ChangeSchema, correlationId })
    .strict(),
  z.object({ op: z.literal('objection'), record: RecordSchema }).strict(),
]);
const LocateAnswer = z.object({ held: z.boolean(), originNode: node.optional() }).strict();

/** What the objection protocol needs. */
export interface ObjectionProtocolComponents {
  host: FederationHost;
  nodeId: string;
  /** This node's objections and repair; absent on nodes that hold no facts. */
  redress: () => Redress | undefined;
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** The objection protocol: its handler, and the requests objections and repair make. */
export interface ObjectionProtocol {
  peers: ObjectionPeers;
  register(): Promise<void>;
}

/** Creates the objection protocol. */
export function createObjectionProtocol(c: ObjectionProtocolComponents): ObjectionProtocol {
  const log = c.logger.child({ component: 'objection-protocol' });
  const quarantined = (n: string) => c.quarantined?.().includes(n) ?? false;
  const ask = (to: string, frame: z.infer<typeof FrameSchema>) =>
    c.host.request(to, OBJECTION_PROTOCOL, frame, { timeoutMs: 10_000, maxResponseBytes: 256 * 1024 });

  const peers: ObjectionPeers = {
    holders: () =>
      (c.host.roster()?.roster.members ?? [])
        .filter((m) => (HOLDER_ROLES as readonly string[]).includes(m.role) && isActive(m) && m.nodeId !== c.nodeId)
        .map((m) => m.nodeId)
        .sort(),
    async locate(to, q) {
      if (quarantined(to)) throw new PeerError('QUARANTINED', `${to} is quarantined`);
      const answer = LocateAnswer.safeParse(await ask(to, { op: 'locate', ...q }));
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${to} answered locate with a malformed frame`);
      return answer.data;
    },
    async file(to, filing) {
      if (quarantined(to)) throw new PeerError('PEER_UNAVAILABLE', `${to} is quarantined`);
      const answer = z
        .object({ record: RecordSchema })
        .strict()
        .safeParse(await ask(to, { op: 'file', filing }));
      if (!answer.success || answer.data.record.id !== filing.id || answer.data.record.originNode !== to)
        throw new PeerError('BAD_RESPONSE', `${to} answered the objection with a malformed record`);
      return answer.data.record as ObjectionRecord;
    },
    async deliver(to, message) {
      await ask(to, message as z.infer<typeof FrameSchema>);
    },
  };

  const handle = async (raw: unknown, peer: { nodeId: string; role: string }) => {
    if (quarantined(peer.nodeId)) throw new PeerError('QUARANTINED', 'requests of a quarantined member are refused');
    const parsed = FrameSchema.safeParse(raw);
    if (!parsed.success)
      throw new PeerError(
        'BAD_REQUEST',
        `malformed objection frame: ${parsed.error.issues[0]?.path.join('.') || 'op'}`,
      );
    const redress = c.redress();
    if (!redress) throw new PeerError('NOT_A_HOLDER', 'this node holds no facts');
    const f = parsed.data;
    const needs = (roles: readonly string[]) => {
      if (!roles.includes(peer.role)) throw new PeerError('FORBIDDEN', `${peer.role} nodes may not send ${f.op}`);
    };
    switch (f.op) {
      case 'locate':
        needs(SIGN_IN_ROLES);
        return redress.locate(f.factId, f.uscc);
      case 'file':
        needs(SIGN_IN_ROLES);
        if (f.filing.receivedBy !== peer.nodeId)
          throw new PeerError('FORBIDDEN', 'an objection is handed over by the node that received it');
        return { record: await redress.receiveFiling(peer.nodeId, f.filing) };
      case 'status': {
        needs(DETERMINING_ROLES);
        if (f.change.origin !== peer.nodeId || f.fact.originNode !== peer.nodeId)
          throw new PeerError('FORBIDDEN', 'a fact is changed only by the node that determined it');
        const v = validateRecord('fact', f.fact, {
          originNode: peer.nodeId,
          tokenise: () => {
            throw new PeerError('BAD_REQUEST', 'a fact carries no ID numbers');
          },
        });
        if (!v.ok || v.value.kind !== 'fact' || v.value.record.id !== f.change.factId)
          throw new PeerError('BAD_REQUEST', 'the fact does not pass the one-table rules');
        const out = await redress.receiveStatus(peer.nodeId, v.value.record, f.change, f.correlationId);
        if (out.held) log.debug({ peer: peer.nodeId, to: f.change.to }, 'fact change applied');
        return out;
      }
      case 'objection':
        needs(DETERMINING_ROLES);
        await redress.receiveDecision(peer.nodeId, f.record as ObjectionRecord);
        return { ok: true };
    }
  };

  return {
    peers,
    register: () =>
      c.host.register({
        id: OBJECTION_PROTOCOL,
        roles: HOLDER_ROLES,
        maxRequestBytes: MAX_OBJECTION_FRAME_BYTES,
        timeoutMs: 10_000,
        maxConcurrentPerPeer: 8,
        handle: (raw, ctx) => handle(raw, ctx.peer),
      }),
  };
}
