/** The API token service of a node: one place for its issuer and audience convention and its token policy. */
import { createTokenService, ForbiddenError, type TokenService, UnauthenticatedError } from '../authz/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeKeys } from './keystore.ts';
import { tokenRefusal } from './trust.ts';

export { trustedIssuers } from './trust.ts';

/**
 * Tokens issued and accepted by the node of `config`: `iss` = `credit-node:<nodeId>`, `aud` from
 * config, and only for principals of the node's own organisation ({@link tokenRefusal}).
 */
export function nodeTokenService(config: NodeConfig, keys: NodeKeys): TokenService {
  const inner = createTokenService({
    privateKeyPem: keys.apiPrivateKeyPem,
    publicKeyPem: keys.apiPublicKeyPem,
    issuer: `credit-node:${config.nodeId}`,
    audience: config.api.audience ?? `credit-node:${config.nodeId}`,
    ttlSeconds: config.api.tokenTtlSeconds,
  });
  return {
    issue(principal, ttlSeconds) {
      const why = tokenRefusal(config, principal);
      if (why) throw new ForbiddenError(why);
      return inner.issue(principal, ttlSeconds);
    },
    verify(token) {
      const principal = inner.verify(token);
      if (tokenRefusal(config, principal)) throw new UnauthenticatedError('token not valid at this node');
      return principal;
    },
  };
}
