/**
 * The local federation launcher: lays out one directory per node (config, keys, database),
 * signs a roster for all of them, and starts each node in its own process on loopback.
 *
 * Layout of a federation directory:
 * - `nodes/<nodeId>/config.json`, `node-keys.json`, `roster.json`, `db/`: one node each
 * - `roster.json`: the authority's master copy of the signed roster
 * - `logs/<nodeId>.log`: each node's structured log
 * - `federation.json`: the running processes (pid, API URL), while up
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createIngester, openSource } from '../../connectors/index.ts';
import { idNumberTokenizer } from '../../connectors/produce.ts';
import { ed25519Signer, toBase64 } from '../../crypto/index.ts';
import { type SignedRoster, signRoster } from '../../federation/roster.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../node/keystore.ts';
import { silentLogger } from '../../node/logger.ts';
import { memberFromNodeDir } from '../../node/roster-member.ts';
import { createProfileStore } from '../../profiles/index.ts';
import { openDatabase } from '../../storage/index.ts';
import { generate } from '../gen/generate.ts';
import { AUTHORITY_NODE, DEFAULT_BASE_PORT, DEMO_NODES, type DemoNode } from './topology.ts';

/** Path of the CLI entry point, for spawning nodes. */
export const CLI = new URL('../../node/cli/main.ts', import.meta.url).pathname;

/** A started node process. */
export interface RunningNode {
  nodeId: string;
  role: string;
  pid: number;
  url: string;
}

/** State file of a running federation. */
export interface FederationState {
  startedAt: string;
  nodes: RunningNode[];
}

/** Options for laying out a federation. */
export interface PrepareOptions {
  basePort?: number;
  nodes?: readonly DemoNode[];
  logLevel?: string;
  /** Generate and ingest demo data of this many enterprises on first use (0: no data). */
  enterprises?: number;
  seed?: string;
}

/** Which generated files each demo node ingests (see scenarios/gen/generate.ts for the layout). */
export function dataFor(nodeId: string): string[] {
  if (nodeId.startsWith('bank-')) return [`banks/${nodeId}/loans.ndjson`];
  if (nodeId === 'xm-data') return ['xm-data/facts.ndjson'];
  if (nodeId.endsWith('-centre')) return [`${nodeId}/enterprises.ndjson`, `${nodeId}/facts.ndjson`];
  return [];
}

