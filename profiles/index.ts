/**
 * The profile store: legal persons, credit facts and loan records of the one table, kept in the
 * node's `profiles` sublevel.
 *
 * Keys (`!` separates parts; USCCs, sections and ids never contain `!`):
 * - `e!<uscc>` → {@link LegalPerson}
 * - `f!<uscc>!<section>!<factId>` → {@link CreditFact}
 * - `x!<factId>` → `<uscc>!<section>` (where a fact lives, so a changed fact moves cleanly)
 * - `l!<uscc>!<bank>!<loanId>` → {@link LoanRecord}
 */
import type { AbstractBatchOperation } from 'abstract-level';
import {
  type CreditFact,
  FACT_SECTION,
  type IngestRecord,
  type LegalPerson,
  type LoanRecord,
  type Section,
} from '../model/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import { RangeCursor } from '../storage/range-cursor.ts';

/** A write prepared by the store, for the caller to commit in one atomic root batch. */
export type BatchOp = AbstractBatchOperation<RootDb, string, unknown>;

/** Read and write access to the one-table records held by this node. */
export interface ProfileStore {
  /** The legal person with this USCC, if held here. */
  getEnterprise(uscc: string): Promise<LegalPerson | undefined>;
  /** Batched lookup, in the order of `usccs`. */
  getEnterprises(usccs: readonly string[]): Promise<Array<LegalPerson | undefined>>;
  /** Facts about one enterprise, optionally only those of some sections. */
  getFacts(uscc: string, sections?: readonly Section[]): Promise<CreditFact[]>;
  /** Loans on this node's book for one enterprise. */
  getLoans(uscc: string): Promise<LoanRecord[]>;
  /**
   * Loans for many enterprises, in the order of `usccs` (`[]` where none), read by one iterator
   * that seeks from enterprise to enterprise in key order (for joint queries over thousands).
   */
  getLoansMany(usccs: readonly string[]): Promise<LoanRecord[][]>;
  /** Every fact of the given subtypes this node holds (a full scan: for list preparation, not for reads). */
  factsOfSubtypes(subtypes: readonly string[]): AsyncIterable<CreditFact>;
  /**
   * Every enterprise held here with its facts, in USCC order, read in one streaming pass over the
   * legal-person and fact ranges (a full scan: for evaluation runs, not for reads). Memory stays
   * bounded by one read chunk per range plus one enterprise's records. Loans are not read.
   * @throws the signal's reason once `options.signal` is aborted (checked between enterprises).
   */
  scan(options?: ProfileScanOptions): AsyncIterable<ScannedProfile>;
  /** The stored version of each record (by identity), `undefined` where none is stored. */
  existing(records: readonly IngestRecord[]): Promise<Array<IngestRecord | undefined>>;
  /**
   * Batch operations that store `records`, given what {@link existing} returned for them.
   * The caller commits them (with its own bookkeeping) in one `root.batch`.
   */
  writeOps(
    records: readonly IngestRecord[],
    previous: ReadonlyArray<IngestRecord | undefined>,
    serialised?: readonly string[],
  ): BatchOp[];
  /** Counts of stored records (a full scan; for tests and reports). */
  count(): Promise<{ enterprises: number; facts: number; loans: number }>;
}

/** Options of {@link ProfileStore.scan}. */
export interface ProfileScanOptions {
  /**
   * Which enterprises to yield, decided on the legal-person record alone (`undefined` when only
   * facts about the enterprise are held here). The facts of the others are skipped unparsed.
   * Default: every enterprise with a legal-person record or a fact.
   */
  filter?: (enterprise: LegalPerson | undefined, uscc: string) => boolean;
  /** Sections whose facts are left out, skipped unparsed (e.g. `['evaluation']`). */
  skipSections?: readonly Section[];
  signal?: AbortSignal;
}

/** One enterprise's records, as {@link ProfileStore.scan} yields them. */
export interface ScannedProfile {
  uscc: string;
  /** Its legal-person record; `undefined` when only facts about it are held here. */
  enterprise?: LegalPerson;
  /** Its facts in key order (section, then fact id), those of skipped sections left out. */
  facts: CreditFact[];
  /**
   * The same records as the store holds them, in key order (the legal person first): each one's
   * key and JSON text, the stored bytes, for digests over what is stored.
   */
  stored: Array<[key: string, json: string]>;
}

