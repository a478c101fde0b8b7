#!/usr/bin/env node
/**
 * `credit-node`: the command-line entry point. Each command lives in `commands/<name>.ts` and is
 * loaded on demand so that `credit-node verify` does not pay for libp2p or GraphQL.
 */
import { CreditError } from '../../model/errors.ts';
import { type Command, UsageError } from './args.ts';

const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  demo: () => import('./commands/demo.ts'),
  init: () => import('./commands/init.ts'),
  start: () => import('./commands/start.ts'),
  gen: () => import('./commands/gen.ts'),
  ingest: () => import('./commands/ingest.ts'),
  roster: () => import('./commands/roster.ts'),
  federation: () => import('./commands/federation.ts'),
  verify: () => import('./commands/verify.ts'),
  token: () => import('./commands/token.ts'),
  erase: () => import('./commands/erase.ts'),
  joint: () => import('./commands/joint.ts'),
  evaluate: () => import('./commands/evaluate.ts'),
};

function help(): string {
  return [
    'credit-node: a node of the trusted credit data space (可信信用数据空间)',
    '',
    'usage: credit-node <command> [options]    (credit-node <command> --help for details)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`credit-node: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const cmd = (await load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${cmd.summary}\n\n${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`credit-node ${name}: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    if (err instanceof CreditError) {
      console.error(`credit-node ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`credit-node: unexpected failure: ${(err as Error)?.stack ?? err}`);
    process.exitCode = 1;
  },
);
