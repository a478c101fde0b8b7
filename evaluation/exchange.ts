/**
 * Attestations between cities' centres, purpose `cross-city-recognition` (centre to centre, no
 * enterprise consent: public credit evaluation results shared under the agreements):
 *
 * - `fetch`: a centre asks an enterprise's home centre for its current attestation, recognises
 *   it and keeps it with the outcome; the home records the asking centre as a subscriber.
 * - `serve`: the home re-grades the enterprise if its inputs changed, then answers with its
 *   current attestation, signed now.
 * - `push`: when the home issues a new grade of an enterprise, it sends the new attestation to
 *   its subscribers (repair propagation, credit.md §3.3 rule 4); a centre accepts a push only for
 *   an enterprise it asked about, from its home, correctly signed, and newer than what it holds.
 *
 * Every exchange is an entry in the access log at both ends (`PEER_FETCH`, scope `evaluation`,
 * the enterprise as subject) before anything is released or kept.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import { sha256, toHex, toUtf8 } from '../crypto/index.ts';
import type { CityId } from '../model/index.ts';
import { parseAttestation, type SignedAttestation } from './attestation.ts';
import { AttestationInvalidError, NotResponsibleError } from './errors.ts';
import type { Evaluator } from './evaluator.ts';
import type { EvaluationPeers } from './ports.ts';
import type { Recognition } from './recognition.ts';
import {
  type EvaluationStore,
  type GradeRecord,
  keys,
  type RecognitionOutcome,
  type RecognitionRecord,
} from './store.ts';

/** The purpose under which centres exchange attestations. */
export const CROSS_CITY_PURPOSE = 'cross-city-recognition';

/** A peer as the exchange sees it. */
export interface PeerRef {
  nodeId: string;
  role: string;
}

/** What the exchange needs. */
export interface ExchangeComponents {
  store: EvaluationStore;
  evaluator: Evaluator;
  recognition: Recognition;
  log: AccessLogPort;
  peers: () => EvaluationPeers | undefined;
  nodeId: string;
  role: string;
  city: CityId;
  now: () => number;
  logger: Logger;
}

const digestOf = (a: SignedAttestation) => toHex(sha256(toUtf8(a.document)));

