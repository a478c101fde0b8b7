/**
 * An ingest run: raw rows → validated, cleaned one-table records, written in atomic batches.
 *
 * Bookkeeping in the `ingest` sublevel (written in the same batch as the records it describes):
 * - `h!<identity>` → `<run>:<content hash>`: the stored content (re-runs skip unchanged rows) and
 *   the last run that saw the record (a second, different row in the same run is a duplicate)
 * - `m!run` → number of the run in progress; a run killed at any point is resumed under the same
 *   number, so it ends with the same database as a run never interrupted; `m!runs` counts runs
 * - `w!<sourceId>` → watermark: the latest `updatedAt` taken from that source (incremental sync),
 *   written only when the whole run ends
 * - `n!<fingerprint>` → the USCC first seen for an entity (name, legal representative, established date)
 * - `p!<uscc>` → a 重错码 problem found for that code (one entity under many codes)
 */
import type { Logger } from 'pino';
import type { Issue, LegalPerson } from '../model/index.ts';
import type { BatchOp, ProfileStore } from '../profiles/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { type Pending, produce } from './produce.ts';
import type { Source } from './types.ts';

/** One rejected row. */
export interface Rejection {
  source: string;
  rowNumber: number;
  field: string;
  rule: string;
  message: string;
}

/** What an ingest run did. */
export interface IngestReport {
  /** Rows read (after the watermark filter). */
  rows: number;
  /** New or changed records written. */
  accepted: number;
  /** Valid rows identical to what is stored. */
  unchanged: number;
  /** Rows refused; `reasons` counts their rules. */
  rejected: number;
  /** Warning findings on accepted rows; `warningReasons` counts their rules. */
  warnings: number;
  /** Rows refused because their code (or fact/loan id) was already taken by different content in this run. */
  duplicates: number;
  /** Exact repeats of a row already seen in this run (skipped). */
  repeatedRows: number;
  /** Rows skipped because they are not newer than the source's watermark. */
  skippedByWatermark: number;
  reasons: Record<string, number>;
  warningReasons: Record<string, number>;
  /** Codes given to different content within this run (重复赋码). */
  duplicateCodes: string[];
  /** Codes found for an entity that already has another code (一码多赋 / one entity, many codes). */
  oneEntityManyCodes: Array<{ uscc: string; otherUscc: string }>;
  /** The first rejections, up to {@link MAX_LISTED_REJECTIONS}. */
  rejections: Rejection[];
  sources: Array<{ id: string; rows: number; watermark?: string }>;
  durationMs: number;
  recordsPerSecond: number;
}

/** Longest list of rejections kept in a report (counts are always complete). */
export const MAX_LISTED_REJECTIONS = 1000;
/** Records per atomic batch. */
export const DEFAULT_BATCH_SIZE = 2000;

/** What the ingester needs. */
export interface IngesterComponents {
  db: RootDb;
  profiles: ProfileStore;
  /** Keyed token of a natural person's ID number. */
  tokenise: (idNumber: string) => string;
  originNode: string;
  logger: Logger;
}

/** Progress of a run. */
export interface IngestProgress {
  rows: number;
  source: Source;
  sourceIndex: number;
  sources: number;
  /** Bytes (files) or rows read of the current source, and its total when known. */
  done: number;
  total?: number;
}

/** A batch of records whose atomic write has completed. */
export interface CommittedBatch {
  /** Number of the batch among those written by this call of `run`, from 1, in write order. */
  batch: number;
  /** Id of the source the batch came from. */
  source: string;
  /** Valid records in the batch (new, changed, unchanged or repeated). */
  records: number;
  /** New or changed records written so far by this call of `run` (`accepted` of the report). */
  accepted: number;
}

/** Options of one run. */
export interface IngestOptions {
  signal?: AbortSignal;
  /** Records per atomic batch (default {@link DEFAULT_BATCH_SIZE}). */
  batchSize?: number;
  /** Called as rows are read and validated (the records may not be written yet). */
  onProgress?: (p: IngestProgress) => void;
  /**
   * Called once per batch after its atomic write has completed, in write order: what it reports
   * is in the database and survives the process being killed afterwards.
   */
  onBatch?: (b: CommittedBatch) => void;
}

/** Runs ingests. */
export interface Ingester {
  run(sources: Source[], options?: IngestOptions): Promise<IngestReport>;
}

function fingerprint(p: LegalPerson): string | undefined {
  if (!p.legalRepresentative) return undefined;
  return `${p.name.normalize('NFKC').replace(/\s+/g, '')}|${p.legalRepresentative}|${p.establishedOn}`;
}

