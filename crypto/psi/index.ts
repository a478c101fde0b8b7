/**
 * Private list check (DESIGN §7.3): an OPRF over X25519 in OpenSSL, the holder's prepared list
 * with versioned, signed snapshots and deltas, the querier's mirror, their binary frames, and
 * list preparation on worker threads. No networking: transports carry the frames.
 */
export * from './codec.ts';
export { isCanonicalPoint, L, L_TWIST, P, POINT_LENGTH, type Side, sideOf } from './curve.ts';
export * from './errors.ts';
export * from './list.ts';
export * from './oprf.ts';
export * from './parallel.ts';
export { createPsiPool, type HashedPoints, type PsiPool } from './pool.ts';
export * from './pooled.ts';
