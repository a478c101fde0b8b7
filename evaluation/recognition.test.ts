import { describe, expect, it } from 'vitest';
import { draftConsent, parseConsentBody, purposeById } from '../authz/index.ts';
import { ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import type { CityId } from '../model/index.ts';
import { createProfileStore } from '../profiles/index.ts';
import { openDatabase } from '../storage/index.ts';
import { type AgreementBody, signAgreement } from './agreement.ts';
import { createAgreementBook } from './agreements.ts';
import { type AttestationBody, signAttestation } from './attestation.ts';
import { AgreementInvalidError } from './errors.ts';
import { CROSS_CITY_PURPOSE } from './exchange.ts';
import { createRecognition } from './recognition.ts';
import { evaluationStore } from './store.ts';

const NOW = Date.parse('2026-12-01T08:00:00Z');
const DAY = 86_400_000;
const keysOf = { 'xm-centre': ed25519KeyPair(), 'zz-centre': ed25519KeyPair(), 'qz-centre': ed25519KeyPair() };
const cityOf: Record<string, CityId> = { 'xm-centre': 'XM', 'zz-centre': 'ZZ', 'qz-centre': 'QZ' };
const centres = () =>
  Object.entries(keysOf).map(([nodeId, k]) => ({ nodeId, city: cityOf[nodeId], signingKey: k.publicKey }));

async function centre(nodeId: keyof typeof keysOf) {
  const db = await openDatabase({ memory: true });
  const signer = ed25519Signer(keysOf[nodeId].seed);
  const book = createAgreementBook({
    store: evaluationStore(db),
    signer,
    nodeId,
    city: cityOf[nodeId],
    centres,
    now: () => NOW,
  });
  const recognition = createRecognition({ profiles: createProfileStore({ db }), book, city: cityOf[nodeId], centres });
  return { db, signer, book, recognition };
}

const body = (over: Partial<AttestationBody> = {}): AttestationBody => ({
  format: 'credit-data-space/evaluation-attestation@1',
  subject: '91350602MA2Y0CGN4R',
  grade: 'B',
  score: 85,
  maxScore: 100,
  scheme: { id: 'zz-public-credit', version: '1.0.0' },
  evaluator: { node: 'zz-centre', city: 'ZZ' },
  evaluatedAt: new Date(NOW - 10 * DAY).toISOString(),
  validUntil: new Date(NOW + 355 * DAY).toISOString(),
  inputsDigest: 'a'.repeat(64),
  explanationDigest: 'b'.repeat(64),
  seq: 1,
  ...over,
});
const zzSigned = (over: Partial<AttestationBody> = {}) =>
  signAttestation(body(over), ed25519Signer(keysOf['zz-centre'].seed));

/** An XM–ZZ agreement proposed by XM and counter-signed by ZZ, held by both. */
async function agreed(recognise?: AgreementBody['recognise']) {
  const xm = await centre('xm-centre');
  const zz = await centre('zz-centre');
  const proposal = await xm.book.propose({ with: 'zz-centre', ...(recognise ? { recognise } : {}) });
  await zz.book.receiveProposal('xm-centre', proposal.agreement);
  const signed = await zz.book.sign(proposal.id);
  await xm.book.receive(signed.agreement);
  return { xm, zz, proposal, signed };
}

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgreementInvalidError);
  return (err as AgreementInvalidError).reason;
};

