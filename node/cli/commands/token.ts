/** `credit-node token`: issues an API token of a node for local use. */
import { join } from 'node:path';
import { PRINCIPAL_ROLES, type PrincipalRole } from '../../../authz/index.ts';
import { loadConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { nodeTokenService } from '../../tokens.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node token --config FILE --role ROLE --sub ID [--bank NODE_ID] [--uscc USCC]
                         [--department CODE] [--ttl SECONDS] [--passphrase-env VAR]

Prints a short-lived ES256 JWT signed by the node, for its /graphql API.
Roles: ${PRINCIPAL_ROLES.join(', ')}. A bank-officer needs --bank, an enterprise --uscc, a gov-system
(a government business system) --department.`;

const command: Command = {
  summary: 'Issue an API token (JWT) for a principal.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' },
      role: { type: 'string' },
      sub: { type: 'string' },
      bank: { type: 'string' },
      uscc: { type: 'string' },
      department: { type: 'string' },
      ttl: { type: 'string' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.config || !values.role || !values.sub) throw new UsageError('--config, --role and --sub are required');
    if (!(PRINCIPAL_ROLES as readonly string[]).includes(values.role))
      throw new UsageError(`--role must be one of ${PRINCIPAL_ROLES.join(', ')}`);
    const config = await loadConfig(values.config);
    const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), {
      passphrase: passphraseFrom(values['passphrase-env']),
    });
    const tokens = nodeTokenService(config, keys);
    const ttl = intFlag('ttl', values.ttl, 60, 86_400);
    console.log(
      tokens.issue(
        {
          sub: values.sub,
          role: values.role as PrincipalRole,
          bank: values.bank,
          uscc: values.uscc,
          department: values.department,
        },
        ttl,
      ),
    );
    return 0;
  },
};

export default command;
