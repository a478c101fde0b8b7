/**
 * Private list check benchmark (DESIGN §11, §7.3): list of 1,000,000, batch of 10,000.
 *
 * Baselines in the same run: raw `node:crypto` curve operations per second (X25519, the group
 * the list check uses; P-256 ECDH and pure-JS RFC 9380 P-256 hash-to-curve, the alternatives it
 * was measured against). Figures: list preparation per core on one thread (a sample of 100,000,
 * bracketed by raw X25519 runs) and on two worker threads for the full 1,000,000 (bracketed by
 * raw X25519 on two worker threads); one batch of
 * 10,000 end to end in-process (blind, evaluate, finalise, look up in a mirror of the 1,000,000
 * list), with the client's and the server's shares; snapshot and delta sizes.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { p256_hasher } from '@noble/curves/nist.js';
import { toUtf8 } from '../crypto/encoding.ts';
import {
  createListMirror,
  createOprfClient,
  createOprfServer,
  encodeDelta,
  encodeSnapshot,
  generateOprfKey,
  prepareList,
  prepareListParallel,
} from '../crypto/psi/index.ts';

const LIST = 1_000_000;
const SAMPLE = 100_000;
const BATCH = 10_000;
const HITS = 1_000;
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
const uscc = (i: number) => `91350200${i.toString(36).toUpperCase().padStart(10, '0')}`;

function* entries(n: number, from = 0) {
  for (let i = from; i < from + n; i++) yield uscc(i);
}

/** Operations per second of `op` over `n` calls after a warm-up. */
function opsPerSecond(n: number, op: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(500, n); i++) op(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) op(i);
  return rate(n, performance.now() - t);
}

function rawX25519(): () => number {
  const { privateKey } = generateKeyPairSync('x25519');
  const peers: KeyObject[] = Array.from({ length: 256 }, () => generateKeyPairSync('x25519').publicKey);
  return () => opsPerSecond(20_000, (i) => diffieHellman({ privateKey, publicKey: peers[i & 255] }));
}

