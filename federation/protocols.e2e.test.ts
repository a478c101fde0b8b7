import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftConsent, signConsent } from '../authz/index.ts';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import { until } from '../testkit/wait.ts';
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
  it('sections: malformed frames are refused before any decision', async () => {
    expect(await refused(bank.request('centre', SECTIONS_PROTOCOL, { nope: 1 }))).toBe('BAD_REQUEST');
    expect(
      await refused(
        bank.request('centre', SECTIONS_PROTOCOL, {
          signed: { request: {}, signature: 'x' },
          sections: ['dna'],
          local: false,
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(await refused(bank.request('centre', SECTIONS_PROTOCOL, 'x'.repeat(100)))).toBe('BAD_REQUEST');
  });

  it('consent sync: only the home node publishes; a bank cannot revive a revoked consent', async () => {
    const centre = fed.nodes.centre.consents;
    const granted = await centre.grant(
      { sub: 'rep', role: 'enterprise', uscc: USCC },
      signConsent(
        draftConsent({ enterprise: USCC, home: 'centre', grantee: 'bank-a', scopes: ['registration'] }),
        enterpriseKey.seed,
      ),
    );
    await centre.revoke({ sub: 'rep', role: 'enterprise', uscc: USCC }, granted.id, 'test');
    const revival = { ...granted, status: 'ACTIVE', seq: 99 };
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, { op: 'record', record: revival }))).toBe(
      'FORBIDDEN',
    );
    expect(await refused(bank.request('bank-b', CONSENT_PROTOCOL, { op: 'record', record: revival }))).toBe(
      'FORBIDDEN',
    );
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, {}))).toBe('BAD_REQUEST');
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, { op: 'request', record: revival }))).toBe(
      'BAD_REQUEST',
    );
    expect(await refused(bank.request('centre', CONSENT_PROTOCOL, { op: 'get', id: 'x' }))).toBe('NOT_FOUND');
    expect((await centre.get(granted.id))?.status).toBe('REVOKED');
    // The revocation reached the grantee bank; the other bank never heard of the consent.
    await until(
      'the revocation at bank-a',
      async () => (await fed.nodes['bank-a'].consents.get(granted.id))?.status === 'REVOKED',
      { timeoutMs: 10_000 },
    );
    expect((await fed.nodes['bank-a'].consents.get(granted.id))?.status).toBe('REVOKED');
    expect(await fed.nodes['bank-b'].consents.get(granted.id)).toBeUndefined();
    // The grantee may fetch its consent from the home; the other bank may not.
    expect(await bank.request('centre', CONSENT_PROTOCOL, { op: 'get', id: granted.id })).toMatchObject({
      record: { id: granted.id, status: 'REVOKED' },
    });
    expect(
      await refused(
        fed.nodes['bank-b'].federation!.host.request('centre', CONSENT_PROTOCOL, { op: 'get', id: granted.id }),
      ),
    ).toBe('NOT_FOUND');
  });

  it('consent sync items: each message checked as if alone; forged, foreign and misplaced ones refused; bounds', async () => {
    const centreConsents = fed.nodes.centre.consents;
    const granted = await centreConsents.grant(
      { sub: 'rep', role: 'enterprise', uscc: USCC },
      signConsent(
        draftConsent({ enterprise: USCC, home: 'centre', grantee: 'bank-a', scopes: ['registration'] }),
        enterpriseKey.seed,
      ),
    );
    const otherKey = ed25519KeyPair();
    const forgedBody = { ...granted.body, purpose: 'post-loan-monitoring' };
    const forged = signConsent(forgedBody as never, otherKey.seed);
    const centreHost = fed.nodes.centre.federation!.host;
    const answer = (await centreHost.request('bank-a', CONSENT_PROTOCOL, {
      op: 'items',
      items: [
        { op: 'record', record: { ...granted, seq: granted.seq } },
        { op: 'record', record: { ...granted, id: 'x'.repeat(43) } },
        { op: 'record', record: { ...granted, signature: forged.signature, body: forged.body } },
        { op: 'get', id: granted.id },
        { op: 'items', items: [] },
        null,
      ],
    })) as { results: Array<Record<string, unknown>> };
    expect(answer.results).toHaveLength(6);
    expect(answer.results[0]).toHaveProperty('applied');
    expect(answer.results.slice(1)).toEqual(Array(5).fill({ refused: 'BAD_REQUEST' }));
    expect((await fed.nodes['bank-a'].consents.get(granted.id))?.status).toBe('ACTIVE');
    // A bank is not the home of anything: every record it sends is refused, nothing changes.
    const fromBank = (await bank.request('bank-b', CONSENT_PROTOCOL, {
      op: 'items',
      items: [{ op: 'record', record: granted }],
    })) as { results: unknown[] };
    expect(fromBank.results).toEqual([{ refused: 'FORBIDDEN' }]);
    expect(await fed.nodes['bank-b'].consents.get(granted.id)).toBeUndefined();
    for (const items of [[], Array(65).fill({ op: 'binding', binding: {} }), 'x', undefined])
      expect(await refused(centreHost.request('bank-a', CONSENT_PROTOCOL, { op: 'items', items }))).toBe('BAD_REQUEST');
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