describe('recognition of another city’s attestation', () => {
  it('maps a grade under an agreement signed by both, and says NO_AGREEMENT before that', async () => {
    const xm = await centre('xm-centre');
    expect((await xm.recognition.recognise(zzSigned(), NOW)).outcome.reason).toBe('NO_AGREEMENT');
    const { xm: x, signed } = await agreed();
    const { outcome } = await x.recognition.recognise(zzSigned(), NOW);
    expect(outcome).toMatchObject({ recognised: true, localGrade: 'B', foreignGrade: 'B', agreementId: signed.id });
  });

  it('says UNKNOWN_SCHEME for a scheme version the agreement does not cover', async () => {
    const { xm } = await agreed();
    const v2 = zzSigned({ scheme: { id: 'zz-public-credit', version: '2.0.0' } });
    expect((await xm.recognition.recognise(v2, NOW)).outcome).toMatchObject({
      recognised: false,
      reason: 'UNKNOWN_SCHEME',
      detail: expect.stringContaining('zz-public-credit@2.0.0'),
    });
  });

  it('applies the agreed mapping, and refuses stale, future-dated and forged attestations', async () => {
    const { xm } = await agreed([
      {
        from: 'ZZ',
        to: 'XM',
        scheme: 'zz-public-credit',
        versions: ['1.0.0'],
        grades: { A: 'A', B: 'C', C: 'C', D: 'D' },
      },
    ]);
    expect((await xm.recognition.recognise(zzSigned(), NOW)).outcome.localGrade).toBe('C');
    const old = zzSigned({
      evaluatedAt: new Date(NOW - 400 * DAY).toISOString(),
      validUntil: new Date(NOW + DAY).toISOString(),
    });
    expect((await xm.recognition.recognise(old, NOW)).outcome.reason).toBe('STALE');
    const future = zzSigned({ evaluatedAt: new Date(NOW + DAY).toISOString() });
    expect((await xm.recognition.recognise(future, NOW)).outcome.reason).toBe('STALE');
    const forged = signAttestation(body(), ed25519Signer(keysOf['qz-centre'].seed));
    expect((await xm.recognition.recognise(forged, NOW)).outcome.reason).toBe('BAD_SIGNATURE');
    const foreignNode = zzSigned({ evaluator: { node: 'zz-centre', city: 'QZ' } });
    expect((await xm.recognition.recognise(foreignNode, NOW)).outcome.reason).toBe('BAD_SIGNATURE');
    for (const junk of [null, 'x', { document: '{}', signature: 'x', signedBy: 'y' }, { ...zzSigned(), extra: 1 }])
      expect((await xm.recognition.recognise(junk, NOW)).outcome.reason).toBe('BAD_SIGNATURE');
  });

  it('refuses malformed, one-sided and badly signed agreements with a reason, and keeps nothing', async () => {
    const { xm, zz, proposal, signed } = await agreed();
    const qz = await centre('qz-centre');
    expect(await refusal(qz.book.receive(proposal.agreement))).toBe('ONE_SIDED');
    expect(await refusal(qz.book.receive({ ...signed.agreement, signatures: [] }))).toBe('ONE_SIDED');
    const swapped = {
      ...signed.agreement,
      signatures: signed.agreement.signatures.map((s) => ({
        ...s,
        signature: signed.agreement.signatures[0].signature,
      })),
    };
    expect(await refusal(qz.book.receive(swapped))).toBe('BAD_SIGNATURE');
    const byOutsider = signAgreement(signed.agreement, 'qz-centre', qz.signer);
    expect(await refusal(qz.book.receive(byOutsider))).toBe('NOT_A_PARTY');
    const b = signed.agreement.body;
    const sameCity = { ...b, parties: [b.parties[0], { ...b.parties[1], city: b.parties[0].city }] };
    expect(await refusal(qz.book.receive(signAgreement({ body: sameCity }, 'xm-centre', xm.signer)))).toBe('MALFORMED');
    const unknown = { ...b, recognise: [{ ...b.recognise[0], versions: ['9.9.9'] }] };
    expect(await refusal(qz.book.receive(signAgreement({ body: unknown }, 'xm-centre', xm.signer)))).toBe(
      'UNKNOWN_SCHEME',
    );
    const stranger = { ...b, parties: [b.parties[0], { node: 'bank-a', city: 'ZZ' as const }] };
    expect(await refusal(qz.book.receive(signAgreement({ body: stranger }, 'xm-centre', xm.signer)))).toBe(
      'UNKNOWN_PARTY',
    );
    expect(await refusal(qz.book.receive({ body: 'x', signatures: [] }))).toBe('MALFORMED');
    expect(await qz.book.list()).toEqual([]);
    // A proposal relayed by someone who did not sign it, a second signature, a proposal to a non-party.
    expect(await refusal(qz.book.receiveProposal('zz-centre', proposal.agreement))).toBe('BAD_SIGNATURE');
    expect(await refusal(zz.book.sign(proposal.id))).toBe('ALREADY_SIGNED');
    expect(await refusal(xm.book.propose({ with: 'xm-centre' }))).toBe('UNKNOWN_PARTY');
    expect(await qz.book.list()).toEqual([]);
  });

  it('registers cross-city-recognition as a purpose no consent can name', () => {
    expect(purposeById(CROSS_CITY_PURPOSE)?.scopes).toEqual([]);
    const draft = draftConsent({
      enterprise: '91350602MA2Y0CGN4R',
      home: 'zz-centre',
      grantee: 'bank-a',
      scopes: ['evaluation'],
      purpose: CROSS_CITY_PURPOSE,
    });
    expect(() => parseConsentBody(draft)).toThrow(/does not allow evaluation/);
  });
});
