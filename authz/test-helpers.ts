/** Test fixtures of the authz tests: a consent service at a stand-alone centre. */
import type { Ed25519KeyPair } from '../crypto/index.ts';
import { silentLogger } from '../node/logger.ts';
import type { RootDb } from '../storage/index.ts';
import { createBindingStore } from './bindings.ts';
import { createConsentService } from './consents.ts';

/** The consent service of centre `nodeId` (home of every consent; trusts its own bindings only). */
export function centreConsents(
  db: RootDb,
  centre: Ed25519KeyPair,
  options: { nodeId?: string; now?: () => number } = {},
) {
  const nodeId = options.nodeId ?? 'xm';
  return createConsentService({
    db,
    nodeId,
    bindings: createBindingStore({
      db,
      nodeId,
      identitySeed: centre.seed,
      trustedIssuers: () => new Map([[nodeId, centre.publicKey]]),
      ...(options.now ? { now: options.now } : {}),
    }),
    logger: silentLogger(),
    ...(options.now ? { now: options.now } : {}),
  });
}
