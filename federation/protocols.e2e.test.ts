import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentId, draftConsent, signConsent } from '../authz/index.ts';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import { CONSENT_PROTOCOL } from './consent-sync.ts';
import { type FederationHost, PeerError } from './host.ts';
import { SECTIONS_PROTOCOL } from './sections.ts';
import { startTestFederation, type TestFederation } from './test-federation.ts';
import { LOG_PROTOCOL } from './witness.ts';

const USCC = '91350200776049653A';
const enterpriseKey = ed25519KeyPair();
let fed: TestFederation;
let bank: FederationHost;

const refused = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PeerError);
  return (err as PeerError).code;
};

beforeAll(async () => {
  fed = await startTestFederation({ centre: 'credit-centre', 'bank-a': 'bank', 'bank-b': 'bank' });
  bank = fed.nodes['bank-a'].federation!.host;
  await fed.nodes.centre.consents.registerKey(
    { sub: 'staff', role: 'centre-staff' },
    USCC,
    toBase64(enterpriseKey.publicKey),
  );
});
afterAll(() => fed?.stop());

describe('protocol handlers refuse bad input and change nothing', () => {
  const request = (over: Record<string, unknown> = {}) => ({
    uscc: USCC,
    sections: ['registration'],
    purpose: 'loan-application',
    requester: { bank: 'bank-a', principal: 'officer-1' },
    correlationId: 'corr-protocol-test',
    local: true,
    ...over,
  });

  it("sections: malformed requests, another bank's name, and doctored consents", async () => {
    expect(await refused(bank.request('centre', SECTIONS_PROTOCOL, { nope: 1 }))).toBe('BAD_REQUEST');
    expect(await refused(bank.request('centre', SECTIONS_PROTOCOL, request({ sections: ['dna'] })))).toBe(
      'BAD_REQUEST',
    );
    expect(
      await refused(
        bank.request('centre', SECTIONS_PROTOCOL, request({ requester: { bank: 'bank-b', principal: 'x' } })),
      ),
    ).toBe('FORBIDDEN');
    const signed = signConsent(
      draftConsent({ enterprise: USCC, home: 'centre', grantee: 'bank-a', scopes: ['registration'] }),
      ed25519KeyPair().seed,
    );
    const record = {
      id: consentId(signed.body),
      body: signed.body,
      signature: signed.signature,
      status: 'ACTIVE',
      history: [],
      uses: 0,
      home: 'centre',
      seq: 1,
    };
    expect(
      await refused(bank.request('centre', SECTIONS_PROTOCOL, request({ consentId: record.id, consent: record }))),
    ).toBe('BAD_REQUEST');
    expect(await fed.nodes.centre.consents.get(record.id)).toBeUndefined();
  });

  it('consent sync: only the home node publishes; a bank cannot revive a revoked consent', async () => {
    const centre = fed.nodes.centre.consents;
    const granted = await centre.grant(
      { sub: 'rep', role: 'enterprise', uscc: USCC },
      signConsent(draftConsent({ enterprise: USCC, home: 'centre', grantee: 'bank-a', scopes: ['registration'] }), enterpriseKey.seed),
    );
    await centre.revoke({ sub: 'rep', role: 'enterprise', uscc: USCC }, granted.id, 'test');
    const revival = { ...granted, status: 'ACTIVE', seq: 99 };
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, { record: revival }))).toBe('FORBIDDEN');
    expect(await refused(bank.request('bank-b', CONSENT_PROTOCOL, { record: revival }))).toBe('FORBIDDEN');
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, {}))).toBe('BAD_REQUEST');
    expect((await centre.get(granted.id))?.status).toBe('REVOKED');
    // The revocation itself did reach the banks.
    const end = Date.now() + 10_000;
    while ((await fed.nodes['bank-b'].consents.get(granted.id))?.status !== 'REVOKED' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    expect((await fed.nodes['bank-b'].consents.get(granted.id))?.status).toBe('REVOKED');
  });

  it('log: unknown operations, impossible sizes and forged cosignatures', async () => {
    await fed.nodes.centre.accessLog.checkpoint();
    expect(await refused(bank.request('centre', LOG_PROTOCOL, { op: 'drop-table' }))).toBe('BAD_REQUEST');
    expect(await refused(bank.request('centre', LOG_PROTOCOL, { op: 'consistency', size1: 5, size2: 1 }))).toBe(
      'BAD_REQUEST',
    );
    expect(await refused(bank.request('centre', LOG_PROTOCOL, { op: 'consistency', size1: 0, size2: 1e12 }))).toBe(
      'BAD_REQUEST',
    );
    const size = fed.nodes.centre.accessLog.latestCheckpoint()!.size;
    const forged = `— credit-data-space/bank-a ${toBase64(new Uint8Array(76))}\n`;
    expect(await refused(bank.request('centre', LOG_PROTOCOL, { op: 'cosign', size, cosignature: forged }))).toBe(
      'BAD_REQUEST',
    );
  });
});
