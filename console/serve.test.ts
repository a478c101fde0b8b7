/**
 * The console's static serving on a real HTTP server over a made-up dist: content types, the
 * single-page fallback, the Content-Security-Policy, HEAD, and that no path (dot segments, encoded
 * separators, NUL, a symlink out of dist, a dotfile) reads anything outside dist.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, createConsoleHandler, logKeysOf } from './serve.ts';

let base: string;
let server: Server;
let port: number;
const SECRET = 'do-not-serve-this';

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path sent exactly as given (fetch would normalise dot segments). */
function raw(path: string, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'console-serve-'));
  const dist = join(base, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dist, 'assets', 'app-1234.js'), 'export {};');
  await writeFile(join(dist, 'assets', 'app-1234.css'), 'body{}');
  await writeFile(join(dist, '.env'), SECRET);
  await writeFile(join(base, 'secret.txt'), SECRET);
  await symlink(join(base, 'secret.txt'), join(dist, 'assets', 'link.js'));
  const handler = createConsoleHandler({
    dist,
    logKeys: () => logKeysOf('xm-centre', new Uint8Array(32).fill(7)),
  });
  server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404, { 'content-type': 'application/json' }).end('{"node":"404"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(base, { recursive: true, force: true });
});

describe('console static serving', () => {
  it('serves the app at / with its content type and a self-only CSP', async () => {
    const r = await raw('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.body).toContain('<title>console</title>');
  });

  it('serves assets with their types, cached for good (their names carry their hash)', async () => {
    const js = await raw('/assets/app-1234.js?v=1');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await raw('/assets/app-1234.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers routes of the app with index.html, a missing asset with 404', async () => {
    const route = await raw('/enterprise/consents');
    expect(route.status).toBe(200);
    expect(route.body).toContain('<title>console</title>');
    const missing = await raw('/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('answers HEAD without a body', async () => {
    const r = await raw('/', 'HEAD');
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBeGreaterThan(0);
    expect(r.body).toBe('');
  });

  it('never reads outside dist, nor dotfiles, nor through a symlink', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/%00/index.html',
      '/.env',
      '/assets/link.js',
      '//etc/passwd',
    ]) {
      const r = await raw(path);
      expect(r.body, path).not.toContain(SECRET);
      expect(r.body, path).not.toContain('root:');
    }
    expect((await raw('/assets/link.js')).status).toBe(404);
  });

  it('leaves other methods and the node endpoints to the node', async () => {
    expect((await raw('/', 'POST')).body).toBe('{"node":"404"}');
    expect((await raw('/health', 'HEAD')).body).toBe('');
    expect((await raw('/metrics')).body).toBe('{"node":"404"}');
  });

  it('serves the log keys (public keys only)', async () => {
    const r = await raw('/log-keys.json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body)).toEqual({
      version: 0,
      members: [{ nodeId: 'xm-centre', signingKey: Buffer.from(new Uint8Array(32).fill(7)).toString('base64') }],
    });
  });

  it('serves nothing but the log keys when the console is not built, and says so at /', async () => {
    const handler = createConsoleHandler({
      dist: join(base, 'not-built'),
      logKeys: () => ({ version: 0, members: [] }),
    });
    let status = 0;
    let body = '';
    const res = {
      writeHead: (s: number) => {
        status = s;
        return res;
      },
      end: (b?: Buffer) => {
        body = b ? b.toString() : '';
      },
    } as never;
    expect(handler({ method: 'GET', url: '/' } as never, res)).toBe(true);
    expect(status).toBe(503);
    expect(body).toContain('npm run build:console');
    expect(handler({ method: 'GET', url: '/app/route' } as never, res)).toBe(false);
    expect(handler({ method: 'GET', url: '/log-keys.json' } as never, res)).toBe(true);
  });
});