/** Raw X25519 operations per second summed over `workers` threads running at once (the same setting as the parallel preparation). */
async function rawX25519OnWorkers(workers: number, ops = 20_000): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const c = require('node:crypto');
    const { privateKey } = c.generateKeyPairSync('x25519');
    const peers = Array.from({ length: 256 }, () => c.generateKeyPairSync('x25519').publicKey);
    for (let i = 0; i < 500; i++) c.diffieHellman({ privateKey, publicKey: peers[i & 255] });
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      for (let i = 0; i < workerData; i++) c.diffieHellman({ privateKey, publicKey: peers[i & 255] });
      parentPort.postMessage('done');
    });`;
  const pool = Array.from({ length: workers }, () => new Worker(code, { eval: true, workerData: ops }));
  const next = (w: Worker) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject));
  try {
    await Promise.all(pool.map(next));
    const t = performance.now();
    const done = Promise.all(pool.map(next));
    for (const w of pool) w.postMessage('go');
    await done;
    return rate(workers * ops, performance.now() - t);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function alternatives() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const p256Peers = Array.from({ length: 256 }, () => {
    const e = createECDH('prime256v1');
    e.generateKeys();
    return e.getPublicKey();
  });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecPeers = Array.from({ length: 64 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const seeds = Array.from({ length: 256 }, () => randomBytes(32));
  const peer = generateKeyPairSync('x25519').publicKey;
  const x = peer.export({ format: 'jwk' }).x;
  const pem = String(peer.export({ format: 'pem', type: 'spki' }));
  return {
    p256EcdhComputeSecretPerSecond: opsPerSecond(5_000, (i) => ecdh.computeSecret(p256Peers[i & 255])),
    p256DiffieHellmanKeyObjectsPerSecond: opsPerSecond(5_000, (i) =>
      diffieHellman({ privateKey: ec.privateKey, publicKey: ecPeers[i & 63] }),
    ),
    p256NobleSswuHashToCurvePerSecond: opsPerSecond(500, (i) => p256_hasher.hashToCurve(toUtf8(uscc(i)))),
    // The list check imports each point: raw bytes from Node 24.22, a PEM string before (see crypto/psi/curve.ts).
    x25519PublicKeyImportPerSecond: {
      jwk: opsPerSecond(20_000, () =>
        createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: String(x) }, format: 'jwk' }),
      ),
      pem: opsPerSecond(20_000, () => createPublicKey(pem)),
    },
    x25519PrivateKeyImportPerSecond: opsPerSecond(5_000, (i) =>
      createPrivateKey({
        key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), seeds[i & 255]]),
        format: 'der',
        type: 'pkcs8',
      }),
    ),
  };
}

export async function bench(): Promise<Record<string, unknown>> {
  const measureRaw = rawX25519();
  const rawBefore = measureRaw();
  const key = generateOprfKey();
  const server = createOprfServer({ key });

  // One thread: a sample of the list, bracketed by raw X25519 runs.
  let t = performance.now();
  await prepareList(entries(SAMPLE, LIST), server);
  const oneThread = rate(SAMPLE, performance.now() - t);
  const rawAfter = measureRaw();
  const raw = Math.round((rawBefore + rawAfter) / 2);

  // Worker threads: the whole list, bracketed by raw X25519 on as many worker threads.
  const workers = Math.min(2, availableParallelism());
  const rawWorkersBefore = await rawX25519OnWorkers(workers);
  t = performance.now();
  const list = await prepareListParallel(entries(LIST), key, { workers });
  const parallelMs = performance.now() - t;
  const parallel = rate(LIST, parallelMs);
  const rawWorkers = Math.round((rawWorkersBefore + (await rawX25519OnWorkers(workers))) / 2);

  // The querier's mirror of the 1,000,000 list.
  t = performance.now();
  const snapshot = list.snapshot();
  const snapshotMs = performance.now() - t;
  const mirror = createListMirror({ keyId: server.publicInfo.keyId });
  t = performance.now();
  mirror.applySnapshot(snapshot);
  const mirrorLoadMs = performance.now() - t;

  // One batch of 10,000 (1,000 listed) end to end in-process.
  const queries = Array.from({ length: BATCH }, (_, i) => toUtf8(i < HITS ? uscc(i * 997) : uscc(LIST + SAMPLE + i)));
  const client = createOprfClient();
  t = performance.now();
  const blinded = client.blind(queries);
  const blindMs = performance.now() - t;
  t = performance.now();
  const evaluated = server.evaluate(blinded.blinded);
  const evaluateMs = performance.now() - t;
  t = performance.now();
  const values = blinded.finalize(evaluated);
  const finalizeMs = performance.now() - t;
  t = performance.now();
  const hits = values.map((v) => mirror.has(v));
  const lookupMs = performance.now() - t;
  const correct = hits.every((h, i) => h === i < HITS);

  // Incremental updates: 100 listings and 100 repairs, as a delta.
  const from = list.version;
  for (let i = 0; i < 100; i++) {
    list.add(uscc(LIST + SAMPLE + BATCH + i));
    list.remove(uscc(i * 13 + 1));
  }
  const delta = list.deltaSince(from)!;
  t = performance.now();
  mirror.applyDelta(delta);
  const deltaApplyMs = performance.now() - t;

  const perCore = Math.round(parallel / workers);
  const endToEnd = blindMs + evaluateMs + finalizeMs + lookupMs;
  const ms = (x: number) => Math.round(x);
  return {
    group: 'X25519 (Curve25519 and its twist), node:crypto / OpenSSL',
    baseline: {
      x25519OpsPerSecond: raw,
      x25519OpsPerSecondOnWorkerThreads: { workers, perCore: Math.round(rawWorkers / workers) },
      ...alternatives(),
    },
    preparation: {
      oneThread: { sample: SAMPLE, elementsPerSecond: oneThread, ratioToRawX25519: +(oneThread / raw).toFixed(2) },
      workerThreads: {
        elements: LIST,
        workers,
        seconds: +(parallelMs / 1000).toFixed(1),
        elementsPerSecond: parallel,
        elementsPerSecondPerCore: perCore,
        ratioToRawX25519OnWorkerThreads: +(parallel / rawWorkers).toFixed(2),
      },
      target: { elementsPerSecondPerCore: 15_000, ratioToRaw: 0.65 },
    },
    batch: {
      inputs: BATCH,
      listed: HITS,
      pointsSent: blinded.blinded.length,
      correct,
      clientMs: { blind: ms(blindMs), finalize: ms(finalizeMs), lookup: ms(lookupMs) },
      serverMs: { evaluate: ms(evaluateMs) },
      endToEndMs: ms(endToEnd),
      endToEndInRawX25519Ops: Math.round((endToEnd / 1000) * raw),
      targetMs: 2000,
    },
    list: {
      size: mirror.size,
      snapshotBytes: encodeSnapshot(snapshot).length,
      snapshotMs: ms(snapshotMs),
      mirrorLoadMs: ms(mirrorLoadMs),
      mirrorKeyMiB: +((mirror.size * 16 + 65_537 * 4) / 2 ** 20).toFixed(1),
      delta: { changes: delta.changes.length, bytes: encodeDelta(delta).length, applyMs: +deltaApplyMs.toFixed(1) },
    },
  };
}
