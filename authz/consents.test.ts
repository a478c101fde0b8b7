import { describe, expect, it } from 'vitest';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import { composeUscc } from '../model/index.ts';
import { openDatabase } from '../storage/index.ts';
import { draftConsent, signConsent } from './documents.ts';
import { centreConsents } from './test-helpers.ts';

async function fixture() {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const db = await openDatabase({ memory: true });
  const centre = ed25519KeyPair();
  const consents = centreConsents(db, centre, { now: () => clock });
  const uscc = composeUscc('9', '1', '350206', 'MA00000C');
  const key = ed25519KeyPair();
  await consents.registerKey({ sub: 's', role: 'centre-staff' }, uscc, toBase64(key.publicKey));
  const enterprise = { sub: 'rep', role: 'enterprise' as const, uscc };
  return { consents, uscc, key, enterprise, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe('consent lifecycle at the home', () => {
  it('a change asked of a consent past its end records the expiry and is refused (it does not wait on itself)', async () => {
    const f = await fixture();
    const granted = await f.consents.grant(
      f.enterprise,
      signConsent(
        draftConsent({
          enterprise: f.uscc,
          home: 'xm',
          grantee: 'bank-a',
          scopes: ['registration'],
          days: 1,
          now: f.now(),
        }),
        f.key.seed,
      ),
    );
    f.advance(2 * 86_400_000);
    for (const op of ['pause', 'revoke', 'resume'] as const)
      await expect(f.consents[op](f.enterprise, granted.id)).rejects.toMatchObject({ name: 'ConsentStateError' });
    const r = await f.consents.get(granted.id);
    expect(r?.status).toBe('EXPIRED');
    expect(r?.history.map((t) => t.to)).toEqual(['ACTIVE', 'EXPIRED']);
  });
});
