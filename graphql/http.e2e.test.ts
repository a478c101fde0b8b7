/**
 * The browser-facing HTTP of `/graphql` on a real node over real HTTP: which bodies are executed,
 * CORS, the error codes that leave the server, introspection and suggestions.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../model/errors.ts';
import { parseConfig } from '../node/config.ts';
import { API_ERROR_CODES, CORS_MAX_AGE_SECONDS } from './http-policy.ts';
import { type ApiFixture, type GqlBody, startApiNode } from './test-fixture.ts';

/** A node with the default API settings (not development, no CORS). */
let f: ApiFixture;
/** A node allowing two browser origins. */
let c: ApiFixture;
/** A node in development mode. */
let d: ApiFixture;
let E: string;
const t: Record<string, string> = {};

const ALLOWED_ORIGIN = 'https://bank.example';
const OTHER_ALLOWED_ORIGIN = 'http://localhost:5173';
const REQUEST = `mutation($i: ConsentRequestInput!) { requestConsent(input: $i) { id status } }`;
const SCHEMA = `{ __schema { queryType { name } types { name } } }`;
const TYPE = `{ __type(name: "Query") { fields { name } } }`;

interface Reply {
  status: number;
  headers: Headers;
  body: GqlBody | undefined;
}

/** Sends a raw request to `/graphql` and parses a JSON answer when there is one. */
async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: GqlBody | undefined;
  try {
    body = text ? (JSON.parse(text) as GqlBody) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body };
}

/** A JSON POST with optional extra headers. */
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(payload),
  });

const codes = (r: { body?: GqlBody }) => (r.body?.errors ?? []).map((e) => e.extensions?.code);
const requestInput = () => ({ i: { enterprise: E, scopes: ['registration'], purpose: 'loan-application', days: 30 } });
const consentCount = async () => {
  const r = await f.gql(`{ consents(first: 500) { id } }`, {}, t.staff);
  expect(r.body.errors).toBeUndefined();
  return (r.body.data?.consents as unknown[]).length;
};

beforeAll(async () => {
  [f, c, d] = await Promise.all([
    startApiNode(6),
    startApiNode(3, { api: { corsOrigins: [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN] } }),
    startApiNode(3, { api: { development: true } }),
  ]);
  [E] = f.enterprises;
  t.staff = f.node.tokens.issue({ sub: 'staff-1', role: 'centre-staff' });
  t.bank = f.node.tokens.issue({ sub: 'officer-7', role: 'bank-officer', bank: 'bank-a' });
  t.ent = f.node.tokens.issue({ sub: 'rep-1', role: 'enterprise', uscc: E });
  t.auditor = f.node.tokens.issue({ sub: 'regulator-1', role: 'auditor' });
  const r = await f.gql(
    `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { uscc } }`,
    { u: E, k: f.keys.get(E)!.publicKey },
    t.staff,
  );
  expect(r.body.errors).toBeUndefined();
}, 120_000);
afterAll(() => Promise.all([f?.stop(), c?.stop(), d?.stop()]));

