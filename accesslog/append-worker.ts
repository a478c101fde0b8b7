/**
 * Test helper run as a child process: opens the log at argv[2] and appends to it as fast as it
 * can, from 32 concurrent callers, until it is killed (it never ends on its own). Used by the
 * kill -9 test, which kills it at a point it reports on stdout, one line each:
 * - `ready <size>`: the log is open with `size` entries and appending starts
 * - `ack <index> <correlationId>`: that entry was appended durably
 * - `checkpoint <size>`: the log signed and stored a checkpoint of `size` entries (timer-driven,
 *   every 50 ms; seen after an append)
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
// Writes to a pipe are synchronous on Linux: a line is out before the next append starts.
const say = (line: string) => process.stdout.write(`${line}\n`);
let reportedCheckpoint = log.latestCheckpoint()?.size ?? -1;
say(`ready ${log.size()}`);
let n = 0;
const one = async () => {
  for (;;) {
    const correlationId = `c-${process.pid}-${n++}`;
    const r = await log.append({
      time: new Date().toISOString(),
      actor: { node: 'bank-a', principal: `officer-${n % 7}`, role: 'bank' },
      action: 'PROFILE_READ',
      decision: 'ALLOW',
      scopes: ['registration'],
      subject: '91350200776049653A',
      correlationId,
    });
    say(`ack ${r.index} ${correlationId}`);
    const cp = log.latestCheckpoint()?.size ?? -1;
    if (cp > reportedCheckpoint) {
      reportedCheckpoint = cp;
      say(`checkpoint ${cp}`);
    }
  }
};
await Promise.all(Array.from({ length: 32 }, one));
