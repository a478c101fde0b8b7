/**
 * Worker thread of the HE pool: one BFV session (its own WASM instance and heap), the key pairs
 * created in this thread (secret keys never leave it; the pool holds only their handle ids), and
 * one operation at a time, in arrival order.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { type BfvKeyPair, type BfvSession, createBfvSession, type HeCompression } from './bfv.ts';
import { HeKeyHandleError } from './errors.ts';
import { SMALL_SET } from './params.ts';
import { type PoolRequest, type PoolResponse, serializeError, type WorkerStats } from './pool-protocol.ts';
import { liveSealObjects, wasmHeapBytes } from './seal.ts';

/** Data the pool passes to each worker. */
export interface WorkerData {
  compression: HeCompression;
}

const port = parentPort;
if (!port) throw new Error('crypto/he/worker.ts runs only as a worker thread');

const session: BfvSession = await createBfvSession({ compression: (workerData as WorkerData).compression });
/**
 * The small set's session, made on first use (a quarter of the standard one's start-up): its
 * ciphertexts are always saved with zstd (a third smaller; loading one costs ~1 ms).
 */
let small: BfvSession | undefined;
const sessions = {
  get standard() {
    return session;
  },
  get small() {
    if (!small) throw new Error('the small session is not ready');
    return small;
  },
};
/** Whether a request uses the small set (its session is made before the request runs). */
const usesSmall = (req: PoolRequest) => 'set' in req && req.set === 'small';
const keys = new Map<string, BfvKeyPair>();

function keyPair(id: string): BfvKeyPair {
  const found = keys.get(id);
  if (!found) throw new HeKeyHandleError('no key pair with this handle in the worker');
  return found;
}

function run(req: PoolRequest): { value: unknown; transfer: ArrayBuffer[] } {
  const bytes = (value: Uint8Array) => ({ value, transfer: [value.buffer as ArrayBuffer] });
  switch (req.op) {
    case 'createKeyPair': {
      const pair = sessions[req.set].createKeyPair();
      const id = randomUUID();
      keys.set(id, pair);
      // The key pair keeps its public key: send a copy, transfer nothing.
      return { value: { id, publicKey: pair.publicKey }, transfer: [] };
    }
    case 'decrypt': {
      const values = keyPair(req.key).decrypt(req.ciphertext, { centred: req.centred });
      return { value: values, transfer: [values.buffer as ArrayBuffer] };
    }
    case 'noiseBudget':
      return { value: keyPair(req.key).noiseBudget(req.ciphertext), transfer: [] };
    case 'releaseKey':
      keys.get(req.key)?.release();
      keys.delete(req.key);
      return { value: undefined, transfer: [] };
    case 'encrypt':
      return bytes(sessions[req.set].encryptVector(req.publicKey, req.values, { compact: req.compact }));
    case 'add':
      return bytes(sessions[req.set].addCiphertexts(req.list));
    case 'linear':
      return bytes(session.multiplyPlainAndAdd(req.terms, req.constant));
    case 'stats': {
      const stats: WorkerStats = { heapBytes: wasmHeapBytes(), liveObjects: liveSealObjects(), keys: keys.size };
      return { value: stats, transfer: [] };
    }
  }
}

port.on('message', async (req: PoolRequest) => {
  // Requests arrive one at a time (the pool waits for each reply), so awaiting here keeps order.
  if (usesSmall(req) && !small)
    small = await createBfvSession({ compression: 'zstd', set: SMALL_SET }).catch(() => undefined);
  let reply: PoolResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = run(req);
    reply = { id: req.id, ok: true, value: result.value };
    transfer = result.transfer;
  } catch (err) {
    reply = { id: req.id, ok: false, error: serializeError(err) };
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies PoolResponse);
