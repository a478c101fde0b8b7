/**
 * Messages between the HE pool and its worker threads, and how errors cross the thread
 * boundary (by name, code and message only: never a figure, a key or a ciphertext).
 */
import type { LinearTerm } from './bfv.ts';
import { HE_ERROR_CLASSES, HeInputError, type HeInputKind, HeWorkerError } from './errors.ts';
import type { HeParameterSet } from './params.ts';

/** A parameter set by name. */
export type HeSetName = HeParameterSet['name'];

/** An operation for a worker; `id` pairs it with its reply. */
export type PoolRequest = { id: number } & (
  | { op: 'createKeyPair'; set: HeSetName }
  | { op: 'decrypt'; key: string; ciphertext: Uint8Array; centred: boolean }
  | { op: 'noiseBudget'; key: string; ciphertext: Uint8Array }
  | { op: 'releaseKey'; key: string }
  | { op: 'encrypt'; publicKey: Uint8Array; values: BigInt64Array; compact: boolean; set: HeSetName }
  | { op: 'add'; list: Uint8Array[]; set: HeSetName }
  | { op: 'linear'; terms: LinearTerm[]; constant: bigint }
  | { op: 'stats' }
);

/** The operation names. */
export type PoolOp = PoolRequest['op'];

/** What a worker reports about itself. */
export interface WorkerStats {
  /** Size of the worker's WASM heap in bytes. */
  heapBytes: number;
  /** node-seal objects alive in the worker (its session and key pairs included). */
  liveObjects: number;
  /** Key pairs held by the worker. */
  keys: number;
}

/** An error as it crosses a thread. */
export interface SerializedError {
  name: string;
  message: string;
  input?: HeInputKind;
}

/** A worker's reply. */
export type PoolResponse = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: SerializedError });

/** Reduces an error to what may cross a thread. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof HeInputError) return { name: err.name, message: err.message, input: err.input };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: 'operation failed' };
}

/** Rebuilds an error of this module (or a TypeError/RangeError) from its serialized form. */
export function deserializeError(e: SerializedError): Error {
  if (e.name === 'HeInputError') return new HeInputError(e.input ?? 'ciphertext', e.message);
  const known = HE_ERROR_CLASSES[e.name as keyof typeof HE_ERROR_CLASSES];
  if (known && known !== HeInputError) return new (known as new (message: string) => Error)(e.message);
  if (e.name === 'TypeError') return new TypeError(e.message);
  if (e.name === 'RangeError') return new RangeError(e.message);
  return new HeWorkerError(`operation failed in the worker (${e.name})`);
}
