/** A node's roster entry, read from its node directory (config and key file). */
import { join } from 'node:path';
import { toBase64 } from '../crypto/index.ts';
import { peerIdOfKey, type RosterMember } from '../federation/roster.ts';
import { loadConfig } from './config.ts';
import { KEY_FILE, loadOrCreateKeys } from './keystore.ts';

/** The roster entry of the node in `dir`. */
export async function memberFromNodeDir(dir: string, validDays: number, addresses?: string[]): Promise<RosterMember> {
  const config = await loadConfig(join(dir, 'config.json'));
  const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE));
  const fixed =
    config.p2p.announce.length > 0 ? config.p2p.announce : config.p2p.listen.filter((a) => !a.endsWith('/tcp/0'));
  const peerId = peerIdOfKey(keys.identity.publicKey);
  const now = Date.now();
  return {
    nodeId: config.nodeId,
    name: config.name,
    role: config.role,
    ...(config.city ? { city: config.city } : {}),
    ...(config.serves ? { serves: [...config.serves] } : {}),
    peerId,
    addresses: (addresses?.length ? addresses : fixed).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peerId}`)),
    signingKey: toBase64(keys.identity.publicKey),
    ...(config.api.port !== 0 ? { apiUrl: `http://${config.api.host}:${config.api.port}` } : {}),
    validFrom: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + validDays * 86_400_000).toISOString(),
  };
}