/** Creates the exchange of attestations. */
export function createExchange(c: ExchangeComponents) {
  const sub = c.store.grades;
  const log = c.logger.child({ component: 'evaluation-exchange' });
  /** USCCs with at least one subscriber (loaded at start, so a full run costs no extra reads). */
  const subscribed = new Set<string>();

  const record = (x: {
    principal: string;
    role: string;
    decision: 'ALLOW' | 'DENY';
    subject?: string;
    correlationId: string;
    reason?: string;
    resultDigest?: string;
  }) =>
    c.log.append({
      time: new Date().toISOString(),
      actor: { node: c.nodeId, principal: x.principal, role: x.role },
      action: 'PEER_FETCH',
      decision: x.decision,
      purpose: CROSS_CITY_PURPOSE,
      scopes: ['evaluation'],
      ...(x.subject ? { subject: x.subject } : {}),
      correlationId: x.correlationId,
      ...(x.reason ? { reason: x.reason } : {}),
      ...(x.resultDigest ? { resultDigest: x.resultDigest } : {}),
    });

  /** Keeps a foreign attestation and its outcome unless a newer one from that city is held. */
  const keep = async (city: CityId, attestation: SignedAttestation, outcome: RecognitionOutcome) => {
    const key = keys.recognition(outcome.subject!, city);
    const held = (await sub.get(key)) as RecognitionRecord | undefined;
    if (held && (held.outcome.seq ?? 0) > (outcome.seq ?? 0)) return held;
    const at = new Date(c.now()).toISOString();
    const r: RecognitionRecord = { city, attestation, outcome, receivedAt: at, decidedAt: at };
    await sub.put(key, r);
    return r;
  };

  /** Sends a new grade to the centres that recognised an earlier one. */
  const push = async (g: GradeRecord) => {
    const peers = c.peers();
    if (!peers) return;
    const attestation = c.evaluator.issue(g);
    for await (const key of sub.keys(keys.subscriberRange(g.uscc))) {
      const node = key.slice(keys.subscriber(g.uscc, '').length);
      const correlationId = randomUUID();
      try {
        await record({
          principal: `node:${node}`,
          role: c.role,
          decision: 'ALLOW',
          subject: g.uscc,
          correlationId,
          resultDigest: digestOf(attestation),
        });
        await peers.push(node, attestation, correlationId);
      } catch (err) {
        log.warn({ peer: node, code: (err as { code?: string }).code }, 'new grade not pushed');
      }
    }
  };

  c.evaluator.onGraded((uscc) => {
    if (!subscribed.has(uscc)) return;
    void c.evaluator
      .current(uscc)
      .then((g) => g && push(g))
      .catch((err) => log.warn({ err: (err as Error).message }, 'new grade not pushed'));
  });

  return {
    async start() {
      for await (const key of sub.keys({ gte: 's!', lt: 's"' })) subscribed.add(key.slice(2, 20));
    },

    /** The home side: answers a centre's request with the current attestation. */
    async serve(peer: PeerRef, req: { uscc: string; principal: string; correlationId: string }) {
      const who = { principal: `${peer.nodeId}/${req.principal}`, role: peer.role, correlationId: req.correlationId };
      const g = await c.evaluator.reevaluate(req.uscc);
      if (!g) {
        await record({ ...who, decision: 'DENY', subject: req.uscc, reason: 'NOT_EVALUATED' });
        throw new NotResponsibleError(`${c.nodeId} does not grade this enterprise`);
      }
      const attestation = c.evaluator.issue(g);
      await record({ ...who, decision: 'ALLOW', subject: req.uscc, resultDigest: digestOf(attestation) });
      await sub.put(keys.subscriber(req.uscc, peer.nodeId), new Date().toISOString());
      subscribed.add(req.uscc);
      return attestation;
    },

    /**
     * The asking side: fetches an enterprise's attestation from its home centre, recognises and
     * keeps it. Rejects with the peer's error (logged as a refusal with its code).
     */
    async fetch(home: string, uscc: string, principal: { sub: string; role: string }, correlationId: string) {
      const peers = c.peers();
      if (!peers) throw new NotResponsibleError('this node is not in a federation');
      const who = { principal: `${principal.role}:${principal.sub}`, role: principal.role, correlationId };
      let attestation: SignedAttestation;
      try {
        attestation = await peers.fetchAttestation(home, { uscc, principal: who.principal, correlationId });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        await record({ ...who, decision: 'DENY', subject: uscc, reason: typeof code === 'string' ? code : 'ERROR' });
        throw err;
      }
      const { outcome, body } = await c.recognition.recognise(attestation, c.now());
      const wrong = !body || body.subject !== uscc || body.evaluator.node !== home;
      await record({
        ...who,
        decision: wrong ? 'DENY' : 'ALLOW',
        subject: uscc,
        ...(wrong ? { reason: 'BAD_SIGNATURE' } : { resultDigest: digestOf(attestation) }),
      });
      if (wrong)
        throw new AttestationInvalidError(
          `${home} answered with an attestation that is not its own of this enterprise`,
        );
      return keep(body.evaluator.city, attestation, outcome);
    },

    /** The subscriber side: a home centre sends a new grade. */
    async receive(peer: PeerRef, input: unknown, correlationId: string): Promise<RecognitionOutcome> {
      let subject: string | undefined;
      try {
        subject = parseAttestation(input).body.subject;
      } catch {
        // refused below, without a subject
      }
      const who = { principal: `node:${peer.nodeId}`, role: peer.role, correlationId, subject };
      const { outcome, body } = await c.recognition.recognise(input, c.now());
      const refuse = async (reason: string, message: string): Promise<never> => {
        await record({ ...who, decision: 'DENY', reason });
        throw new AttestationInvalidError(message);
      };
      if (!body || outcome.reason === 'BAD_SIGNATURE')
        return refuse('BAD_SIGNATURE', outcome.detail ?? 'bad attestation');
      if (body.evaluator.node !== peer.nodeId) return refuse('BAD_SIGNATURE', 'a centre pushes only its own grades');
      const held = (await sub.get(keys.recognition(body.subject, body.evaluator.city))) as
        | RecognitionRecord
        | undefined;
      if (!held) return refuse('NOT_SUBSCRIBED', 'this centre did not ask about this enterprise');
      await record({ ...who, decision: 'ALLOW', resultDigest: digestOf(input as SignedAttestation) });
      await keep(body.evaluator.city, input as SignedAttestation, outcome);
      return outcome;
    },

    /** Foreign attestations held about an enterprise, each recognised again at `now`. */
    async held(uscc: string, now = c.now()): Promise<RecognitionRecord[]> {
      const out: RecognitionRecord[] = [];
      for await (const v of sub.values(keys.recognitionRange(uscc))) {
        const r = v as RecognitionRecord;
        const { outcome } = await c.recognition.recognise(r.attestation, now);
        out.push({ ...r, outcome, decidedAt: new Date(now).toISOString() });
      }
      return out;
    },
  };
}

/** The exchange of attestations. */
export type Exchange = ReturnType<typeof createExchange>;
