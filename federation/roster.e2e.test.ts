import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import { until } from '../testkit/wait.ts';
import { type SignedRoster, signRoster } from './roster.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

describe('roster in force across live nodes', () => {
  let nodes: TestFederation['nodes'];
  let members: TestFederation['members'];
  let sign: TestFederation['sign'];
  let v1: SignedRoster;
  let fed: TestFederation;

  beforeAll(async () => {
    fed = await startTestFederation({ centre: 'credit-centre', bank: 'bank', peer: 'city-peer' });
    ({ nodes, members, sign, roster: v1 } = fed);
  });

  afterAll(async () => {
    await fed?.stop();
  });

  it('brings every member up', async () => {
    await nodes.centre.federation!.health.waitAllUp(10_000);
    expect(nodes.centre.federation!.health.peers().every((p) => p.up)).toBe(true);
  });

  it('refuses forged, older and tampered rosters, and raises an alarm on two rosters of one version', async () => {
    const roster = nodes.bank.federation!.roster;
    const forged = signRoster(
      { ...v1, roster: { ...v1.roster, version: 9 }, signatures: [] },
      ed25519Signer(ed25519KeyPair().seed),
    );
    expect(await roster.offer(forged, 'test')).toBe(false);
    expect(await roster.offer({ ...v1, roster: { ...v1.roster, version: 5 } }, 'test')).toBe(false);
    expect(await roster.offer(v1, 'test')).toBe(false);
    const twin = sign({ ...v1, roster: { ...v1.roster, federation: 'other' } });
    expect(await roster.offer(twin, 'test')).toBe(false);
    expect(roster.alarms()).toHaveLength(1);
    expect(roster.current()?.roster.version).toBe(1);
  });

  it('adopts a new version from the file without restart, spreads it, and shuts out a removed member', async () => {
    const v2 = sign({
      roster: { ...v1.roster, version: 2, members: [members.centre, members.bank] },
      signatures: [],
    });
    // Only the centre's file changes; the bank learns v2 from the centre.
    await writeFile(nodes.centre.config.federation!.roster, JSON.stringify(v2));
    await until('roster version 2 at the bank', () => nodes.bank.federation!.roster.current()?.roster.version === 2, {
      timeoutMs: 10_000,
    });
    expect(nodes.centre.federation!.roster.current()?.roster.version).toBe(2);
    // The removed peer still believes in v1, but nobody admits it any more.
    await expect(nodes.peer.federation!.host.request('centre', '/credit/health/1.0.0', {})).rejects.toThrow(
      /unreachable|no valid answer|not an active/,
    );
    expect(nodes.centre.federation!.host.connected()).not.toContain('peer');
  });
});
