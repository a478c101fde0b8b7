/**
 * `credit-node federation up|down|status`: the local demo federation on loopback;
 * `credit-node federation alarms|clear-alarm`: a stopped node's witness alarms and quarantine.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { createAlarmStore } from '../../../federation/quarantine.ts';
import { CreditError } from '../../../model/errors.ts';
import {
  type FederationState,
  prepareFederation,
  startFederation,
  stopFederation,
} from '../../../scenarios/federation/launcher.ts';
import { DEFAULT_BASE_PORT } from '../../../scenarios/federation/topology.ts';
import { DatabaseLockedError, openDatabase, type RootDb } from '../../../storage/index.ts';
import { loadConfig } from '../../config.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node federation up --dir DIR [--base-port ${DEFAULT_BASE_PORT}] [--timeout-seconds 90]
       credit-node federation down --dir DIR
       credit-node federation status --dir DIR
       credit-node federation alarms --config NODE_CONFIG
       credit-node federation clear-alarm --config NODE_CONFIG --node NODE_ID [--by NAME]

up      lays out DIR on first use (one directory, key file and database per node, a roster signed
        by the Xiamen credit centre), starts every node in its own background process, and returns
        once every node sees all its peers. A second up reuses DIR.
down    stops every node (SIGTERM, then SIGKILL after 10 s) and releases their databases.
status  prints each node's health.
alarms  prints the witness alarms of the node whose config is given (cleared ones too, with who
        cleared them) and the members it holds in quarantine.
clear-alarm
        an operator clears every witness alarm of that node about NODE_ID (SPLIT_VIEW,
        INCONSISTENT, ROLLBACK, ...), which lifts NODE_ID's quarantine: the node trusts its data
        again, and its witness accepts NODE_ID's next checkpoint as a new starting point. The
        clearing is recorded with --by (default: the current user) and the time. The node must be
        stopped (its database is opened here); start it again afterwards.`;

/** The node whose database a command needs is running. */
export class NodeRunningError extends CreditError {
  static override name = 'NodeRunningError';
  override readonly code = 'NODE_RUNNING';
}

/** Opens a stopped node's database; a running node holds its lock. */
async function openStopped(configPath: string): Promise<{ db: RootDb; nodeId: string }> {
  const config = await loadConfig(configPath);
  try {
    return { db: await openDatabase(join(config.dataDir, 'db')), nodeId: config.nodeId };
  } catch (err) {
    if (err instanceof DatabaseLockedError)
      throw new NodeRunningError(`node ${config.nodeId} is running (its database is locked): stop it first`, {
        cause: err,
      });
    throw err;
  }
}

const command: Command = {
  summary: 'Run the local demo federation (one process per node, loopback only).',
  usage,
  async run(argv) {
    const [action, ...rest] = argv;
    const { values } = parse(rest, {
      dir: { type: 'string' },
      'base-port': { type: 'string' },
      'timeout-seconds': { type: 'string' },
      config: { type: 'string' },
      node: { type: 'string' },
      by: { type: 'string' },
    });
    if (action === 'alarms' || action === 'clear-alarm') {
      if (!values.config) throw new UsageError('--config is required');
      if (action === 'clear-alarm' && !values.node) throw new UsageError('--node is required');
      const by = values.by ?? userInfo().username;
      if (!by.trim()) throw new UsageError('--by must name who clears the alarm');
      const { db, nodeId } = await openStopped(values.config);
      try {
        const store = createAlarmStore(db, nodeId);
        await store.load();
        if (action === 'alarms') {
          console.log(JSON.stringify({ node: nodeId, alarms: store.all(), quarantined: store.quarantined() }, null, 2));
          return 0;
        }
        const cleared = await store.clear(values.node!, by, new Date().toISOString());
        console.log(
          JSON.stringify({ node: nodeId, cleared, about: values.node, by, quarantined: store.quarantined() }),
        );
        if (cleared === 0) console.error(`no uncleared alarm about ${values.node}`);
        return 0;
      } finally {
        await db.close();
      }
    }
    if (!values.dir) throw new UsageError('--dir is required');
    const dir = resolve(values.dir);
    switch (action) {
      case 'up': {
        await prepareFederation(dir, { basePort: intFlag('base-port', values['base-port'], 1024, 65000) });
        const { state } = await startFederation(dir, {
          detached: true,
          timeoutMs: (intFlag('timeout-seconds', values['timeout-seconds'], 5, 3600) ?? 90) * 1000,
        });
        console.log(
          JSON.stringify({ up: state.nodes.map(({ nodeId, role, url }) => ({ nodeId, role, url })) }, null, 2),
        );
        return 0;
      }
      case 'down': {
        console.log(JSON.stringify(await stopFederation(dir)));
        return 0;
      }
      case 'status': {
        let state: FederationState;
        try {
          state = JSON.parse(await readFile(join(dir, 'federation.json'), 'utf8'));
        } catch {
          console.log(JSON.stringify({ up: false }));
          return 1;
        }
        const out = [];
        for (const n of state.nodes) {
          const health = await fetch(`${n.url}/health`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.json(),
            () => ({ status: 'down' }),
          );
          out.push({ ...n, health });
        }
        console.log(JSON.stringify(out, null, 2));
        return 0;
      }
      default:
        throw new UsageError(`unknown federation action "${action ?? ''}"`);
    }
  },
};

export default command;
