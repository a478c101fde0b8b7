/**
 * API principals and their tokens: short-lived ES256 JWTs signed by the node (RFC 8725):
 * algorithm pinned on verify, explicit `typ`, and `iss`, `aud`, `sub`, `exp`, `nbf` and role
 * checked. jsonwebtoken has no EdDSA, hence P-256.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { validateUscc } from '../model/index.ts';
import { InvalidInputError, UnauthenticatedError } from './errors.ts';

/** Roles of API users. */
export const PRINCIPAL_ROLES = [
  'bank-officer',
  'enterprise',
  'centre-staff',
  'auditor',
  'gov-system',
  'platform-operator',
] as const;
export type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];

/** An authenticated API user. */
export interface Principal {
  /** Stable pseudonymous id of the user (e.g. an officer number), never a personal ID number. */
  sub: string;
  role: PrincipalRole;
  /** Node id of the bank an officer works for. */
  bank?: string;
  /** USCC of the enterprise a representative acts for. */
  uscc?: string;
  /** Code of the government department a business system (`gov-system`) belongs to, e.g. `xm-finance`. */
  department?: string;
}

/**
 * How a principal is written in access-log entries: a bank officer as `bank/sub` (so an auditor
 * finds a bank's officers at every node), anyone else as `role:sub`.
 */
export function principalLabel(p: { role: string; sub: string; bank?: string | undefined }): string {
  return p.role === 'bank-officer' && p.bank ? `${p.bank}/${p.sub}` : `${p.role}:${p.sub}`;
}

/** Explicit JWT type (RFC 8725 §3.11), so no other JWT kind can stand in for an API token. */
export const TOKEN_TYP = 'credit-api+jwt';
const SUB_RE = /^[A-Za-z0-9._@:-]{1,128}$/;
const NODE_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DEPARTMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a principal's shape. @throws InvalidInputError */
export function checkPrincipal(p: Principal): Principal {
  if (!SUB_RE.test(p.sub ?? '')) throw new InvalidInputError('sub must be 1–128 letters, digits or ._@:-');
  if (!PRINCIPAL_ROLES.includes(p.role))
    throw new InvalidInputError(`role must be one of ${PRINCIPAL_ROLES.join(', ')}`);
  if (p.role === 'bank-officer' && !NODE_RE.test(p.bank ?? ''))
    throw new InvalidInputError('a bank officer needs the node id of the bank');
  if (p.role === 'enterprise') {
    const r = validateUscc(p.uscc ?? '');
    if (!r.valid) throw new InvalidInputError('an enterprise representative needs a valid USCC');
    return { sub: p.sub, role: p.role, uscc: r.code };
  }
  if (p.role === 'gov-system') {
    if (!DEPARTMENT_RE.test(p.department ?? ''))
      throw new InvalidInputError('a government business system needs the code of its department');
    return { sub: p.sub, role: p.role, department: p.department };
  }
  return p.role === 'bank-officer' ? { sub: p.sub, role: p.role, bank: p.bank } : { sub: p.sub, role: p.role };
}

/** Issues and verifies the node's API tokens. */
export interface TokenService {
  issue(principal: Principal, ttlSeconds?: number): string;
  /** @throws UnauthenticatedError on any defect; the message never echoes the token. */
  verify(token: string): Principal;
}

/** What the token service needs. */
export interface TokenServiceInit {
  privateKeyPem: string;
  publicKeyPem: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Verified tokens remembered (until they expire) so a busy client is not re-verified on every call. */
const VERIFIED_CACHE_SIZE = 10_000;

/** Creates the token service of a node. */
export function createTokenService(init: TokenServiceInit): TokenService {
  // Key objects are parsed once, not from PEM on every call.
  const privateKey = createPrivateKey(init.privateKeyPem);
  const publicKey = createPublicKey(init.publicKeyPem);
  const verified = new Map<string, { principal: Principal; exp: number }>();
  return {
    issue(principal, ttlSeconds = init.ttlSeconds) {
      const p = checkPrincipal(principal);
      const claims: Record<string, unknown> = { role: p.role };
      if (p.bank) claims.bank = p.bank;
      if (p.uscc) claims.uscc = p.uscc;
      if (p.department) claims.department = p.department;
      return jwt.sign(claims, privateKey, {
        algorithm: 'ES256',
        header: { alg: 'ES256', typ: TOKEN_TYP },
        issuer: init.issuer,
        audience: init.audience,
        subject: p.sub,
        expiresIn: ttlSeconds,
        notBefore: 0,
      });
    },
    verify(token) {
      if (typeof token !== 'string' || token.length > 4096) throw new UnauthenticatedError('malformed token');
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp * 1000 > Date.now()) return hit.principal;
        verified.delete(token);
      }
      let decoded: jwt.Jwt;
      try {
        decoded = jwt.verify(token, publicKey, {
          algorithms: ['ES256'],
          issuer: init.issuer,
          audience: init.audience,
          complete: true,
          clockTolerance: 5,
        }) as jwt.Jwt;
      } catch (err) {
        const name = (err as Error).name;
        const why = name === 'TokenExpiredError' ? 'expired' : name === 'NotBeforeError' ? 'not yet valid' : 'invalid';
        throw new UnauthenticatedError(`token ${why}`);
      }
      if (decoded.header.typ !== TOKEN_TYP) throw new UnauthenticatedError('token invalid');
      const c = decoded.payload as jwt.JwtPayload;
      if (typeof c.exp !== 'number' || typeof c.sub !== 'string') throw new UnauthenticatedError('token invalid');
      let principal: Principal;
      try {
        principal = checkPrincipal({ sub: c.sub, role: c.role, bank: c.bank, uscc: c.uscc, department: c.department });
      } catch {
        throw new UnauthenticatedError('token invalid');
      }
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
      verified.set(token, { principal, exp: c.exp });
      return principal;
    },
  };
}
