import { describe, expect, it } from 'vitest';
import {
  cosignCheckpoint,
  ed25519KeyPair,
  formatVerifierKey,
  noteVerifier,
  SIG_COSIGNATURE_V1,
  toBase64,
} from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import { openDatabase } from '../storage/index.ts';
import { createAccessLog, logOrigin } from './log.ts';
import {
  checkCosignatures,
  defaultWitnessQuorum,
  parseWitnessKey,
  rosterWitnessPolicy,
  verifyBundle,
  verifyCheckpointNote,
} from './verify.ts';

const ids = ['bank-a', 'bank-b', 'bank-c', 'centre', 'zz-centre'];
const keys = Object.fromEntries(ids.map((id) => [id, ed25519KeyPair()]));
const roster = {
  roster: { members: ids.map((nodeId) => ({ nodeId, signingKey: toBase64(keys[nodeId].publicKey) })) },
  signatures: [],
};
const now = Math.floor(Date.now() / 1000);

async function bankA(entries: number, minWitnesses?: number) {
  const log = createAccessLog(
    {
      db: await openDatabase({ memory: true }),
      identitySeed: keys['bank-a'].seed,
      identityPublicKey: keys['bank-a'].publicKey,
      nodeId: 'bank-a',
      logger: silentLogger(),
    },
    { checkpointIntervalMs: 1e9 },
  );
  await log.start();
  if (minWitnesses !== undefined) log.setWitnessQuorum(minWitnesses);
  for (let i = 0; i < entries; i++)
    await log.append({
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      actor: { node: 'bank-a', principal: 'o', role: 'bank-officer' },
      action: 'PROFILE_READ',
      decision: 'ALLOW',
      scopes: ['tax'],
      correlationId: `c-${i}`,
    });
  return log;
}
const body = (note: string) => note.slice(0, note.indexOf('\n\n') + 1);
const cosign = (note: string, by: string) => cosignCheckpoint(body(note), logOrigin(by), keys[by].seed, now);

