/**
 * Worker thread of an ingest run: opens the source by its spec and produces batches (see
 * produce.ts), at most a few ahead of the writer, which acknowledges each one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSource } from './open.ts';
import { idNumberTokenizer, produce } from './produce.ts';

/** What the worker is started with. */
export interface ProduceWorkerData {
  spec: string;
  kind?: 'enterprise' | 'fact' | 'loan';
  originNode: string;
  tokenKey: Uint8Array;
  watermark?: string;
  batchSize: number;
  /** Batches produced ahead of the writer's acknowledgements. */
  ahead: number;
}

const data = workerData as ProduceWorkerData;
const port = parentPort!;
let credits = data.ahead;
let wake: (() => void) | undefined;
port.on('message', (m: { ack?: number }) => {
  credits += m.ack ?? 0;
  wake?.();
});

try {
  const source = openSource(data.spec, data.kind);
  for await (const batch of produce(source, { ...data, tokenise: idNumberTokenizer(new Uint8Array(data.tokenKey)) })) {
    while (credits <= 0) await new Promise<void>((r) => (wake = r));
    credits--;
    port.postMessage({ batch });
  }
  port.postMessage({ done: true });
} catch (err) {
  const e = err as Error & { rule?: string; code?: string };
  port.postMessage({ error: { name: e.name, message: e.message, rule: e.rule, code: e.code } });
}
