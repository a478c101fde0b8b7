/**
 * Evaluation through a node's API and CLI, over real nodes with generated data: who may see a grade
 * (and every decision logged), grade distributions across the centres, a bank reading the city's
 * grade as the `evaluation` section under the enterprise's consent, `credit-node verify attestation`
 * and `credit-node evaluate` on a running node.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { fromBase64, toBase64 } from '../crypto/index.ts';
import { startTestFederation, type TestFederation } from '../federation/test-federation.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { until } from '../testkit/wait.ts';
import type { EvaluationService } from './service.ts';

const CLI = new URL('../node/cli/main.ts', import.meta.url).pathname;
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
let fed: TestFederation;
let n: Record<string, CreditNode>;
let data: string;
let zzB: string;
const ev = (node: string) => n[node].evaluation as EvaluationService;

interface Answer {
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}
async function gql(node: string, query: string, variables: Record<string, unknown>, as: Principal): Promise<Answer> {
  const res = await fetch(`${n[node].url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${n[node].tokens.issue(as)}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  return (await res.json()) as Answer;
}
const codeOf = (a: Answer) => a.errors?.[0]?.extensions?.code;

async function ndjson<T>(file: string): Promise<T[]> {
  return (await readFile(join(data, file), 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Enterprises a centre graded, with their grade, in file order. */
async function graded(node: string, file: string) {
  const out: Array<{ uscc: string; grade: string }> = [];
  for (const e of await ndjson<{ uscc: string }>(file)) {
    const g = await ev(node).evaluator.current(e.uscc);
    if (g && !out.some((x) => x.uscc === e.uscc)) out.push({ uscc: e.uscc, grade: g.grade });
  }
  return out;
}

