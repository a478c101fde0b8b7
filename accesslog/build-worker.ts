/**
 * Worker thread of the access log (`builder.ts`): builds large batches of entries (`buildBatch`:
 * canonical JSON, commitments, leaf and node hashes) so that the node's event loop does not, and
 * sends them back. It holds nothing between batches and writes nothing.
 */
import { parentPort } from 'node:worker_threads';
import { type BuiltBatch, buildBatch } from './entry.ts';
import type { Frontier } from './integrity.ts';
import type { AccessEvent } from './port.ts';

/** A batch to build. */
export interface BuildRequest {
  id: number;
  events: AccessEvent[];
  size: number;
  frontier: Frontier;
  randomness: Uint8Array;
}

/** The built batch, or why it could not be built (a malformed event: `TypeError`). */
export type BuildResponse = { id: number; built: BuiltBatch } | { id: number; error: string; message: string };

const port = parentPort;
if (port) {
  port.on('message', (req: BuildRequest) => {
    try {
      const built = buildBatch(req.events, { size: req.size, frontier: req.frontier, randomness: req.randomness });
      port.postMessage({ id: req.id, built } satisfies BuildResponse);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id: req.id, error: e.name, message: e.message } satisfies BuildResponse);
    }
  });
}