describe('request bodies: application/json only', () => {
  it('executes a JSON POST, with or without a UTF-8 charset, in any case', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"']) {
      const r = await post(f.url, { query: '{ __typename }' }, { 'content-type': type });
      expect(r.status, type).toBe(200);
      expect(r.body?.data).toEqual({ __typename: 'Query' });
    }
  });

  it('a JSON mutation changes state (the control for the refusals below)', async () => {
    const before = await consentCount();
    const r = await post(f.url, { query: REQUEST, variables: requestInput() }, { authorization: `Bearer ${t.bank}` });
    expect(r.body?.errors).toBeUndefined();
    expect(r.body?.data?.requestConsent).toMatchObject({ status: 'REQUESTED' });
    expect(await consentCount()).toBe(before + 1);
  });

  it('refuses form, multipart, text/plain and other bodies with 415 BAD_REQUEST and executes nothing', async () => {
    const before = await consentCount();
    const auth = { authorization: `Bearer ${t.bank}`, accept: 'application/json' };
    const json = JSON.stringify({ query: REQUEST, variables: requestInput() });
    const form = new URLSearchParams({ query: REQUEST, variables: JSON.stringify(requestInput()) });
    const multipart = new FormData();
    multipart.set('operations', json);
    multipart.set('map', '{}');
    const bodies: Array<[string, RequestInit]> = [
      ['form-encoded', { body: form, headers: auth }],
      ['multipart', { body: multipart, headers: auth }],
      ['text/plain', { body: json, headers: { ...auth, 'content-type': 'text/plain' } }],
      ['application/graphql', { body: REQUEST, headers: { ...auth, 'content-type': 'application/graphql' } }],
      ['application/graphql+json', { body: json, headers: { ...auth, 'content-type': 'application/graphql+json' } }],
      ['JSON in Latin-1', { body: json, headers: { ...auth, 'content-type': 'application/json; charset=iso-8859-1' } }],
      ['JSON with a stray parameter', { body: json, headers: { ...auth, 'content-type': 'application/json; x=1' } }],
      ['no content type', { body: new TextEncoder().encode(json), headers: auth }],
    ];
    for (const [label, init] of bodies) {
      const r = await send(f.url, { method: 'POST', ...init });
      expect(r.status, label).toBe(415);
      expect(r.headers.get('content-type'), label).toMatch(/^application\/json/);
      expect(r.body?.data, label).toBeUndefined();
      expect(codes(r), label).toEqual(['BAD_REQUEST']);
    }
    expect(await consentCount()).toBe(before);
  });

  it('refuses GET (queries and mutations) and other methods with 405, Allow: POST', async () => {
    const before = await consentCount();
    const q = new URL(f.url);
    q.searchParams.set('query', '{ __typename }');
    const m = new URL(f.url);
    m.searchParams.set('query', REQUEST);
    m.searchParams.set('variables', JSON.stringify(requestInput()));
    for (const [label, url, method] of [
      ['GET query', q, 'GET'],
      ['GET mutation', m, 'GET'],
      ['PUT', q, 'PUT'],
      ['DELETE', q, 'DELETE'],
    ] as const) {
      const r = await send(url.toString(), {
        method,
        headers: { authorization: `Bearer ${t.bank}`, accept: 'application/json' },
      });
      expect(r.status, label).toBe(405);
      expect(r.headers.get('allow'), label).toBe('POST');
      expect(codes(r), label).toEqual(['BAD_REQUEST']);
    }
    expect(await consentCount()).toBe(before);
  });

  it('refuses a caller that accepts no JSON response (406) before executing anything', async () => {
    const before = await consentCount();
    for (const accept of [
      'text/event-stream',
      'multipart/mixed',
      'text/html',
      'application/json; charset=iso-8859-1',
    ]) {
      const r = await post(
        f.url,
        { query: REQUEST, variables: requestInput() },
        { authorization: `Bearer ${t.bank}`, accept },
      );
      expect(r.status, accept).toBe(406);
    }
    expect(await consentCount()).toBe(before);
  });

  it('answers application/graphql-response+json or application/json as the Accept header asks', async () => {
    const type = async (accept?: string) =>
      (
        await send(f.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
          body: JSON.stringify({ query: '{ __typename }' }),
        })
      ).headers.get('content-type');
    expect(await type('application/graphql-response+json')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await type('application/json')).toBe('application/json; charset=utf-8');
    expect(await type('*/*')).toBe('application/json; charset=utf-8');
    expect(await type('application/*')).toBe('application/json; charset=utf-8');
    expect(await type('text/html, application/graphql-response+json;q=0.9')).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
    expect(await type()).toBe('application/json; charset=utf-8');
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    send(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('sends no CORS headers at all by default', async () => {
    for (const origin of ['https://evil.example', ALLOWED_ORIGIN]) {
      const r = await post(f.url, { query: '{ __typename }' }, { origin });
      expect(r.status).toBe(200);
      const p = await preflight(f.url, origin);
      for (const h of [r.headers, p.headers]) {
        expect(h.get('access-control-allow-origin')).toBeNull();
        expect(h.get('access-control-allow-credentials')).toBeNull();
        expect(h.get('access-control-allow-headers')).toBeNull();
      }
      expect(p.status).toBe(405);
    }
  });

  it('allows exactly the configured origins, without credentials', async () => {
    for (const origin of [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN]) {
      const r = await post(c.url, { query: '{ __typename }' }, { origin });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
      expect(r.headers.get('vary')).toMatch(/\bOrigin\b/);
      const p = await preflight(c.url, origin);
      expect(p.status).toBe(204);
      expect(p.headers.get('access-control-allow-origin')).toBe(origin);
      expect(p.headers.get('access-control-allow-methods')).toBe('POST');
      expect(p.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-correlation-id');
      expect(p.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS));
      expect(p.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('sends no CORS headers to any other origin', async () => {
    for (const origin of [
      'https://evil.example',
      'http://bank.example',
      'https://bank.example:8443',
      'https://bank.example.evil.example',
      'https://sub.bank.example',
      'null',
    ]) {
      const r = await post(c.url, { query: '{ __typename }' }, { origin });
      expect(r.headers.get('access-control-allow-origin'), origin).toBeNull();
      const p = await preflight(c.url, origin);
      expect(p.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(p.headers.get('access-control-allow-methods'), origin).toBeNull();
    }
  });

  it('validates configured origins as exact origins', () => {
    const base = { nodeId: 'n1', name: 'N', role: 'credit-centre', dataDir: '/tmp/n1' };
    const api = (a: Record<string, unknown>) => parseConfig({ ...base, api: a }).api;
    expect(api({})).toMatchObject({ development: false, corsOrigins: [] });
    expect(api({ corsOrigins: ['https://bank.example:8443', 'http://localhost:5173'] }).corsOrigins).toEqual([
      'https://bank.example:8443',
      'http://localhost:5173',
    ]);
    for (const bad of [
      '*',
      'null',
      'bank.example',
      'https://bank.example/',
      'https://bank.example/app',
      'https://Bank.example',
      'https://bank.example:443',
      'https://user@bank.example',
      'ftp://bank.example',
      'https://bank.example?x=1',
    ])
      expect(() => api({ corsOrigins: [bad] }), bad).toThrow(ConfigError);
  });
});

describe('error codes', () => {
  const ALLOWED = new Set(API_ERROR_CODES);
  const anon = async (payload: unknown, accept: string) => post(f.url, payload, { accept });

  it('every error a client can provoke carries a documented code', async () => {
    const PROFILE = `query($uscc: String!) { enterprise(uscc: $uscc, purpose: "loan-application") { uscc } }`;
    const payloads: unknown[] = [
      { query: '{' },
      { query: '{ nope }' },
      { query: 'query A { __typename } query B { __typename }' },
      { query: 'query A { __typename }', operationName: 'B' },
      { query: 'query A { __typename } query B { __typename }', operationName: 'C' },
      { query: PROFILE, variables: { uscc: 12 } },
      { query: PROFILE, variables: {} },
      { query: PROFILE, variables: 'uscc' },
      { query: PROFILE, variables: { uscc: '91350200776049653B' } },
      {
        query: `query($d: Decision) { auditEntries(filter: { decision: $d }) { scanned } }`,
        variables: { d: 'DENYY' },
      },
      { query: `{ purposes { id } }`, extensions: 'x' },
      { query: 12 },
      { notquery: '{ __typename }' },
      { query: '{ __typename }', unexpected: true },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } },
      { query: 'subscription { purposes { id } }' },
      { query: 'mutation { nope }' },
      { query: '{ purposes @nope { id } }' },
      { query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' },
      { query: `{ enterprise(uscc: "x", purpose: "loan-application", bogus: 1) { uscc } }` },
      { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: purposes { id }`).join(' ')} }` },
      { query: `{ purposes { ${'id '.repeat(2100)} } }` },
      { query: SCHEMA },
      { query: TYPE },
      { query: `{ me { sub } }` },
      [{ query: '{ __typename }' }],
      null,
      'query',
    ];
    const seen = new Set<unknown>();
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      for (const payload of payloads) {
        const r = await anon(payload, accept);
        const label = `${accept} ${JSON.stringify(payload).slice(0, 80)}`;
        expect(r.body?.errors?.length, label).toBeGreaterThan(0);
        for (const code of codes(r)) {
          seen.add(code);
          expect(ALLOWED.has(code as string), `${label}: ${String(code)}`).toBe(true);
        }
        expect(r.status === 200 || (r.status >= 400 && r.status < 500), label).toBe(true);
        // yoga's internal `http` extension never reaches the client.
        expect(JSON.stringify(r.body), label).not.toContain('"http"');
      }
    }
    // Raw bodies: invalid JSON, an empty body, a bad token, an oversized body, a GET mutation.
    const raw: Array<[string, RequestInit, string]> = [
      ['invalid JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' }, f.url],
      ['empty body', { method: 'POST', headers: { 'content-type': 'application/json' } }, f.url],
      [
        'bad token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer x.y.z' },
          body: JSON.stringify({ query: '{ __typename }' }),
        },
        f.url,
      ],
      [
        'oversized',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(600_000) } }),
        },
        f.url,
      ],
      ['GET mutation', { method: 'GET' }, `${f.url}?query=${encodeURIComponent('mutation { __typename }')}`],
    ];
    for (const [label, init, url] of raw) {
      const r = await send(url, init);
      expect(r.body?.errors?.length, label).toBeGreaterThan(0);
      for (const code of codes(r)) {
        seen.add(code);
        expect(ALLOWED.has(code as string), `${label}: ${String(code)}`).toBe(true);
      }
    }
    for (const code of ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNAUTHENTICATED']) expect(seen).toContain(code);
  });

  it('keeps the HTTP status yoga chose for parse and validation errors', async () => {
    expect((await anon({ query: '{' }, 'application/graphql-response+json')).status).toBe(400);
    expect((await anon({ query: '{ nope }' }, 'application/graphql-response+json')).status).toBe(400);
    expect((await anon({ query: '{ nope }' }, 'application/json')).status).toBe(200);
    const r = await anon({ query: '{ nope }' }, 'application/json');
    expect(JSON.stringify(r.body)).not.toContain('"http"');
  });
});

