import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../storage/index.ts';
import { freeBasePort, nodeDir, prepareFederation, processAlive, startFederation, stopFederation } from './launcher.ts';
import { DEMO_NODES } from './topology.ts';

const alive = processAlive;

describe('local federation launcher (one process per node)', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await stopFederation(dir);
  });

  // Two starts of every node, each with its own 60 s health deadline, and two stops (10 s grace
  // each): the test's own limit lies above those, so a slow start fails with the launcher's
  // message naming the nodes that are not healthy rather than with a bare test timeout.
  it('starts every node healthy, stops them all, and leaves no process or lock behind', {
    timeout: 180_000,
  }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'fed-'));
    const basePort = await freeBasePort(DEMO_NODES.length);
    await prepareFederation(dir, { basePort, logLevel: 'warn' });
    const { state } = await startFederation(dir, { detached: true, timeoutMs: 60_000 });
    expect(state.nodes.map((n) => n.nodeId)).toEqual(DEMO_NODES.map((n) => n.nodeId));
    const health = (await (await fetch(`${state.nodes[0].url}/health`)).json()) as {
      rosterVersion: number;
      peers: Array<{ up: boolean }>;
    };
    expect(health.rosterVersion).toBe(1);
    expect(health.peers).toHaveLength(DEMO_NODES.length - 1);
    expect(health.peers.every((p: { up: boolean }) => p.up)).toBe(true);

    const { stopped } = await stopFederation(dir);
    expect(stopped).toBe(DEMO_NODES.length);
    expect(state.nodes.filter((n) => alive(n.pid))).toEqual([]);
    // No lock left: every database opens again.
    for (const n of DEMO_NODES) {
      const db = await openDatabase(join(nodeDir(dir, n.nodeId), 'db'));
      await db.close();
    }

    // A second start reuses the directory and is up again.
    const again = await prepareFederation(dir, { basePort });
    expect(again.fresh).toBe(false);
    const second = await startFederation(dir, { detached: true, timeoutMs: 60_000 });
    const roster = JSON.parse(await readFile(join(dir, 'roster.json'), 'utf8'));
    expect(roster.roster.members).toHaveLength(DEMO_NODES.length);
    expect(second.state.nodes).toHaveLength(DEMO_NODES.length);
    await stopFederation(dir);
  });
});
