/**
 * The evaluation service of a city node (credit centre or city peer with a city): its evaluator,
 * agreement book, recognition and exchange with the other centres, and what the API asks of
 * them, with the caller's role checked and every read of an enterprise's grade logged.
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import type { Ed25519Signer } from '../crypto/index.ts';
import { type CityId, cityOfRegion, validateUscc } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { RootDb } from '../storage/index.ts';
import type { SignedAgreement } from './agreement.ts';
import { type AgreementBook, type AgreementProposal, createAgreementBook } from './agreements.ts';
import type { SignedAttestation } from './attestation.ts';
import type { Explanation } from './engine.ts';
import { ForbiddenError, InvalidInputError, NotResponsibleError } from './errors.ts';
import { createEvaluator, type EvaluationRunSummary, type Evaluator } from './evaluator.ts';
import { createExchange, type Exchange, type PeerRef } from './exchange.ts';
import { describeIndicators, type IndicatorView } from './indicators.ts';
import { profileInputs } from './inputs.ts';
import type { EvaluationPeers } from './ports.ts';
import { createRecognition, type Recognition } from './recognition.ts';
import type { Scheme } from './scheme.ts';
import { schemeById, schemeForCity } from './schemes.ts';
import {
  evaluationStore,
  type GradeRecord,
  type RecognitionOutcome,
  type RecognitionRecord,
  type StoredAgreement,
} from './store.ts';
import type { CentreInfo, DistributionRow } from './types.ts';

/** Purpose of the log entries of API reads of grades. */
export const EVALUATION_READ_PURPOSE = 'credit-evaluation';

/** A grade as the API shows it: the record (indicators named), its signed attestation and its history. */
export interface EvaluationView extends Omit<GradeRecord, 'document' | 'explanation'> {
  explanation: Omit<Explanation, 'indicators'> & { indicators: IndicatorView[] };
  attestation: SignedAttestation;
  history: Array<Pick<GradeRecord, 'seq' | 'grade' | 'score' | 'maxScore' | 'scheme' | 'evaluatedAt' | 'validUntil'>>;
}

/** An enterprise's grades side by side: this city's own and those recognised from other cities. */
export interface RecognisedView {
  uscc: string;
  /** This node's city. */
  city: CityId;
  /** This city's own grade, when the enterprise is domiciled here. */
  local: EvaluationView | null;
  /** Attestations of other cities held here, each with how this city recognises them now. */
  recognised: RecognitionRecord[];
  /** Home centres that did not answer (the held attestation, if any, is shown instead). */
  unavailable: string[];
}

/** An agreement as the API shows it. */
export interface AgreementView extends StoredAgreement {
  status: ReturnType<AgreementBook['status']>;
}

/** What the evaluation service needs. */
export interface EvaluationServiceComponents {
  db: RootDb;
  profiles: ProfileStore;
  log: AccessLogPort;
  signer: Ed25519Signer;
  nodeId: string;
  role: string;
  city: CityId;
  /** The federation's requests and roster; absent on a stand-alone node. */
  peers?: () => EvaluationPeers | undefined;
  logger: Logger;
}

/** Settings of the evaluation service. */
export interface EvaluationServiceInit {
  /** The scheme graded with (default: the city's scheme in the repository). */
  scheme?: Scheme;
  /** The clock (default `Date.now`); tests inject one to move through validity periods. */
  now?: () => number;
}

/** The evaluation service. */
export interface EvaluationService {
  readonly city: CityId;
  readonly scheme: Scheme;
  readonly evaluator: Evaluator;
  readonly agreements: AgreementBook;
  /** Grades every enterprise that needs it (`force`: all). */
  evaluateAll(options?: { force?: boolean; signal?: AbortSignal }): Promise<EvaluationRunSummary>;
  /** Re-grades one enterprise if its inputs (or time) changed; the hook for fact changes. */
  reevaluate(uscc: string): Promise<GradeRecord | undefined>;
  /** Whether an enterprise would get a new grade (digest comparison only). */
  changed(uscc: string): Promise<boolean>;
  /** How this city recognises an attestation now (or at `now`). Never throws on bad input. */
  recognise(attestation: unknown, options?: { now?: number }): Promise<RecognitionOutcome>;
  /** Foreign attestations held about an enterprise, each recognised again now (or at `now`). */
  recognitions(uscc: string, options?: { now?: number }): Promise<RecognitionRecord[]>;

