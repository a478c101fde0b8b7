/** The API token service of a node: one place for its issuer and audience convention. */
import { createTokenService, type TokenService } from '../authz/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeKeys } from './keystore.ts';

/** Tokens issued and accepted by the node of `config`: `iss` = `credit-node:<nodeId>`, `aud` from config. */
export function nodeTokenService(config: NodeConfig, keys: NodeKeys): TokenService {
  return createTokenService({
    privateKeyPem: keys.apiPrivateKeyPem,
    publicKeyPem: keys.apiPublicKeyPem,
    issuer: `credit-node:${config.nodeId}`,
    audience: config.api.audience ?? `credit-node:${config.nodeId}`,
    ttlSeconds: config.api.tokenTtlSeconds,
  });
}
