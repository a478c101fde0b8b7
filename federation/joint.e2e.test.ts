/**
 * Joint queries across real nodes (real libp2p on loopback, real Level, node-seal in worker
 * threads): cross-bank exposure equals the plaintext sums of the other banks' loan books, a single
 * contribution is masked even for a colluding coordinator and requester, contributors check
 * consent themselves, a contributor that dies mid-round gives a clear result, and the score equals
 * the published model computed in plaintext.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { checkExposureTotals, createHePool, HE_PARAMETER_ID, type HePool, PLAIN_MODULUS } from '../crypto/he/index.ts';
import { ed25519Signer, fromBase64, toBase64 } from '../crypto/index.ts';
import {
  type CreditFact,
  centredFeatures,
  type LoanRecord,
  modelSections,
  plainScore,
  SCORE_MODEL_V1,
} from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { silentLogger } from '../node/logger.ts';
import type { DemoEnterprise } from '../scenarios/demo/client.ts';
import { DEMO_NODES } from '../scenarios/federation/topology.ts';
import { until } from '../testkit/wait.ts';
import type { PeerError } from './host.ts';
import { createCoordinator } from './joint/coordinator.ts';
import { JOINT_PROTOCOL } from './joint/protocol.ts';
import { type JointQuery, publicKeyHash, signJointQuery } from './joint/query.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

const CLI = new URL('../node/cli/main.ts', import.meta.url).pathname;
let fed: TestFederation;
let n: Record<string, CreditNode>;
let data: string;
let pool: HePool;
const officer: Principal = { sub: 'officer-a1', role: 'bank-officer', bank: 'bank-a' };
const servesOf = (id: string) => DEMO_NODES.find((d) => d.nodeId === id)?.serves ?? [];

async function ndjson<T>(file: string): Promise<T[]> {
  return (await readFile(join(data, file), 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Enterprises each city centre holds, with their key pairs, in file order; how many each test has used. */
const held: Record<string, DemoEnterprise[]> = { 'xm-centre': [], 'zz-centre': [] };
const used: Record<string, number> = { 'xm-centre': 0, 'zz-centre': 0 };
const xm = held['xm-centre'];

/**
 * Registers the keys of the next `count` enterprises of a city centre there, and grants bank-a a
 * consent with `scopes` kept by that centre.
 */