beforeAll(async () => {
  fed = await startTestFederation(
    { 'xm-centre': 'credit-centre', 'zz-centre': 'city-peer', 'qz-centre': 'city-peer', 'bank-a': 'bank' },
    { cities: { 'xm-centre': 'XM', 'zz-centre': 'ZZ', 'qz-centre': 'QZ', 'bank-a': 'XM' }, enterprises: 200 },
  );
  n = fed.nodes;
  data = fed.dataDir!;
  for (const c of ['xm-centre', 'zz-centre', 'qz-centre']) await ev(c).evaluateAll();
  zzB = (await graded('zz-centre', 'zz-centre/enterprises.ndjson')).find((g) => g.grade === 'B')!.uscc;
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

describe('evaluation through the API and the CLI', () => {
  it('shows a grade to centre staff and the enterprise itself only, and logs every decision', async () => {
    const self = await gql(
      'zz-centre',
      `{ evaluation(uscc: "${zzB}") { grade } }`,
      {},
      {
        sub: 'rep',
        role: 'enterprise',
        uscc: zzB,
      },
    );
    expect(self.data!.evaluation.grade).toBe('B');
    const other = (await graded('zz-centre', 'zz-centre/enterprises.ndjson')).find((g) => g.uscc !== zzB)!.uscc;
    const nosy = await gql(
      'zz-centre',
      `{ evaluation(uscc: "${zzB}") { grade } }`,
      {},
      {
        sub: 'rep',
        role: 'enterprise',
        uscc: other,
      },
    );
    expect(codeOf(nosy)).toBe('FORBIDDEN');
    expect(codeOf(await gql('zz-centre', '{ evaluation(uscc: "91350602MA00000000") { grade } }', {}, staff))).toBe(
      'BAD_USER_INPUT',
    );
    expect(codeOf(await gql('xm-centre', `{ evaluation(uscc: "${zzB}") { grade } }`, {}, staff))).toBe(
      'NOT_RESPONSIBLE',
    );
    const denied = (await n['zz-centre'].accessLog.entriesFor(zzB, { limit: 100 })).filter(
      (e) => e.entry.action === 'PROFILE_READ' && e.entry.decision === 'DENY',
    );
    expect(denied.length).toBeGreaterThan(0);
    expect(
      codeOf(await gql('zz-centre', '{ gradeDistribution { rows { grade } } }', {}, { sub: 'a', role: 'auditor' })),
    ).toBe('FORBIDDEN');
    const dist = await gql(
      'xm-centre',
      '{ gradeDistribution { rows { city industry grade count } unavailable } }',
      {},
      staff,
    );
    expect(dist.data!.gradeDistribution.unavailable).toEqual([]);
    expect(new Set(dist.data!.gradeDistribution.rows.map((r: { city: string }) => r.city))).toEqual(
      new Set(['XM', 'ZZ', 'QZ']),
    );
  });

  it('lets a bank read the city grade as the evaluation section under the enterprise’s consent', async () => {
    const keys = await ndjson<{ uscc: string; publicKey: string; seed: string }>('keys/enterprises.ndjson');
    const k = keys.find((x) => x.uscc === zzB)!;
    await n['zz-centre'].consents.registerKey(staff, zzB, k.publicKey);
    const c = await n['zz-centre'].consents.grant(
      { sub: 'rep', role: 'enterprise', uscc: zzB },
      signConsent(
        draftConsent({ enterprise: zzB, home: 'zz-centre', grantee: 'bank-a', scopes: ['evaluation'] }),
        fromBase64(k.seed)!,
      ),
    );
    await until(`consent ${c.id} at bank-a`, async () => (await n['bank-a'].consents.get(c.id)) !== undefined, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const read = await until(
      'the evaluation section at bank-a',
      () =>
        n['bank-a'].access
          .readProfile({
            principal: { sub: 'officer-1', role: 'bank-officer', bank: 'bank-a' },
            uscc: zzB,
            sections: ['evaluation'],
            purpose: 'loan-application',
            consentId: c.id,
            consentHome: 'zz-centre',
            correlationId: `test-read-${Date.now()}`,
          })
          .catch(() => undefined),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const grade = read.facts.evaluation?.find((f) => f.originNode === 'zz-centre');
    expect(grade?.payload).toMatchObject({ grade: 'B', scheme: 'zz-public-credit@1.0.0' });
    expect(read.servedBy.evaluation).toBe('zz-centre');
  });

  it('verifies an attestation offline with credit-node verify attestation, and refuses a tampered one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-cli-'));
    const g = await ev('zz-centre').evaluator.current(zzB);
    const att = ev('zz-centre').evaluator.issue(g!);
    await writeFile(join(dir, 'ok.json'), JSON.stringify(att));
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ ...att, document: att.document.replace('"grade":"B"', '"grade":"A"') }),
    );
    const key = toBase64(n['zz-centre'].keys.identity.publicKey);
    const run = promisify(execFile);
    const ok = await run(process.execPath, [CLI, 'verify', 'attestation', '--key', key, join(dir, 'ok.json')]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, subject: zzB, grade: 'B', inForce: true });
    const bad = await run(process.execPath, [CLI, 'verify', 'attestation', '--key', key, join(dir, 'bad.json')]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(1);
    expect(JSON.parse((bad as { stdout: string }).stdout)).toMatchObject({ ok: false });
    // credit-node evaluate on the running node goes through its API.
    const config = {
      ...n['zz-centre'].config,
      api: { ...n['zz-centre'].config.api, port: Number(new URL(n['zz-centre'].url!).port) },
    };
    await writeFile(join(dir, 'zz.json'), JSON.stringify(config));
    const out = await run(process.execPath, [CLI, 'evaluate', '--config', join(dir, 'zz.json'), '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ graded: 0 });
  });
  it('grades a stopped node’s database with credit-node evaluate, then only what changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-cli-offline-'));
    const run = promisify(execFile);
    const cli = (...args: string[]) => run(process.execPath, [CLI, ...args]);
    await cli('init', '--dir', dir, '--node-id', 'zz-offline', '--role', 'city-peer', '--city', 'ZZ', '--port', '0');
    await cli(
      'ingest',
      '--data-dir',
      dir,
      '--json',
      ...['enterprises', 'facts'].map((f) => join(data, `zz-centre/${f}.ndjson`)),
    );
    const first = JSON.parse((await cli('evaluate', '--config', join(dir, 'config.json'), '--json')).stdout);
    expect(first.graded).toBeGreaterThan(20);
    expect(first.graded).toBe(first.enterprises);
    const again = JSON.parse((await cli('evaluate', '--config', join(dir, 'config.json'), '--json')).stdout);
    expect(again).toMatchObject({ graded: 0, unchanged: first.enterprises });
    const one = JSON.parse(
      (await cli('evaluate', '--config', join(dir, 'config.json'), '--uscc', zzB, '--json')).stdout,
    );
    expect(one).toMatchObject({ enterprises: 1, graded: 0 });
    const bad = await cli('evaluate', '--config', join(dir, 'config.json'), '--uscc', 'nonsense').catch(
      (e: { code: number }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
  });
});