/** Entries `getLoansMany` reads per step. */
const LOAN_CHUNK = 256;

/** What the profile store needs. */
export interface ProfileStoreComponents {
  db: RootDb;
}

/** Key of a fact's location index. */
const factIndexKey = (id: string) => `x!${id}`;
const factKey = (f: CreditFact) => `f!${f.uscc}!${FACT_SECTION[f.subtype]}!${f.id}`;
const loanKey = (l: LoanRecord) => `l!${l.uscc}!${l.bank}!${l.loanId}`;
const enterpriseKey = (uscc: string) => `e!${uscc}`;

/** The identity key of a record: its primary key in the store, independent of content. */
export function recordIdentity(r: IngestRecord): string {
  switch (r.kind) {
    case 'enterprise':
      return enterpriseKey(r.record.uscc);
    case 'fact':
      return factIndexKey(r.record.id);
    case 'loan':
      return loanKey(r.record);
  }
}

class LevelProfileStore implements ProfileStore {
  readonly #db: RootDb;
  readonly #sub: Sublevel;

  constructor(components: ProfileStoreComponents) {
    this.#db = components.db;
    this.#sub = jsonSublevel(components.db, 'profiles');
  }

  async getEnterprise(uscc: string) {
    return (await this.#sub.get(enterpriseKey(uscc))) as LegalPerson | undefined;
  }

  async getEnterprises(usccs: readonly string[]) {
    return (await this.#sub.getMany(usccs.map(enterpriseKey))) as Array<LegalPerson | undefined>;
  }

  async getFacts(uscc: string, sections?: readonly Section[]) {
    const ranges = sections ? sections.map((s) => `f!${uscc}!${s}!`) : [`f!${uscc}!`];
    const out: CreditFact[] = [];
    for (const prefix of ranges) {
      for await (const v of this.#sub.values({ gte: prefix, lt: `${prefix}\xff` })) out.push(v as CreditFact);
    }
    return out;
  }

  async *factsOfSubtypes(subtypes: readonly string[]) {
    const wanted = new Set(subtypes);
    for await (const v of this.#sub.values({ gte: 'f!', lt: 'f"' })) {
      const f = v as CreditFact;
      if (wanted.has(f.subtype)) yield f;
    }
  }

  async *scan(options: ProfileScanOptions = {}): AsyncGenerator<ScannedProfile> {
    const { filter, signal } = options;
    const skip = new Set<string>(options.skipSections ?? []);
    const enterprises = new RangeCursor(this.#sub, 'e!', 'e"');
    const facts = new RangeCursor(this.#sub, 'f!', 'f"');
    try {
      for (;;) {
        signal?.throwIfAborted();
        const e = enterprises.buffered() ?? (await enterprises.peek());
        const first = facts.buffered() ?? (await facts.peek());
        if (!e && !first) return;
        // The next USCC in key order: the legal person's, or that of facts held without one.
        const owner = first?.[0].slice(2, first[0].indexOf('!', 2));
        let uscc: string;
        let enterprise: LegalPerson | undefined;
        let stored: Array<[string, string]> = [];
        if (e && (owner === undefined || e[0].slice(2) <= owner)) {
          enterprises.advance();
          uscc = e[0].slice(2);
          enterprise = JSON.parse(e[1]) as LegalPerson;
          stored = [e];
        } else uscc = owner!;
        const take = filter ? filter(enterprise, uscc) : true;
        const list: CreditFact[] = [];
        const from = 3 + uscc.length; // where the section starts in `f!<uscc>!<section>!<id>`
        for (;;) {
          const f = facts.buffered() ?? (await facts.peek());
          if (!f?.[0].startsWith(uscc, 2) || f[0].charCodeAt(from - 1) !== 0x21) break;
          facts.advance();
          if (!take || (skip.size > 0 && skip.has(f[0].slice(from, f[0].indexOf('!', from))))) continue;
          stored.push(f);
          list.push(JSON.parse(f[1]) as CreditFact);
        }
        if (take) yield { uscc, enterprise, facts: list, stored };
      }
    } finally {
      await Promise.all([enterprises.close(), facts.close()]);
    }
  }

  async getLoans(uscc: string) {
    const out: LoanRecord[] = [];
    for await (const v of this.#sub.values({ gte: `l!${uscc}!`, lt: `l!${uscc}!\xff` })) out.push(v as LoanRecord);
    return out;
  }

  async getLoansMany(usccs: readonly string[]) {
    const order = [...new Set(usccs)].sort();
    const found = new Map<string, LoanRecord[]>();
    if (order.length > 0) {
      const it = this.#sub.iterator({
        gte: `l!${order[0]}!`,
        lt: `l!${order[order.length - 1]}!\xff`,
        valueEncoding: 'utf8',
      }) as unknown as {
        nextv(n: number): Promise<Array<[string, string]>>;
        seek(target: string): void;
        close(): Promise<void>;
      };
      let buf: Array<[string, string]> = [];
      let i = 0;
      try {
        for (const uscc of order) {
          const prefix = `l!${uscc}!`;
          while (i < buf.length && buf[i][0] < prefix) i++;
          if (i === buf.length) {
            // Nothing buffered at or after this enterprise: jump to it rather than read the gap.
            it.seek(prefix);
            buf = await it.nextv(LOAN_CHUNK);
            i = 0;
          }
          const list: LoanRecord[] = [];
          while (i < buf.length && buf[i][0].startsWith(prefix)) {
            list.push(JSON.parse(buf[i][1]) as LoanRecord);
            if (++i === buf.length) {
              buf = await it.nextv(LOAN_CHUNK);
              i = 0;
            }
          }
          if (list.length > 0) found.set(uscc, list);
        }
      } finally {
        await it.close();
      }
    }
    return usccs.map((u) => found.get(u) ?? []);
  }

  async existing(records: readonly IngestRecord[]) {
    const keys = records.map(recordIdentity);
    const found = await this.#sub.getMany(keys);
    const factLocations: string[] = [];
    const factSlots: number[] = [];
    const out: Array<IngestRecord | undefined> = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const v = found[i];
      if (v === undefined) continue;
      if (r.kind === 'fact') {
        factLocations.push(`f!${v as string}!${r.record.id}`);
        factSlots.push(i);
      } else out[i] = { kind: r.kind, record: v } as IngestRecord;
    }
    if (factLocations.length > 0) {
      const facts = await this.#sub.getMany(factLocations);
      for (let j = 0; j < facts.length; j++) {
        if (facts[j] !== undefined) out[factSlots[j]] = { kind: 'fact', record: facts[j] as CreditFact };
      }
    }
    return out;
  }

  writeOps(
    records: readonly IngestRecord[],
    previous: ReadonlyArray<IngestRecord | undefined>,
    serialised?: readonly string[],
  ): BatchOp[] {
    const ops: BatchOp[] = [];
    const sublevel = this.#sub;
    // A record already serialised as JSON is stored as those bytes (the same bytes the JSON
    // encoding would write), saving a second JSON.stringify per record.
    const put = (key: string, i: number, value: unknown): BatchOp =>
      serialised
        ? ({ type: 'put', sublevel, key, value: serialised[i], valueEncoding: 'utf8' } as BatchOp)
        : { type: 'put', sublevel, key, value };
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r.kind === 'enterprise') ops.push(put(enterpriseKey(r.record.uscc), i, r.record));
      else if (r.kind === 'loan') ops.push(put(loanKey(r.record), i, r.record));
      else {
        const f = r.record;
        const prev = previous[i];
        const key = factKey(f);
        if (prev?.kind === 'fact' && factKey(prev.record) !== key)
          ops.push({ type: 'del', sublevel, key: factKey(prev.record) });
        ops.push(put(key, i, f));
        ops.push({ type: 'put', sublevel, key: factIndexKey(f.id), value: `${f.uscc}!${FACT_SECTION[f.subtype]}` });
      }
    }
    return ops;
  }

  async count() {
    let enterprises = 0;
    let facts = 0;
    let loans = 0;
    for await (const k of this.#sub.keys()) {
      if (k.startsWith('e!')) enterprises++;
      else if (k.startsWith('f!')) facts++;
      else if (k.startsWith('l!')) loans++;
    }
    return { enterprises, facts, loans };
  }

  /** The root database, for callers committing {@link writeOps}. */
  get db() {
    return this.#db;
  }
}

/** Creates the profile store over the node's root database. */
export function createProfileStore(components: ProfileStoreComponents): ProfileStore {
  return new LevelProfileStore(components);
}
