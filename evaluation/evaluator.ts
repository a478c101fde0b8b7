/**
 * The evaluator of a city node: grades the enterprises it is responsible for (domicile in its
 * city) under its scheme, issues each grade as a signed attestation, keeps the history, and
 * writes the current grade as the enterprise's EVALUATION fact (so a bank reads it in the
 * `evaluation` section under the enterprise's consent, through the section protocol).
 *
 * Re-grading is incremental: an enterprise gets a new grade only when the digest of its inputs
 * changed, time alone changed an indicator (a publicity window ended, an anniversary passed), the
 * scheme changed, or its attestation is within {@link RENEW_BEFORE_DAYS} of its end. Otherwise the
 * current grade stands and nothing is written. Writes of a grade (current, history, index, fact)
 * are one atomic batch; concurrent re-grades of one enterprise never overwrite a newer grade.
 */
import type { Ed25519Signer } from '../crypto/index.ts';
import { type CityId, type CreditFact, cityOfRegion, type LegalPerson } from '../model/index.ts';
import type { BatchOp, ProfileStore } from '../profiles/index.ts';
import { attestationDocument, attestationId, type SignedAttestation, signAttestationDocument } from './attestation.ts';
import { evaluateEnterprise, explanationDigest } from './engine.ts';
import type { EnterpriseInputs, InputSource } from './inputs.ts';
import { GRADES, type Grade, type Scheme } from './scheme.ts';
import { type EvaluationStore, type GradeRecord, keys } from './store.ts';
import type { DistributionRow } from './types.ts';

/** An attestation is renewed this many days before it ends (the annual cycle). */
export const RENEW_BEFORE_DAYS = 30;
/** Enterprises per write batch of a full run. */
export const RUN_BATCH = 500;
const DAY = 86_400_000;

/** What a full run did. */
export interface EvaluationRunSummary {
  /** Enterprises this node is responsible for. */
  enterprises: number;
  /** New grades issued. */
  graded: number;
  /** Grades that stood (inputs unchanged). */
  unchanged: number;
  /** Current grades after the run. */
  grades: Record<Grade, number>;
  ms: number;
}

/** What the evaluator needs. */
export interface EvaluatorComponents {
  store: EvaluationStore;
  profiles: ProfileStore;
  inputs: InputSource;
  signer: Ed25519Signer;
  nodeId: string;
  city: CityId;
  scheme: Scheme;
  now: () => number;
}

/** The evaluator. */
export interface Evaluator {
  /** Whether this node grades the enterprise of this registration record. */
  responsibleFor(registration: LegalPerson): boolean;
  /** Grades every enterprise this node is responsible for that needs it; `force` re-grades all. */
  runAll(options?: { force?: boolean; signal?: AbortSignal }): Promise<EvaluationRunSummary>;
  /**
   * Re-grades one enterprise if its inputs changed (or time did); returns its current grade, or
   * `undefined` when it is not held here or not this node's to grade.
   */
  reevaluate(uscc: string, options?: { force?: boolean }): Promise<GradeRecord | undefined>;
  /** Whether the enterprise would get a new grade (a digest comparison, no evaluation). */
  changed(uscc: string): Promise<boolean>;
  current(uscc: string): Promise<GradeRecord | undefined>;
  /** Earlier grades, oldest first. */
  history(uscc: string): Promise<GradeRecord[]>;
  /** Counts of current grades by industry. */
  distribution(): Promise<DistributionRow[]>;
  /** The grade as a signed attestation (signed now; the same bytes every time). */
  issue(record: GradeRecord): SignedAttestation;
  /** Called after each new grade is stored. */
  onGraded(listener: (record: GradeRecord, previous: GradeRecord | undefined) => void): () => void;
}

const CITY_NAMES: Record<CityId, string> = { XM: '厦门市', ZZ: '漳州市', QZ: '泉州市' };

