/** `credit-node federation up|down|status`: the local demo federation on loopback. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type FederationState,
  prepareFederation,
  startFederation,
  stopFederation,
} from '../../../scenarios/federation/launcher.ts';
import { DEFAULT_BASE_PORT } from '../../../scenarios/federation/topology.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node federation up --dir DIR [--base-port ${DEFAULT_BASE_PORT}] [--timeout-seconds 90]
       credit-node federation down --dir DIR
       credit-node federation status --dir DIR

up      lays out DIR on first use (one directory, key file and database per node, a roster signed
        by the Xiamen credit centre), starts every node in its own background process, and returns
        once every node sees all its peers. A second up reuses DIR.
down    stops every node (SIGTERM, then SIGKILL after 10 s) and releases their databases.
status  prints each node's health.`;

const command: Command = {
  summary: 'Run the local demo federation (one process per node, loopback only).',
  usage,
  async run(argv) {
    const [action, ...rest] = argv;
    const { values } = parse(rest, {
      dir: { type: 'string' },
      'base-port': { type: 'string' },
      'timeout-seconds': { type: 'string' },
    });
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
