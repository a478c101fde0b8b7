/** `credit-node start`: runs a node until SIGINT or SIGTERM. */
import { loadConfig } from '../../config.ts';
import { createCreditNode } from '../../credit-node.ts';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../logger.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node start --config FILE [--data-dir DIR] [--host HOST] [--port PORT]
                         [--log-level ${LOG_LEVELS.join('|')}] [--graphiql] [--passphrase-env VAR]`;

const command: Command = {
  summary: 'Start a node from its config file.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'log-level': { type: 'string' },
      graphiql: { type: 'boolean' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.config) throw new UsageError('--config is required');
    const config = await loadConfig(values.config, {
      dataDir: values['data-dir'],
      host: values.host,
      port: intFlag('port', values.port, 0, 65535),
      logLevel: values['log-level'],
      graphiql: values.graphiql,
    });
    const logger = createLogger({ level: config.log.level as LogLevel, name: 'credit-node' });
    const node = await createCreditNode(config, { logger, passphrase: passphraseFrom(values['passphrase-env']) });
    await node.start();
    console.log(JSON.stringify({ event: 'ready', nodeId: config.nodeId, url: node.url }));
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await node.stop();
    return 0;
  },
};

export default command;