/** Creates the evaluator. */
export function createEvaluator(c: EvaluatorComponents): Evaluator {
  const { store, scheme } = c;
  const sub = store.grades;
  const listeners = new Set<(r: GradeRecord, p: GradeRecord | undefined) => void>();
  /** Commits of single re-grades since start (a full run re-checks its batch when this moved). */
  let singleCommits = 0;
  let commitQueue: Promise<unknown> = Promise.resolve();
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier commit (commits are serialised). */
  const commit = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = commitQueue.then(fn);
    commitQueue = next.catch(() => undefined);
    return next;
  };

  const responsibleFor = (r: LegalPerson) => cityOfRegion(r.domicileRegion) === c.city;

  /** Whether a stored grade must be renewed at `now` although its inputs did not change. */
  const due = (cur: GradeRecord, now: number) =>
    cur.scheme.id !== scheme.id ||
    cur.scheme.version !== scheme.version ||
    (cur.stableUntil !== undefined && new Date(now).toISOString().slice(0, 10) >= cur.stableUntil) ||
    now >= Date.parse(cur.validUntil) - RENEW_BEFORE_DAYS * DAY;

  const needs = (e: EnterpriseInputs, cur: GradeRecord | undefined, now: number, force?: boolean) =>
    force || !cur || cur.inputsDigest !== e.digest || due(cur, now);

  /** A new grade record and the writes that store it. */
  const grade = (e: EnterpriseInputs, previous: GradeRecord | undefined, now: number) => {
    const asOf = new Date(now).toISOString().slice(0, 10);
    const ev = evaluateEnterprise(scheme, e.registration, e.facts, asOf);
    const seq = (previous?.seq ?? 0) + 1;
    const evaluatedAt = new Date(now).toISOString();
    const validUntil = new Date(now + scheme.validityDays * DAY).toISOString();
    const digest = explanationDigest(ev.explanation);
    const document = attestationDocument({
      format: 'credit-data-space/evaluation-attestation@1',
      subject: e.uscc,
      grade: ev.grade,
      score: ev.score,
      maxScore: scheme.totalWeight,
      scheme: { id: scheme.id, version: scheme.version },
      evaluator: { node: c.nodeId, city: c.city },
      evaluatedAt,
      validUntil,
      inputsDigest: e.digest,
      explanationDigest: digest,
      seq,
      ...(ev.explanation.cap ? { cap: 'SERIOUS_DISHONESTY' as const } : {}),
    });
    const industry = e.registration.industryCode?.[0] ?? '?';
    const record: GradeRecord = {
      uscc: e.uscc,
      seq,
      grade: ev.grade,
      score: ev.score,
      maxScore: scheme.totalWeight,
      scheme: { id: scheme.id, version: scheme.version },
      evaluator: c.nodeId,
      city: c.city,
      evaluatedAt,
      validUntil,
      ...(ev.stableUntil ? { stableUntil: ev.stableUntil } : {}),
      inputsDigest: e.digest,
      explanationDigest: digest,
      industry,
      explanation: ev.explanation,
      document,
    };
    const fact: CreditFact = {
      id: `EV-${c.nodeId}-${e.uscc}`,
      uscc: e.uscc,
      category: 'EVALUATION',
      subtype: 'EVALUATION',
      polarity: ev.grade === 'A' ? 'POSITIVE' : ev.grade === 'D' ? 'NEGATIVE' : 'NEUTRAL',
      legalDocumentRef: `attestation:${attestationId({ document })}`,
      sourceUnit: `${CITY_NAMES[c.city]}公共信用信息中心 (${c.nodeId})`,
      decisionDate: asOf,
      usageRange: 'AUTHORIZED_ONLY',
      status: 'ACTIVE',
      payload: { grade: ev.grade, scheme: `${scheme.id}@${scheme.version}`, evaluatedAt: asOf },
      originNode: c.nodeId,
      version: seq,
      updatedAt: evaluatedAt,
    };
    const ops: BatchOp[] = [
      { type: 'put', sublevel: sub, key: keys.current(e.uscc), value: record } as BatchOp,
      { type: 'put', sublevel: sub, key: keys.grade(e.uscc), value: `${ev.grade}${industry}` } as BatchOp,
      ...(previous
        ? [{ type: 'put', sublevel: sub, key: keys.history(e.uscc, previous.seq), value: previous } as BatchOp]
        : []),
      ...c.profiles.writeOps([{ kind: 'fact', record: fact }], [undefined]),
    ];
    return { record, ops };
  };

  const emit = (r: GradeRecord, p: GradeRecord | undefined) => {
    for (const l of listeners) l(r, p);
  };

  const current = async (uscc: string) => (await sub.get(keys.current(uscc))) as GradeRecord | undefined;

  /** One enterprise, serialised per enterprise. */
  const reevaluate = (uscc: string, options: { force?: boolean } = {}): Promise<GradeRecord | undefined> => {
    const run = (locks.get(uscc) ?? Promise.resolve()).then(async () => {
      const e = await c.inputs.one(uscc);
      if (!e || !responsibleFor(e.registration)) return undefined;
      const now = c.now();
      const cur = await current(uscc);
      if (!needs(e, cur, now, options.force)) return cur;
      const { record, ops } = grade(e, cur, now);
      await commit(async () => {
        await store.db.batch(ops);
        singleCommits++;
      });
      emit(record, cur);
      return record;
    });
    const tail = run.catch(() => undefined);
    locks.set(uscc, tail);
    void tail.then(() => {
      if (locks.get(uscc) === tail) locks.delete(uscc);
    });
    return run;
  };

  return {
    responsibleFor,
    reevaluate,
    current,
    async changed(uscc) {
      const e = await c.inputs.one(uscc);
      if (!e || !responsibleFor(e.registration)) return false;
      return needs(e, await current(uscc), c.now());
    },
    async history(uscc) {
      const out: GradeRecord[] = [];
      for await (const v of sub.values(keys.historyRange(uscc))) out.push(v as GradeRecord);
      return out;
    },
    async runAll(options = {}) {
      const started = performance.now();
      const summary: EvaluationRunSummary = {
        enterprises: 0,
        graded: 0,
        unchanged: 0,
        grades: { A: 0, B: 0, C: 0, D: 0 },
        ms: 0,
      };
      let pending: EnterpriseInputs[] = [];
      let writing: Promise<void> = Promise.resolve();
      const flush = async (batch: EnterpriseInputs[]) => {
        const seen = singleCommits;
        const now = c.now();
        const curs = (await sub.getMany(batch.map((e) => keys.current(e.uscc)))) as Array<GradeRecord | undefined>;
        const made: Array<{ record: GradeRecord; previous: GradeRecord | undefined; ops: BatchOp[] }> = [];
        for (const [i, e] of batch.entries()) {
          const cur = curs[i];
          if (!needs(e, cur, now, options.force)) {
            summary.unchanged++;
            summary.grades[cur!.grade]++;
            continue;
          }
          made.push({ ...grade(e, cur, now), previous: cur });
        }
        // At most one batch is being written while the next one is read and graded.
        await writing;
        writing = commit(async () => {
          let keep = made;
          if (singleCommits !== seen) {
            // A single re-grade committed meanwhile: never overwrite a newer grade.
            const now2 = (await sub.getMany(made.map((m) => keys.current(m.record.uscc)))) as Array<
              GradeRecord | undefined
            >;
            keep = made.filter((m, i) => (now2[i]?.seq ?? 0) === (m.previous?.seq ?? 0));
          }
          if (keep.length > 0) await store.db.batch(keep.flatMap((m) => m.ops));
          for (const m of keep) {
            summary.graded++;
            summary.grades[m.record.grade]++;
            emit(m.record, m.previous);
          }
        });
        // Handled here, thrown by the next `await writing`: no unhandled rejection in between.
        writing.catch(() => undefined);
      };
      for await (const e of c.inputs.scan(responsibleFor, options.signal)) {
        summary.enterprises++;
        pending.push(e);
        if (pending.length >= RUN_BATCH) {
          await flush(pending);
          pending = [];
        }
      }
      if (pending.length > 0) await flush(pending);
      await writing;
      summary.ms = Math.round(performance.now() - started);
      return summary;
    },
    async distribution() {
      const counts = new Map<string, number>();
      for await (const v of sub.values({ gte: 'g!', lt: 'g"' })) {
        const s = v as string;
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      return [...counts.entries()]
        .map(([k, count]) => ({ city: c.city, industry: k.slice(1) || '?', grade: k[0], count }))
        .filter((r) => (GRADES as readonly string[]).includes(r.grade))
        .sort((a, b) => a.industry.localeCompare(b.industry) || a.grade.localeCompare(b.grade));
    },
    issue: (record) => signAttestationDocument(record.document, c.signer),
    onGraded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
