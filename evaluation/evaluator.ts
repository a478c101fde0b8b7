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
import { RangeCursor } from '../storage/range-cursor.ts';
import { type SignedAttestation, signAttestationDocument } from './attestation.ts';
import { evaluateEnterprise } from './engine.ts';
import type { EnterpriseInputs, InputSource } from './inputs.ts';
import { packGrade, type StoredGrade, unpackGrade } from './record.ts';
import { GRADES, type Grade, type Scheme } from './scheme.ts';
import { type CurrentGrade, type EvaluationStore, type GradeRecord, keys } from './store.ts';
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
  /** Called with the enterprise's USCC after each new grade of it is stored. */
  onGraded(listener: (uscc: string) => void): () => void;
}

const CITY_NAMES: Record<CityId, string> = { XM: '厦门市', ZZ: '漳州市', QZ: '泉州市' };

/** Creates the evaluator. */
export function createEvaluator(c: EvaluatorComponents): Evaluator {
  const { store, scheme } = c;
  const sub = store.grades;
  const schemeKey = `${scheme.id}@${scheme.version}`;
  const listeners = new Set<(uscc: string) => void>();
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

  /** Whether an enterprise needs a new grade at `now`. */
  const needs = (e: EnterpriseInputs, cur: CurrentGrade | undefined, now: number, force?: boolean) =>
    force ||
    !cur ||
    cur.inputsDigest !== e.digest ||
    cur.scheme !== schemeKey ||
    (cur.stableUntil !== undefined && new Date(now).toISOString().slice(0, 10) >= cur.stableUntil) ||
    now >= Date.parse(cur.validUntil) - RENEW_BEFORE_DAYS * DAY;

  /** The date strings of an evaluation at `now` (the same for a whole batch). */
  let times = { now: Number.NaN, asOf: '', evaluatedAt: '', validUntil: '' };
  const timesAt = (now: number) => {
    if (times.now !== now) {
      const evaluatedAt = new Date(now).toISOString();
      times = {
        now,
        asOf: evaluatedAt.slice(0, 10),
        evaluatedAt,
        validUntil: new Date(now + scheme.validityDays * DAY).toISOString(),
      };
    }
    return times;
  };

  /** A new grade (stored compactly, see record.ts) and the writes that store it; earlier grades stay. */
  const grade = (e: EnterpriseInputs, previousSeq: number, now: number) => {
    const { asOf, evaluatedAt, validUntil } = timesAt(now);
    const ev = evaluateEnterprise(scheme, e.registration, e.facts, asOf);
    const seq = previousSeq + 1;
    const industry = e.registration.industryCode?.[0] ?? '?';
    const stored = packGrade(ev, {
      evaluatedAt,
      validUntil,
      inputsDigest: e.digest,
      industry,
      node: c.nodeId,
      city: c.city,
    });
    const current: CurrentGrade = {
      seq,
      grade: ev.grade,
      industry,
      inputsDigest: e.digest,
      validUntil,
      ...(ev.stableUntil ? { stableUntil: ev.stableUntil } : {}),
      scheme: schemeKey,
    };
    const fact: CreditFact = {
      id: `EV-${c.nodeId}-${e.uscc}`,
      uscc: e.uscc,
      category: 'EVALUATION',
      subtype: 'EVALUATION',
      polarity: ev.grade === 'A' ? 'POSITIVE' : ev.grade === 'D' ? 'NEGATIVE' : 'NEUTRAL',
      legalDocumentRef: `attestation:${c.nodeId}#${seq}`,
      sourceUnit: `${CITY_NAMES[c.city]}公共信用信息中心 (${c.nodeId})`,
      decisionDate: asOf,
      usageRange: 'AUTHORIZED_ONLY',
      status: 'ACTIVE',
      payload: { grade: ev.grade, scheme: schemeKey, evaluatedAt: asOf },
      originNode: c.nodeId,
      version: seq,
      updatedAt: evaluatedAt,
    };
    const ops: BatchOp[] = [
      { type: 'put', sublevel: sub, key: keys.history(e.uscc, seq), value: stored } as BatchOp,
      { type: 'put', sublevel: sub, key: keys.current(e.uscc), value: current } as BatchOp,
      ...c.profiles.writeOps([{ kind: 'fact', record: fact }], [undefined]),
    ];
    return { uscc: e.uscc, seq, grade: ev.grade, stored, ops };
  };

  const emit = (uscc: string) => {
    for (const l of listeners) l(uscc);
  };

  const currentIndex = async (uscc: string) => (await sub.get(keys.current(uscc))) as CurrentGrade | undefined;
  const current = async (uscc: string) => {
    const cur = await currentIndex(uscc);
    const stored = cur ? ((await sub.get(keys.history(uscc, cur.seq))) as StoredGrade | undefined) : undefined;
    return stored ? unpackGrade(uscc, cur!.seq, stored) : undefined;
  };

  /** One enterprise, serialised per enterprise. */
  const reevaluate = (uscc: string, options: { force?: boolean } = {}): Promise<GradeRecord | undefined> => {
    const run = (locks.get(uscc) ?? Promise.resolve()).then(async () => {
      const e = await c.inputs.one(uscc);
      if (!e || !responsibleFor(e.registration)) return undefined;
      const now = c.now();
      const cur = await currentIndex(uscc);
      if (!needs(e, cur, now, options.force)) return current(uscc);
      const made = grade(e, cur?.seq ?? 0, now);
      await commit(async () => {
        await store.db.batch(made.ops);
        singleCommits++;
      });
      emit(uscc);
      return unpackGrade(uscc, made.seq, made.stored);
    });
    const tail = run.catch(() => undefined);
    locks.set(uscc, tail);
    void tail.then(() => {
      if (locks.get(uscc) === tail) locks.delete(uscc);
    });
    return run;
  };

  /** A full run: inputs and current-grade index read side by side in USCC order, graded in batches. */
  const runAll = async (options: { force?: boolean; signal?: AbortSignal } = {}) => {
    const started = performance.now();
    const summary: EvaluationRunSummary = {
      enterprises: 0,
      graded: 0,
      unchanged: 0,
      grades: { A: 0, B: 0, C: 0, D: 0 },
      ms: 0,
    };
    const index = new RangeCursor(sub, keys.currentRange.gte, keys.currentRange.lt);
    /** The current-grade index entry of `uscc`, advancing the cursor past smaller keys. */
    const indexed = async (uscc: string): Promise<CurrentGrade | undefined> => {
      const want = keys.current(uscc);
      for (;;) {
        const x = index.buffered() ?? (await index.peek());
        if (!x || x[0] > want) return undefined;
        index.advance();
        if (x[0] === want) return JSON.parse(x[1]) as CurrentGrade;
      }
    };
    let pending: Array<{ e: EnterpriseInputs; cur: CurrentGrade | undefined }> = [];
    let writing: Promise<void> = Promise.resolve();
    const flush = async (batch: typeof pending) => {
      const seen = singleCommits;
      const now = c.now();
      const made: Array<ReturnType<typeof grade> & { previousSeq: number }> = [];
      for (const { e, cur } of batch) {
        if (!needs(e, cur, now, options.force)) {
          summary.unchanged++;
          summary.grades[cur!.grade]++;
          continue;
        }
        made.push({ ...grade(e, cur?.seq ?? 0, now), previousSeq: cur?.seq ?? 0 });
      }
      // At most one batch is being written while the next one is read and graded.
      await writing;
      writing = commit(async () => {
        let keep = made;
        if (singleCommits !== seen) {
          // A single re-grade committed meanwhile: never overwrite a newer grade.
          const latest = (await sub.getMany(made.map((m) => keys.current(m.uscc)))) as Array<CurrentGrade | undefined>;
          keep = made.filter((m, i) => (latest[i]?.seq ?? 0) === m.previousSeq);
        }
        if (keep.length > 0) await store.db.batch(keep.flatMap((m) => m.ops));
        for (const m of keep) {
          summary.graded++;
          summary.grades[m.grade]++;
          emit(m.uscc);
        }
      });
      // Handled here, thrown by the next `await writing`: no unhandled rejection in between.
      writing.catch(() => undefined);
    };
    try {
      for await (const e of c.inputs.scan(responsibleFor, options.signal)) {
        summary.enterprises++;
        pending.push({ e, cur: await indexed(e.uscc) });
        if (pending.length >= RUN_BATCH) {
          await flush(pending);
          pending = [];
        }
      }
      if (pending.length > 0) await flush(pending);
      await writing;
    } finally {
      await index.close();
    }
    summary.ms = Math.round(performance.now() - started);
    return summary;
  };

  return {
    responsibleFor,
    reevaluate,
    current,
    runAll,
    async changed(uscc) {
      const e = await c.inputs.one(uscc);
      if (!e || !responsibleFor(e.registration)) return false;
      return needs(e, await currentIndex(uscc), c.now());
    },
    async history(uscc) {
      const cur = await currentIndex(uscc);
      const out: GradeRecord[] = [];
      for await (const [k, v] of sub.iterator(keys.historyRange(uscc))) {
        const seq = Number(k.slice(k.lastIndexOf('!') + 1));
        if (seq !== cur?.seq) out.push(unpackGrade(uscc, seq, v as StoredGrade));
      }
      return out;
    },
    async distribution() {
      const counts = new Map<string, number>();
      for await (const v of sub.values(keys.currentRange)) {
        const k = `${(v as CurrentGrade).grade}${(v as CurrentGrade).industry}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
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
