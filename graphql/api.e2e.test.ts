import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serverAudits } from 'graphql-http';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../accesslog/verify.ts';
import { type ConsentBody, signConsent, verifyReport } from '../authz/index.ts';
import { ed25519KeyPair, toBase64Url } from '../crypto/index.ts';
import { until } from '../testkit/wait.ts';
import { type ApiFixture, startApiNode } from './test-fixture.ts';

const CLI = new URL('../node/cli/main.ts', import.meta.url).pathname;
let f: ApiFixture;
let E: string;
let E2: string;
const t: Record<string, string> = {};

const PROFILE = `query($uscc: String!, $purpose: String!) { enterprise(uscc: $uscc, purpose: $purpose) { uscc registration { name uscc } tax { id subtype payload } } }`;
const WITH_PENALTIES = `query($uscc: String!) { enterprise(uscc: $uscc, purpose: "loan-application") { registration { name } tax { id } penalties { id } } }`;
const GRANT = `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { id status scopes grantee } }`;

function body(over: Partial<ConsentBody> = {}): ConsentBody {
  const now = Date.now();
  return {
    v: 1,
    enterprise: E,
    home: 'xm-centre',
    grantee: { node: 'bank-a' },
    scopes: ['registration', 'tax'],
    purpose: 'loan-application',
    notBefore: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + 30 * 86_400_000).toISOString(),
    retentionDays: 365,
    issuedAt: new Date(now - 1000).toISOString(),
    nonce: toBase64Url(new Uint8Array(randomBytes(18))),
    ...over,
  };
}
const grant = (b: ConsentBody, seed = f.keys.get(b.enterprise)!.seed, token = t.ent) =>
  f.gql(GRANT, { c: signConsent(b, seed) }, token);
const code = (r: { body: { errors?: Array<{ extensions?: Record<string, unknown> }> } }) =>
  r.body.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  f = await startApiNode(80);
  [E, E2] = f.enterprises;
  const tokens = f.node.tokens;
  t.staff = tokens.issue({ sub: 'staff-1', role: 'centre-staff' });
  t.ent = tokens.issue({ sub: 'rep-1', role: 'enterprise', uscc: E });
  t.ent2 = tokens.issue({ sub: 'rep-2', role: 'enterprise', uscc: E2 });
  t.bankA = tokens.issue({ sub: 'officer-7', role: 'bank-officer', bank: 'bank-a' });
  t.bankB = tokens.issue({ sub: 'officer-9', role: 'bank-officer', bank: 'bank-b' });
  t.auditor = tokens.issue({ sub: 'regulator-1', role: 'auditor' });
  for (const u of [E, E2]) {
    const r = await f.gql(
      `mutation($u: String!, $k: String!) { registerEnterpriseKey(uscc: $u, publicKey: $k) { uscc issuer } }`,
      { u, k: f.keys.get(u)!.publicKey },
      t.staff,
    );
    expect(r.body.data?.registerEnterpriseKey).toEqual({ uscc: u, issuer: 'xm-centre' });
  }
});
afterAll(() => f?.stop());

