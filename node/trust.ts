/**
 * Who a node trusts for what, from its config and the roster in force: which centres may bind an
 * enterprise's key, and which principals the node may issue API tokens for.
 */
import type { Principal } from '../authz/index.ts';
import { fromBase64 } from '../crypto/index.ts';
import { cityOfRegion } from '../model/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeKeys } from './keystore.ts';

/** The roster fields this module reads. */
interface Member {
  nodeId: string;
  role: string;
  city?: string;
  signingKey: string;
}

const CENTRE_ROLES = new Set(['credit-centre', 'city-peer']);

/**
 * Centres whose key bindings for `uscc` this node accepts, with their keys: the centre of the city
 * the USCC was registered in (characters 3–8); for an enterprise registered outside 厦漳泉, the
 * federation's credit centre. A centre that declares no city binds any enterprise, and a
 * stand-alone centre binds every enterprise it registers.
 */
export function trustedIssuers(
  config: NodeConfig,
  keys: NodeKeys,
  members: readonly Member[] | undefined,
  uscc: string,
): Map<string, Uint8Array> {
  const city = typeof uscc === 'string' && uscc.length === 18 ? cityOfRegion(uscc.slice(2, 8)) : undefined;
  const binds = (m: { role: string; city?: string }) =>
    CENTRE_ROLES.has(m.role) && (!m.city || (city ? m.city === city : m.role === 'credit-centre'));
  const out = new Map<string, Uint8Array>();
  if (CENTRE_ROLES.has(config.role) && (!config.federation || binds(config)))
    out.set(config.nodeId, keys.identity.publicKey);
  for (const m of members ?? []) {
    const key = fromBase64(m.signingKey);
    if (m.nodeId !== config.nodeId && binds(m) && key) out.set(m.nodeId, key);
  }
  return out;
}

/**
 * Whether a node issues (and accepts) API tokens for a principal. In a federation a node speaks
 * only for its own organisation: a bank's node for its own officers, the centres and the
 * easy-loan platform for enterprises, the centres for their staff and for the government business
 * systems that check and intercept (`gov-system`); the easy-loan platform for its operators
 * (`platform-operator`); auditors (the regulator) on every node. A stand-alone node is one organisation's sandbox and issues any role.
 * Returns the reason when not allowed.
 */
export function tokenRefusal(config: NodeConfig, p: Principal): string | undefined {
  if (!config.federation) return undefined;
  switch (p.role) {
    case 'bank-officer':
      return config.role === 'bank' && p.bank === config.nodeId
        ? undefined
        : `node ${config.nodeId} issues officer tokens only for its own bank`;
    case 'enterprise':
      return CENTRE_ROLES.has(config.role) || config.role === 'easy-loan'
        ? undefined
        : 'enterprises sign in at a credit centre or the easy-loan platform';
    case 'centre-staff':
      // A data source's staff decide objections and repairs of the facts their node determined.
      return CENTRE_ROLES.has(config.role) || config.role === 'source'
        ? undefined
        : 'centre staff sign in at a credit centre or a data source';
    case 'auditor':
      return undefined;
    case 'gov-system':
      return CENTRE_ROLES.has(config.role) ? undefined : 'government business systems sign in at a credit centre';
    case 'platform-operator':
      return config.role === 'easy-loan' ? undefined : 'platform operators sign in at the easy-loan platform';
    default:
      return 'unknown role';
  }
}
