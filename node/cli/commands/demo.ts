/** `credit-node demo` (`npm start`): the demo federation and its five stories, on loopback. */
import { join, resolve } from 'node:path';
import { federationClients } from '../../../scenarios/demo/client.ts';
import { runStories, type StoryReport, storyNames, summary } from '../../../scenarios/demo/stories/index.ts';
import { enterprisesOf } from '../../../scenarios/demo/stories/kit.ts';
import {
  type FederationState,
  prepareFederation,
  runningFederation,
  startFederation,
  stopFederation,
} from '../../../scenarios/federation/launcher.ts';
import { DEFAULT_BASE_PORT } from '../../../scenarios/federation/topology.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node demo [--dir .demo] [--enterprises 2000] [--base-port ${DEFAULT_BASE_PORT}]
                        [--story NAME]... [--json] [--no-wait]

Generates demo data on first use, starts the federation (one process per node: Xiamen credit
centre, Xiamen process-data source, Zhangzhou and Quanzhou centres, the easy-loan platform,
three banks), tells the stories against the real nodes, prints each node's GraphQL address and a
token per role, and keeps running until Ctrl-C, which stops every node.

Stories (in order): ${storyNames().join(', ')}.
--story NAME tells only that story (repeat for several). When the federation in --dir is already
running (another \`npm start\`), the stories run against it and the command exits, leaving it up.
--json prints one JSON report on stdout (the narration goes to stderr). --no-wait stops at once.
Exit status 1 when a story fails.`;

const command: Command = {
  summary: 'Run the demo federation and tell its stories.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      dir: { type: 'string' },
      enterprises: { type: 'string' },
      'base-port': { type: 'string' },
      story: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'no-wait': { type: 'boolean' },
    });
    const only = values.story ?? [];
    const unknown = only.filter((s) => !storyNames().includes(s));
    if (unknown.length > 0)
      throw new UsageError(`unknown story ${unknown.join(', ')} (stories: ${storyNames().join(', ')})`);
    const json = values.json === true;
    // With --json, stdout carries the report only.
    const say = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
    const dir = resolve(values.dir ?? '.demo');
    const started = performance.now();

    const running = await runningFederation(dir);
    if (running) {
      say(`The demo federation in ${dir} is already running; telling the stories against it.`);
      const reports = await runStories(dir, { only, say });
      return finish(dir, reports, running, json, say);
    }

    const prepared = await prepareFederation(dir, {
      basePort: intFlag('base-port', values['base-port'], 1024, 65000),
      enterprises: intFlag('enterprises', values.enterprises, 10, 1_000_000) ?? 2000,
      logLevel: 'warn',
    });
    say(
      `${prepared.fresh ? 'Prepared' : 'Reusing'} the demo federation in ${dir}; starting ${prepared.roster.roster.members.length} nodes…`,
    );
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        say('\nStopping every node…');
        await stopFederation(dir);
        say('Stopped.');
      })();
      return stopping;
    };
    // Ctrl-C at any moment (starting, telling a story, serving) stops every node and leaves no lock.
    const interrupted = new Promise<'interrupted'>((resolveSignal) => {
      const on = () => resolveSignal('interrupted');
      process.once('SIGINT', on);
      process.once('SIGTERM', on);
    });
    const startup = startFederation(dir, { detached: false, timeoutMs: 120_000 });
    const first = await Promise.race([startup, interrupted]);
    if (first === 'interrupted') {
      await startup.catch(() => undefined);
      await stop();
      // A story's requests may still be waiting on nodes that are gone: end now.
      process.exit(130);
    }
    const { state } = first;
    say(`All nodes healthy after ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    const told = await Promise.race([runStories(dir, { only, say }), interrupted]);
    if (told === 'interrupted') {
      await stop();
      process.exit(130);
    }
    const code = await finish(dir, told, state, json, say);
    if (code !== 0 || values['no-wait']) {
      await stop();
      return code;
    }
    say('Running. Press Ctrl-C to stop every node.');
    await interrupted;
    await stop();
    return 0;
  },
};

/** Ready tokens the demo prints: one per role, issued by the node where that role signs in. */
const SAMPLE_TOKENS = [
  ['bank officer @ bank-a', 'bank-a', { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' }],
  ['credit-centre staff @ xm-centre', 'xm-centre', { sub: 'staff-01', role: 'centre-staff' }],
  ['platform operator @ easy-loan', 'easy-loan', { sub: 'operator-01', role: 'platform-operator' }],
  ['auditor @ xm-centre', 'xm-centre', { sub: 'regulator-01', role: 'auditor' }],
] as const;

/** Prints the closing line and the endpoints with ready tokens (or the JSON report); returns the exit code. */
async function finish(
  dir: string,
  reports: StoryReport[],
  state: FederationState,
  json: boolean,
  say: (line: string) => void,
) {
  const { ok, line } = summary(reports);
  say(`\n${line}\n`);
  if (json) {
    console.log(
      JSON.stringify({
        ok,
        summary: line,
        stories: reports,
        endpoints: state.nodes.map((n) => ({ nodeId: n.nodeId, role: n.role, graphql: `${n.url}/graphql` })),
      }),
    );
    return ok ? 0 : 1;
  }
  if (!ok) return 1;
  const clients = await federationClients(dir);
  say('Nodes: web console at / and GraphQL at /graphql (GraphiQL in a browser):');
  for (const n of state.nodes) say(`  ${n.nodeId.padEnd(10)} ${n.role.padEnd(13)} ${n.url}/  ${n.url}/graphql`);
  say(
    '\nSign in to the console with these links (valid 1 hour); the part after #token= is a Bearer token for GraphQL:',
  );
  for (const [label, id, p] of SAMPLE_TOKENS) {
    const token = clients.get(id)?.token(p);
    say(`  ${label}:\n    ${clients.get(id)?.url.replace(/\/graphql$/, '')}/#token=${token}`);
  }
  // The audit story's enterprise: its console signs consents with the key line from the demo's key file.
  const firm = (await enterprisesOf(dir, 'xm-centre'))[0];
  if (firm) {
    const centre = clients.get('xm-centre');
    const token = centre?.token({ sub: 'rep-01', role: 'enterprise', uscc: firm.uscc });
    say(
      `  enterprise ${firm.uscc} @ xm-centre (its key: the line of ${join(dir, 'data/keys/enterprises.ndjson')} with its code):\n    ${centre?.url.replace(/\/graphql$/, '')}/#token=${token}`,
    );
  }
  say(
    `\nExamples:\n  curl -s ${clients.get('bank-a')?.url} -H 'content-type: application/json' \\\n    -H "authorization: Bearer <bank officer's token>" \\\n    -d '{"query":"{ federation { members { nodeId role up checkpointSize } } }"}'\n` +
      `  curl -s ${clients.get('easy-loan')?.url} -H 'content-type: application/json' \\\n    -H "authorization: Bearer <platform operator's token>" \\\n    -d '{"query":"{ platformFigures { totals { registered applications approvals grantedYuan } authorisedShare loanShare } }"}'\n`,
  );
  return 0;
}

export default command;
