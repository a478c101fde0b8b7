/**
 * Objections and repair applications, in the node's `objections` sublevel:
 *
 * - `o!<id>` → {@link ObjectionRecord}: at the determining node the original; at the node that
 *   received it from the enterprise (if another) a copy the determining node keeps up to date
 * - `u!<uscc>!o!<id>`, `u!<uscc>!r!<id>` → an enterprise's objections and applications
 * - `p!<id>` → an objection this node must decide, while pending
 * - `r!<id>` → {@link RepairRecord}; `q!<id>` → an application this node must decide, while pending;
 *   `a!<factId>` → the pending application of a fact
 *
 * The store prepares writes; callers commit them with the fact change they belong to.
 */
import type { AbstractBatchOperation } from 'abstract-level';
import type { FactSubtype } from '../model/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import type { FieldChange } from './fact-changes.ts';

/** An objection as filed by the enterprise at the node where it signed in. */
export interface ObjectionFiling {
  id: string;
  factId: string;
  uscc: string;
  /** The enterprise representative's principal id. */
  principal: string;
  /** What the enterprise says is wrong (shown to staff and the enterprise, never logged). */
  reason: string;
  /** References to supporting documents. */
  evidence: string[];
  receivedBy: string;
  receivedAt: string;
  correlationId: string;
}

/** How an objection was decided. */
export interface ObjectionDecision {
  outcome: 'ACCEPTED' | 'REJECTED';
  /** An accepted objection: the fact withdrawn, or corrected. */
  resolution?: 'WITHDRAWN' | 'CORRECTED';
  /** The staff's reasons, shown to the enterprise. */
  reasons: string;
  by: string;
  at: string;
  fields?: FieldChange[];
}

/** An objection (信用异议). */
export interface ObjectionRecord extends ObjectionFiling {
  subtype: FactSubtype;
  /** The node that determined the fact, which decides. */
  originNode: string;
  status: 'PENDING' | 'ACCEPTED' | 'REJECTED';
  filedAt: string;
  /** The last day for a decision (`YYYY-MM-DD`, China). */
  deadline: string;
  remindedAt?: string;
  decision?: ObjectionDecision;
  /** True at a node that only received the objection (the decision is made at `originNode`). */
  copy?: boolean;
}

/** A repair application (信用修复). */
export interface RepairRecord {
  id: string;
  factId: string;
  uscc: string;
  subtype: FactSubtype;
  principal: string;
  /** References to the proof that the obligations are met. */
  evidence: string[];
  commitment: boolean;
  tier: string;
  eligibleFrom: string;
  node: string;
  status: 'APPLIED' | 'APPROVED' | 'REFUSED';
  appliedAt: string;
  decision?: { reasons: string; by: string; at: string };
}

type Op = AbstractBatchOperation<RootDb, string, unknown>;

/** Reads and prepares writes of objections and applications. */
export interface ObjectionStore {
  objection(id: string): Promise<ObjectionRecord | undefined>;
  repair(id: string): Promise<RepairRecord | undefined>;
  /** The pending application of a fact, if any. */
  pendingRepairOf(factId: string): Promise<string | undefined>;
  /** An enterprise's objections and applications. */
  ofEnterprise(uscc: string): Promise<{ objections: ObjectionRecord[]; repairs: RepairRecord[] }>;
  /** Objections this node must decide, still pending. */
  pendingObjections(): Promise<ObjectionRecord[]>;
  /** Objections this node decides, every status (newest id range first is not guaranteed). */
  decidedHere(): AsyncIterable<ObjectionRecord>;
  /** Applications this node decides. */
  repairsHere(): AsyncIterable<RepairRecord>;
  putObjection(r: ObjectionRecord): Op[];
  putRepair(r: RepairRecord): Op[];
  /** Writes prepared operations. */
  commit(ops: Op[]): Promise<void>;
}

/** Creates the store over the node's database. */
export function objectionStore(db: RootDb): ObjectionStore {
  const sub: Sublevel = jsonSublevel(db, 'objections');
  const put = (key: string, value: unknown): Op => ({ type: 'put', sublevel: sub, key, value }) as Op;
  const del = (key: string): Op => ({ type: 'del', sublevel: sub, key }) as Op;
  const values = async <T>(keys: string[]) => ((await sub.getMany(keys)) as Array<T | undefined>).filter((v) => v);
  return {
    objection: async (id) => (await sub.get(`o!${id}`)) as ObjectionRecord | undefined,
    repair: async (id) => (await sub.get(`r!${id}`)) as RepairRecord | undefined,
    pendingRepairOf: async (factId) => (await sub.get(`a!${factId}`)) as string | undefined,
    async ofEnterprise(uscc) {
      const o: string[] = [];
      const r: string[] = [];
      for await (const k of sub.keys({ gte: `u!${uscc}!`, lt: `u!${uscc}!\xff` })) {
        const [, , kind, id] = k.split('!');
        (kind === 'o' ? o : r).push(kind === 'o' ? `o!${id}` : `r!${id}`);
      }
      return {
        objections: (await values<ObjectionRecord>(o)) as ObjectionRecord[],
        repairs: (await values<RepairRecord>(r)) as RepairRecord[],
      };
    },
    async pendingObjections() {
      const ids: string[] = [];
      for await (const k of sub.keys({ gte: 'p!', lt: 'p"' })) ids.push(`o!${k.slice(2)}`);
      return (await values<ObjectionRecord>(ids)) as ObjectionRecord[];
    },
    async *decidedHere() {
      for await (const v of sub.values({ gte: 'o!', lt: 'o"' }))
        if (!(v as ObjectionRecord).copy) yield v as ObjectionRecord;
    },
    async *repairsHere() {
      for await (const v of sub.values({ gte: 'r!', lt: 'r"' })) yield v as RepairRecord;
    },
    putObjection: (r) => [
      put(`o!${r.id}`, r),
      put(`u!${r.uscc}!o!${r.id}`, ''),
      r.status === 'PENDING' && !r.copy ? put(`p!${r.id}`, '') : del(`p!${r.id}`),
    ],
    putRepair: (r) => [
      put(`r!${r.id}`, r),
      put(`u!${r.uscc}!r!${r.id}`, ''),
      r.status === 'APPLIED' ? put(`q!${r.id}`, '') : del(`q!${r.id}`),
      r.status === 'APPLIED' ? put(`a!${r.factId}`, r.id) : del(`a!${r.factId}`),
    ],
    commit: (ops) => db.batch(ops),
  };
}
