/**
 * The Credit Easy-Loan journey between nodes (`/credit/easyloan/1.0.0`): one JSON frame each way,
 * at most 64 KiB in and 20 s. Banks, the easy-loan platform and the city centres open it; each op
 * is allowed to one role only, checked against the caller's roster entry (the authenticated peer),
 * so a node cannot speak for another:
 *
 * - `product`, `withdraw` (bank → platform): a bank's officer publishes or withdraws a product; the
 *   platform keeps it as the calling bank's own (the bank's node id is the caller's).
 * - `application` (platform → bank): an application matched to one of the bank's products; the
 *   bank's node creates the consent request at the platform and answers with its id.
 * - `decision` (bank → platform): a bank's decision on an application forwarded to it.
 * - `grade` (platform → city centre): the current grade of an applicant domiciled in that city.
 *
 * Frames are checked here (shape, the caller's role for each op); the services decide the rest,
 * and their named errors travel back with their codes. Requests from quarantined members are refused.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type {
  DecisionReport,
  EasyLoan,
  EasyLoanPeers,
  ForwardedApplication,
  GradeAnswer,
  Product,
} from '../easyloan/index.ts';
import { REFUSAL_REASONS } from '../easyloan/index.ts';
import { GRADES } from '../evaluation/scheme.ts';
import { type FederationHost, PeerError } from './host.ts';
import { isActive } from './roster.ts';

/** Protocol id of the easy-loan journey. */
export const EASYLOAN_PROTOCOL = '/credit/easyloan/1.0.0';
/** Largest request frame. */
export const MAX_EASYLOAN_FRAME_BYTES = 64 * 1024;
const ROLES = ['bank', 'easy-loan', 'credit-centre', 'city-peer'] as const;
const CENTRE_ROLES: readonly string[] = ['credit-centre', 'city-peer'];

const time = z.string().min(20).max(40);
const uscc = z.string().length(18);
const appId = z.string().regex(/^[A-Za-z0-9_-]{16,43}$/);
const num = z.number().finite();
const int = z
  .number()
  .int()
  .min(1)
  .max(2 ** 47 - 1);
const GradeSchema = z
  .object({
    grade: z.enum(GRADES),
    evaluator: z.string().max(63),
    city: z.enum(['XM', 'ZZ', 'QZ']),
    evaluatedAt: time,
    validUntil: time,
  })
  .strict();
const ApplicationSchema = z
  .object({
    id: appId,
    uscc,
    city: z.enum(['XM', 'ZZ', 'QZ', 'OTHER']),
    industry: z.string().regex(/^[A-T](\d{2,4})?$/),
    amountYuan: int,
    termMonths: int,
    purpose: z.string().min(1).max(200),
    filedAt: time,
    grade: GradeSchema.optional(),
    gradeMissing: z.string().max(40).optional(),
  })
  .strict();
const ProductRefSchema = z.object({ id: z.string().max(104), code: z.string().max(40) }).passthrough();
const DecisionSchema = z
  .object({
    outcome: z.enum(['APPROVED', 'REFUSED']),
    amountYuan: int.optional(),
    termMonths: int.optional(),
    ratePct: num.optional(),
    reasonCode: z.enum(REFUSAL_REASONS).optional(),
    officer: z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/),
    decidedAt: time,
  })
  .strict();
const FrameSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('product'), input: z.unknown(), publishedBy: z.string().max(128) }).strict(),
  z.object({ op: z.literal('withdraw'), code: z.string().max(40) }).strict(),
  z.object({ op: z.literal('application'), application: ApplicationSchema, product: ProductRefSchema }).strict(),
  z
    .object({
      op: z.literal('decision'),
      applicationId: appId,
      productId: z.string().max(104),
      decision: DecisionSchema,
    })
    .strict(),
  z.object({ op: z.literal('grade'), uscc, correlationId: z.string().regex(/^[A-Za-z0-9._:-]{8,64}$/) }).strict(),
]);
const ConsentAnswer = z.object({ consentId: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }).strict();
const GradeAnswerSchema = z
  .object({
    attestation: z.object({ document: z.string().max(4096), signature: z.string(), signedBy: z.string() }).strict(),
    industry: z.string().max(8),
  })
  .strict();