describe('introspection and suggestions', () => {
  it('refuses anonymous introspection outside development, in any spelling', async () => {
    for (const query of [
      SCHEMA,
      TYPE,
      `{ s: __schema { types { name } } }`,
      `query { ...F } fragment F on Query { __schema { types { name } } }`,
      `query { ... on Query { __type(name: "Mutation") { name } } }`,
    ]) {
      const r = await post(f.url, { query });
      expect(r.body?.data, query).toBeUndefined();
      expect(codes(r), query).toContain('UNAUTHENTICATED');
      expect(JSON.stringify(r.body)).not.toContain('queryType');
    }
  });

  it('a signed-in principal of any role may introspect; an anonymous caller still may not afterwards', async () => {
    for (const token of [t.bank, t.ent, t.staff]) {
      const r = await post(f.url, { query: SCHEMA }, { authorization: `Bearer ${token}` });
      expect(r.body?.errors).toBeUndefined();
      expect((r.body?.data?.__schema as { queryType: { name: string } }).queryType.name).toBe('Query');
    }
    // The same document, now in yoga's validation cache, is still refused without a token.
    expect(codes(await post(f.url, { query: SCHEMA }))).toEqual(['UNAUTHENTICATED']);
    const bad = await post(f.url, { query: SCHEMA }, { authorization: 'Bearer not.a.token' });
    expect(bad.status).toBe(401);
    expect(codes(bad)).toEqual(['UNAUTHENTICATED']);
  });

  it('__typename alone stays open to anyone', async () => {
    const r = await post(f.url, { query: '{ __typename }' });
    expect(r.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('development mode allows anonymous introspection', async () => {
    const r = await post(d.url, { query: SCHEMA });
    expect(r.body?.errors).toBeUndefined();
    expect((r.body?.data?.__schema as { queryType: { name: string } }).queryType.name).toBe('Query');
  });

  const TYPOS = [
    { query: '{ purpose { id } }' },
    { query: '{ purposes { idd } }' },
    { query: '{ consents(frist: 1) { id } }' },
    { query: 'query($x: Desicion) { __typename }' },
    { query: `query($d: Decision) { auditEntries(filter: { decision: $d }) { scanned } }`, variables: { d: 'DENYY' } },
    { query: `query($f: AuditFilter) { auditEntries(filter: $f) { scanned } }`, variables: { f: { banc: 'x' } } },
    { query: `{ auditEntries(filter: { decision: DENYY }) { scanned } }` },
  ];

  it('gives no "Did you mean" suggestions outside development, signed in or not', async () => {
    for (const token of [undefined, t.auditor]) {
      for (const payload of TYPOS) {
        const r = await post(f.url, payload, token ? { authorization: `Bearer ${token}` } : {});
        expect(r.body?.errors?.length, payload.query).toBeGreaterThan(0);
        expect(JSON.stringify(r.body), payload.query).not.toMatch(/did you mean/i);
      }
    }
  });

  it('development mode keeps suggestions', async () => {
    const r = await post(d.url, TYPOS[0]);
    expect(r.body?.errors?.[0].message).toMatch(/Did you mean "purposes"\?/);
  });
});

describe('GraphQL over HTTP conformance', () => {
  const audit = async (url: string, token?: string) => {
    const fetchFn = (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string> | undefined),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    const failures: string[] = [];
    for (const a of serverAudits({ url, fetchFn })) {
      const result = await a.fn();
      if (result.status === 'error') failures.push(`${a.name}: ${result.reason}`);
    }
    return failures;
  };

  it('passes every MUST audit signed in, and anonymously in development', async () => {
    expect(await audit(f.url, t.bank)).toEqual([]);
    expect(await audit(d.url)).toEqual([]);
  });

  it('anonymously outside development, only the MUST audit that introspects with __type fails', async () => {
    const failures = await audit(f.url);
    expect(failures.map((x) => x.split(':')[0])).toEqual([
      'MUST allow map {variables} parameter when accepting application/json',
    ]);
  });
});
