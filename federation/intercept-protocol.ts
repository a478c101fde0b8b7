/**
 * Check-and-intercept between the centres of 厦漳泉 (`/credit/intercept/1.0.0`, DESIGN §9): the
 * centre where a government business system checks a batch asks every other centre for the live
 * listings it holds about those enterprises, so that a Xiamen check reflects Zhangzhou's and
 * Quanzhou's lists. Only credit centres and city peers may open it; one JSON frame each way, at
 * most 512 KiB in (a batch of 10,000 codes) and 30 s.
 *
 * - `listings`: the batch's USCCs, the fact subtypes the matter's measures look at, and who asked
 *   (department and principal id, for the answering centre's log). The answering centre logs one
 *   entry per enterprise (`CHECK_AND_INTERCEPT`, the enterprise as subject) and answers with the
 *   listings it holds (no payload beyond a grade), by position in the batch.
 *
 * The handler checks the frame's shape; the intercept service does the rest. The asking side
 * checks the answer's shape too: a centre whose answer is malformed counts as not answering.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { InterceptPeers, InterceptService, ListingsAnswer } from '../intercept/index.ts';
import { MAX_CHECK_BATCH } from '../intercept/index.ts';
import { FACT_SUBTYPES, type FactSubtype, SEVERITIES } from '../model/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of check-and-intercept between centres. */
export const INTERCEPT_PROTOCOL = '/credit/intercept/1.0.0';
/** Largest request frame: a batch of 10,000 codes with its envelope. */
export const MAX_INTERCEPT_FRAME_BYTES = 512 * 1024;
const CENTRE_ROLES = ['credit-centre', 'city-peer'] as const;
const subtype = z.enum(FACT_SUBTYPES as [FactSubtype, ...FactSubtype[]]);
const short = (max: number) => z.string().min(1).max(max);

const RequestSchema = z
  .object({
    op: z.literal('listings'),
    matter: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/),
    department: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    principal: z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/),
    usccs: z.array(z.string().length(18)).min(1).max(MAX_CHECK_BATCH),
    subtypes: z.array(subtype).min(1).max(FACT_SUBTYPES.length),
    correlationId: z.string().regex(/^[A-Za-z0-9._:-]{8,64}$/),
  })
  .strict();

const ListingSchema = z
  .object({
    factId: short(128),
    subtype,
    status: z.enum(['ACTIVE', 'DISPUTED']),
    severity: z.enum(SEVERITIES).optional(),
    grade: short(2).optional(),
    decisionDate: short(10),
    publicUntil: short(10).optional(),
    legalDocumentRef: short(200).optional(),
    sourceUnit: short(200),
    originNode: short(63),
    node: short(63),
  })
  .strict();
const AnswerSchema = z
  .object({
    hits: z.array(
      z.tuple([
        z
          .number()
          .int()
          .min(0)
          .max(MAX_CHECK_BATCH - 1),
        z.array(ListingSchema).max(200),
      ]),
    ),
  })
  .strict();

/** What the intercept protocol needs. */
export interface InterceptProtocolComponents {
  host: FederationHost;
  nodeId: string;
  /** This node's intercept service; absent on nodes that are not centres. */
  intercept: () => InterceptService | undefined;
  /** Nodes whose answers are not trusted (an uncleared witness alarm). */
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** The intercept protocol: its handler, and the requests the intercept service makes. */
export interface InterceptProtocol {
  /** The port the intercept service uses. */
  peers: InterceptPeers;
  register(): Promise<void>;
}

/** Creates the intercept protocol. */
export function createInterceptProtocol(c: InterceptProtocolComponents): InterceptProtocol {
  const log = c.logger.child({ component: 'intercept-protocol' });
  const peers: InterceptPeers = {
    centres() {
      const q = c.quarantined?.() ?? [];
      return (c.host.roster()?.roster.members ?? [])
        .filter(
          (m) =>
            (CENTRE_ROLES as readonly string[]).includes(m.role) &&
            isActive(m) &&
            m.nodeId !== c.nodeId &&
            !q.includes(m.nodeId),
        )
        .map((m) => ({ nodeId: m.nodeId, ...(m.city ? { city: m.city } : {}) }));
    },
    async listings(node, request, options) {
      const raw = await c.host.request(
        node,
        INTERCEPT_PROTOCOL,
        { op: 'listings', ...request },
        { timeoutMs: options.timeoutMs, maxResponseBytes: 8 * 1024 * 1024 },
      );
      const answer = AnswerSchema.safeParse(raw);
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${node} answered with malformed listings`);
      // A centre speaks for the facts it serves: a listing must name it as the serving node.
      for (const [, ls] of answer.data.hits)
        if (ls.some((l) => l.node !== node))
          throw new PeerError('BAD_RESPONSE', `${node} answered with listings of another node`);
      return answer.data as ListingsAnswer;
    },
  };

  return {
    peers,
    register: () =>
      c.host.register({
        id: INTERCEPT_PROTOCOL,
        roles: CENTRE_ROLES,
        maxRequestBytes: MAX_INTERCEPT_FRAME_BYTES,
        timeoutMs: 30_000,
        maxConcurrentPerPeer: 4,
        handle: async (raw, ctx) => {
          const parsed = RequestSchema.safeParse(raw);
          if (!parsed.success)
            throw new PeerError(
              'BAD_REQUEST',
              `malformed intercept request: ${parsed.error.issues[0]?.path.join('.') || 'op'}`,
            );
          const service = c.intercept();
          if (!service) throw new PeerError('NOT_A_CENTRE', 'this node holds no listings');
          const { op: _, ...request } = parsed.data;
          const answer = await service.serveListings({ nodeId: ctx.peer.nodeId }, request);
          log.debug({ peer: ctx.peer.nodeId, enterprises: request.usccs.length }, 'listings served');
          return answer;
        },
      }),
  };
}