/** What the protocol needs. */
export interface EasyLoanProtocolComponents {
  host: FederationHost;
  nodeId: string;
  /** This node's easy-loan parts (by role). */
  easyLoan: () => EasyLoan | undefined;
  /** Nodes whose requests and answers are not trusted (an uncleared witness alarm). */
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** The protocol: its handler, and the requests the easy-loan services make. */
export interface EasyLoanProtocol {
  peers: EasyLoanPeers;
  register(): Promise<void>;
}

/** Creates the easy-loan protocol. */
export function createEasyLoanProtocol(c: EasyLoanProtocolComponents): EasyLoanProtocol {
  const log = c.logger.child({ component: 'easyloan-protocol' });
  const quarantined = (id: string) => (c.quarantined?.() ?? []).includes(id);
  const members = () =>
    (c.host.roster()?.roster.members ?? []).filter(
      (m) => isActive(m) && m.nodeId !== c.nodeId && !quarantined(m.nodeId),
    );
  const ask = (node: string, frame: z.infer<typeof FrameSchema>, timeoutMs = 20_000) =>
    c.host.request(node, EASYLOAN_PROTOCOL, frame, { timeoutMs });

  const peers: EasyLoanPeers = {
    platform: () => members().find((m) => m.role === 'easy-loan')?.nodeId,
    centreOf(city) {
      const centres = members().filter((m) => CENTRE_ROLES.includes(m.role) && m.city === city);
      return (centres.find((m) => m.role === 'credit-centre') ?? centres[0])?.nodeId;
    },
    signingKey: (nodeId) => c.host.roster()?.roster.members.find((m) => m.nodeId === nodeId)?.signingKey,
    async publish(platform, publication) {
      return (await ask(platform, { op: 'product', ...publication })) as Product;
    },
    async withdraw(platform, code) {
      return (await ask(platform, { op: 'withdraw', code })) as Product;
    },
    async forward(bank, forwarded) {
      const answer = ConsentAnswer.safeParse(await ask(bank, { op: 'application', ...forwarded } as never));
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${bank} answered with a malformed consent id`);
      return answer.data;
    },
    async decide(platform, report) {
      await ask(platform, { op: 'decision', ...report } as never);
    },
    async grade(centre, request) {
      const answer = GradeAnswerSchema.safeParse(await ask(centre, { op: 'grade', ...request }, 10_000));
      if (!answer.success) throw new PeerError('BAD_RESPONSE', `${centre} answered with a malformed grade`);
      return answer.data as GradeAnswer;
    },
  };

  const handle = async (raw: unknown, peer: { nodeId: string; role: string }) => {
    if (quarantined(peer.nodeId)) throw new PeerError('QUARANTINED', 'requests of a quarantined member are refused');
    const parsed = FrameSchema.safeParse(raw);
    if (!parsed.success)
      throw new PeerError(
        'BAD_REQUEST',
        `malformed easy-loan frame: ${parsed.error.issues[0]?.path.join('.') || 'op'}`,
      );
    const f = parsed.data;
    const parts = c.easyLoan();
    const from = (role: string) => {
      if (peer.role !== role) throw new PeerError('FORBIDDEN', `${peer.role} nodes may not send ${f.op}`);
    };
    const missing = (what: string) => new PeerError('WRONG_ROLE', `this node is not ${what}`);
    switch (f.op) {
      case 'product': {
        from('bank');
        if (!parts?.platform) throw missing('the easy-loan platform');
        return parts.platform.receiveProduct(peer.nodeId, { input: f.input as never, publishedBy: f.publishedBy });
      }
      case 'withdraw':
        from('bank');
        if (!parts?.platform) throw missing('the easy-loan platform');
        return parts.platform.receiveWithdraw(peer.nodeId, f.code);
      case 'decision':
        from('bank');
        if (!parts?.platform) throw missing('the easy-loan platform');
        await parts.platform.receiveDecision(peer.nodeId, f as unknown as DecisionReport);
        return { ok: true };
      case 'application': {
        from('easy-loan');
        if (!parts?.desk) throw missing('a bank');
        const { op: _, ...forwarded } = f;
        const out = await parts.desk.receiveApplication(peer.nodeId, forwarded as unknown as ForwardedApplication);
        log.debug({ peer: peer.nodeId }, 'application received');
        return out;
      }
      case 'grade':
        from('easy-loan');
        if (!parts?.grades) throw missing('a city centre that grades');
        return parts.grades.serve(peer.nodeId, { uscc: f.uscc, correlationId: f.correlationId });
    }
  };

  return {
    peers,
    register: () =>
      c.host.register({
        id: EASYLOAN_PROTOCOL,
        roles: ROLES,
        maxRequestBytes: MAX_EASYLOAN_FRAME_BYTES,
        timeoutMs: 20_000,
        maxConcurrentPerPeer: 8,
        handle: (raw, ctx) => handle(raw, ctx.peer),
      }),
  };
}