describe('authorised profile API over HTTP', () => {
  let consentId = '';

  it('a bank without consent gets CONSENT_REQUIRED with the missing scopes and no data', async () => {
    const r = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA);
    expect(r.body.data?.enterprise).toBeNull();
    expect(r.body.errors?.[0].extensions).toMatchObject({
      code: 'CONSENT_REQUIRED',
      missing: ['registration', 'tax'],
      reason: 'NO_CONSENT',
    });
  });

  it('with consent for registration,tax the bank gets exactly those sections and nothing else', async () => {
    const g = await grant(body());
    expect(g.body.data?.grantConsent).toMatchObject({
      status: 'ACTIVE',
      scopes: ['registration', 'tax'],
      grantee: 'bank-a',
    });
    consentId = (g.body.data?.grantConsent as { id: string }).id;
    const r = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA);
    expect(r.body.errors).toBeUndefined();
    const e = r.body.data?.enterprise as { registration: { uscc: string }; tax: Array<{ subtype: string }> };
    expect(e.registration.uscc).toBe(E);
    expect(e.tax.length).toBeGreaterThan(0);
    expect(e.tax.every((x) => x.subtype.startsWith('TAX_'))).toBe(true);
    const more = await f.gql(WITH_PENALTIES, { uscc: E }, t.bankA);
    expect(more.body.data?.enterprise).toBeNull();
    expect(more.body.errors?.[0].extensions).toMatchObject({ code: 'CONSENT_REQUIRED', missing: ['penalties'] });
  });

  it('a consent for bank A does not serve bank B', async () => {
    const r = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankB);
    expect(code(r)).toBe('CONSENT_REQUIRED');
    const other = await f.gql(
      `query($id: ID!, $u: String!) { enterprise(uscc: $u, purpose: "loan-application", consentId: $id) { registration { name } } }`,
      { id: consentId, u: E },
      t.bankB,
    );
    expect(other.body.errors?.[0].extensions).toMatchObject({ code: 'CONSENT_REQUIRED', reason: 'OTHER_GRANTEE' });
  });

  it('a paused consent denies until resumed; revocation denies on the next request', async () => {
    const m = (op: string) =>
      f.gql(`mutation($id: ID!) { ${op}(id: $id, reason: "test") { status } }`, { id: consentId }, t.ent);
    expect((await m('pauseConsent')).body.data).toEqual({ pauseConsent: { status: 'PAUSED' } });
    expect(code(await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA))).toBe('CONSENT_REQUIRED');
    expect((await m('resumeConsent')).body.data).toEqual({ resumeConsent: { status: 'ACTIVE' } });
    expect((await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA)).body.errors).toBeUndefined();
    expect((await m('revokeConsent')).body.data).toEqual({ revokeConsent: { status: 'REVOKED' } });
    const r = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA);
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'CONSENT_REQUIRED', reason: 'REVOKED' });
    expect(code(await m('resumeConsent'))).toBe('CONFLICT');
    const c = await f.gql(
      `query($id: ID!) { consent(id: $id) { status history { to by role } } }`,
      { id: consentId },
      t.ent,
    );
    expect((c.body.data?.consent as { history: Array<{ to: string }> }).history.map((h) => h.to)).toEqual([
      'ACTIVE',
      'PAUSED',
      'ACTIVE',
      'REVOKED',
    ]);
  });

  it('an expired consent is denied', async () => {
    const now = Date.now();
    const g = await grant(
      body({ notBefore: new Date(now - 10_000).toISOString(), expiresAt: new Date(now + 4000).toISOString() }),
    );
    expect(g.body.data?.grantConsent).toMatchObject({ status: 'ACTIVE' });
    // Poll (with a deadline) until the expiry time has passed and the read is refused for it.
    const r = await until(
      'the read refused for the expired consent',
      async () => {
        const read = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, t.bankA);
        return read.body.errors?.[0]?.extensions?.reason === 'EXPIRED' && read;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(now + 4000);
    expect(r.body.errors?.[0].extensions).toMatchObject({ code: 'CONSENT_REQUIRED', reason: 'EXPIRED' });
  });

  it('refuses forged, replayed, altered and out-of-policy consents without changing state', async () => {
    const before = await f.gql(`{ consents { id status } }`, {}, t.ent);
    const forged = await grant(body(), ed25519KeyPair().seed);
    expect(forged.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(forged.body.errors?.[0].message).toMatch(/signature does not verify/);
    const signed = signConsent(body(), f.keys.get(E)!.seed);
    expect((await f.gql(GRANT, { c: signed }, t.ent)).body.data?.grantConsent).toMatchObject({ status: 'ACTIVE' });
    expect((await f.gql(GRANT, { c: signed }, t.ent)).body.errors?.[0].message).toMatch(/replay/);
    const altered = { ...signed, body: { ...signed.body, scopes: ['registration', 'tax', 'penalties'] } };
    expect((await f.gql(GRANT, { c: altered }, t.ent)).body.errors?.[0].message).toMatch(/signature/);
    expect((await grant(body({ scopes: ['registration', 'dna'] }))).body.errors?.[0].message).toMatch(
      /unknown scopes dna/,
    );
    expect((await grant(body({ purpose: 'marketing' }))).body.errors?.[0].message).toMatch(/unknown purpose/);
    expect(
      (await grant(body({ expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }))).body.errors?.[0]
        .message,
    ).toMatch(/at most 90 days/);
    expect(code(await grant(body({ enterprise: E2 }), f.keys.get(E2)!.seed, t.ent))).toBe('FORBIDDEN');
    const after = await f.gql(`{ consents { id status } }`, {}, t.ent);
    expect((after.body.data?.consents as unknown[]).length).toBe((before.body.data?.consents as unknown[]).length + 1);
  });

  it('a bank requests consent; the enterprise approves by signing, or rejects', async () => {
    const req = await f.gql(
      `mutation($i: ConsentRequestInput!) { requestConsent(input: $i) { id status body } }`,
      { i: { enterprise: E2, scopes: ['registration', 'penalties'], purpose: 'loan-application', days: 30 } },
      t.bankB,
    );
    const c = req.body.data?.requestConsent as { id: string; status: string; body: ConsentBody };
    expect(c.status).toBe('REQUESTED');
    expect(
      code(
        await f.gql(
          `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
          { id: c.id, s: signConsent(c.body, ed25519KeyPair().seed).signature },
          t.ent2,
        ),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      code(
        await f.gql(
          `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
          { id: c.id, s: signConsent(c.body, f.keys.get(E2)!.seed).signature },
          t.ent,
        ),
      ),
    ).toBe('FORBIDDEN');
    const ok = await f.gql(
      `mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { status } }`,
      { id: c.id, s: signConsent(c.body, f.keys.get(E2)!.seed).signature },
      t.ent2,
    );
    expect(ok.body.data).toEqual({ approveConsent: { status: 'ACTIVE' } });
    // The home logged the request under the bank's officer, so an auditor finds it by bank.
    const audit = await f.gql(
      `{ auditEntries(filter: { bank: "bank-b", action: "CONSENT_REQUESTED" }) { entries { principal action } } }`,
      {},
      t.auditor,
    );
    expect((audit.body.data?.auditEntries as { entries: unknown[] }).entries).toContainEqual({
      principal: 'bank-b/officer-9',
      action: 'CONSENT_REQUESTED',
    });
    const r = await f.gql(
      `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") { registration { uscc } penalties { id } } }`,
      { u: E2 },
      t.bankB,
    );
    expect(r.body.errors).toBeUndefined();
    const req2 = await f.gql(
      `mutation($i: ConsentRequestInput!) { requestConsent(input: $i) { id } }`,
      { i: { enterprise: E2, scopes: ['tax'], purpose: 'loan-application', days: 10 } },
      t.bankB,
    );
    const rej = await f.gql(
      `mutation($id: ID!) { rejectConsent(id: $id, reason: "not now") { status } }`,
      { id: (req2.body.data?.requestConsent as { id: string }).id },
      t.ent2,
    );
    expect(rej.body.data).toEqual({ rejectConsent: { status: 'REJECTED' } });
  });

  it('a signed credit report can be verified later; a changed byte fails', async () => {
    const g = await grant(body({ scopes: ['registration', 'tax', 'evaluation', 'penalties'] }));
    const id = (g.body.data?.grantConsent as { id: string }).id;
    const r = await f.gql(
      `query($u: String!, $id: ID!) { creditReport(uscc: $u, purpose: "loan-application", consentId: $id) { reportId sections summary { section count } document signature signedBy profile { registration { name } } } }`,
      { u: E, id },
      t.bankA,
    );
    expect(r.body.errors).toBeUndefined();
    const rep = r.body.data?.creditReport as {
      document: string;
      signature: string;
      signedBy: string;
      sections: string[];
    };
    expect(rep.sections).toEqual(['registration', 'tax', 'evaluation', 'penalties']);
    expect(verifyReport(rep, rep.signedBy)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'report-'));
    await writeFile(join(dir, 'report.json'), JSON.stringify(rep));
    const ok = spawnSync(process.execPath, [CLI, 'verify', 'report', '--key', rep.signedBy, join(dir, 'report.json')], {
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    await writeFile(
      join(dir, 'report.json'),
      JSON.stringify({ ...rep, document: rep.document.replace('"tax"', '"tbx"') }),
    );
    const bad = spawnSync(
      process.execPath,
      [CLI, 'verify', 'report', '--key', rep.signedBy, join(dir, 'report.json')],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/does not verify/);
    expect(verifyReport({ ...rep, document: rep.document.replace('"tax"', '"tbx"') }, rep.signedBy)).toBe(false);
  });

  it('the enterprise lists who used its data, with proofs the verifier accepts; an auditor filters by bank', async () => {
    const r = await f.gql(
      `{ myAccessEntries(first: 50) { decision node principal purpose bundle } accessLog { verifierKey } }`,
      {},
      t.ent,
    );
    const entries = r.body.data?.myAccessEntries as Array<{ decision: string; principal: string; bundle: unknown }>;
    expect(entries.some((e) => e.decision === 'ALLOW' && e.principal === 'bank-a/officer-7')).toBe(true);
    expect(entries.some((e) => e.decision === 'DENY' && e.principal === 'bank-b/officer-9')).toBe(true);
    const vkey = (r.body.data?.accessLog as { verifierKey: string }).verifierKey;
    for (const e of entries) expect(verifyBundle(e.bundle, vkey).subject).toBe(E);
    const a = await f.gql(
      `{ auditEntries(filter: { bank: "xm-centre", decision: DENY }) { entries { principal decision } } }`,
      {},
      t.auditor,
    );
    expect((a.body.data?.auditEntries as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
    expect(code(await f.gql(`{ auditEntries { scanned } }`, {}, t.bankA))).toBe('FORBIDDEN');
  });

  it('an auditor cannot link entries to the enterprise through their consent; the enterprise can, until it erases its openings', async () => {
    const mine = await f.gql(`{ myAccessEntries(first: 200) { index consentId consentRef bundle } }`, {}, t.ent);
    const own = mine.body.data?.myAccessEntries as Array<{
      index: number;
      consentId: string | null;
      consentRef: string | null;
      bundle: unknown;
    }>;
    const used = own.filter((e) => e.consentId !== null);
    expect(used.length).toBeGreaterThan(0);
    // The enterprise's bundle opens the consent commitment; the verifier reports the consent id.
    const vkey = f.node.accessLog.verifierKey;
    for (const e of used) expect(verifyBundle(e.bundle, vkey).consentId).toBe(e.consentId);
    const audit = await f.gql(
      `{ auditEntries(filter: { first: 1000 }) { entries { index consentId consentRef } } }`,
      {},
      t.auditor,
    );
    const seen = (
      audit.body.data?.auditEntries as {
        entries: Array<{ index: number; consentId: string | null; consentRef: string | null }>;
      }
    ).entries;
    const same = seen.filter((e) => used.some((u) => u.index === e.index));
    expect(same.length).toBe(used.length);
    // The auditor sees a commitment, never the consent id (which `consent(id)` would turn into the USCC).
    for (const e of same) {
      expect(e.consentId).toBeNull();
      expect(e.consentRef).toBe(used.find((u) => u.index === e.index)?.consentRef);
    }
    // Erasure: a real path for the enterprise, logged; its entries stay for the auditor, unlinkable.
    const erased = await f.gql(
      `mutation { eraseMyAccessOpenings { erased { node openings } unavailable } }`,
      {},
      t.ent,
    );
    expect(erased.body.data?.eraseMyAccessOpenings).toMatchObject({ unavailable: [] });
    const left = await f.gql(`{ myAccessEntries(first: 200) { index } }`, {}, t.ent);
    expect(left.body.data?.myAccessEntries).toEqual([]);
    const after = await f.gql(`{ auditEntries(filter: { first: 1000 }) { entries { index action } } }`, {}, t.auditor);
    const stillThere = (after.body.data?.auditEntries as { entries: Array<{ index: number; action: string }> }).entries;
    for (const e of same) expect(stillThere.some((x) => x.index === e.index)).toBe(true);
    expect(stillThere.some((x) => x.action === 'OPENINGS_ERASED')).toBe(true);
    expect(code(await f.gql(`mutation { eraseMyAccessOpenings { unavailable } }`, {}, t.bankA))).toBe('FORBIDDEN');
  });

  it("an operator carries out an enterprise's erasure request with the CLI, through the node's API, logged with the operator", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'erase-'));
    const config = join(dir, 'config.json');
    const port = Number(new URL(f.url).port);
    await writeFile(
      config,
      JSON.stringify({
        nodeId: 'xm-centre',
        name: 'Xiamen',
        role: 'credit-centre',
        dataDir: f.node.config.dataDir,
        api: { port },
      }),
    );
    // Asynchronous: the node answering the CLI runs in this process.
    const run = promisify(execFile);
    const out = await run(process.execPath, [CLI, 'erase', '--config', config, '--uscc', E2, '--by', 'ops-1']);
    expect(JSON.parse(out.stdout)).toMatchObject({ erased: [{ node: 'xm-centre' }], unavailable: [] });
    const audit = await f.gql(
      `{ auditEntries(filter: { action: "OPENINGS_ERASED" }) { entries { principal } } }`,
      {},
      t.auditor,
    );
    expect((audit.body.data?.auditEntries as { entries: unknown[] }).entries).toContainEqual({
      principal: 'enterprise:operator:ops-1',
    });
    const bad = await run(process.execPath, [
      CLI,
      'erase',
      '--config',
      config,
      '--uscc',
      'NOT-A-CODE',
      '--by',
      'ops-1',
    ]).catch((e: { code?: number; stderr?: string }) => e);
    expect((bad as { code?: number }).code).toBe(2);
  });
});

