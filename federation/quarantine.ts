/**
 * Witness alarms and the quarantine they put a node in (DESIGN §6). Alarms are persisted in the
 * node's database (sublevel `federation`, keys `alarm!<time>!<n>`). A node with an uncleared
 * alarm of a {@link QUARANTINE_KINDS} kind (it showed two histories, an inconsistent one, or a
 * rolled-back one) is quarantined: the federation stops trusting its data and its witnesses stop
 * cosigning its checkpoints, until an operator clears its alarms.
 *
 * This module has no libp2p dependency, so the CLI can clear alarms in a stopped node's database.
 */
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';

/** Kinds of witness alarms. */
export const ALARM_KINDS = ['SPLIT_VIEW', 'INCONSISTENT', 'BAD_SIGNATURE', 'ROLLBACK', 'UNRESPONSIVE_LOG'] as const;
/** A kind of witness alarm. */
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** Alarm kinds that quarantine the node they are about. */
export const QUARANTINE_KINDS: readonly AlarmKind[] = ['SPLIT_VIEW', 'INCONSISTENT', 'ROLLBACK'];

/** A detected misbehaviour of a node's log. */
export interface WitnessAlarm {
  kind: AlarmKind;
  /** The node whose log misbehaved. */
  nodeId: string;
  /** Checkpoint origin of that node's log. */
  origin: string;
  /** ISO time it was raised. */
  at: string;
  detail: string;
  /** Signed notes that prove it (for ROLLBACK: the bigger checkpoint seen before, then the smaller one). */
  evidence: string[];
  /** Set once an operator has cleared it. */
  cleared?: { by: string; at: string };
}

/** Persisted alarms of one node's witness. */
export interface AlarmStore {
  /** Reads the persisted alarms; call once before use. */
  load(): Promise<void>;
  /**
   * Records an alarm unless one of the same kind about the same node is still uncleared.
   * @returns the stored alarm, or undefined when it was a repeat
   */
  raise(alarm: Omit<WitnessAlarm, 'at' | 'cleared'>, at: string): Promise<WitnessAlarm | undefined>;
  /** Uncleared alarms, oldest first. */
  active(): WitnessAlarm[];
  /** Every alarm, cleared ones included, oldest first. */
  all(): WitnessAlarm[];
  /** Node ids with an uncleared alarm of a quarantine kind, sorted (never `selfId`). */
  quarantined(): string[];
  isQuarantined(nodeId: string): boolean;
  /**
   * Clears every uncleared alarm about `nodeId` and forgets the checkpoint this witness accepted
   * of it (so the next one it shows starts afresh), in one batch.
   * @returns how many alarms were cleared
   */
  clear(nodeId: string, by: string, at: string): Promise<number>;
}

/** Key of the checkpoint a witness accepted of a node, in the same sublevel. */
export const seenKey = (nodeId: string) => `seen!${nodeId}`;

const ORIGIN_PREFIX = 'credit-data-space/';

class Store implements AlarmStore {
  readonly #sub: Sublevel<unknown>;
  readonly #selfId: string | undefined;
  #alarms: Array<{ key: string; alarm: WitnessAlarm }> = [];
  #seq = 0;

  constructor(db: RootDb, selfId: string | undefined) {
    this.#sub = jsonSublevel<unknown>(db, 'federation');
    this.#selfId = selfId;
  }

  async load() {
    const loaded: Array<{ key: string; alarm: WitnessAlarm }> = [];
    for await (const [key, value] of this.#sub.iterator({ gte: 'alarm!', lt: 'alarm"' })) {
      const a = value as WitnessAlarm;
      // Alarms stored before node ids were recorded name the node only in their origin.
      const nodeId = a.nodeId ?? (a.origin?.startsWith(ORIGIN_PREFIX) ? a.origin.slice(ORIGIN_PREFIX.length) : '');
      loaded.push({ key: key as string, alarm: { ...a, nodeId, evidence: a.evidence ?? [] } });
    }
    this.#alarms = loaded;
    this.#seq = loaded.length;
  }

  async raise(a: Omit<WitnessAlarm, 'at' | 'cleared'>, at: string) {
    if (this.#alarms.some((x) => !x.alarm.cleared && x.alarm.kind === a.kind && x.alarm.nodeId === a.nodeId))
      return undefined;
    const alarm: WitnessAlarm = { ...a, at };
    const key = `alarm!${at}!${String(++this.#seq).padStart(6, '0')}`;
    this.#alarms.push({ key, alarm });
    await this.#sub.put(key, alarm, { sync: true } as never);
    return alarm;
  }

  active() {
    return this.#alarms.filter((x) => !x.alarm.cleared).map((x) => x.alarm);
  }

  all() {
    return this.#alarms.map((x) => x.alarm);
  }

  quarantined() {
    const ids = new Set<string>();
    for (const { alarm } of this.#alarms)
      if (!alarm.cleared && QUARANTINE_KINDS.includes(alarm.kind) && alarm.nodeId !== this.#selfId)
        ids.add(alarm.nodeId);
    return [...ids].sort();
  }

  isQuarantined(nodeId: string) {
    return this.quarantined().includes(nodeId);
  }

  async clear(nodeId: string, by: string, at: string) {
    const hits = this.#alarms.filter((x) => !x.alarm.cleared && x.alarm.nodeId === nodeId);
    const cleared = { by, at };
    await this.#sub.batch(
      [
        ...hits.map((x) => ({ type: 'put' as const, key: x.key, value: { ...x.alarm, cleared } })),
        { type: 'del' as const, key: seenKey(nodeId) },
      ],
      { sync: true } as never,
    );
    for (const x of hits) x.alarm = { ...x.alarm, cleared };
    return hits.length;
  }
}

/** Opens the alarm store of a node's database; `selfId` is never listed as quarantined. */
export function createAlarmStore(db: RootDb, selfId?: string): AlarmStore {
  return new Store(db, selfId);
}