  /** API: an enterprise's grade with its explanation (centre staff, or the enterprise itself). */
  view(principal: Principal, uscc: string, correlationId: string): Promise<EvaluationView>;
  /** API: this city's grade beside those recognised from other cities (fetched from the home centre). */
  recognisedView(principal: Principal, uscc: string, correlationId: string): Promise<RecognisedView>;
  /** API: grade counts per city and industry (centre staff). */
  distributions(principal: Principal): Promise<{ rows: DistributionRow[]; unavailable: string[] }>;
  /** API: runs a full evaluation, or re-grades one enterprise (centre staff). */
  run(principal: Principal, uscc?: string): Promise<EvaluationRunSummary>;
  /** API: agreements held here (centre staff). */
  listAgreements(principal: Principal): Promise<AgreementView[]>;
  /** API: proposes an agreement to another centre (centre staff); `delivered` says whether it reached it. */
  proposeAgreement(principal: Principal, p: AgreementProposal): Promise<AgreementView & { delivered: boolean }>;
  /** API: counter-signs a proposal and distributes the agreement to every centre (centre staff). */
  signAgreement(principal: Principal, id: string): Promise<AgreementView & { distributedTo: string[] }>;
  /** API: keeps an agreement signed by both parties, e.g. from a file (centre staff). */
  importAgreement(principal: Principal, agreement: unknown): Promise<AgreementView>;

  /** Federation: a centre asks for an attestation. */
  serveAttestation(
    peer: PeerRef,
    req: { uscc: string; principal: string; correlationId: string },
  ): Promise<SignedAttestation>;
  /** Federation: a home centre pushes a new grade. */
  receivePush(peer: PeerRef, attestation: unknown, correlationId: string): Promise<RecognitionOutcome>;
  /** Federation: the other party of a proposal sends it. */
  receiveProposal(peer: PeerRef, agreement: unknown): Promise<void>;
  /** Federation: an agreement signed by both parties is distributed. */
  receiveAgreement(peer: PeerRef, agreement: unknown): Promise<void>;
  /** Federation: this city's grade counts. */
  localDistribution(): Promise<DistributionRow[]>;
  start(): Promise<void>;
}

const staff = (p: Principal) => {
  if (p.role !== 'centre-staff') throw new ForbiddenError('this needs the role centre-staff');
};

function usccOf(input: string): string {
  const r = validateUscc(typeof input === 'string' ? input : '');
  if (!r.valid) throw new InvalidInputError('uscc is not a valid USCC');
  return r.code;
}

