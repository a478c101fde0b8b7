/**
 * Evaluation and 厦漳泉 mutual recognition over real nodes (real libp2p on loopback, real Level,
 * generated data): the three cities' centres grade their enterprises, agree on recognition,
 * fetch, verify, recognise and refuse each other's attestations, and follow a re-grade. The API
 * and CLI side is tested in `evaluation/api.e2e.test.ts`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../authz/index.ts';
import { ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import {
  type AttestationBody,
  CROSS_CITY_PURPOSE,
  type EvaluationService,
  type SignedAttestation,
  signAttestation,
} from '../evaluation/index.ts';
import { seriousListing } from '../evaluation/test-helpers.ts';
import type { CreditFact, IngestRecord } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { until } from '../testkit/wait.ts';
import { EVALUATION_PROTOCOL } from './evaluation-protocol.ts';
import type { PeerError } from './host.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';

const DAY = 86_400_000;
const staff: Principal = { sub: 'staff-01', role: 'centre-staff' };
let fed: TestFederation;
let n: Record<string, CreditNode>;
let data: string;
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

/** Stores facts at a node as an ingest would (one atomic batch). */
async function addFacts(node: string, facts: CreditFact[]) {
  const records: IngestRecord[] = facts.map((record) => ({ kind: 'fact', record }));
  await n[node].db.batch(n[node].profiles.writeOps(records, await n[node].profiles.existing(records)));
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

const RECOGNISED = `query($u: String!) { recognisedEvaluations(uscc: $u) {
  uscc city local { grade score }
  recognised { city evaluator foreignGrade localGrade recognised reason detail agreementId scheme { id version } attestation { document signature signedBy } }
  unavailable } }`;
const AGREEMENT_FIELDS = 'id status signedBy parties freshnessDays agreement delivered distributedTo';

let zzB: string;
let agreementXmZz: string;

beforeAll(async () => {
  fed = await startTestFederation(
    { 'xm-centre': 'credit-centre', 'zz-centre': 'city-peer', 'qz-centre': 'city-peer', 'bank-a': 'bank' },
    { cities: { 'xm-centre': 'XM', 'zz-centre': 'ZZ', 'qz-centre': 'QZ', 'bank-a': 'XM' }, enterprises: 300 },
  );
  n = fed.nodes;
  data = fed.dataDir!;
  for (const c of ['xm-centre', 'zz-centre', 'qz-centre']) await ev(c).evaluateAll();
  zzB = (await graded('zz-centre', 'zz-centre/enterprises.ndjson')).find((g) => g.grade === 'B')!.uscc;
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

describe('evaluation and mutual recognition across the centres of 厦漳泉', () => {
  it('grades every enterprise of each city; every explanation adds up to its score', async () => {
    for (const [node, file] of [
      ['xm-centre', 'xm-centre/enterprises.ndjson'],
      ['zz-centre', 'zz-centre/enterprises.ndjson'],
      ['qz-centre', 'qz-centre/enterprises.ndjson'],
    ]) {
      const list = await graded(node, file);
      expect(list.length).toBeGreaterThan(20);
      for (const { uscc } of list) {
        const g = (await ev(node).evaluator.current(uscc))!;
        expect(g.explanation.indicators.reduce((s, i) => s + i.points, 0)).toBe(g.score);
      }
    }
    const zz = await gql(
      'zz-centre',
      'query($u: String!) { evaluation(uscc: $u) { grade score maxScore indicators { id points facts } scheme { id version } } }',
      { u: zzB },
      staff,
    );
    expect(zz.errors).toBeUndefined();
    expect(zz.data!.evaluation).toMatchObject({ grade: 'B', scheme: { id: 'zz-public-credit', version: '1.0.0' } });
    const e = zz.data!.evaluation;
    expect(e.indicators.reduce((s: number, i: { points: number }) => s + i.points, 0)).toBe(e.score);
  });

  it('recognises a Zhangzhou B in Xiamen only once both centres signed the agreement, beside Xiamen’s own view', async () => {
    const before = await gql('xm-centre', RECOGNISED, { u: zzB }, staff);
    expect(before.data!.recognisedEvaluations.recognised[0]).toMatchObject({
      city: 'ZZ',
      foreignGrade: 'B',
      recognised: false,
      reason: 'NO_AGREEMENT',
    });
    const proposed = await gql(
      'xm-centre',
      `mutation { proposeRecognitionAgreement(input: { with: "zz-centre" }) { ${AGREEMENT_FIELDS} } }`,
      {},
      staff,
    );
    expect(proposed.data!.proposeRecognitionAgreement).toMatchObject({ status: 'PROPOSED', delivered: true });
    agreementXmZz = proposed.data!.proposeRecognitionAgreement.id;
    expect(proposed.data!.proposeRecognitionAgreement.freshnessDays).toBe(365);
    // Signed by one side: not in force anywhere.
    expect((await ev('xm-centre').recognise(before.data!.recognisedEvaluations.recognised[0].attestation)).reason).toBe(
      'NO_AGREEMENT',
    );
    const held = await gql('zz-centre', `{ recognitionAgreements { ${AGREEMENT_FIELDS} } }`, {}, staff);
    expect(held.data!.recognitionAgreements).toEqual([
      expect.objectContaining({ id: agreementXmZz, status: 'PROPOSED', signedBy: ['xm-centre'] }),
    ]);
    const signed = await gql(
      'zz-centre',
      `mutation($id: ID!) { signRecognitionAgreement(id: $id) { ${AGREEMENT_FIELDS} } }`,
      { id: agreementXmZz },
      staff,
    );
    expect(signed.data!.signRecognitionAgreement).toMatchObject({
      status: 'IN_FORCE',
      distributedTo: ['qz-centre', 'xm-centre'],
    });
    expect(signed.data!.signRecognitionAgreement.signedBy.sort()).toEqual(['xm-centre', 'zz-centre']);
    for (const c of ['xm-centre', 'qz-centre'])
      expect((await ev(c).agreements.get(agreementXmZz))?.signedBy).toHaveLength(2);

    const after = await gql('xm-centre', RECOGNISED, { u: zzB }, staff);
    expect(after.errors).toBeUndefined();
    const view = after.data!.recognisedEvaluations;
    expect(view).toMatchObject({ uscc: zzB, city: 'XM', local: null, unavailable: [] });
    expect(view.recognised).toEqual([
      expect.objectContaining({
        city: 'ZZ',
        evaluator: 'zz-centre',
        foreignGrade: 'B',
        localGrade: 'B',
        recognised: true,
        reason: null,
        agreementId: agreementXmZz,
      }),
    ]);
    // Logged at both ends, the enterprise as subject, under cross-city-recognition.
    for (const c of ['xm-centre', 'zz-centre']) {
      const entries = (await n[c].accessLog.entriesFor(zzB, { limit: 50 })).filter(
        (e) => e.entry.action === 'PEER_FETCH' && e.entry.purpose === CROSS_CITY_PURPOSE,
      );
      expect(entries.some((e) => e.entry.decision === 'ALLOW')).toBe(true);
    }
  });

  it('refuses the same attestation past its freshness, then past the agreement, with the reason', async () => {
    const att = (await ev('xm-centre').recognitions(zzB))[0].attestation;
    const evaluatedAt = Date.parse(JSON.parse(att.document).evaluatedAt);
    expect((await ev('xm-centre').recognise(att, { now: evaluatedAt + 364 * DAY })).recognised).toBe(true);
    const stale = await ev('xm-centre').recognise(att, { now: evaluatedAt + 366 * DAY });
    expect(stale).toMatchObject({ recognised: false, reason: 'STALE', foreignGrade: 'B' });
    expect(stale.localGrade).toBeUndefined();
    const held = await ev('xm-centre').recognitions(zzB, { now: evaluatedAt + 366 * DAY });
    expect(held[0].outcome.reason).toBe('STALE');
    expect((await ev('xm-centre').recognise(att, { now: evaluatedAt + 4 * 365 * DAY })).reason).toBe(
      'AGREEMENT_EXPIRED',
    );
  });

  it('refuses a tampered grade and a forged evaluator signature, and keeps nothing of them', async () => {
    const att: SignedAttestation = (await ev('xm-centre').recognitions(zzB))[0].attestation;
    const tampered = { ...att, document: att.document.replace('"grade":"B"', '"grade":"A"') };
    expect(tampered.document).not.toBe(att.document);
    const r = await gql(
      'xm-centre',
      'mutation($a: JSON!) { recogniseAttestation(attestation: $a) { recognised reason detail } }',
      { a: tampered },
      staff,
    );
    expect(r.data!.recogniseAttestation).toMatchObject({ recognised: false, reason: 'BAD_SIGNATURE' });
    const body = JSON.parse(att.document) as AttestationBody;
    const forged = signAttestation({ ...body, grade: 'A', seq: body.seq + 1 }, ed25519Signer(ed25519KeyPair().seed));
    expect((await ev('xm-centre').recognise(forged)).reason).toBe('BAD_SIGNATURE');
    // Signed by another centre's real key, claiming to be Zhangzhou's: still refused.
    const byQz = signAttestation(
      { ...body, grade: 'A', seq: body.seq + 1 },
      ed25519Signer(n['qz-centre'].keys.identity.seed),
    );
    expect((await ev('xm-centre').recognise(byQz)).reason).toBe('BAD_SIGNATURE');
    // Pushed over the protocol by the evaluator's own node: refused, logged, nothing kept.
    for (const bad of [tampered, forged])
      await expect(
        n['zz-centre'].federation!.host.request('xm-centre', EVALUATION_PROTOCOL, {
          op: 'push',
          attestation: bad,
          correlationId: 'test-push-0001',
        }),
      ).rejects.toMatchObject({ code: 'ATTESTATION_INVALID' });
    const kept = await ev('xm-centre').recognitions(zzB);
    expect(kept).toHaveLength(1);
    expect(kept[0].attestation.document).toBe(att.document);
  });

  it('refuses an agreement signed by one side only, or with a forged signature, and changes nothing', async () => {
    const proposal = await ev('qz-centre').proposeAgreement(staff, { with: 'xm-centre' });
    const before = (await ev('zz-centre').agreements.list()).length;
    const oneSided = await gql(
      'zz-centre',
      `mutation($a: JSON!) { importRecognitionAgreement(agreement: $a) { id } }`,
      { a: proposal.agreement },
      staff,
    );
    expect(codeOf(oneSided)).toBe('AGREEMENT_INVALID');
    expect(oneSided.errors![0].message).toMatch(/signed by qz-centre only; both centres must sign/);
    const forged = {
      ...proposal.agreement,
      signatures: [
        ...proposal.agreement.signatures,
        { node: 'xm-centre', signature: proposal.agreement.signatures[0].signature },
      ],
    };
    await expect(ev('zz-centre').importAgreement(staff, forged)).rejects.toMatchObject({ reason: 'BAD_SIGNATURE' });
    await expect(ev('zz-centre').importAgreement({ sub: 'x', role: 'auditor' }, forged)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await ev('zz-centre').agreements.list()).length).toBe(before);
    // The party it was proposed to counter-signs it: in force for XM and QZ.
    const signed = await ev('xm-centre').signAgreement(staff, proposal.id);
    expect(signed.status).toBe('IN_FORCE');
    expect(signed.distributedTo).toEqual(['qz-centre', 'zz-centre']);
  });

  it('follows a serious-dishonesty listing added in Quanzhou: Quanzhou re-grades to D, Xiamen’s recognised grade follows', async () => {
    const qz = (await graded('qz-centre', 'qz-centre/enterprises.ndjson')).find(
      (g) => g.grade === 'A' || g.grade === 'B',
    )!;
    const first = await gql('xm-centre', RECOGNISED, { u: qz.uscc }, staff);
    expect(first.data!.recognisedEvaluations.recognised[0]).toMatchObject({
      city: 'QZ',
      foreignGrade: qz.grade,
      localGrade: qz.grade,
      recognised: true,
    });
    const today = new Date().toISOString().slice(0, 10);
    await addFacts('qz-centre', [
      seriousListing(today, { uscc: qz.uscc, id: `QZ-SD-${qz.uscc}`, originNode: 'qz-centre' }),
    ]);
    expect(await ev('qz-centre').changed(qz.uscc)).toBe(true);
    const regraded = await ev('qz-centre').reevaluate(qz.uscc);
    expect(regraded).toMatchObject({ grade: 'D', seq: 2 });
    expect(regraded!.explanation.cap?.reason).toBe('SERIOUS_DISHONESTY');
    const followed = await until(
      'Xiamen to hold Quanzhou’s D',
      async () => {
        const r = (await ev('xm-centre').recognitions(qz.uscc))[0];
        return r?.outcome.foreignGrade === 'D' && r;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(followed.outcome).toMatchObject({ recognised: true, localGrade: 'D', seq: 2 });
    expect((await ev('qz-centre').evaluator.history(qz.uscc)).map((h) => h.grade)).toEqual([qz.grade]);
  });

  it('caps a recognised grade at D where this city holds a serious-dishonesty listing', async () => {
    const zz = (await graded('zz-centre', 'zz-centre/enterprises.ndjson')).filter((g) => g.grade !== 'D')[3];
    const today = new Date().toISOString().slice(0, 10);
    await addFacts('xm-centre', [
      seriousListing(today, { uscc: zz.uscc, id: `XM-SD-${zz.uscc}`, originNode: 'xm-centre' }),
    ]);
    const r = await gql('xm-centre', RECOGNISED, { u: zz.uscc }, staff);
    expect(r.data!.recognisedEvaluations.recognised[0]).toMatchObject({
      foreignGrade: zz.grade,
      recognised: false,
      reason: 'CAPPED_LOCALLY',
      localGrade: 'D',
    });
  });

  it('refuses malformed frames and non-centre peers on the protocol', async () => {
    await expect(
      n['zz-centre'].federation!.host.request('xm-centre', EVALUATION_PROTOCOL, { op: 'steal' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      n['zz-centre'].federation!.host.request('xm-centre', EVALUATION_PROTOCOL, {
        op: 'attestation',
        uscc: 'x'.repeat(18),
        principal: 'p',
        correlationId: 'test-corr-0002',
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // A push about an enterprise Xiamen never asked about is refused.
    const g = (await graded('zz-centre', 'zz-centre/enterprises.ndjson')).find((x) => x.uscc !== zzB)!;
    const unsolicited = ev('zz-centre').evaluator.issue((await ev('zz-centre').evaluator.current(g.uscc))!);
    await expect(
      n['zz-centre'].federation!.host.request('xm-centre', EVALUATION_PROTOCOL, {
        op: 'push',
        attestation: unsolicited,
        correlationId: 'test-push-0003',
      }),
    ).rejects.toMatchObject({ code: 'ATTESTATION_INVALID' });
    expect(await ev('xm-centre').recognitions(g.uscc)).toEqual([]);
    // A bank may not open the protocol at all.
    const err = await n['bank-a']
      .federation!.host.request('xm-centre', EVALUATION_PROTOCOL, { op: 'distribution' })
      .catch((e: PeerError) => e);
    expect((err as PeerError).code).toBe('PEER_UNAVAILABLE');
  });
});
