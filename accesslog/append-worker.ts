/**
 * Test helper run as a child process: appends to a log at argv[2] as fast as it can and prints
 * `ack <index>` for each durable entry, until it is killed. Used by the kill -9 test.
 */
import { ed25519KeyPair, fromBase64 } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase } from '../storage/index.ts';
import { createAccessLog } from './log.ts';

const [, , location, seedB64] = process.argv;
const keys = ed25519KeyPair(fromBase64(seedB64)!);
const db = await openDatabase(location);
const log = createAccessLog(
  { db, identitySeed: keys.seed, identityPublicKey: keys.publicKey, nodeId: 'kill-test', logger: silentLogger() },
  { checkpointIntervalMs: 50 },
);
await log.start();
let n = 0;
const one = async () => {
  for (;;) {
    const i = n++;
    const r = await log.append({
      time: new Date().toISOString(),
      actor: { node: 'bank-a', principal: `officer-${i % 7}`, role: 'bank' },
      action: 'PROFILE_READ',
      decision: 'ALLOW',
      scopes: ['registration'],
      subject: '91350200776049653A',
      correlationId: `c-${i}`,
    });
    process.stdout.write(`ack ${r.index}\n`);
  }
};
await Promise.all(Array.from({ length: 32 }, one));