/** Creates the evaluation service of a city node. */
export function createEvaluationService(
  c: EvaluationServiceComponents,
  init: EvaluationServiceInit = {},
): EvaluationService {
  const now = init.now ?? Date.now;
  const scheme = init.scheme ?? schemeForCity(c.city);
  if (scheme.city !== c.city) throw new TypeError(`scheme ${scheme.id} is not a scheme of ${c.city}`);
  const store = evaluationStore(c.db);
  const centres = (): CentreInfo[] =>
    c.peers?.()?.centres() ?? [{ nodeId: c.nodeId, city: c.city, signingKey: c.signer.publicKey }];
  const evaluator = createEvaluator({
    store,
    profiles: c.profiles,
    inputs: profileInputs({ db: c.db, profiles: c.profiles }),
    signer: c.signer,
    nodeId: c.nodeId,
    city: c.city,
    scheme,
    now,
  });
  const book = createAgreementBook({ store, signer: c.signer, nodeId: c.nodeId, city: c.city, centres, now });
  const recognition: Recognition = createRecognition({ profiles: c.profiles, book, city: c.city, centres });
  const exchange: Exchange = createExchange({
    store,
    evaluator,
    recognition,
    log: c.log,
    peers: () => c.peers?.(),
    nodeId: c.nodeId,
    role: c.role,
    city: c.city,
    now,
    logger: c.logger,
  });

  const viewOf = async (g: GradeRecord): Promise<EvaluationView> => {
    const { document: _, explanation, ...rest } = g;
    const specs = schemeById(g.scheme.id, g.scheme.version)?.indicators ?? [];
    return {
      ...rest,
      explanation: { ...explanation, indicators: describeIndicators(specs, explanation.indicators) },
      attestation: evaluator.issue(g),
      history: (await evaluator.history(g.uscc)).map((h) => ({
        seq: h.seq,
        grade: h.grade,
        score: h.score,
        maxScore: h.maxScore,
        scheme: h.scheme,
        evaluatedAt: h.evaluatedAt,
        validUntil: h.validUntil,
      })),
    };
  };
  const agreementView = (a: StoredAgreement): AgreementView => ({ ...a, status: book.status(a, now()) });

  /** Checks who may read an enterprise's grade here and logs the decision before anything is shown. */
  const gate = async (principal: Principal, input: string, correlationId: string) => {
    const v = validateUscc(typeof input === 'string' ? input : '');
    const allowed =
      v.valid && (principal.role === 'centre-staff' || (principal.role === 'enterprise' && principal.uscc === v.code));
    await c.log.append({
      time: new Date().toISOString(),
      actor: { node: c.nodeId, principal: `${principal.role}:${principal.sub}`, role: principal.role },
      action: 'PROFILE_READ',
      decision: allowed ? 'ALLOW' : 'DENY',
      ...(allowed ? {} : { reason: v.valid ? 'FORBIDDEN' : 'BAD_REQUEST' }),
      purpose: EVALUATION_READ_PURPOSE,
      scopes: ['evaluation'],
      ...(v.valid ? { subject: v.code } : {}),
      correlationId,
    });
    if (!v.valid) throw new InvalidInputError('uscc is not a valid USCC');
    if (!allowed)
      throw new ForbiddenError("an enterprise's grade is shown to centre staff and to the enterprise itself");
    return v.code;
  };

  /** The city an enterprise is at home in: its domicile if held here, else its registration region. */
  const homeCity = async (uscc: string): Promise<CityId | undefined> => {
    const reg = await c.profiles.getEnterprise(uscc);
    return cityOfRegion(reg?.domicileRegion ?? uscc.slice(2, 8));
  };

  return {
    city: c.city,
    scheme,
    evaluator,
    agreements: book,
    evaluateAll: (options) => evaluator.runAll(options),
    reevaluate: (uscc) => evaluator.reevaluate(uscc),
    changed: (uscc) => evaluator.changed(uscc),
    recognise: async (attestation, options = {}) =>
      (await recognition.recognise(attestation, options.now ?? now())).outcome,
    recognitions: (uscc, options = {}) => exchange.held(uscc, options.now ?? now()),

    async view(principal, input, correlationId) {
      const uscc = await gate(principal, input, correlationId);
      const g = await evaluator.reevaluate(uscc);
      if (!g) throw new NotResponsibleError(`${c.nodeId} does not grade this enterprise (not domiciled in ${c.city})`);
      return viewOf(g);
    },
    async recognisedView(principal, input, correlationId) {
      const uscc = await gate(principal, input, correlationId);
      const own = await evaluator.reevaluate(uscc);
      const unavailable: string[] = [];
      const home = await homeCity(uscc);
      const centre = home && home !== c.city ? centres().find((x) => x.city === home) : undefined;
      if (centre)
        await exchange.fetch(centre.nodeId, uscc, principal, correlationId).catch((err) => {
          if ((err as { code?: string }).code === 'PEER_UNAVAILABLE') unavailable.push(centre.nodeId);
          else if ((err as { code?: string }).code !== 'NOT_RESPONSIBLE') throw err;
        });
      return {
        uscc,
        city: c.city,
        local: own ? await viewOf(own) : null,
        recognised: await exchange.held(uscc),
        unavailable,
      };
    },
    async distributions(principal) {
      staff(principal);
      const rows = await evaluator.distribution();
      const unavailable: string[] = [];
      const peers = c.peers?.();
      const others = peers ? centres().filter((x) => x.nodeId !== c.nodeId) : [];
      await Promise.all(
        others.map(async (o) => {
          try {
            const theirs = await peers!.distribution(o.nodeId);
            for (const r of theirs) if (r.city === o.city) rows.push(r);
          } catch {
            unavailable.push(o.nodeId);
          }
        }),
      );
      return { rows, unavailable };
    },
    async run(principal, uscc) {
      staff(principal);
      if (uscc === undefined) return evaluator.runAll();
      const started = performance.now();
      const before = await evaluator.current(usccOf(uscc));
      const g = await evaluator.reevaluate(usccOf(uscc));
      if (!g) throw new NotResponsibleError(`${c.nodeId} does not grade this enterprise`);
      const grades = { A: 0, B: 0, C: 0, D: 0 };
      grades[g.grade] = 1;
      const graded = before?.seq === g.seq ? 0 : 1;
      return { enterprises: 1, graded, unchanged: 1 - graded, grades, ms: Math.round(performance.now() - started) };
    },
    async listAgreements(principal) {
      staff(principal);
      return (await book.list()).map(agreementView);
    },
    async proposeAgreement(principal, p) {
      staff(principal);
      const a = await book.propose(p);
      let delivered = false;
      try {
        await c.peers?.()?.propose(p.with, a.agreement);
        delivered = c.peers?.() !== undefined;
      } catch (err) {
        c.logger.warn({ peer: p.with, code: (err as { code?: string }).code }, 'agreement proposal not delivered');
      }
      return { ...agreementView(a), delivered };
    },
    async signAgreement(principal, id) {
      staff(principal);
      const a = await book.sign(typeof id === 'string' ? id : '');
      const distributedTo: string[] = [];
      const peers = c.peers?.();
      await Promise.all(
        centres()
          .filter((x) => x.nodeId !== c.nodeId)
          .map(async (x) => {
            try {
              await peers?.distribute(x.nodeId, a.agreement as SignedAgreement);
              if (peers) distributedTo.push(x.nodeId);
            } catch (err) {
              c.logger.warn({ peer: x.nodeId, code: (err as { code?: string }).code }, 'agreement not distributed');
            }
          }),
      );
      return { ...agreementView(a), distributedTo: distributedTo.sort() };
    },
    async importAgreement(principal, agreement) {
      staff(principal);
      return agreementView(await book.receive(agreement));
    },

    serveAttestation: (peer, req) => exchange.serve(peer, { ...req, uscc: usccOf(req.uscc) }),
    receivePush: (peer, attestation, correlationId) => exchange.receive(peer, attestation, correlationId),
    async receiveProposal(peer, agreement) {
      await book.receiveProposal(peer.nodeId, agreement);
    },
    async receiveAgreement(_peer, agreement) {
      await book.receive(agreement);
    },
    localDistribution: () => evaluator.distribution(),
    start: () => exchange.start(),
  };
}