async function consent(count: number, scopes: string[], holder = 'xm-centre') {
  const out: string[] = [];
  for (const e of held[holder].slice(used[holder], used[holder] + count)) {
    const centre = n[holder].consents;
    if (!(await centre.bindingFor(e.uscc)))
      await centre.registerKey({ sub: 'staff', role: 'centre-staff' }, e.uscc, e.publicKey);
    const r = await centre.grant(
      { sub: 'rep', role: 'enterprise', uscc: e.uscc },
      signConsent(draftConsent({ enterprise: e.uscc, home: holder, grantee: 'bank-a', scopes }), e.seed),
    );
    await until(`consent ${r.id} at bank-a`, async () => (await n['bank-a'].consents.get(r.id)) !== undefined, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    out.push(e.uscc);
  }
  used[holder] += count;
  return out;
}

/** An enterprise no consent will ever name. */
const stranger = () => xm[xm.length - 1].uscc;

beforeAll(async () => {
  fed = await startTestFederation(
    {
      'xm-centre': 'credit-centre',
      'xm-data': 'source',
      'zz-centre': 'city-peer',
      'easy-loan': 'easy-loan',
      'bank-a': 'bank',
      'bank-b': 'bank',
      'bank-c': 'bank',
      'bank-d': 'bank',
    },
    {
      cities: { 'xm-centre': 'XM', 'xm-data': 'XM', 'zz-centre': 'ZZ', 'easy-loan': 'XM' },
      serves: { 'xm-centre': servesOf('xm-centre'), 'xm-data': servesOf('xm-data') },
      enterprises: 60,
    },
  );
  n = fed.nodes;
  data = fed.dataDir!;
  pool = createHePool({ workers: 1 });
  const keys = new Map(
    (await ndjson<{ uscc: string; publicKey: string; seed: string }>('keys/enterprises.ndjson')).map((k) => [
      k.uscc,
      k,
    ]),
  );
  for (const holder of Object.keys(held))
    for (const e of await ndjson<{ uscc: string }>(`${holder}/enterprises.ndjson`)) {
      const k = keys.get(e.uscc);
      const list = held[holder];
      if (k && !list.some((x) => x.uscc === e.uscc) && (await n[holder].profiles.getEnterprise(e.uscc)))
        list.push({ uscc: e.uscc, publicKey: k.publicKey, seed: fromBase64(k.seed)! });
    }
}, 180_000);

afterAll(async () => {
  await pool?.close();
  await fed?.stop();
});

describe('joint queries, usable but not visible', () => {
  it('cross-bank exposure equals the plaintext sums of the other banks, for every enterprise of the batch', async () => {
    const usccs = await consent(5, ['registration', 'joint:exposure']);
    const loans = [
      ...(await ndjson<LoanRecord>('banks/bank-b/loans.ndjson')),
      ...(await ndjson<LoanRecord>('banks/bank-c/loans.ndjson')),
    ].filter((l) => l.status !== 'SETTLED');
    // An enterprise without consent is refused here, logged, and never leaves the bank.
    const run = await n['bank-a'].federation!.joint.run(
      officer,
      'exposure',
      [...usccs, stranger()],
      'loan-application',
    );
    expect(run.contributors.sort()).toEqual(['bank-b', 'bank-c', 'bank-d']);
    expect(run.rows.at(-1)).toMatchObject({ uscc: stranger(), status: 'REFUSED', reason: 'NO_CONSENT' });
    for (const row of run.rows.slice(0, -1)) {
      const mine = loans.filter((l) => l.uscc === row.uscc);
      expect(row).toMatchObject({
        status: 'OK',
        outstandingYuan: mine.reduce((s, l) => s + l.outstandingYuan, 0),
        overdueYuan: mine.filter((l) => l.status === 'OVERDUE').reduce((s, l) => s + l.outstandingYuan, 0),
        lenders: new Set(mine.map((l) => l.bank)).size,
      });
      expect(row.without).toBeUndefined();
    }
    // Provenance: each contributor's checkpoint after its entries; each contributor logged its decisions.
    expect(run.provenance.map((p) => p.node).sort()).toEqual(['bank-b', 'bank-c', 'bank-d']);
    for (const p of run.provenance) expect(p.checkpoint).toMatch(/^credit-data-space\/bank-[bcd]\n/);
    for (const bank of ['bank-b', 'bank-c']) {
      const logged = await n[bank].accessLog.query({ action: 'JOINT_QUERY', limit: 100 });
      expect(logged.entries.filter((e) => e.entry.decision === 'ALLOW').length).toBeGreaterThanOrEqual(usccs.length);
    }
  }, 180_000);

  it('the full parameter set gives the same exact sums for a small batch (the path of batches above 585)', async () => {
    const usccs = await consent(3, ['joint:exposure']);
    const loans = [
      ...(await ndjson<LoanRecord>('banks/bank-b/loans.ndjson')),
      ...(await ndjson<LoanRecord>('banks/bank-c/loans.ndjson')),
    ].filter((l) => l.status !== 'SETTLED');
    const run = await n['bank-a'].federation!.joint.run(officer, 'exposure', usccs, 'loan-application', {
      parameters: 'standard',
    });
    expect(run.contributors.sort()).toEqual(['bank-b', 'bank-c', 'bank-d']);
    for (const row of run.rows) {
      const mine = loans.filter((l) => l.uscc === row.uscc);
      expect(row).toMatchObject({
        status: 'OK',
        outstandingYuan: mine.reduce((s, l) => s + l.outstandingYuan, 0),
        overdueYuan: mine.filter((l) => l.status === 'OVERDUE').reduce((s, l) => s + l.outstandingYuan, 0),
        lenders: new Set(mine.map((l) => l.bank)).size,
      });
    }
  }, 180_000);

  it('no run leaves a key pair behind at the requester, not even one whose every enterprise is refused', async () => {
    const [consented] = await consent(1, ['joint:exposure']);
    const zz = held['zz-centre'];
    const unconsented = [stranger(), zz[zz.length - 1].uscc];
    const refused = await n['bank-a'].federation!.joint.run(officer, 'exposure', unconsented, 'loan-application');
    expect(refused.rows.map((r) => r.status)).toEqual(['REFUSED', 'REFUSED']);
    const one = await n['bank-a'].federation!.joint.run(officer, 'exposure', [consented], 'loan-application');
    expect(one.rows[0].status).toBe('OK');
    const stats = await n['bank-a'].heStats();
    expect(stats?.workers.reduce((k, w) => k + w.keys, 0)).toBe(0);
  }, 120_000);

  it('a single contribution decrypts to noise even for a colluding coordinator and requester; contributors check consent themselves', async () => {
    const usccs = await consent(2, ['joint:exposure']);
    const keys = await pool.createKeyPair();
    try {
      // bank-a (the requester) hands its signed query and key to the coordinator, which runs the
      // steps itself and keeps one bank's contribution aside.
      const query: JointQuery = {
        v: 1,
        kind: 'exposure',
        id: `joint-collusion-${Date.now()}`,
        requester: 'bank-a',
        principal: 'officer-a1',
        purpose: 'loan-application',
        batch: await Promise.all(
          [...usccs, stranger()].map(async (uscc, i) => {
            const held = i < usccs.length ? (await n['bank-a'].consents.list(officer, { uscc }))[0] : undefined;
            // The last enterprise has no consent anywhere: the requester claims one that does not exist.
            return { uscc, consentId: held?.id ?? 'A'.repeat(43), consentHome: 'xm-centre' };
          }),
        ),
        parameters: HE_PARAMETER_ID,
        publicKeyHash: publicKeyHash(keys.publicKey),
        issuedAt: new Date().toISOString(),
      };
      const signed = signJointQuery(query, ed25519Signer(n['bank-a'].keys.identity.seed));
      const host = n['easy-loan'].federation!.host;
      const joined = await Promise.all(
        ['bank-b', 'bank-c', 'bank-d'].map(
          async (b) =>
            (await host.request(b, JOINT_PROTOCOL, { op: 'join', signed, attempt: 1 })) as {
              maskKey: unknown;
              refused: Array<{ index: number; reason: string }>;
            },
        ),
      );
      // Each contributor refused the enterprise without consent, itself, and logged it.
      for (const j of joined) expect(j.refused).toEqual([{ index: 2, reason: 'NO_CONSENT' }]);
      const denied = await n['bank-b'].accessLog.query({ action: 'JOINT_QUERY', decision: 'DENY', limit: 10 });
      expect(denied.entries.some((e) => e.entry.correlationId === query.id)).toBe(true);
      // A join replayed is refused.
      const replay = await host.request('bank-b', JOINT_PROTOCOL, { op: 'join', signed, attempt: 1 }).catch((e) => e);
      expect((replay as PeerError).code).toBe('FORBIDDEN');
      const b = (await host.request('bank-b', JOINT_PROTOCOL, {
        op: 'contribute',
        queryId: query.id,
        attempt: 1,
        publicKey: toBase64(keys.publicKey),
        participants: joined.map((j) => j.maskKey),
      })) as { ciphertexts: Record<string, string> };
      const alone = await keys.decrypt(Buffer.from(b.ciphertexts.outstanding, 'base64'));
      const loans = (await ndjson<LoanRecord>('banks/bank-b/loans.ndjson')).filter((l) => l.status !== 'SETTLED');
      // No slot shows bank-b's figure; the values spread over the whole range modulo t.
      for (const [i, uscc] of usccs.entries()) {
        const figure = loans.filter((l) => l.uscc === uscc).reduce((s, l) => s + l.outstandingYuan, 0);
        expect(alone[i]).not.toBe(BigInt(figure));
      }
      const small = [...alone].filter((v) => v >= 0n && v < 2n ** 47n).length;
      expect(small).toBeLessThan(8);
      expect([...alone].some((v) => v > PLAIN_MODULUS / 2n)).toBe(true);
    } finally {
      await keys.release();
    }
  }, 180_000);

  it('the coordinator refuses a query not signed by the bank that sends it, and a replayed one', async () => {
    const query: JointQuery = {
      v: 1,
      kind: 'exposure',
      id: `joint-forged-${Date.now()}`,
      requester: 'bank-b',
      principal: 'officer-x',
      purpose: 'loan-application',
      batch: [{ uscc: stranger(), consentId: 'B'.repeat(43), consentHome: 'xm-centre' }],
      parameters: HE_PARAMETER_ID,
      publicKeyHash: publicKeyHash(new Uint8Array(8)),
      issuedAt: new Date().toISOString(),
    };
    const bankA = n['bank-a'].federation!.host;
    const forged = signJointQuery(query, ed25519Signer(n['bank-a'].keys.identity.seed));
    const e1 = await bankA
      .request('easy-loan', JOINT_PROTOCOL, { op: 'query', signed: forged, publicKey: toBase64(new Uint8Array(8)) })
      .catch((e) => e);
    expect((e1 as PeerError).code).toBe('FORBIDDEN');
    const e2 = await bankA.request('easy-loan', JOINT_PROTOCOL, { op: 'query', signed: { nope: 1 } }).catch((e) => e);
    expect((e2 as PeerError).code).toBe('BAD_REQUEST');
    // Contributors take steps only from the coordinator.
    const e3 = await bankA
      .request('bank-b', JOINT_PROTOCOL, { op: 'join', signed: forged, attempt: 1 })
      .catch((e) => e);
    expect((e3 as PeerError).code).toBe('FORBIDDEN');
  }, 60_000);

  it('a loan officer runs it through the API (a job with progress) and the CLI; other roles and banks are refused', async () => {
    const usccs = await consent(2, ['joint:exposure']);
    const gql = async (query: string, variables: Record<string, unknown>, as: Principal, node = 'bank-a') => {
      const res = await fetch(`${n[node].url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${n[node].tokens.issue(as)}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as {
        data?: Record<string, unknown>;
        errors?: Array<{ extensions?: { code?: string } }>;
      };
    };
    const started = await gql(
      `mutation($i: JointQueryInput!) { runJointQuery(input: $i) { id status total } }`,
      { i: { kind: 'EXPOSURE', usccs, purpose: 'loan-application', wait: false } },
      officer,
    );
    const job = started.data?.runJointQuery as { id: string; total: number };
    expect(job.total).toBe(2);
    const done = await until(
      'the job to finish',
      async () => {
        const r = await gql(
          `query($id: ID!) { jointQueryJob(id: $id) { status done total result { contributors rows { uscc status outstandingYuan } } } }`,
          { id: job.id },
          officer,
        );
        const j = r.data?.jointQueryJob as {
          status: string;
          done: number;
          result?: { rows: Array<{ status: string }> };
        };
        return j?.status === 'DONE' && j;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(done.done).toBe(2);
    expect(done.result?.rows.every((r) => r.status === 'OK')).toBe(true);
    // Another bank's officer cannot see the job; an enterprise cannot run joint queries.
    const other = await gql(
      `query($id: ID!) { jointQueryJob(id: $id) { id } }`,
      { id: job.id },
      {
        sub: 'officer-b1',
        role: 'bank-officer',
        bank: 'bank-b',
      },
      'bank-b',
    );
    expect(other.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const asAuditor = await gql(
      `mutation($i: JointQueryInput!) { runJointQuery(input: $i) { id } }`,
      { i: { kind: 'SCORE', usccs, purpose: 'loan-application' } },
      { sub: 'regulator', role: 'auditor' },
    );
    expect(asAuditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The CLI, against the running bank node.
    const dir = await mkdtemp(join(tmpdir(), 'joint-cli-'));
    const config = join(dir, 'bank-a.json');
    await writeFile(
      config,
      JSON.stringify({
        nodeId: 'bank-a',
        name: 'bank-a',
        role: 'bank',
        dataDir: n['bank-a'].config.dataDir,
        api: { port: Number(new URL(n['bank-a'].url!).port) },
      }),
    );
    const out = await promisify(execFile)(process.execPath, [
      CLI,
      'joint',
      '--config',
      config,
      '--kind',
      'exposure',
      '--officer',
      'officer-a1',
      '--json',
      ...usccs.flatMap((u) => ['--uscc', u]),
    ]);
    const cli = JSON.parse(out.stdout) as { rows: Array<{ uscc: string; status: string }> };
    expect(cli.rows.map((r) => r.status)).toEqual(['OK', 'OK']);
  }, 240_000);

  it('the multi-source score equals the published model computed in plaintext, for every generated enterprise', async () => {
    // Every Xiamen enterprise not yet used (but three kept for the next test and the one kept without
    // consent) and every Zhangzhou one.
    const usccs = [
      ...(await consent(xm.length - used['xm-centre'] - 4, ['joint:score'])),
      ...(await consent(held['zz-centre'].length, ['joint:score'], 'zz-centre')),
    ];
    expect(usccs.length).toBeGreaterThan(15);
    const run = await n['bank-a'].federation!.joint.run(officer, 'score', usccs, 'loan-application');
    expect(run.model).toBe('credit-easy-loan-score@1.0.0');
    expect(run.contributors.sort()).toEqual(['xm-centre', 'xm-data', 'zz-centre']);
    // The reference: the same model over the facts the holders hold, in plaintext.
    const sections = modelSections(SCORE_MODEL_V1);
    for (const row of run.rows) {
      const mine: CreditFact[] = [];
      for (const holder of ['xm-centre', 'xm-data', 'zz-centre'])
        mine.push(...(await n[holder].profiles.getFacts(row.uscc, sections)));
      const expected = plainScore(SCORE_MODEL_V1, centredFeatures(SCORE_MODEL_V1, mine, sections));
      expect(row.status).toBe('OK');
      expect(Math.abs((row.score ?? Number.NaN) - expected)).toBeLessThanOrEqual(1 / SCORE_MODEL_V1.scale);
    }
  }, 180_000);

  it('a contributor that dies mid-round: the round restarts without it and the result says who contributed', async () => {
    const usccs = await consent(3, ['joint:exposure']);
    const el = n['easy-loan'].federation!;
    const members = () => el.host.roster()?.roster.members ?? [];
    const member = (id: string) => members().find((m) => m.nodeId === id);
    // The easy-loan node's coordinator, with one fault: bank-c dies when asked for its contribution.
    const coordinator = createCoordinator({
      host: el.host,
      log: n['easy-loan'].accessLog,
      he: async () => pool,
      nodeId: 'easy-loan',
      member,
      members,
      quarantined: () => [],
      model: SCORE_MODEL_V1,
      logger: silentLogger(),
      ask: async (node, body, timeoutMs, signal) => {
        if (node === 'bank-c' && (body as { op: string }).op === 'contribute') await n['bank-c'].stop();
        return el.host.request(node, JOINT_PROTOCOL, body, { timeoutMs, maxResponseBytes: 8 << 20, signal });
      },
    });
    const keys = await pool.createKeyPair();
    try {
      const batch = await Promise.all(
        usccs.map(async (uscc) => {
          const c = (await n['bank-a'].consents.list(officer, { uscc })).find((x) =>
            x.body.scopes.includes('joint:exposure'),
          )!;
          return { uscc, consentId: c.id, consentHome: c.body.home };
        }),
      );
      const signed = signJointQuery(
        {
          v: 1,
          kind: 'exposure',
          id: `joint-dropout-${Date.now()}`,
          requester: 'bank-a',
          principal: 'officer-a1',
          purpose: 'loan-application',
          batch,
          parameters: HE_PARAMETER_ID,
          publicKeyHash: publicKeyHash(keys.publicKey),
          issuedAt: new Date().toISOString(),
        },
        ed25519Signer(n['bank-a'].keys.identity.seed),
      );
      const result = await coordinator.run(signed, keys.publicKey, member('bank-a')!);
      expect(result).toMatchObject({ status: 'OK', dropped: ['bank-c'], attempts: 2 });
      expect(result.contributors.sort()).toEqual(['bank-b', 'bank-d']);
      // The restarted round's masks cancel: the totals are exactly bank-b's and bank-d's (bank-d lends nothing).
      const totals = checkExposureTotals(await keys.decrypt(fromBase64(result.sums.outstanding)!), {
        enterprises: usccs.length,
        contributors: 2,
      });
      const loans = (await ndjson<LoanRecord>('banks/bank-b/loans.ndjson')).filter((l) => l.status !== 'SETTLED');
      expect(totals).toEqual(
        usccs.map((u) => loans.filter((l) => l.uscc === u).reduce((s, l) => s + l.outstandingYuan, 0)),
      );
    } finally {
      await keys.release();
    }
    // With bank-c gone for good, a bank's own run still answers clearly (bank-b and bank-d contribute).
    const run = await n['bank-a'].federation!.joint.run(officer, 'exposure', usccs, 'loan-application');
    expect(run.contributors.sort()).toEqual(['bank-b', 'bank-d']);
    expect(run.rows.every((r) => r.status === 'OK')).toBe(true);
  }, 240_000);
});
