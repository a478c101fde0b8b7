/**
 * The console's link to its node: the signed-in session (a bearer token the node issued, kept in
 * this tab's sessionStorage only), GraphQL over `POST /graphql` with a JSON body, and the
 * federation's log keys. Errors keep the API's `extensions.code`; an UNAUTHENTICATED answer
 * ends the session so the sign-in page can say why.
 */
import type { LogKeys } from './lib/verify.ts';

/** The roles of the node's tokens. */
export type Role = 'bank-officer' | 'enterprise' | 'centre-staff' | 'auditor' | 'gov-system' | 'platform-operator';

/** What the console reads from a token (the node verifies it; this is for display and routing). */
export interface Claims {
  sub: string;
  role: Role;
  bank?: string;
  uscc?: string;
  department?: string;
  iss?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** A signed-in session. */
export interface Session {
  token: string;
  claims: Claims;
}

const STORAGE_KEY = 'credit-console/token';
const ROLES = new Set<string>([
  'bank-officer',
  'enterprise',
  'centre-staff',
  'auditor',
  'gov-system',
  'platform-operator',
]);

/** Why a token cannot be used (a dictionary key). */
export class TokenError extends Error {}

function base64UrlJson(part: string): unknown {
  const std = part.replaceAll('-', '+').replaceAll('_', '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/** Reads a token's claims without verifying it. @throws TokenError */
export function readClaims(token: string, now = Date.now()): Claims {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw new TokenError('signin.malformed');
  let c: Record<string, unknown>;
  try {
    c = base64UrlJson(parts[1]) as Record<string, unknown>;
  } catch {
    throw new TokenError('signin.malformed');
  }
  if (typeof c.sub !== 'string' || typeof c.role !== 'string' || !ROLES.has(c.role) || typeof c.exp !== 'number')
    throw new TokenError('signin.malformed');
  if (c.exp * 1000 <= now) throw new TokenError('signin.expired');
  return c as unknown as Claims;
}

/**
 * The session: a token handed over in the URL fragment (`#token=…`, which browsers never send to
 * a server; removed from the address bar at once), else the one kept in this tab.
 */
export function initialSession(): Session | { error: string } | undefined {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const fromUrl = hash.get('token');
  if (fromUrl !== null) {
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return startSession(fromUrl);
  }
  const kept = sessionStorage.getItem(STORAGE_KEY);
  if (!kept) return undefined;
  const s = startSession(kept);
  return 'error' in s ? undefined : s;
}

/** Keeps a token for this tab when its claims are readable and current. */
export function startSession(token: string): Session | { error: string } {
  try {
    const claims = readClaims(token);
    sessionStorage.setItem(STORAGE_KEY, token.trim());
    return { token: token.trim(), claims };
  } catch (err) {
    sessionStorage.removeItem(STORAGE_KEY);
    return { error: err instanceof TokenError ? err.message : 'signin.malformed' };
  }
}

/** Forgets the token. */
export function endSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** One GraphQL error. */
export interface GqlError {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown> & { code?: string };
}

/** An API error with its code (`NETWORK` when the node did not answer). */
export class ApiError extends Error {
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  constructor(message: string, code: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }
  static of(e: GqlError): ApiError {
    return new ApiError(e.message, e.extensions?.code ?? 'INTERNAL', e.extensions ?? {});
  }
}

let token: string | undefined;
let onExpired: (() => void) | undefined;

/** Sets the token requests carry and what to do when the node refuses it. */
export function setToken(t: string | undefined, expired?: () => void): void {
  token = t;
  onExpired = expired;
}

/** Runs a GraphQL operation; resolves to data and errors (a partial answer keeps both). */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}) {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError((err as Error).message, 'NETWORK');
  }
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(`HTTP ${res.status}`, res.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'NETWORK');
  }
  const errors = body.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    onExpired?.();
    throw ApiError.of(errors.find((e) => e.extensions?.code === 'UNAUTHENTICATED') as GqlError);
  }
  return { data: body.data ?? null, errors };
}

/** Runs a GraphQL operation; resolves to its data or throws its first error. */
export async function query<T>(q: string, variables: Record<string, unknown> = {}): Promise<T> {
  const { data, errors } = await gql<T>(q, variables);
  if (errors.length > 0 || data === null)
    throw errors[0] ? ApiError.of(errors[0]) : new ApiError('no data', 'INTERNAL');
  return data;
}

let logKeys: Promise<LogKeys> | undefined;

/** The federation's log keys (fetched once per page). */
export function fetchLogKeys(): Promise<LogKeys> {
  logKeys ??= fetch('/log-keys.json', { headers: { accept: 'application/json' } }).then(async (r) => {
    if (!r.ok) throw new ApiError(`HTTP ${r.status}`, 'NETWORK');
    return (await r.json()) as LogKeys;
  });
  logKeys.catch(() => {
    logKeys = undefined;
  });
  return logKeys;
}

let nodeRole: Promise<string | undefined> | undefined;

/**
 * The role of the node serving the console (`credit-centre`, `bank`, `easy-loan`, …), from its
 * `/health` (which answers with a body even while degraded); undefined when the node says nothing.
 * Views offer only what the node plays a part in (the loan journey at the easy-loan platform and banks).
 */
export function fetchNodeRole(): Promise<string | undefined> {
  nodeRole ??= fetch('/health', { headers: { accept: 'application/json' } }).then(async (r) => {
    const body = (await r.json().catch(() => ({}))) as { role?: unknown };
    return typeof body.role === 'string' ? body.role : undefined;
  });
  nodeRole.catch(() => {
    nodeRole = undefined;
  });
  return nodeRole;
}
