/**
 * `credit-node erase`: an enterprise's erasure request (删除请求) carried out by an operator of the
 * node where the enterprise signs in: the running node erases the enterprise's commitment openings
 * on every node of the federation (its entries stay in every log, unlinkable to it). The request
 * goes through the node's own API as the enterprise, so it is the same path, checks and log entries
 * (`OPENINGS_ERASED`, with the operator named) as when the enterprise asks itself.
 */
import { join } from 'node:path';
import { validateUscc } from '../../../model/index.ts';
import { loadConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { nodeTokenService } from '../../tokens.ts';
import { type Command, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node erase --config FILE --uscc USCC --by OPERATOR_ID [--passphrase-env VAR]

Erases the enterprise's commitment openings on every node, through the running node's API
(it must be a node where enterprises sign in: a credit centre, a city peer or the easy-loan
platform). Prints, per node, how many openings were erased, and the nodes that did not answer.`;

const command: Command = {
  summary: "Erase an enterprise's access-log openings on every node (its erasure request).",
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' },
      uscc: { type: 'string' },
      by: { type: 'string' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.config || !values.uscc || !values.by) throw new UsageError('--config, --uscc and --by are required');
    const uscc = validateUscc(values.uscc);
    if (!uscc.valid) throw new UsageError('--uscc is not a valid USCC');
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(values.by)) throw new UsageError('--by must be an operator id');
    const config = await loadConfig(values.config);
    const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), {
      passphrase: passphraseFrom(values['passphrase-env']),
    });
    const token = nodeTokenService(config, keys).issue(
      { sub: `operator:${values.by}`, role: 'enterprise', uscc: uscc.code },
      120,
    );
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    const res = await fetch(`http://${host}:${config.api.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { eraseMyAccessOpenings { erased { node openings } unavailable } }' }),
      signal: AbortSignal.timeout(60_000),
    }).catch((err: Error) => {
      throw new UsageError(
        `the node's API at ${host}:${config.api.port} did not answer (${err.message}); is it running?`,
      );
    });
    const body = (await res.json()) as {
      data?: { eraseMyAccessOpenings?: unknown };
      errors?: Array<{ message: string }>;
    };
    if (body.errors?.length) {
      console.error(`erasure refused: ${body.errors[0].message}`);
      return 1;
    }
    console.log(JSON.stringify(body.data?.eraseMyAccessOpenings, null, 2));
    return 0;
  },
};

export default command;