describe('authentication (RFC 8725)', () => {
  const pub = () => f.node.keys.apiPublicKeyPem;
  const claims = { role: 'bank-officer', bank: 'bank-a', sub: 'officer-7' };
  it.each([
    [
      'alg none',
      () =>
        jwt.sign(claims, '', { algorithm: 'none', issuer: 'credit-node:xm-centre', audience: 'credit-node:xm-centre' }),
    ],
    [
      'HS256 signed with the public key',
      () =>
        jwt.sign(claims, pub(), {
          algorithm: 'HS256',
          issuer: 'credit-node:xm-centre',
          audience: 'credit-node:xm-centre',
        }),
    ],
    [
      'wrong audience',
      () =>
        jwt.sign(claims, f.node.keys.apiPrivateKeyPem, {
          algorithm: 'ES256',
          header: { alg: 'ES256', typ: 'credit-api+jwt' },
          issuer: 'credit-node:xm-centre',
          audience: 'credit-node:other',
          expiresIn: 60,
        }),
    ],
    [
      'wrong issuer',
      () =>
        jwt.sign(claims, f.node.keys.apiPrivateKeyPem, {
          algorithm: 'ES256',
          header: { alg: 'ES256', typ: 'credit-api+jwt' },
          issuer: 'x',
          audience: 'credit-node:xm-centre',
          expiresIn: 60,
        }),
    ],
    [
      'expired',
      () =>
        jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, f.node.keys.apiPrivateKeyPem, {
          algorithm: 'ES256',
          header: { alg: 'ES256', typ: 'credit-api+jwt' },
          issuer: 'credit-node:xm-centre',
          audience: 'credit-node:xm-centre',
        }),
    ],
    [
      'not yet valid',
      () =>
        jwt.sign(claims, f.node.keys.apiPrivateKeyPem, {
          algorithm: 'ES256',
          header: { alg: 'ES256', typ: 'credit-api+jwt' },
          issuer: 'credit-node:xm-centre',
          audience: 'credit-node:xm-centre',
          expiresIn: 600,
          notBefore: 300,
        }),
    ],
    [
      'wrong typ',
      () =>
        jwt.sign(claims, f.node.keys.apiPrivateKeyPem, {
          algorithm: 'ES256',
          issuer: 'credit-node:xm-centre',
          audience: 'credit-node:xm-centre',
          expiresIn: 60,
        }),
    ],
    ['tampered', () => `${t.bankA.slice(0, -4)}AAAA`],
    ['garbage', () => 'not-a-token'],
  ])('rejects a token: %s', async (_label, make) => {
    const r = await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }, make());
    expect(r.status).toBe(401);
    expect(code(r)).toBe('UNAUTHENTICATED');
  });

  it('asks for a token when none is given', async () => {
    expect(code(await f.gql(PROFILE, { uscc: E, purpose: 'loan-application' }))).toBe('UNAUTHENTICATED');
  });
});

