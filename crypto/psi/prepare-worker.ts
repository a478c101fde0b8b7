/**
 * Worker thread of `prepareListParallel`: computes F_k(y)[:16] for chunks of entries with the key
 * it was started with, and sends the keys back as one transferred buffer per chunk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toUtf8 } from '../encoding.ts';
import { KEY_LENGTH } from './keyset.ts';
import { createOprfServer } from './oprf.ts';

/** A chunk to prepare. */
export interface PrepareRequest {
  id: number;
  entries: (string | Uint8Array)[];
}

/** The keys of a chunk, or why it failed (a message without entries or key material). */
export type PrepareResponse = { id: number; keys: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (port) {
  const server = createOprfServer({ key: (workerData as { key: Uint8Array }).key });
  port.on('message', ({ id, entries }: PrepareRequest) => {
    try {
      const keys = new Uint8Array(entries.length * KEY_LENGTH);
      entries.forEach((e, i) => {
        keys.set(server.prf(typeof e === 'string' ? toUtf8(e) : e).subarray(0, KEY_LENGTH), i * KEY_LENGTH);
      });
      port.postMessage({ id, keys } satisfies PrepareResponse, [keys.buffer]);
    } catch (err) {
      port.postMessage({ id, error: err instanceof Error ? err.name : 'Error' } satisfies PrepareResponse);
    }
  });
}