class Run {
  readonly report: IngestReport = {
    rows: 0,
    accepted: 0,
    unchanged: 0,
    rejected: 0,
    warnings: 0,
    duplicates: 0,
    repeatedRows: 0,
    skippedByWatermark: 0,
    reasons: {},
    warningReasons: {},
    duplicateCodes: [],
    oneEntityManyCodes: [],
    rejections: [],
    sources: [],
    durationMs: 0,
    recordsPerSecond: 0,
  };
  readonly #c: IngesterComponents;
  readonly #sub;
  constructor(components: IngesterComponents) {
    this.#c = components;
    this.#sub = jsonSublevel<unknown>(components.db, 'ingest');
  }

  reject(source: string, rowNumber: number, issues: Array<Pick<Issue, 'field' | 'rule' | 'message'>>) {
    const r = this.report;
    r.rejected++;
    for (const i of issues) {
      r.reasons[i.rule] = (r.reasons[i.rule] ?? 0) + 1;
      if (r.rejections.length < MAX_LISTED_REJECTIONS) r.rejections.push({ source, rowNumber, ...i });
    }
  }

  warn(issues: Issue[]) {
    for (const i of issues) {
      this.report.warnings++;
      this.report.warningReasons[i.rule] = (this.report.warningReasons[i.rule] ?? 0) + 1;
    }
  }

  /** Number of this run: a run killed before it finished is resumed under the same number. */
  #run = 0;

  /** The run number still has to be recorded (with the run's first write). */
  #unrecorded = false;

