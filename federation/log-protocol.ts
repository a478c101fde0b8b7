/**
 * The log protocol ({@link LOG_PROTOCOL}) as the witness serves and uses it:
 *
 * - `consistency` (served by a log's owner): a consistency proof between two sizes of its log;
 * - `add-checkpoint` (served by a witness, c2sp.org/tlog-witness style): a pushed checkpoint with
 *   a consistency proof, answered with a cosignature or the size the witness holds;
 * - `cosign` (served by a log's owner): a witness delivers its cosignature (c2sp.org/tlog-cosignature),
 *   which is verified against that witness's roster key and stored with the checkpoint.
 *
 * Requests are limited in size (a proof has at most {@link MAX_PROOF_HASHES} hashes), time and
 * concurrency per peer.
 */
import { type AccessLog, logOrigin } from '../accesslog/log.ts';
import { formatCheckpoint, fromBase64, noteVerifier, SIG_COSIGNATURE_V1, verifyCosignature } from '../crypto/index.ts';
import { type FederationHost, PeerError, type ProtocolSpec } from './host.ts';
import { LOG_PROTOCOL } from './publisher.ts';

/** Largest consistency proof accepted (c2sp.org/tlog-witness allows 63 lines). */
export const MAX_PROOF_HASHES = 63;

/** What serving the log protocol needs. */
export interface LogProtocolComponents {
  log: AccessLog;
  /** Public key of a peer's log (its roster signing key). */
  peerKey: (nodeId: string) => Uint8Array | undefined;
  /** The witness's answer to a pushed checkpoint. */
  addCheckpoint(
    nodeId: string,
    push: { old: number; proof: string[]; checkpoint: string },
  ): Promise<{ cosignature: string } | { conflict: number }>;
}

/** The log protocol's handler, to register with the federation host. */
export function logProtocol(c: LogProtocolComponents): ProtocolSpec {
  return {
    id: LOG_PROTOCOL,
    roles: ['credit-centre', 'city-peer', 'easy-loan', 'bank', 'source'],
    maxRequestBytes: 16 * 1024,
    timeoutMs: 10_000,
    maxConcurrentPerPeer: 4,
    handle: async (raw, ctx) => {
      const r = (raw ?? {}) as {
        op?: string;
        size1?: number;
        size2?: number;
        size?: number;
        cosignature?: string;
        old?: number;
        proof?: unknown;
        checkpoint?: unknown;
      };
      if (r.op === 'consistency') {
        const { size1, size2 } = r;
        if (
          !Number.isSafeInteger(size1) ||
          !Number.isSafeInteger(size2) ||
          size1! < 0 ||
          size1! > size2! ||
          size2! > c.log.size()
        )
          throw new PeerError('BAD_REQUEST', 'invalid sizes');
        return { proof: await c.log.consistencyProof(size1!, size2!) };
      }
      if (r.op === 'add-checkpoint') {
        const proof = r.proof;
        if (
          !Number.isSafeInteger(r.old) ||
          r.old! < 0 ||
          typeof r.checkpoint !== 'string' ||
          !Array.isArray(proof) ||
          proof.length > MAX_PROOF_HASHES ||
          !proof.every((p) => typeof p === 'string' && p.length <= 64)
        )
          throw new PeerError('BAD_REQUEST', 'invalid checkpoint push');
        return c.addCheckpoint(ctx.peer.nodeId, {
          old: r.old!,
          proof: proof as string[],
          checkpoint: r.checkpoint,
        });
      }
      if (r.op === 'cosign') {
        const key = c.peerKey(ctx.peer.nodeId);
        const size = r.size;
        if (!key || typeof r.cosignature !== 'string' || !Number.isSafeInteger(size))
          throw new PeerError('BAD_REQUEST', 'invalid cosignature');
        const cp = await c.log.checkpointAt(size!);
        if (!cp) throw new PeerError('NOT_FOUND', 'no checkpoint of that size');
        try {
          verifyCosignature(
            formatCheckpoint({ origin: c.log.origin, size: cp.size, root: fromBase64(cp.root)! }),
            r.cosignature,
            noteVerifier(logOrigin(ctx.peer.nodeId), key, SIG_COSIGNATURE_V1),
          );
        } catch (err) {
          throw new PeerError('BAD_REQUEST', (err as Error).message);
        }
        await c.log.addCosignature(cp.size, ctx.peer.nodeId, r.cosignature);
        return { stored: true };
      }
      throw new PeerError('BAD_REQUEST', 'unknown op');
    },
  };
}

/** Asks a log's owner for a consistency proof from `size1` to `size2`. */
export async function requestConsistencyProof(
  host: FederationHost,
  nodeId: string,
  size1: number,
  size2: number,
  timeoutMs: number,
): Promise<string[]> {
  const r = (await host.request(nodeId, LOG_PROTOCOL, { op: 'consistency', size1, size2 }, { timeoutMs })) as {
    proof?: unknown;
  };
  if (!Array.isArray(r?.proof)) throw new PeerError('BAD_RESPONSE', 'no proof in the answer');
  return r.proof as string[];
}

/** Hands a cosignature of checkpoint `size` to the log's owner. */
export async function deliverCosignature(
  host: FederationHost,
  nodeId: string,
  size: number,
  line: string,
  timeoutMs: number,
): Promise<void> {
  await host.request(nodeId, LOG_PROTOCOL, { op: 'cosign', size, cosignature: line }, { timeoutMs });
}
