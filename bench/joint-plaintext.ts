/**
 * The baseline of the joint-query benchmark: the same protocol as /credit/joint/1.0.0 (signed
 * queries, participants fixed by the coordinator, consent decided and logged by every contributor
 * when `checks`), carrying plaintext figures instead of ciphertexts, registered on each node.
 */
import { randomInt } from 'node:crypto';
import { decideJoint, type JointDecisions, type Principal } from '../authz/index.ts';
import { HE_PARAMETER_ID } from '../crypto/he/index.ts';
import { ed25519Signer } from '../crypto/index.ts';
import type { HandlerContext } from '../federation/host.ts';
import { PeerError } from '../federation/host.ts';
import { checkQuery } from '../federation/joint/contributor.ts';
import { CONTRIBUTE_TIMEOUT_MS, JOIN_TIMEOUT_MS } from '../federation/joint/coordinator.ts';
import {
  type JointKind,
  type JointQuery,
  publicKeyHash,
  type SignedJointQuery,
  SignedJointQuerySchema,
  signJointQuery,
} from '../federation/joint/query.ts';
import { centredFeatures, fixedPointModel, modelSections, SCORE_MODEL_V1, validateUscc } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';

export const PLAIN_PROTOCOL = '/bench/joint-plaintext/1.0.0';
export const PURPOSE = 'loan-application';
export const officer: Principal = { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' };

interface PlainRound {
  signed: SignedJointQuery;
  allowed: Set<number>;
}

type PlainFrame =
  | { op: 'query'; signed: unknown; checks: boolean }
  | { op: 'join'; signed: unknown; checks: boolean }
  | { op: 'contribute'; queryId: string; checks: boolean }
  | { op: 'echo'; payload: Record<string, string> };

const HOLDER_ROLES = new Set(['credit-centre', 'city-peer', 'source']);

/** Registers the plaintext twin of the joint protocol on one node. */
export async function registerPlaintext(node: CreditNode) {
  const fed = node.federation!;
  const nodeId = node.config.nodeId;
  const role = node.config.role;
  const members = () => fed.host.roster()?.roster.members ?? [];
  const member = (id: string) => members().find((m) => m.nodeId === id);
  const rounds = new Map<string, PlainRound>();
  const parse = (signed: unknown) => {
    const r = SignedJointQuerySchema.safeParse(signed);
    if (!r.success) throw new PeerError('BAD_REQUEST', 'malformed query');
    return r.data;
  };
  const requesterOf = (q: JointQuery): Principal => ({ sub: q.principal, role: 'bank-officer', bank: q.requester });
  const ask = (to: string, body: unknown, timeoutMs: number, signal: AbortSignal) =>
    fed.host.request(to, PLAIN_PROTOCOL, body, { timeoutMs, maxResponseBytes: 8 << 20, signal });

  const coordinate = async (f: { signed: unknown; checks: boolean }, ctx: HandlerContext) => {
    if (role !== 'easy-loan') throw new PeerError('BAD_REQUEST', 'not a coordinator');
    const signed = parse(f.signed);
    const q = signed.query;
    if (ctx.peer.role !== 'bank' || q.requester !== ctx.peer.nodeId) throw new PeerError('FORBIDDEN', 'not yours');
    checkQuery({ nodeId: '', member }, signed);
    if (f.checks)
      await node.accessLog.append({
        time: new Date().toISOString(),
        actor: { node: nodeId, principal: `${q.requester}/${q.principal}`, role: 'bank-officer' },
        action: 'JOINT_QUERY',
        decision: 'ALLOW',
        reason: `COORDINATED:${q.batch.length}`,
        purpose: q.purpose,
        scopes: [`joint:${q.kind}`],
        correlationId: q.id,
      });
    const sections = modelSections(SCORE_MODEL_V1);
    const participants = members()
      .filter((m) => m.nodeId !== nodeId && m.nodeId !== q.requester)
      .filter((m) =>
        q.kind === 'exposure'
          ? m.role === 'bank'
          : HOLDER_ROLES.has(m.role) && (m.serves === undefined || m.serves.some((s) => sections.includes(s))),
      )
      .map((m) => m.nodeId);
    await Promise.all(
      participants.map((p) => ask(p, { op: 'join', signed, checks: f.checks }, JOIN_TIMEOUT_MS, ctx.signal)),
    );
    const answers = (await Promise.all(
      participants.map((p) =>
        ask(p, { op: 'contribute', queryId: q.id, checks: f.checks }, CONTRIBUTE_TIMEOUT_MS, ctx.signal),
      ),
    )) as Array<{ vectors: Record<string, number[]> }>;
    const sums: Record<string, number[]> = {};
    for (const a of answers)
      for (const [name, v] of Object.entries(a.vectors)) {
        sums[name] ??= new Array<number>(q.batch.length).fill(0);
        const s = sums[name];
        for (let i = 0; i < v.length; i++) s[i] += v[i];
      }
    if (q.kind === 'exposure') return { sums, contributors: participants };
    // Score: the weighted sum of the features in fixed point (what linearCombine does under encryption).
    const { intercept, weights } = fixedPointModel(SCORE_MODEL_V1);
    const scores = Array.from({ length: q.batch.length }, (_, i) => {
      let t = intercept;
      for (const feature of SCORE_MODEL_V1.features) t += weights[feature.name] * BigInt(sums[feature.name]?.[i] ?? 0);
      return Number(t) / SCORE_MODEL_V1.scale;
    });
    return { sums: { score: scores }, contributors: participants };
  };

  const joinRound = async (f: { signed: unknown; checks: boolean }, ctx: HandlerContext) => {
    if (ctx.peer.role !== 'easy-loan') throw new PeerError('FORBIDDEN', 'only the coordinator asks');
    const signed = parse(f.signed);
    checkQuery({ nodeId, member }, signed);
    const q = signed.query;
    const decisions: Pick<JointDecisions, 'allowed'> = f.checks
      ? await decideJoint(
          { consents: node.consents, log: node.accessLog, nodeId },
          requesterOf(q),
          q.kind === 'exposure' ? 'joint:exposure' : 'joint:score',
          q.purpose,
          q.batch,
          q.id,
        )
      : { allowed: q.batch.map((_, i) => i) };
    rounds.set(q.id, { signed, allowed: new Set(decisions.allowed) });
    return { joined: true };
  };

  const contribute = async (f: { queryId: string; checks: boolean }, ctx: HandlerContext) => {
    if (ctx.peer.role !== 'easy-loan') throw new PeerError('FORBIDDEN', 'only the coordinator asks');
    const round = rounds.get(f.queryId);
    if (!round) throw new PeerError('NOT_FOUND', 'no such round');
    rounds.delete(f.queryId);
    const q = round.signed.query;
    const vectors: Record<string, number[]> = {};
    if (q.kind === 'exposure') {
      const zeros = () => new Array<number>(q.batch.length).fill(0);
      const [o, d, l] = [zeros(), zeros(), zeros()];
      Object.assign(vectors, { outstanding: o, overdue: d, lenders: l });
      const indexes = [...round.allowed];
      const books = await node.profiles.getLoansMany(indexes.map((i) => q.batch[i].uscc));
      for (const [k, i] of indexes.entries()) {
        for (const loan of books[k]) {
          if (loan.bank !== nodeId || loan.status === 'SETTLED') continue;
          o[i] += loan.outstandingYuan;
          if (loan.status === 'OVERDUE') d[i] += loan.outstandingYuan;
        }
        l[i] = o[i] > 0 ? 1 : 0;
      }
    } else {
      const served = node.config.serves ?? [];
      const features = SCORE_MODEL_V1.features.filter((x) => served.includes(x.section));
      const wanted = [...new Set(features.map((x) => x.section))];
      for (const x of features) vectors[x.name] = new Array<number>(q.batch.length).fill(0);
      for (const [i, s] of q.batch.entries()) {
        if (!round.allowed.has(i)) continue;
        const facts = await node.profiles.getFacts(s.uscc, wanted);
        if (facts.length === 0) continue;
        const centred = centredFeatures(SCORE_MODEL_V1, facts, wanted);
        for (const x of features) vectors[x.name][i] = centred[x.name] ?? 0;
      }
    }
    const checkpoint = f.checks ? await node.accessLog.checkpoint() : undefined;
    return { vectors, ...(checkpoint ? { checkpoint: checkpoint.note } : {}) };
  };

  await fed.host.register({
    id: PLAIN_PROTOCOL,
    roles: ['bank', 'easy-loan'],
    maxRequestBytes: 8 << 20,
    timeoutMs: 180_000,
    maxConcurrentPerPeer: 4,
    handle: async (raw, ctx) => {
      const f = raw as PlainFrame;
      if (f.op === 'query') return coordinate(f, ctx);
      if (f.op === 'join') return joinRound(f, ctx);
      if (f.op === 'contribute') return contribute(f, ctx);
      if (f.op === 'echo') return { bytes: Object.values(f.payload).reduce((a, v) => a + v.length, 0) };
      throw new PeerError('BAD_REQUEST', 'unknown op');
    },
  });
}

/** The requesting side of the plaintext protocol, as `federation.joint.run` does it (one batch). */
export async function plainRun(
  bank: CreditNode,
  kind: JointKind,
  codes: readonly string[],
  checks: boolean,
  consentOf: ReadonlyMap<string, string>,
): Promise<Array<{ uscc: string; status: string; values?: Record<string, number> }>> {
  const subjects = codes.map((u) => ({ uscc: validateUscc(u).code }));
  const scope = kind === 'exposure' ? 'joint:exposure' : 'joint:score';
  const decisions = checks
    ? await decideJoint(
        { consents: bank.consents, log: bank.accessLog, nodeId: bank.config.nodeId },
        officer,
        scope,
        PURPOSE,
        subjects,
        `plain-run-${randomInt(1e12)}`,
      )
    : undefined;
  const allowed = decisions ? decisions.allowed : subjects.map((_, i) => i);
  const batch = await Promise.all(
    allowed.map(async (i) => {
      if (!decisions)
        return { uscc: subjects[i].uscc, consentId: consentOf.get(subjects[i].uscc)!, consentHome: 'xm-centre' };
      const consent = (await bank.consents.get(decisions.consents.get(i)!))!;
      return { uscc: subjects[i].uscc, consentId: consent.id, consentHome: consent.body.home };
    }),
  );
  const query: JointQuery = {
    v: 1,
    kind,
    id: `plain-${randomInt(1e12)}-${Date.now()}`,
    requester: bank.config.nodeId,
    principal: officer.sub,
    purpose: PURPOSE,
    batch,
    parameters: HE_PARAMETER_ID,
    publicKeyHash: publicKeyHash(new Uint8Array(32)),
    issuedAt: new Date().toISOString(),
  };
  const signed = signJointQuery(query, ed25519Signer(bank.keys.identity.seed));
  const answer = (await bank.federation!.host.request(
    'easy-loan',
    PLAIN_PROTOCOL,
    { op: 'query', signed, checks },
    { timeoutMs: 180_000, maxResponseBytes: 8 << 20 },
  )) as { sums: Record<string, number[]> };
  const rows = subjects.map(
    (s) =>
      ({ uscc: s.uscc, status: 'REFUSED' }) as {
        uscc: string;
        status: string;
        values?: Record<string, number>;
      },
  );
  for (const [k, i] of allowed.entries()) {
    rows[i].status = 'OK';
    rows[i].values = Object.fromEntries(Object.entries(answer.sums).map(([name, v]) => [name, v[k]]));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
