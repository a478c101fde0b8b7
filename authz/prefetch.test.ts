import { describe, expect, it } from 'vitest';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import { composeUscc } from '../model/index.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { draftConsent, signConsent } from './documents.ts';
import type { Principal } from './principals.ts';
import { centreConsents } from './test-helpers.ts';

const centre = ed25519KeyPair();
const service = (db: RootDb) => centreConsents(db, centre);
const officer: Principal = { sub: 'officer-1', role: 'bank-officer', bank: 'bank-a' };

describe('prefetch for batch decisions', () => {
  it('a cold node that prefetches decides every enterprise of a batch exactly as one that does not', async () => {
    const db = await openDatabase({ memory: true });
    const home = service(db);
    const codes = Array.from({ length: 60 }, (_, i) =>
      composeUscc('9', '1', '350206', `MA${String(i).padStart(6, '0')}`),
    );
    const staff: Principal = { sub: 's', role: 'centre-staff' };
    const ids: string[] = [];
    for (const [i, uscc] of codes.entries()) {
      const key = ed25519KeyPair();
      await home.registerKey(staff, uscc, toBase64(key.publicKey));
      const grant = (grantee: string, scopes: string[]) =>
        home.grant(
          { sub: 'rep', role: 'enterprise', uscc },
          signConsent(draftConsent({ enterprise: uscc, home: 'xm', grantee, scopes }), key.seed),
        );
      // None, one, two (one of them revoked) consents for bank-a; some for bank-b only.
      if (i % 4 === 1) ids.push((await grant('bank-a', ['joint:exposure'])).id);
      if (i % 4 === 2) {
        const old = await grant('bank-a', ['joint:exposure']);
        await home.revoke({ sub: 'rep', role: 'enterprise', uscc }, old.id);
        ids.push(old.id, (await grant('bank-a', ['joint:exposure', 'joint:score'])).id);
      }
      if (i % 4 === 3) ids.push((await grant('bank-b', ['joint:exposure'])).id);
    }
    const decideAll = async (s: ReturnType<typeof service>) => {
      const out = [];
      for (const [i, uscc] of codes.entries())
        for (const scope of ['joint:exposure', 'joint:score'] as const) {
          const d = await s.decide({ principal: officer, uscc, scopes: [scope], purpose: 'loan-application' });
          const named = await s.decide({
            principal: officer,
            uscc,
            scopes: [scope],
            purpose: 'loan-application',
            consentId: ids[i % ids.length],
          });
          out.push([d.allowed ? d.consent.id : d.reason, named.allowed ? named.consent.id : named.reason]);
        }
      return out;
    };
    const expected = await decideAll(service(db)); // cold, one lookup at a time
    const warmed = service(db);
    await warmed.prefetch('bank-a', [...codes, codes[0], 'not-a-code'], [...ids, 'x'.repeat(43), 'bad id']);
    const got = await decideAll(warmed);
    expect(got).toEqual(expected);
    expect(got.filter(([d]) => d.length === 43)).toHaveLength(30 + 15); // i%4==1: exposure; i%4==2: both scopes
    // A consent granted after the prefetch is found too (saves keep the prefetched index current).
    const late = codes[0];
    const key = ed25519KeyPair();
    await home.registerKey(staff, late, toBase64(key.publicKey));
    const fresh = await warmed.grant(
      { sub: 'rep', role: 'enterprise', uscc: late },
      signConsent(draftConsent({ enterprise: late, home: 'xm', grantee: 'bank-a', scopes: ['joint:score'] }), key.seed),
    );
    const d = await warmed.decide({
      principal: officer,
      uscc: late,
      scopes: ['joint:score'],
      purpose: 'loan-application',
    });
    expect(d.allowed && d.consent.id).toBe(fresh.id);
  });
});
