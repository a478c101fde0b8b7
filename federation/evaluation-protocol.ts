/**
 * Evaluation between the cities' centres (`/credit/evaluation/1.0.0`, DESIGN §8): only credit
 * centres and city peers may open it; one JSON frame each way, at most 64 KiB in and 10 s.
 *
 * - `attestation`: a centre asks an enterprise's home centre for its current attestation, under
 *   the purpose `cross-city-recognition` (logged at both ends, the enterprise as subject).
 * - `push`: a home centre sends a new grade to a centre that recognised an earlier one.
 * - `propose`: a centre sends an agreement it signed to the other party, to counter-sign.
 * - `agreement`: an agreement signed by both parties, distributed to every centre.
 * - `distribution`: a centre's grade counts per industry (no enterprise named).
 *
 * The handler checks the frame's shape only; the evaluation service decides everything else and
 * its named errors travel back with their codes. A bank reads an enterprise's grade as its
 * `evaluation` section under the enterprise's consent, through the section protocol.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { fromBase64 } from '../crypto/index.ts';
import type { EvaluationPeers, EvaluationService, SignedAttestation } from '../evaluation/index.ts';
import type { CityId } from '../model/index.ts';
import { type FederationHost, PeerError, PeerUnavailableError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of evaluation exchanges. */
export const EVALUATION_PROTOCOL = '/credit/evaluation/1.0.0';
/** Largest request frame. */
export const MAX_EVALUATION_FRAME_BYTES = 64 * 1024;
const CENTRE_ROLES = ['credit-centre', 'city-peer'] as const;

const correlationId = z.string().regex(/^[A-Za-z0-9._:-]{8,64}$/);
const FrameSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('attestation'),
      uscc: z.string().length(18),
      principal: z.string().min(1).max(160),
      correlationId,
    })
    .strict(),
  z.object({ op: z.literal('push'), attestation: z.unknown(), correlationId }).strict(),
  z.object({ op: z.literal('propose'), agreement: z.unknown() }).strict(),
  z.object({ op: z.literal('agreement'), agreement: z.unknown() }).strict(),
  z.object({ op: z.literal('distribution') }).strict(),
]);
type Frame = z.infer<typeof FrameSchema>;

const AttestationAnswer = z
  .object({ attestation: z.object({ document: z.string(), signature: z.string(), signedBy: z.string() }).strict() })
  .strict();
const DistributionAnswer = z
  .object({
    rows: z
      .array(
        z
          .object({
            city: z.enum(['XM', 'ZZ', 'QZ']),
            industry: z.string().max(4),
            grade: z.enum(['A', 'B', 'C', 'D']),
            count: z.number().int().min(0),
          })
          .strict(),
      )
      .max(1000),
  })
  .strict();

/** What the evaluation protocol needs. */
export interface EvaluationProtocolComponents {
  host: FederationHost;
  /** This node's evaluation service; absent on nodes that grade no one. */
  evaluation: () => EvaluationService | undefined;
  /** Nodes whose answers are not trusted (an uncleared witness alarm). */
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** The evaluation protocol: its handler, and the requests the evaluation service makes. */
export interface EvaluationProtocol {
  /** The port the evaluation service uses. */
  peers: EvaluationPeers;
  register(): Promise<void>;
}

/** Creates the evaluation protocol. */
export function createEvaluationProtocol(c: EvaluationProtocolComponents): EvaluationProtocol {
  const log = c.logger.child({ component: 'evaluation-protocol' });
  const quarantined = (nodeId: string) => c.quarantined?.().includes(nodeId) ?? false;

  const ask = async (node: string, frame: Frame, timeoutMs = 10_000) => {
    if (quarantined(node)) throw new PeerUnavailableError(`${node} is quarantined`);
    return c.host.request(node, EVALUATION_PROTOCOL, frame, { timeoutMs, maxResponseBytes: 1024 * 1024 });
  };

  const peers: EvaluationPeers = {
    centres() {
      const out: Array<{ nodeId: string; city: CityId; signingKey: Uint8Array }> = [];
      for (const m of c.host.roster()?.roster.members ?? []) {
        if (!(CENTRE_ROLES as readonly string[]).includes(m.role) || !m.city || !isActive(m)) continue;
        const key = fromBase64(m.signingKey);
        if (key) out.push({ nodeId: m.nodeId, city: m.city, signingKey: key });
      }
      return out;
    },
    async fetchAttestation(node, request) {
      const answer = AttestationAnswer.safeParse(await ask(node, { op: 'attestation', ...request }));
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${node} answered with no attestation`);
      return answer.data.attestation as SignedAttestation;
    },
    async push(node, attestation, correlationId) {
      await ask(node, { op: 'push', attestation, correlationId });
    },
    async propose(node, agreement) {
      await ask(node, { op: 'propose', agreement });
    },
    async distribute(node, agreement) {
      await ask(node, { op: 'agreement', agreement });
    },
    async distribution(node) {
      const answer = DistributionAnswer.safeParse(await ask(node, { op: 'distribution' }));
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${node} answered with no distribution`);
      return answer.data.rows;
    },
  };

  return {
    peers,
    register: () =>
      c.host.register({
        id: EVALUATION_PROTOCOL,
        roles: CENTRE_ROLES,
        maxRequestBytes: MAX_EVALUATION_FRAME_BYTES,
        timeoutMs: 10_000,
        maxConcurrentPerPeer: 8,
        handle: async (raw, ctx) => {
          const parsed = FrameSchema.safeParse(raw);
          if (!parsed.success)
            throw new PeerError(
              'BAD_REQUEST',
              `malformed evaluation request: ${parsed.error.issues[0]?.path.join('.') || 'op'}`,
            );
          const service = c.evaluation();
          if (!service) throw new PeerError('NOT_A_CITY_NODE', 'this node grades no enterprise');
          const f = parsed.data;
          const peer = { nodeId: ctx.peer.nodeId, role: ctx.peer.role };
          switch (f.op) {
            case 'attestation':
              return {
                attestation: await service.serveAttestation(peer, {
                  uscc: f.uscc,
                  principal: f.principal,
                  correlationId: f.correlationId,
                }),
              };
            case 'push':
              return { outcome: await service.receivePush(peer, f.attestation, f.correlationId) };
            case 'propose':
              await service.receiveProposal(peer, f.agreement);
              log.info({ peer: peer.nodeId }, 'agreement proposal received');
              return { ok: true };
            case 'agreement':
              await service.receiveAgreement(peer, f.agreement);
              return { ok: true };
            case 'distribution':
              return { rows: await service.localDistribution() };
          }
        },
      }),
  };
}
