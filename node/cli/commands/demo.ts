/** `credit-node demo` (`npm start`): the demo federation and its story, on loopback. */
import { resolve } from 'node:path';
import { federationClients } from '../../../scenarios/demo/client.ts';
import { runStory } from '../../../scenarios/demo/story.ts';
import { prepareFederation, startFederation, stopFederation } from '../../../scenarios/federation/launcher.ts';
import { DEFAULT_BASE_PORT } from '../../../scenarios/federation/topology.ts';
import { type Command, intFlag, parse } from '../args.ts';

const usage = `usage: credit-node demo [--dir .demo] [--enterprises 2000] [--base-port ${DEFAULT_BASE_PORT}] [--no-wait]

Generates demo data on first use, starts the federation (one process per node: Xiamen credit
centre, Xiamen process-data source, Zhangzhou and Quanzhou centres, the easy-loan platform,
three banks), runs the story against the real nodes, prints each node's GraphQL address and a
token per role, and keeps running until Ctrl-C, which stops every node. --no-wait stops at once.`;

const command: Command = {
  summary: 'Run the demo federation and its story.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      dir: { type: 'string' },
      enterprises: { type: 'string' },
      'base-port': { type: 'string' },
      'no-wait': { type: 'boolean' },
    });
    const dir = resolve(values.dir ?? '.demo');
    const started = performance.now();
    const prepared = await prepareFederation(dir, {
      basePort: intFlag('base-port', values['base-port'], 1024, 65000),
      enterprises: intFlag('enterprises', values.enterprises, 10, 1_000_000) ?? 2000,
      logLevel: 'warn',
    });
    console.log(
      `${prepared.fresh ? 'Prepared' : 'Reusing'} the demo federation in ${dir}; starting ${prepared.roster.roster.members.length} nodes…`,
    );
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      console.log('\nStopping every node…');
      await stopFederation(dir);
      console.log('Stopped.');
    };
    const { state } = await startFederation(dir, { detached: false, timeoutMs: 120_000 });
    console.log(`All nodes healthy after ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
    try {
      await runStory(dir, (line) => console.log(line));
    } catch (err) {
      console.error(`\nstory failed: ${(err as Error).message}`);
      await stop();
      return 1;
    }
    console.log('\nall stories passed\n');
    const clients = await federationClients(dir);
    console.log('GraphQL endpoints (GraphiQL in a browser):');
    for (const n of state.nodes) console.log(`  ${n.nodeId.padEnd(10)} ${n.role.padEnd(13)} ${n.url}/graphql`);
    const samples = [
      ['bank officer @ bank-a', 'bank-a', { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' }],
      ['credit-centre staff @ xm-centre', 'xm-centre', { sub: 'staff-01', role: 'centre-staff' }],
      ['auditor @ xm-centre', 'xm-centre', { sub: 'regulator-01', role: 'auditor' }],
    ] as const;
    console.log('\nReady tokens (valid 1 hour):');
    for (const [label, id, p] of samples) console.log(`  ${label}:\n    ${clients.get(id)?.token(p)}`);
    console.log(
      `\nExample:\n  curl -s ${clients.get('bank-a')?.url} -H 'content-type: application/json' \\\n    -H "authorization: Bearer <bank officer token>" \\\n    -d '{"query":"{ federation { members { nodeId role up checkpointSize } } }"}'\n`,
    );
    if (values['no-wait']) {
      await stop();
      return 0;
    }
    console.log('Running. Press Ctrl-C to stop every node.');
    await new Promise<void>((resolveWait) => {
      process.once('SIGINT', () => resolveWait());
      process.once('SIGTERM', () => resolveWait());
    });
    await stop();
    return 0;
  },
};

export default command;
