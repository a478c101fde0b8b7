/**
 * Changes of a fact's status on a node, with their history, for the processes that change facts
 * after they were determined (objections, repair; DESIGN §9). A change writes the new version of
 * the fact through the profile store (`writeOps`), its history entry and whatever the caller adds
 * (its own record, outbox entries) in one atomic batch, then tells the listeners (the node wires
 * its evaluation re-grade and list refresh to them).
 *
 * - `change`: the node that determined the fact (its `originNode`) changes it; anywhere else the
 *   answer is `WRONG_NODE` naming that node. `expect` guards the current status, so concurrent
 *   processes cannot both move a fact (changes of one fact are serialised).
 * - `apply`: a node holding a copy takes the determining node's new version, only from that node
 *   and only when it is newer than the copy.
 *
 * History (sublevel `fact-changes`): `h!<factId>!<version>` → {@link FactChange}.
 */
import type { AbstractBatchOperation } from 'abstract-level';
import type { Logger } from 'pino';
import type { CreditFact, FactStatus } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import { AlreadyDisputedError, FactNotActiveError, NotFoundError, WrongNodeError } from './errors.ts';

/** Why a fact changed. */
export const FACT_CHANGE_REASONS = [
  'OBJECTION_FILED',
  'OBJECTION_REJECTED',
  'OBJECTION_WITHDRAWN',
  'OBJECTION_CORRECTED',
  'REPAIRED',
] as const;
/** Why a fact changed. */
export type FactChangeReason = (typeof FACT_CHANGE_REASONS)[number];

/** One corrected field. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** One change of a fact, as its history keeps it. */
export interface FactChange {
  factId: string;
  uscc: string;
  from: FactStatus;
  to: FactStatus;
  /** The fact's version after the change. */
  version: number;
  at: string;
  /** Who decided it (`<role>:<sub>` on the determining node). */
  by: string;
  reason: FactChangeReason;
  /** The objection or repair application behind it. */
  ref?: string;
  /** The node that made the change (the fact's determining node). */
  origin: string;
  fields?: FieldChange[];
}

/** A write prepared for the caller's atomic batch. */
export type BatchOp = AbstractBatchOperation<RootDb, string, unknown>;
/** Told of every change made or applied on this node, after it is durable. */
export type FactChangeListener = (change: FactChange, fact: CreditFact) => void | Promise<void>;

/** A change to make. */
export interface FactUpdate {
  status: FactStatus;
  /** Corrected fields (not `id`, `uscc`, `subtype`, `originNode`, `version`, `status`). */
  fields?: Partial<Omit<CreditFact, 'id' | 'uscc' | 'subtype' | 'originNode' | 'version' | 'status'>>;
  /** Statuses the fact must have now; otherwise nothing changes. */
  expect?: readonly FactStatus[];
}

/** Changes of facts on a node. */
export interface FactChangeService {
  /** The fact with this id, if held here. */
  get(factId: string): Promise<CreditFact | undefined>;
  /**
   * Changes a fact this node determined.
   * @param extra writes to commit in the same batch, given the new fact and the change
   * @throws NotFoundError (not held), WrongNodeError (determined elsewhere), AlreadyDisputedError or
   *   FactNotActiveError (status not in `expect`)
   */
  change(
    factId: string,
    update: FactUpdate,
    meta: { by: string; reason: FactChangeReason; ref?: string },
    extra?: (fact: CreditFact, change: FactChange) => BatchOp[],
  ): Promise<{ fact: CreditFact; change: FactChange }>;
  /**
   * Takes the determining node's new version of a fact held here as a copy.
   * @returns the change, or `undefined` when the fact is not held here or the copy is not older
   */
  apply(from: string, fact: CreditFact, change: FactChange): Promise<FactChange | undefined>;
  /** A fact's changes, oldest first. */
  history(factId: string): Promise<FactChange[]>;
  /** Adds a listener; returns its removal. */
  onChange(listener: FactChangeListener): () => void;
}

/** What the fact-change service needs. */
export interface FactChangeComponents {
  db: RootDb;
  profiles: ProfileStore;
  nodeId: string;
  logger: Logger;
}

const pad = (n: number) => n.toString().padStart(10, '0');
const CORRECTABLE = ['severity', 'decisionDate', 'publicFrom', 'publicUntil', 'legalDocumentRef', 'payload'] as const;