  /** Starts (or resumes) a run. */
  async begin() {
    const unfinished = (await this.#sub.get('m!run')) as number | undefined;
    this.#run = unfinished ?? (((await this.#sub.get('m!runs')) as number | undefined) ?? 0) + 1;
    this.#unrecorded = unfinished === undefined;
  }

  /** Ends a run, together with the watermarks it reached. */
  async end(marks: Map<string, string>) {
    await this.#sub.batch([
      ...[...marks].map(([id, value]) => ({ type: 'put' as const, key: `w!${id}`, value })),
      { type: 'del' as const, key: 'm!run' },
    ]);
  }

  async watermark(sourceId: string) {
    return (await this.#sub.get(`w!${sourceId}`)) as string | undefined;
  }

  /** Writes a batch atomically; returns the latest source time among the rows it took. */
  async flush(batch: Pending[]): Promise<string | undefined> {
    if (batch.length === 0) return undefined;
    let latest: string | undefined;
    const sub = this.#sub;
    // `h!<identity>` holds `<run>:<hash>`: the content last stored and the run that last saw it.
    const found = (await sub.getMany(batch.map((p) => `h!${p.identity}`))) as Array<string | undefined>;
    const mark = `${this.#run}:`;
    const ops: BatchOp[] = [];
    const seenInBatch = new Map<string, string>();
    const write: Pending[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const entry = found[i];
      const cut = entry?.indexOf(':') ?? -1;
      const stored = entry === undefined ? undefined : entry.slice(cut + 1);
      const inRun = seenInBatch.get(p.identity) ?? (entry?.startsWith(mark) ? stored : undefined);
      if (inRun !== undefined) {
        if (inRun === p.hash) {
          // A repeat, or a row already taken before this run was interrupted: it still counts
          // towards the watermark.
          this.report.repeatedRows++;
          if (p.timed && (latest === undefined || p.value.record.updatedAt > latest)) latest = p.value.record.updatedAt;
        } else {
          const enterprise = p.value.kind === 'enterprise';
          this.report.duplicates++;
          if (enterprise && !this.report.duplicateCodes.includes(p.value.record.uscc))
            this.report.duplicateCodes.push(p.value.record.uscc);
          this.reject(p.source, p.rowNumber, [
            enterprise
              ? {
                  field: 'uscc',
                  rule: 'DUPLICATE_CODE',
                  message: 'this code was already given to a different record in this run',
                }
              : {
                  field: p.value.kind === 'fact' ? 'id' : 'loanId',
                  rule: 'DUPLICATE_KEY',
                  message: 'this id was already used by a different record in this run',
                },
          ]);
        }
        continue;
      }
      seenInBatch.set(p.identity, p.hash);
      if (p.timed && (latest === undefined || p.value.record.updatedAt > latest)) latest = p.value.record.updatedAt;
      ops.push({ type: 'put', sublevel: sub, key: `h!${p.identity}`, value: mark + p.hash });
      if (stored === p.hash) this.report.unchanged++;
      else write.push(p);
    }
    if (this.#unrecorded && ops.length > 0) {
      // Recorded with the first write, so a run that writes nothing leaves the database as it was.
      ops.push(
        { type: 'put', sublevel: sub, key: 'm!run', value: this.#run },
        { type: 'put', sublevel: sub, key: 'm!runs', value: this.#run },
      );
      this.#unrecorded = false;
    }
    await this.#entities(write, ops);
    const records = write.map((p) => p.value);
    const serialised = write.map((p) => p.json);
    ops.push(...this.#c.profiles.writeOps(records, await this.#c.profiles.existing(records), serialised));
    await this.#c.db.batch(ops);
    this.report.accepted += write.length;
    return latest;
  }

  /** Flags codes of an entity that already has another code (never merges them). */
  async #entities(write: Pending[], ops: BatchOp[]) {
    const people: Array<{ p: LegalPerson; fp: string }> = [];
    for (const w of write) {
      if (w.value.kind !== 'enterprise') continue;
      const fp = fingerprint(w.value.record);
      if (fp) people.push({ p: w.value.record, fp });
    }
    if (people.length === 0) return;
    const known = await this.#sub.getMany(people.map((x) => `n!${x.fp}`));
    const local = new Map<string, string>();
    for (let i = 0; i < people.length; i++) {
      const { p, fp } = people[i];
      const other = local.get(fp) ?? (known[i] as string | undefined);
      if (other === undefined) {
        local.set(fp, p.uscc);
        ops.push({ type: 'put', sublevel: this.#sub, key: `n!${fp}`, value: p.uscc });
      } else if (other !== p.uscc) {
        this.report.oneEntityManyCodes.push({ uscc: p.uscc, otherUscc: other });
        this.warn([
          { field: 'uscc', rule: 'ONE_ENTITY_MANY_CODES', message: 'the same entity already has another code' },
        ]);
        ops.push({
          type: 'put',
          sublevel: this.#sub,
          key: `p!${p.uscc}`,
          value: { rule: 'ONE_ENTITY_MANY_CODES', otherUscc: other },
        });
      }
    }
  }
}

class LevelIngester implements Ingester {
  readonly #c: IngesterComponents;
  constructor(components: IngesterComponents) {
    this.#c = components;
  }

  async run(sources: Source[], options: IngestOptions = {}): Promise<IngestReport> {
    const started = performance.now();
    const run = new Run(this.#c);
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    const _ctx = { originNode: this.#c.originNode, tokenise: this.#c.tokenise };
    const log = this.#c.logger.child({ component: 'ingest' });
    await run.begin();
    // Watermarks move only when the whole run has finished: a run killed half-way and run
    // again then sees exactly the same rows as one that was never interrupted.
    const watermarks = new Map<string, string>();
    let committed = 0;
    for (const [sourceIndex, source] of sources.entries()) {
      const watermark = await run.watermark(source.id);
      let latest = watermark;
      let rows = 0;
      // One batch is written while the next is parsed and validated.
      let inflight: Promise<string | undefined> = Promise.resolve(undefined);
      const settle = async () => {
        const t = await inflight;
        if (t !== undefined && (latest === undefined || t > latest)) latest = t;
      };
      const settings = { originNode: this.#c.originNode, watermark, batchSize, signal: options.signal };
      const batches = produce(source, { ...settings, tokenise: this.#c.tokenise });
      for await (const b of batches) {
        rows += b.rows;
        run.report.rows += b.rows;
        run.report.skippedByWatermark += b.skippedByWatermark;
        for (const r of b.rejections) run.reject(source.id, r.rowNumber, r.issues);
        run.warn(b.warnings);
        if (b.pendings.length > 0) {
          await settle();
          const records = b.pendings.length;
          inflight = run.flush(b.pendings).then((t) => {
            options.onBatch?.({ batch: ++committed, source: source.id, records, accepted: run.report.accepted });
            return t;
          });
        }
        options.onProgress?.({
          rows: run.report.rows,
          source,
          sourceIndex,
          sources: sources.length,
          done: b.done,
          total: b.total,
        });
      }
      await settle();
      if (latest !== undefined && latest !== watermark) watermarks.set(source.id, latest);
      run.report.sources.push({ id: source.id, rows, ...(latest ? { watermark: latest } : {}) });
    }
    await run.end(watermarks);
    const r = run.report;
    r.durationMs = Math.round(performance.now() - started);
    r.recordsPerSecond = r.durationMs > 0 ? Math.round((r.rows * 1000) / r.durationMs) : r.rows;
    log.info(
      { rows: r.rows, accepted: r.accepted, rejected: r.rejected, unchanged: r.unchanged, durationMs: r.durationMs },
      'ingest finished',
    );
    return r;
  }
}

/** Creates an ingester writing into the node's database. */
export function createIngester(components: IngesterComponents): Ingester {
  return new LevelIngester(components);
}
