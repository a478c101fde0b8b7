/**
 * The coordinator of joint queries (the Credit Easy-Loan platform, DESIGN §7): it fixes the
 * participants of a round, relays their signed mask keys, adds their ciphertexts and returns
 * only the sum (exposure) or the weighted sum (score) to the requesting bank. It never holds a
 * key that decrypts anything, and never sees a figure.
 *
 * A round: every participant is asked to join (consent decided and logged there); the set of
 * those that joined is fixed; each is asked to contribute with that set's mask keys. If one does
 * not answer, its peers' masks no longer cancel, so the round is restarted without it (a new
 * attempt, new mask keys); the result names who contributed, who refused which enterprises, and
 * who dropped out. An exposure needs at least {@link MIN_EXPOSURE_CONTRIBUTORS} contributors, so
 * that no bank's figures can be read off the total.
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../../accesslog/port.ts';
import {
  createScoringModel,
  EXPOSURE_VECTORS,
  type HePool,
  linearCombine,
  MAX_CIPHERTEXT_BYTES,
  SMALL_EXPOSURE_VECTOR,
  SMALL_SET,
  STANDARD_SET,
} from '../../crypto/he/index.ts';
import { fromBase64, toBase64 } from '../../crypto/index.ts';
import { modelSections, type ScoreModel } from '../../model/index.ts';
import { type FederationHost, PeerError } from '../host.ts';
import type { RosterMember } from '../roster.ts';
import { checkQuery, type MaskKey } from './contributor.ts';
import { JOINT_FRESHNESS_MS, publicKeyHash, type SignedJointQuery } from './query.ts';
import { scoringSpec } from './scoring.ts';

/** Fewest contributors an exposure total may come from (one would reveal that bank's figures). */
export const MIN_EXPOSURE_CONTRIBUTORS = 2;
/** Time limits of the two steps of a round. */
export const JOIN_TIMEOUT_MS = 30_000;
export const CONTRIBUTE_TIMEOUT_MS = 60_000;

const HOLDER_ROLES = new Set(['credit-centre', 'city-peer', 'source']);

/** What the coordinator returns to the requester. */
export interface CoordinatedResult {
  queryId: string;
  /** OK, or why no sum is returned. */
  status: 'OK' | 'INSUFFICIENT_CONTRIBUTORS';
  /** Base64 ciphertexts: one per exposure vector, or `score`. */
  sums: Record<string, string>;
  contributors: string[];
  /** Enterprises (batch indexes) each contributor refused, with the reason. */
  refused: Record<string, Array<{ index: number; reason: string }>>;
  /** Participants that joined but did not contribute (their round was restarted without them). */
  dropped: string[];
  /** Each contributor's signed log checkpoint after its entries for this query. */
  provenance: Array<{ node: string; checkpoint?: string }>;
  attempts: number;
}

/** What the coordinator needs. */
export interface CoordinatorComponents {
  host: FederationHost;
  log: AccessLogPort;
  he: () => Promise<HePool>;
  nodeId: string;
  member: (nodeId: string) => RosterMember | undefined;
  members: () => readonly RosterMember[];
  quarantined: () => readonly string[];
  model: ScoreModel;
  logger: Logger;
  /** Sends one step to a participant (the joint protocol). */
  ask: (nodeId: string, body: unknown, timeoutMs: number, signal?: AbortSignal) => Promise<unknown>;
}

