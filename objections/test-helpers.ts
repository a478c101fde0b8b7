/**
 * Nodes with real (in-memory) Level stores, their fact-change services and objections, joined by
 * an in-process implementation of the objection peers port (no libp2p), a recording access log
 * per node and one clock; and fixture builders of facts.
 */
import type { AccessEvent, AccessLogPort } from '../accesslog/port.ts';
import { type CreditFact, composeUscc, type IngestRecord } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { createFactChanges, type FactChange, type FactChangeService } from './fact-changes.ts';
import { createRedress, type Redress } from './index.ts';
import type { ObjectionPeers } from './ports.ts';

/** Enterprises of the fixtures. */
export const ZZ_FIRM = composeUscc('9', '1', '350602', 'MA2Y0D01');
export const OTHER_FIRM = composeUscc('9', '1', '350602', 'MA2Y0D02');

/** One node of the fixture. */
export interface TestNode {
  id: string;
  db: RootDb;
  profiles: ProfileStore;
  facts: FactChangeService;
  redress: Redress;
  events: AccessEvent[];
  /** Changes the node's listeners were told of. */
  changes: FactChange[];
  put(facts: CreditFact[]): Promise<void>;
  status(factId: string): Promise<string | undefined>;
}

/** Nodes sharing a clock. */
export interface TestNodes {
  nodes: Record<string, TestNode>;
  clock: { now: number };
  /** Nodes that do not answer. */
  down: Set<string>;
  stop(): Promise<void>;
}

/** Starts `ids` as nodes joined by an in-process peers port. */
export async function testNodes(ids: string[], start = Date.parse('2026-11-20T02:00:00Z')): Promise<TestNodes> {
  const clock = { now: start };
  const down = new Set<string>();
  const nodes: Record<string, TestNode> = {};
  const unreachable = (node: string) =>
    Object.assign(new Error(`${node} did not answer`), { code: 'PEER_UNAVAILABLE', name: 'PeerUnavailableError' });
  const peersOf = (self: string): ObjectionPeers => ({
    holders: () => ids.filter((x) => x !== self),
    async locate(node, q) {
      if (down.has(node)) throw unreachable(node);
      return nodes[node].redress.locate(q.factId, q.uscc);
    },
    async file(node, filing) {
      if (down.has(node)) throw unreachable(node);
      return structuredClone(await nodes[node].redress.receiveFiling(self, structuredClone(filing)));
    },
    async deliver(node, m) {
      if (down.has(node)) throw unreachable(node);
      const msg = structuredClone(m);
      if (msg.op === 'status') await nodes[node].redress.receiveStatus(self, msg.fact, msg.change, msg.correlationId);
      else await nodes[node].redress.receiveDecision(self, msg.record);
    },
  });
  for (const id of ids) {
    const db = await openDatabase({ memory: true });
    const profiles = createProfileStore({ db });
    const events: AccessEvent[] = [];
    const changes: FactChange[] = [];
    const log: AccessLogPort = {
      async append(e) {
        events.push(e);
        return { index: events.length - 1, leafHash: '' };
      },
    };
    const facts = createFactChanges({ db, profiles, nodeId: id, logger: silentLogger() }, { now: () => clock.now });
    facts.onChange((c) => {
      changes.push(c);
    });
    const peers = peersOf(id);
    const redress = createRedress(
      { db, facts, log, nodeId: id, peers: () => peers, logger: silentLogger() },
      { now: () => clock.now, sweepIntervalMs: 3_600_000 },
    );
    await redress.start();
    nodes[id] = {
      id,
      db,
      profiles,
      facts,
      redress,
      events,
      changes,
      async put(list) {
        const records: IngestRecord[] = list.map((record) => ({ kind: 'fact', record }));
        await db.batch(profiles.writeOps(records, await profiles.existing(records)));
      },
      status: async (factId) => (await facts.get(factId))?.status,
    };
  }
  return {
    nodes,
    clock,
    down,
    async stop() {
      for (const n of Object.values(nodes)) {
        await n.redress.stop();
        await n.db.close();
      }
    },
  };
}

let seq = 0;
/** A general administrative penalty determined by `origin`, decided on `decisionDate`. */
export function penaltyFact(origin: string, decisionDate: string, over: Partial<CreditFact> = {}): CreditFact {
  seq++;
  const [y, m, d] = decisionDate.split('-');
  return {
    id: `PEN-${origin}-${seq}`,
    uscc: ZZ_FIRM,
    category: 'ADMINISTRATIVE',
    subtype: 'ADMIN_PENALTY',
    polarity: 'NEGATIVE',
    severity: 'GENERAL',
    legalDocumentRef: `漳市监罚〔${y}〕${seq}号`,
    sourceUnit: '漳州市市场监督管理局',
    decisionDate,
    publicUntil: `${Number(y) + 1}-${m}-${d}`,
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: {
      decisionNo: `罚字〔${y}〕${seq}号`,
      penaltyCategory: '罚款',
      content: '未按规定履行义务',
      authority: '漳州市市场监督管理局',
    },
    originNode: origin,
    version: 1,
    updatedAt: `${decisionDate}T00:00:00Z`,
    ...over,
  };
}

/** A dishonest-debtor listing (a court's: not repaired by a centre). */
export function debtorFact(origin: string, over: Partial<CreditFact> = {}): CreditFact {
  seq++;
  return {
    id: `DD-${origin}-${seq}`,
    uscc: ZZ_FIRM,
    category: 'JUDICIAL',
    subtype: 'DISHONEST_DEBTOR',
    polarity: 'NEGATIVE',
    legalDocumentRef: `(2024)闽0602执${seq}号`,
    sourceUnit: '漳州市芗城区人民法院',
    decisionDate: '2024-05-01',
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: {
      caseNo: `(2024)闽0602执${seq}号`,
      court: '芗城区人民法院',
      obligation: '支付货款',
      performance: '全部未履行',
    },
    originNode: origin,
    version: 1,
    updatedAt: '2024-05-01T00:00:00Z',
    ...over,
  };
}

/** The code of a rejected promise (or `NO_ERROR`). */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'NO_ERROR';
}
