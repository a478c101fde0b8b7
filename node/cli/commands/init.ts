/** `credit-node init`: writes a config file and creates the node's keys. */
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toBase64 } from '../../../crypto/index.ts';
import { parseConfig, ROLES } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node init --dir DIR --node-id ID --role ROLE [--name NAME] [--city XM|ZZ|QZ]
                        [--port PORT] [--passphrase-env VAR]

Creates DIR/config.json and DIR/${KEY_FILE} (mode 0600). Roles: ${ROLES.join(', ')}.
With --passphrase-env, the key file is sealed with the passphrase held in environment variable VAR.`;

const command: Command = {
  summary: 'Create a node directory: config file and keys.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      dir: { type: 'string' },
      'node-id': { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      city: { type: 'string' },
      port: { type: 'string' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.dir || !values['node-id'] || !values.role)
      throw new UsageError('--dir, --node-id and --role are required');
    const dir = resolve(values.dir);
    const configPath = join(dir, 'config.json');
    if (
      await access(configPath).then(
        () => true,
        () => false,
      )
    )
      throw new UsageError(`${configPath} already exists`);
    const raw = {
      nodeId: values['node-id'],
      name: values.name ?? values['node-id'],
      role: values.role,
      ...(values.city ? { city: values.city } : {}),
      dataDir: '.',
      api: { port: intFlag('port', values.port, 0, 65535) ?? 4000 },
    };
    parseConfig(raw, dir);
    const passphrase = passphraseFrom(values['passphrase-env']);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(configPath, `${JSON.stringify(raw, null, 2)}\n`, { flag: 'wx' });
    const keys = await loadOrCreateKeys(join(dir, KEY_FILE), { passphrase });
    console.log(JSON.stringify({ config: configPath, identityPublicKey: toBase64(keys.identity.publicKey) }));
    return 0;
  },
};

/** Reads a passphrase from the named environment variable (CLI boundary only). */
export function passphraseFrom(envVar: string | undefined): string | undefined {
  if (envVar === undefined) return undefined;
  const v = process.env[envVar];
  if (!v) throw new UsageError(`environment variable ${envVar} is empty or not set`);
  return v;
}

export default command;
