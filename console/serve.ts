/**
 * Serves the built web console (console/dist) from a node's HTTP server: `GET`/`HEAD` of a file
 * under dist with its content type, `index.html` for any other path without an extension (the
 * single-page app routes), and `/log-keys.json`, the federation's log keys the console verifies
 * proofs with. Every answer carries a Content-Security-Policy that allows only the node's own
 * origin (no inline script or style, no framing) and `nosniff`; nothing outside dist is ever read
 * (no `..`, no encoded separators, no NUL, no symlink out of dist, regular files only).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:console` writes the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('./dist/', import.meta.url));

/** The console's Content-Security-Policy: its own origin only. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The node's own endpoints: never answered with the console. */
const NODE_PATHS = new Set(['/graphql', '/health', '/metrics']);

/** The federation's log keys: every member's Ed25519 signing key (public), as the roster in force lists them. */
export interface LogKeysDocument {
  federation?: string;
  version: number;
  members: Array<{ nodeId: string; signingKey: string }>;
}

/**
 * The log keys of a node: the roster's members when it is in a federation, else only its own key
 * (a stand-alone node's log has no witnesses).
 */
export function logKeysOf(
  nodeId: string,
  publicKey: Uint8Array,
  roster?: { federation: string; version: number; members: ReadonlyArray<{ nodeId: string; signingKey: string }> },
): LogKeysDocument {
  if (!roster) return { version: 0, members: [{ nodeId, signingKey: Buffer.from(publicKey).toString('base64') }] };
  return {
    federation: roster.federation,
    version: roster.version,
    members: roster.members.map((m) => ({ nodeId: m.nodeId, signingKey: m.signingKey })),
  };
}

/** What the console handler needs. */
export interface ConsoleOptions {
  /** The built console (default {@link CONSOLE_DIST}). */
  dist?: string;
  /** The log keys the console verifies proofs against. */
  logKeys(): LogKeysDocument;
}

/** Handles a request when it is the console's; returns false to let the caller answer (404). */
export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A file under `root` for a URL path, or undefined when the path is not acceptable or names no file. */
function fileFor(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.' || p.startsWith('.'))) return undefined;
  const path = join(root, ...parts);
  try {
    if (!statSync(path).isFile()) return undefined;
    const real = realpathSync(path);
    return real.startsWith(root) ? real : undefined;
  } catch {
    return undefined;
  }
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
  head: boolean,
) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': String(bytes.length) });
  res.end(head ? undefined : bytes);
}

/** Creates the handler; serves nothing but the log keys when the console is not built. */
export function createConsoleHandler(options: ConsoleOptions): ConsoleHandler {
  let root: string | undefined;
  try {
    root = `${realpathSync(options.dist ?? CONSOLE_DIST)}${sep}`;
  } catch {
    root = undefined;
  }
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const head = req.method === 'HEAD';
    const pathname = (req.url ?? '/').split(/[?#]/, 1)[0];
    if (pathname === '/log-keys.json') {
      send(
        res,
        200,
        { 'content-type': TYPES['.json'], 'cache-control': 'no-cache' },
        JSON.stringify(options.logKeys()),
        head,
      );
      return true;
    }
    if (!root && pathname === '/') {
      send(
        res,
        503,
        { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' },
        'The web console is not built on this node: run `npm run build:console` and restart it. The API is at /graphql.\n',
        head,
      );
      return true;
    }
    if (!root || !pathname.startsWith('/') || NODE_PATHS.has(pathname)) return false;
    const index = fileFor(root, '/index.html');
    const file = pathname === '/' ? index : fileFor(root, pathname);
    if (file) {
      const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      // Vite names assets by content hash: they never change under one name.
      const cache = file.startsWith(`${root}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
      send(res, 200, { 'content-type': type, 'cache-control': cache }, readFileSync(file), head);
      return true;
    }
    // A route of the single-page app (no extension): the app itself. A missing asset stays a 404.
    if (index && extname(pathname) === '') {
      send(res, 200, { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' }, readFileSync(index), head);
      return true;
    }
    send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n', head);
    return true;
  };
}
