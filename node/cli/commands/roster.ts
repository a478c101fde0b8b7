/** `credit-node roster`: create, edit, sign, publish and show the federation roster. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ed25519Signer, toBase64 } from '../../../crypto/index.ts';
import {
  parseRoster,
  type RosterMember,
  type SignedRoster,
  signRoster,
  verifyRoster,
} from '../../../federation/roster.ts';
import { loadConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { memberFromNodeDir } from '../../roster-member.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node roster create --out FILE --federation NAME
       credit-node roster add --roster FILE --node DIR [--valid-days N] [--address MULTIADDR]...
       credit-node roster remove --roster FILE --node-id ID
       credit-node roster sign --roster FILE --key DIR [--passphrase-env VAR]
       credit-node roster publish --roster FILE --to DIR [--to DIR]...
       credit-node roster show --roster FILE

A node directory (DIR) holds config.json and ${KEY_FILE}, as written by \`credit-node init\`.
Editing a signed roster bumps its version and drops the signatures; sign it again, then publish:
publish checks the signatures against each node's configured authorities and writes the file
each node watches. Nodes adopt a newer version within seconds, without restart, and pass it on.`;

async function readRoster(path: string): Promise<SignedRoster> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read roster ${path}: ${(err as Error).message}`);
  }
  return parseRoster(raw);
}

async function writeJson(path: string, value: unknown) {
  const tmp = join(dirname(path), `.roster.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/** Edits the body; a roster that was signed gets the next version and no signatures. */
function edit(r: SignedRoster, change: (members: RosterMember[]) => RosterMember[]): SignedRoster {
  const signed = r.signatures.length > 0;
  return {
    roster: {
      ...r.roster,
      version: signed ? r.roster.version + 1 : r.roster.version,
      issuedAt: new Date().toISOString(),
      members: change([...r.roster.members]),
    },
    signatures: [],
  };
}

const command: Command = {
  summary: 'Manage the signed federation roster.',
  usage,
  async run(argv) {
    const [action, ...rest] = argv;
    const { values } = parse(rest, {
      out: { type: 'string' },
      federation: { type: 'string' },
      roster: { type: 'string' },
      node: { type: 'string' },
      'node-id': { type: 'string' },
      'valid-days': { type: 'string' },
      address: { type: 'string', multiple: true },
      key: { type: 'string' },
      to: { type: 'string', multiple: true },
      'passphrase-env': { type: 'string' },
    });
    const need = (k: keyof typeof values) => {
      const v = values[k];
      if (v === undefined) throw new UsageError(`roster ${action}: --${k} is required`);
      return v as string;
    };
    switch (action) {
      case 'create': {
        const r: SignedRoster = {
          roster: { federation: need('federation'), version: 1, issuedAt: new Date().toISOString(), members: [] },
          signatures: [],
        };
        await writeFile(resolve(need('out')), `${JSON.stringify(r, null, 2)}\n`, { flag: 'wx' });
        return 0;
      }
      case 'add': {
        const path = resolve(need('roster'));
        const m = await memberFromNodeDir(
          resolve(need('node')),
          intFlag('valid-days', values['valid-days'], 1, 3650) ?? 365,
          values.address,
        );
        await writeJson(
          path,
          edit(await readRoster(path), (ms) => [...ms.filter((x) => x.nodeId !== m.nodeId), m]),
        );
        console.log(JSON.stringify({ added: m.nodeId, peerId: m.peerId }));
        return 0;
      }
      case 'remove': {
        const path = resolve(need('roster'));
        const id = need('node-id');
        const r = await readRoster(path);
        if (!r.roster.members.some((m) => m.nodeId === id)) throw new UsageError(`no member ${id} in the roster`);
        await writeJson(
          path,
          edit(r, (ms) => ms.filter((m) => m.nodeId !== id)),
        );
        return 0;
      }
      case 'sign': {
        const path = resolve(need('roster'));
        const config = await loadConfig(join(resolve(need('key')), 'config.json'));
        const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), {
          passphrase: passphraseFrom(values['passphrase-env']),
        });
        await writeJson(path, signRoster(await readRoster(path), ed25519Signer(keys.identity.seed)));
        console.log(JSON.stringify({ signedBy: toBase64(keys.identity.publicKey) }));
        return 0;
      }
      case 'publish': {
        const r = await readRoster(resolve(need('roster')));
        const targets = values.to ?? [];
        if (targets.length === 0) throw new UsageError('roster publish: at least one --to DIR is required');
        for (const dir of targets) {
          const config = await loadConfig(join(resolve(dir), 'config.json'));
          if (!config.federation) throw new UsageError(`node ${config.nodeId} has no federation settings`);
          verifyRoster(r, config.federation);
          await writeJson(config.federation.roster, r);
        }
        console.log(JSON.stringify({ published: r.roster.version, to: targets.length }));
        return 0;
      }
      case 'show': {
        const r = await readRoster(resolve(need('roster')));
        console.log(JSON.stringify(r, null, 2));
        return 0;
      }
      default:
        throw new UsageError(`unknown roster action "${action ?? ''}"`);
    }
  },
};

export default command;