/** Creates the fact-change service of a node. */
export function createFactChanges(c: FactChangeComponents, init: { now?: () => number } = {}): FactChangeService {
  const now = init.now ?? Date.now;
  const sub: Sublevel = jsonSublevel(c.db, 'fact-changes');
  const log = c.logger.child({ component: 'fact-changes' });
  const listeners = new Set<FactChangeListener>();
  const locks = new Map<string, Promise<unknown>>();

  /** Runs changes of one fact one at a time. */
  const locked = <T>(factId: string, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(factId) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    locks.set(factId, tail);
    void tail.then(() => {
      if (locks.get(factId) === tail) locks.delete(factId);
    });
    return run;
  };
  const get = async (factId: string) => {
    if (typeof factId !== 'string' || factId.length === 0 || factId.length > 128) return undefined;
    const probe = { kind: 'fact', record: { id: factId } as CreditFact } as const;
    const [found] = await c.profiles.existing([probe]);
    return found?.kind === 'fact' ? found.record : undefined;
  };
  const write = async (prev: CreditFact, next: CreditFact, change: FactChange, extra: BatchOp[]) => {
    const records = [{ kind: 'fact', record: next } as const];
    await c.db.batch([
      ...c.profiles.writeOps(records, [{ kind: 'fact', record: prev }]),
      { type: 'put', sublevel: sub, key: `h!${next.id}!${pad(next.version)}`, value: change } as BatchOp,
      ...extra,
    ]);
  };
  const notify = async (change: FactChange, fact: CreditFact) => {
    for (const l of listeners) {
      try {
        await l(change, fact);
      } catch (err) {
        log.error({ fact: change.factId, err: (err as Error).message }, 'a fact-change listener failed');
      }
    }
  };

  return {
    get,
    change: (factId, update, meta, extra) =>
      locked(factId, async () => {
        const prev = await get(factId);
        if (!prev) throw new NotFoundError('no fact with this id is held here');
        if (prev.originNode !== c.nodeId)
          throw new WrongNodeError(`the fact was determined by ${prev.originNode}`, prev.originNode);
        if (update.expect && !update.expect.includes(prev.status)) {
          if (prev.status === 'DISPUTED') throw new AlreadyDisputedError('the fact is under objection');
          throw new FactNotActiveError(`the fact is ${prev.status.toLowerCase()}`);
        }
        const at = new Date(now()).toISOString();
        const fields: FieldChange[] = [];
        const next: CreditFact = { ...prev, status: update.status, version: prev.version + 1, updatedAt: at };
        for (const k of CORRECTABLE) {
          const v = update.fields?.[k];
          if (v === undefined || JSON.stringify(v) === JSON.stringify(prev[k])) continue;
          fields.push({ field: k, old: prev[k] ?? null, new: v });
          (next as unknown as Record<string, unknown>)[k] = v;
        }
        const change: FactChange = {
          factId,
          uscc: prev.uscc,
          from: prev.status,
          to: update.status,
          version: next.version,
          at,
          by: meta.by,
          reason: meta.reason,
          ...(meta.ref ? { ref: meta.ref } : {}),
          origin: c.nodeId,
          ...(fields.length > 0 ? { fields } : {}),
        };
        await write(prev, next, change, extra?.(next, change) ?? []);
        await notify(change, next);
        return { fact: next, change };
      }),
    apply: (from, fact, change) =>
      locked(fact.id, async () => {
        const prev = await get(fact.id);
        if (!prev) return undefined;
        if (prev.originNode !== from || fact.originNode !== from || change.origin !== from)
          throw new WrongNodeError('only the node that determined a fact changes it', prev.originNode);
        if (fact.uscc !== prev.uscc || change.factId !== fact.id || fact.subtype !== prev.subtype)
          throw new NotFoundError('the change does not match the fact held here');
        if (fact.version <= prev.version) return undefined;
        const applied: FactChange = {
          ...change,
          uscc: prev.uscc,
          from: prev.status,
          to: fact.status,
          version: fact.version,
        };
        await write(prev, fact, applied, []);
        await notify(applied, fact);
        return applied;
      }),
    async history(factId) {
      const out: FactChange[] = [];
      for await (const v of sub.values({ gte: `h!${factId}!`, lt: `h!${factId}!\xff` })) out.push(v as FactChange);
      return out;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