/** Creates the coordinator role. */
export function createCoordinator(c: CoordinatorComponents) {
  const log = c.logger.child({ component: 'joint-coordinator' });
  /** Queries run, until they could no longer pass the freshness check. */
  const seen = new Map<string, number>();

  const participantsOf = (signed: SignedJointQuery) => {
    const q = signed.query;
    const out = c
      .members()
      .filter((m) => m.nodeId !== c.nodeId && m.nodeId !== q.requester && !c.quarantined().includes(m.nodeId));
    if (q.kind === 'exposure') return out.filter((m) => m.role === 'bank');
    const sections = modelSections(c.model);
    return out.filter(
      (m) => HOLDER_ROLES.has(m.role) && (m.serves === undefined || m.serves.some((s) => sections.includes(s))),
    );
  };

  return {
    /** Runs a query for the requesting bank `from`; returns the summed ciphertexts. */
    async run(signed: SignedJointQuery, publicKey: Uint8Array, from: RosterMember, signal?: AbortSignal) {
      const q = signed.query;
      if (from.role !== 'bank' || q.requester !== from.nodeId)
        throw new PeerError('FORBIDDEN', 'a bank runs joint queries only for itself');
      checkQuery({ nodeId: '', member: c.member }, signed);
      if (publicKeyHash(publicKey) !== q.publicKeyHash)
        throw new PeerError('BAD_REQUEST', 'the public key is not the one the query names');
      const now = Date.now();
      for (const [id, until] of seen) if (until < now) seen.delete(id);
      if (seen.has(q.id)) throw new PeerError('FORBIDDEN', 'this query was already run (replay)');
      seen.set(q.id, now + 2 * JOINT_FRESHNESS_MS);
      await c.log.append({
        time: new Date().toISOString(),
        actor: { node: c.nodeId, principal: `${q.requester}/${q.principal}`, role: 'bank-officer' },
        action: 'JOINT_QUERY',
        decision: 'ALLOW',
        reason: `COORDINATED:${q.batch.length}`,
        purpose: q.purpose,
        scopes: [`joint:${q.kind}`],
        correlationId: q.id,
      });
      let participants = participantsOf(signed).map((m) => m.nodeId);
      const dropped: string[] = [];
      const refused: CoordinatedResult['refused'] = {};
      for (let attempt = 1; attempt <= participants.length + 1; attempt++) {
        // Step 1: join (consent decided and logged at each participant).
        const joined = await Promise.allSettled(
          participants.map(async (node) => ({
            node,
            answer: (await c.ask(node, { op: 'join', signed, attempt }, JOIN_TIMEOUT_MS, signal)) as {
              refused?: Array<{ index: number; reason: string }>;
              maskKey?: MaskKey;
            },
          })),
        );
        const members = joined.flatMap((j, i) => {
          if (j.status === 'fulfilled') return [j.value];
          log.warn({ peer: participants[i], err: (j.reason as Error).message }, 'participant did not join');
          return [];
        });
        for (const m of members) refused[m.node] = m.answer.refused ?? [];
        const set = members.map((m) => m.node);
        if (q.kind === 'exposure' && set.length < MIN_EXPOSURE_CONTRIBUTORS)
          return result(q.id, 'INSUFFICIENT_CONTRIBUTORS', {}, [], refused, dropped, [], attempt);
        const maskKeys = members.flatMap((m) => (m.answer.maskKey ? [m.answer.maskKey] : []));
        // Step 2: contribute with the fixed set's mask keys.
        const contributed = await Promise.allSettled(
          set.map(async (node) => ({
            node,
            answer: (await c.ask(
              node,
              { op: 'contribute', queryId: q.id, attempt, publicKey: toBase64(publicKey), participants: maskKeys },
              CONTRIBUTE_TIMEOUT_MS,
              signal,
            )) as { ciphertexts?: Record<string, string>; checkpoint?: string },
          })),
        );
        const failed = set.filter((_, i) => contributed[i].status === 'rejected');
        if (failed.length > 0 && q.kind === 'exposure') {
          // The masks of a missing contributor do not cancel: restart without it.
          dropped.push(...failed);
          participants = set.filter((n) => !failed.includes(n));
          continue;
        }
        const answers = contributed.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
        dropped.push(...failed);
        const sums = await sum(q.kind, q.parameters, answers, signal);
        return result(
          q.id,
          'OK',
          sums,
          answers.map((a) => a.node),
          refused,
          dropped,
          answers.map((a) => ({ node: a.node, ...(a.answer.checkpoint ? { checkpoint: a.answer.checkpoint } : {}) })),
          attempt,
        );
      }
      return result(q.id, 'INSUFFICIENT_CONTRIBUTORS', {}, [], refused, dropped, [], participants.length + 1);
    },
  };

  async function sum(
    kind: string,
    parameters: string,
    answers: Array<{ node: string; answer: { ciphertexts?: Record<string, string> } }>,
    signal?: AbortSignal,
  ): Promise<Record<string, string>> {
    const pool = await c.he();
    const bytes = (node: string, name: string, b64: string | undefined) => {
      const ct =
        typeof b64 === 'string' && b64.length <= (MAX_CIPHERTEXT_BYTES * 4) / 3 + 4 ? fromBase64(b64) : undefined;
      if (!ct) throw new PeerError('BAD_RESPONSE', `${node} sent no valid ${name} ciphertext`);
      return ct;
    };
    if (kind === 'exposure') {
      const out: Record<string, string> = {};
      const small = parameters === SMALL_SET.id;
      for (const v of small ? [SMALL_EXPOSURE_VECTOR] : EXPOSURE_VECTORS)
        out[v] = toBase64(
          await pool.addCiphertexts(
            answers.map((a) => bytes(a.node, v, a.answer.ciphertexts?.[v])),
            { signal, set: small ? SMALL_SET : STANDARD_SET },
          ),
        );
      return out;
    }
    // Score: each feature summed over its holders (each holds different enterprises), then weighted.
    const model = createScoringModel(scoringSpec(c.model));
    const perFeature = new Map<string, Uint8Array>();
    for (const f of c.model.features) {
      const parts = answers.flatMap((a) =>
        a.answer.ciphertexts?.[f.name] !== undefined ? [bytes(a.node, f.name, a.answer.ciphertexts[f.name])] : [],
      );
      if (parts.length === 0) throw new PeerError('PEER_UNAVAILABLE', `no holder contributed feature ${f.name}`);
      perFeature.set(f.name, parts.length === 1 ? parts[0] : await pool.addCiphertexts(parts, { signal }));
    }
    return { score: toBase64(await linearCombine(pool, perFeature, model)) };
  }
}

function result(
  queryId: string,
  status: CoordinatedResult['status'],
  sums: Record<string, string>,
  contributors: string[],
  refused: CoordinatedResult['refused'],
  dropped: string[],
  provenance: CoordinatedResult['provenance'],
  attempts: number,
): CoordinatedResult {
  return { queryId, status, sums, contributors, refused, dropped, provenance, attempts };
}

/** A coordinator role. */
export type Coordinator = ReturnType<typeof createCoordinator>;