/** Generates demo data into `dir/data` (if absent) and ingests each node's share. */
async function loadData(dir: string, nodes: readonly DemoNode[], enterprises: number, seed: string) {
  const data = join(dir, 'data');
  if (!(await exists(join(data, 'manifest.json')))) await generate({ enterprises, seed, out: data });
  for (const n of nodes) {
    const files = dataFor(n.nodeId).map((f) => join(data, f));
    const present = [];
    for (const f of files) if (await exists(f)) present.push(f);
    if (present.length === 0) continue;
    const home = nodeDir(dir, n.nodeId);
    const keys = await loadOrCreateKeys(join(home, KEY_FILE));
    const db = await openDatabase(join(home, 'db'));
    try {
      const tokenise = idNumberTokenizer(keys.commitmentKey);
      await createIngester({
        db,
        profiles: createProfileStore({ db }),
        tokenise,

        originNode: n.nodeId,
        logger: silentLogger(),
      }).run(present.map((f) => openSource(f)));
    } finally {
      await db.close();
    }
  }
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Directory of one node. */
export const nodeDir = (dir: string, nodeId: string) => join(dir, 'nodes', nodeId);

/**
 * Creates node directories, keys and a roster signed by the authority, unless they exist
 * (a second `up` reuses everything). Returns the nodes and their API URLs.
 */
export async function prepareFederation(dir: string, options: PrepareOptions = {}) {
  const base = options.basePort ?? DEFAULT_BASE_PORT;
  const nodes = options.nodes ?? DEMO_NODES;
  dir = resolve(dir);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const authorityDir = nodeDir(dir, AUTHORITY_NODE);
  const fresh = !(await exists(join(dir, 'roster.json')));
  if (fresh) {
    // Keys first: every config names the authority's public key.
    for (const n of nodes) {
      await mkdir(nodeDir(dir, n.nodeId), { recursive: true, mode: 0o700 });
      await loadOrCreateKeys(join(nodeDir(dir, n.nodeId), KEY_FILE));
    }
    const authority = await loadOrCreateKeys(join(authorityDir, KEY_FILE));
    for (const [i, n] of nodes.entries()) {
      const config = {
        nodeId: n.nodeId,
        name: n.name,
        role: n.role,
        ...(n.city ? { city: n.city } : {}),
        ...(n.serves ? { serves: n.serves } : {}),
        dataDir: '.',
        api: { host: '127.0.0.1', port: base + 2 * i, graphiql: true },
        p2p: { listen: [`/ip4/127.0.0.1/tcp/${base + 2 * i + 1}`] },
        federation: { roster: 'roster.json', authorityKeys: [toBase64(authority.identity.publicKey)], threshold: 1 },
        log: { level: options.logLevel ?? 'info' },
      };
      await writeFile(join(nodeDir(dir, n.nodeId), 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    }
    let roster: SignedRoster = {
      roster: { federation: 'xiamen-credit-data-space', version: 1, issuedAt: new Date().toISOString(), members: [] },
      signatures: [],
    };
    for (const n of nodes) roster.roster.members.push(await memberFromNodeDir(nodeDir(dir, n.nodeId), 365));
    roster = signRoster(roster, ed25519Signer(authority.identity.seed));
    const text = `${JSON.stringify(roster, null, 2)}\n`;
    await writeFile(join(dir, 'roster.json'), text);
    for (const n of nodes) await writeFile(join(nodeDir(dir, n.nodeId), 'roster.json'), text);
    if ((options.enterprises ?? 0) > 0) await loadData(dir, nodes, options.enterprises!, options.seed ?? 'demo');
  }
  const roster = JSON.parse(await readFile(join(dir, 'roster.json'), 'utf8')) as SignedRoster;
  return { dir, fresh, roster };
}

/** Checks that a TCP port on 127.0.0.1 is free. */
/** Lowest and highest first port {@link freeBasePort} picks: below Linux's ephemeral range (32768–60999). */
const PICK_FROM = 20_000;
const PICK_TO = 32_000;

/**
 * A first port for a federation of `nodes` nodes (two ports each) whose ports are all free now,
 * picked at random below the ephemeral range (where the system hands out outgoing ports, so a
 * running test's connections cannot take them). Tries up to 50 ranges.
 */
export async function freeBasePort(nodes: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = PICK_FROM + 2 * Math.floor((Math.random() * (PICK_TO - PICK_FROM - 2 * nodes)) / 2);
    let free = true;
    for (let p = base; p < base + 2 * nodes && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error('no free range of ports found');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const s = createServer();
    s.once('error', () => resolvePort(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolvePort(true)));
  });
}

/** Reads the API URL of each node from its config. */
async function nodeUrls(dir: string, roster: SignedRoster) {
  const out: Array<{ nodeId: string; role: string; url: string; p2pPort: number; apiPort: number }> = [];
  for (const m of roster.roster.members) {
    const cfg = JSON.parse(await readFile(join(nodeDir(dir, m.nodeId), 'config.json'), 'utf8'));
    const p2pPort = Number(String(cfg.p2p.listen[0]).split('/').pop());
    out.push({
      nodeId: m.nodeId,
      role: m.role,
      url: `http://127.0.0.1:${cfg.api.port}`,
      apiPort: cfg.api.port,
      p2pPort,
    });
  }
  return out;
}

/** Options for starting node processes. */
export interface StartOptions {
  /** Detached processes outlive the caller (`federation up`); attached ones die with it (`npm start`). */
  detached: boolean;
  /** Longest wait for all nodes to be healthy. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Starts every node of a prepared federation and waits until each sees all its peers. */
export async function startFederation(dir: string, options: StartOptions) {
  dir = resolve(dir);
  const roster = JSON.parse(await readFile(join(dir, 'roster.json'), 'utf8')) as SignedRoster;
  const nodes = await nodeUrls(dir, roster);
  for (const n of nodes) {
    for (const port of [n.apiPort, n.p2pPort]) {
      if (!(await portFree(port)))
        throw new Error(`port ${port} (node ${n.nodeId}) is in use: is the federation already up?`);
    }
  }
  const children: ChildProcess[] = [];
  const running: RunningNode[] = [];
  for (const n of nodes) {
    const log = openSync(join(dir, 'logs', `${n.nodeId}.log`), 'a');
    const child = spawn(process.execPath, [CLI, 'start', '--config', join(nodeDir(dir, n.nodeId), 'config.json')], {
      detached: options.detached,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    if (options.detached) child.unref();
    children.push(child);
    running.push({ nodeId: n.nodeId, role: n.role, pid: child.pid!, url: n.url });
  }
  const state: FederationState = { startedAt: new Date().toISOString(), nodes: running };
  await writeFile(join(dir, 'federation.json'), `${JSON.stringify(state, null, 2)}\n`);
  try {
    await waitHealthy(running, options.timeoutMs ?? 60_000, options.signal);
  } catch (err) {
    await stopFederation(dir);
    throw err;
  }
  return { state, children };
}

/** Polls every node's `/health` until it is up and sees all its peers up. */
export async function waitHealthy(nodes: RunningNode[], timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(nodes.map((n) => n.nodeId));
  while (pending.size > 0) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`nodes not healthy after ${timeoutMs} ms: ${[...pending].join(', ')}`);
    for (const n of nodes) {
      if (!pending.has(n.nodeId)) continue;
      try {
        const res = await fetch(`${n.url}/health`, { signal: AbortSignal.timeout(2000) });
        const h = (await res.json()) as { peers?: Array<{ up: boolean }> };
        if (res.ok && h.peers && h.peers.length === nodes.length - 1 && h.peers.every((p) => p.up))
          pending.delete(n.nodeId);
      } catch {
        // not up yet
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 300));
  }
}

/** Starts one node of a running federation again (after it died), recording its new process. */
export async function restartNode(dir: string, nodeId: string): Promise<RunningNode> {
  dir = resolve(dir);
  const statePath = join(dir, 'federation.json');
  const state = JSON.parse(await readFile(statePath, 'utf8')) as FederationState;
  const entry = state.nodes.find((n) => n.nodeId === nodeId);
  if (!entry) throw new Error(`no node ${nodeId} in this federation`);
  if (alive(entry.pid)) throw new Error(`node ${nodeId} is still running`);
  const log = openSync(join(dir, 'logs', `${nodeId}.log`), 'a');
  const child = spawn(process.execPath, [CLI, 'start', '--config', join(nodeDir(dir, nodeId), 'config.json')], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  entry.pid = child.pid!;
  await writeFile(statePath, `${JSON.stringify(state, null, 2)}\n`);
  return entry;
}

/** Whether a process with this pid is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
const alive = processAlive;

/** The federation running in `dir` (every process alive and healthy within 10 s), if any. */
export async function runningFederation(dir: string): Promise<FederationState | undefined> {
  let state: FederationState;
  try {
    state = JSON.parse(await readFile(join(resolve(dir), 'federation.json'), 'utf8')) as FederationState;
  } catch {
    return undefined;
  }
  if (!state.nodes?.length || !state.nodes.every((n) => alive(n.pid))) return undefined;
  try {
    await waitHealthy(state.nodes, 10_000);
    return state;
  } catch {
    return undefined;
  }
}

/** Stops every node of a running federation: SIGTERM, then SIGKILL after a grace period. */
export async function stopFederation(dir: string, graceMs = 10_000) {
  dir = resolve(dir);
  const statePath = join(dir, 'federation.json');
  if (!(await exists(statePath))) return { stopped: 0 };
  const state = JSON.parse(await readFile(statePath, 'utf8')) as FederationState;
  const pids = state.nodes.map((n) => n.pid).filter(alive);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  const killDeadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
  const left = pids.filter(alive);
  if (left.length > 0) throw new Error(`processes ${left.join(', ')} did not end after SIGKILL`);
  await rm(statePath, { force: true });
  return { stopped: pids.length };
}