describe('bad input and abuse', () => {
  it('malformed USCC, invalid variables and unknown fields get stable codes', async () => {
    expect(code(await f.gql(PROFILE, { uscc: '91350200776049653B', purpose: 'loan-application' }, t.bankA))).toBe(
      'BAD_USER_INPUT',
    );
    expect(code(await f.gql(PROFILE, { uscc: 12, purpose: 'loan-application' }, t.bankA))).toBeDefined();
    expect(code(await f.gql(`{ nope }`, {}, t.bankA))).toBeDefined();
    expect(code(await f.gql(`{ keyBinding(uscc: "91350200776049653B") { uscc } }`, {}, t.bankA))).toBe(
      'BAD_USER_INPUT',
    );
    const r = await f.gql(`query { enterprise(uscc: "x", purpose: "loan-application") { uscc } }`, {}, t.bankA);
    expect(code(r)).toBe('BAD_USER_INPUT');
  });

  it('limits depth, aliases and body size', async () => {
    const deep = `{ __schema { types { fields { type { ${'ofType { '.repeat(12)}name${' }'.repeat(12)} } } } } }`;
    expect((await f.gql(deep, {}, t.bankA)).body.errors?.[0].message).toMatch(/depth|Syntax|limit/i);
    const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: purposes { id }`).join(' ')} }`;
    expect((await f.gql(aliases, {}, t.bankA)).body.errors?.[0].message).toMatch(/alias/i);
    const big = await f.gql(`{ purposes { id } }`, { pad: 'x'.repeat(600_000) }, t.bankA);
    expect(big.status).toBe(413);
    expect(code(big)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('masks internal errors and never echoes tokens', async () => {
    const r = await f.gql(`{ me { sub role } }`, {}, t.bankA);
    expect(r.body.data?.me).toEqual({ sub: 'officer-7', role: 'BANK_OFFICER' });
    const bad = await f.gql(`{ me { sub } }`, {}, 'abc.def.ghi');
    expect(JSON.stringify(bad.body)).not.toContain('abc.def.ghi');
  });

  it('passes the graphql-http server audits', async () => {
    // Signed in: some audits introspect (`__type`), which anonymous callers may not outside development.
    const signedIn = (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, {
        ...init,
        headers: { ...(init?.headers as Record<string, string> | undefined), authorization: `Bearer ${t.auditor}` },
      });
    const failures: string[] = [];
    for (const audit of serverAudits({ url: f.url, fetchFn: signedIn })) {
      const result = await audit.fn();
      if (result.status === 'error') failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(failures).toEqual([]);
  });
});
