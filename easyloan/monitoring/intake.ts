/**
 * Facts determined while a node runs (a penalty decided today, a listing): centre staff record
 * them through the API (`recordFacts`), where the ingest CLI would need the node stopped. Each row
 * passes the one-table rules (`model/validate.ts`, as in an ingest), must be new (an id this node
 * already holds is refused: later changes go through objections and repair), `ACTIVE`, version 1,
 * and determined here (no other `originNode`); one bad row refuses the whole call and nothing is
 * written. The facts and the alerts to the banks monitoring those enterprises are written in one
 * atomic batch; the node's listeners then re-grade the enterprises and refresh the lists.
 */
import type { Principal } from '../../authz/principals.ts';
import type { CreditFact, IngestRecord } from '../../model/index.ts';
import { validateRecord } from '../../model/index.ts';
import type { ProfileStore } from '../../profiles/index.ts';
import type { RootDb } from '../../storage/index.ts';
import { FactExistsError, InvalidInputError } from '../errors.ts';
import { mustBe } from '../util.ts';
import type { AlertService } from './alerts.ts';

/** Most facts per call. */
export const MAX_RECORDED_FACTS = 1000;

/** What recording facts needs. */
export interface FactIntakeComponents {
  db: RootDb;
  profiles: ProfileStore;
  alerts: Pick<AlertService, 'opsForNewFacts' | 'kick'>;
  nodeId: string;
  tokenise: (idNumber: string) => string;
}

/** What a call recorded. */
export interface RecordedFacts {
  recorded: number;
  factIds: string[];
  /** Alerts queued for banks monitoring these enterprises. */
  alerts: number;
}

/** Recording facts on a running node. */
export interface FactIntake {
  /** API (centre staff): records new facts determined here. */
  record(p: Principal, rows: unknown): Promise<RecordedFacts>;
  /** Told of the enterprises whose facts were recorded (after they are durable). */
  onRecorded(listener: (usccs: string[]) => Promise<void> | void): void;
}

/** Creates the fact intake of a node that determines facts. */
export function createFactIntake(c: FactIntakeComponents): FactIntake {
  const listeners: Array<(usccs: string[]) => Promise<void> | void> = [];
  return {
    async record(p, rows) {
      mustBe(p, 'centre-staff');
      if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_RECORDED_FACTS)
        throw new InvalidInputError(`between 1 and ${MAX_RECORDED_FACTS} facts per call`);
      const records: Array<IngestRecord & { kind: 'fact' }> = [];
      const details: Array<{ field: string; rule: string; message: string }> = [];
      rows.forEach((row, i) => {
        const origin = (row as { originNode?: unknown } | null)?.originNode;
        if (origin !== undefined && origin !== c.nodeId)
          details.push({
            field: `${i}.originNode`,
            rule: 'ORIGIN',
            message: 'facts are recorded at the node that determines them',
          });
        const v = validateRecord('fact', row, { originNode: c.nodeId, tokenise: c.tokenise });
        if (!v.ok) {
          for (const e of v.errors) details.push({ field: `${i}.${e.field}`, rule: e.rule, message: e.message });
          return;
        }
        const f = v.value.record as CreditFact;
        if (f.status !== 'ACTIVE' || f.version !== 1)
          details.push({ field: `${i}.status`, rule: 'NEW_FACT', message: 'a new fact is ACTIVE, version 1' });
        records.push({ kind: 'fact', record: f });
      });
      const ids = records.map((r) => r.record.id);
      if (new Set(ids).size !== ids.length) details.push({ field: 'id', rule: 'REPEATED', message: 'ids repeat' });
      if (details.length > 0)
        throw new InvalidInputError(`${details.length} problems: ${details[0].field} ${details[0].rule}`, details);
      const existing = await c.profiles.existing(records);
      const held = existing.findIndex((e) => e !== undefined);
      if (held >= 0) throw new FactExistsError(`fact ${held} has an id this node already holds`);
      const facts = records.map((r) => r.record);
      const { ops, banks, alerts } = await c.alerts.opsForNewFacts(facts);
      await c.db.batch([...c.profiles.writeOps(records, existing), ...ops] as never);
      c.alerts.kick(banks);
      const usccs = [...new Set(facts.map((f) => f.uscc))];
      for (const l of listeners) await l(usccs);
      return { recorded: facts.length, factIds: ids, alerts };
    },
    onRecorded(listener) {
      listeners.push(listener);
    },
  };
}