describe('witness policies', () => {
  it('default quorum: a majority of the log’s peers', () => {
    expect([0, 1, 2, 3, 4, 7].map(defaultWitnessQuorum)).toEqual([0, 1, 2, 2, 3, 4]);
    const { policy, logKey } = rosterWitnessPolicy(roster, logOrigin('bank-a'));
    expect(policy.witnesses.map((w) => w.name)).toEqual(
      ['bank-b', 'bank-c', 'centre', 'zz-centre'].map((id) => logOrigin(id)),
    );
    expect(policy.minWitnesses).toBe(3);
    expect(logKey).toBe(formatVerifierKey(noteVerifier(logOrigin('bank-a'), keys['bank-a'].publicKey)));
    expect(rosterWitnessPolicy(roster.roster, logOrigin('bank-a'), 1).policy.minWitnesses).toBe(1);
    expect(() => rosterWitnessPolicy(roster, logOrigin('stranger'))).toThrow(/not a member of this roster/);
    expect(() => rosterWitnessPolicy({ members: [{ nodeId: 'x' }] }, 'x')).toThrow(/member 0 needs/);
  });

  it('counts distinct valid cosignatures of the policy witnesses, and names found and needed', async () => {
    const log = await bankA(3);
    const cp = (await log.checkpoint())!;
    const { policy, logKey } = rosterWitnessPolicy(roster, log.origin);
    const lines = ['bank-b', 'centre'].map((w) => cosign(cp.note, w));
    const two = cp.note + lines.join('');
    expect(() => verifyCheckpointNote(two, logKey, policy)).toThrow(
      'witnesses: the checkpoint carries 2 valid cosignatures from the 4 accepted witnesses (credit-data-space/bank-b, credit-data-space/centre); 3 needed',
    );
    // A repeated line counts once; the log's own cosignature and unknown witnesses do not count.
    const padded =
      two +
      lines[0] +
      cosign(cp.note, 'bank-a') +
      cosignCheckpoint(body(cp.note), 'stranger', ed25519KeyPair().seed, now);
    expect(() => verifyCheckpointNote(padded, logKey, policy)).toThrow(/carries 2 valid cosignatures/);
    const three = two + cosign(cp.note, 'zz-centre');
    expect(verifyCheckpointNote(three, logKey, policy).witnesses).toEqual({
      valid: ['credit-data-space/bank-b', 'credit-data-space/centre', 'credit-data-space/zz-centre'],
      required: 3,
    });
    // A cosignature by a policy witness that does not verify fails the checkpoint (c2sp signed-note).
    const otherCp = (await (await bankA(4)).checkpoint())!;
    const wrong = three + cosign(otherCp.note, 'bank-c');
    expect(() => verifyCheckpointNote(wrong, logKey, policy)).toThrow(
      /witnesses: cosignature by credit-data-space\/bank-c does not verify/,
    );
    // Only a cosigner key (type 0x04) is a witness key.
    expect(() => parseWitnessKey(logKey)).toThrow(/not a cosignature \(type 0x04\) key/);
    const wkey = formatVerifierKey(noteVerifier(logOrigin('centre'), keys.centre.publicKey, SIG_COSIGNATURE_V1));
    expect(
      checkCosignatures(two, parseVerifierKeyOf(logKey), { witnesses: [parseWitnessKey(wkey)], minWitnesses: 1 }),
    ).toEqual({
      valid: ['credit-data-space/centre'],
      required: 1,
    });
  });

  it('bundles: issued against the newest checkpoint with the quorum, else marked uncosigned', async () => {
    const log = await bankA(5, 2);
    const cp5 = (await log.checkpoint())!;
    for (const w of ['bank-b', 'centre']) await log.addCosignature(5, w, cosign(cp5.note, w));
    await log.append({
      time: new Date().toISOString(),
      actor: { node: 'bank-a', principal: 'o', role: 'bank-officer' },
      action: 'PROFILE_READ',
      decision: 'ALLOW',
      scopes: ['tax'],
      correlationId: 'c-5',
    });
    const cp6 = (await log.checkpoint())!;
    await log.addCosignature(6, 'bank-c', cosign(cp6.note, 'bank-c'));
    const { policy } = rosterWitnessPolicy(roster, log.origin, 2);

    const old = await log.bundle(2);
    expect(old).toMatchObject({ cosigned: true, witnesses: ['bank-b', 'centre'] });
    expect(verifyBundle(old, log.verifierKey, policy).size).toBe(5);

    // The newest entry is only in checkpoint 6, which has one cosignature so far.
    const fresh = await log.bundle(5, { waitMs: 0 });
    expect(fresh).toMatchObject({ cosigned: false, witnesses: ['bank-c'] });
    expect(() => verifyBundle(fresh, log.verifierKey, policy)).toThrow(/carries 1 valid cosignature .*; 2 needed/);
    // Waiting: the bundle is issued as soon as a second witness cosigns.
    const waiting = log.bundle(5, { waitMs: 10_000 });
    await log.addCosignature(6, 'zz-centre', cosign(cp6.note, 'zz-centre'));
    const witnessed = await waiting;
    expect(witnessed).toMatchObject({ cosigned: true, witnesses: ['bank-c', 'zz-centre'] });
    expect(verifyBundle(witnessed, log.verifierKey, policy).witnesses?.valid).toHaveLength(2);

    // What clients are served.
    expect((await log.cosignedCheckpoint())!.size).toBe(6);
    expect((await log.checkpoints({ witnessed: true })).map((c) => [c.size, c.witnesses])).toEqual([
      [6, ['bank-c', 'zz-centre']],
      [5, ['bank-b', 'centre']],
    ]);
    log.setWitnessQuorum(3);
    expect(await log.cosignedCheckpoint()).toBeUndefined();
    expect(await log.checkpoints({ witnessed: true })).toEqual([]);
    expect((await log.checkpoints()).map((c) => c.size)).toEqual([6, 5]);
  });

  it('a stand-alone log (quorum 0) serves its latest checkpoint, marked uncosigned', async () => {
    const log = await bankA(3);
    const b = await log.bundle(1);
    expect(b).toMatchObject({ cosigned: false, witnesses: [] });
    expect(verifyBundle(b, log.verifierKey).index).toBe(1);
    expect((await log.cosignedCheckpoint())?.size).toBe(3);
    await expect(log.addCosignature(2, 'bank-b', cosign(b.checkpoint, 'bank-b'))).rejects.toThrow(
      /no checkpoint of that size/,
    );
  });
});

function parseVerifierKeyOf(vkey: string) {
  const [name, , key] = vkey.split('+');
  return noteVerifier(name, Buffer.from(key, 'base64').subarray(1));
}
