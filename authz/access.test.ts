import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../accesslog/port.ts';
import { ed25519KeyPair, toBase64Url } from '../crypto/index.ts';
import { composeUscc, type IngestRecord } from '../model/index.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { openDatabase } from '../storage/index.ts';
import { createAccessService, localSectionSource } from './access.ts';
import { signConsent } from './documents.ts';
import { centreConsents } from './test-helpers.ts';

/** The real store, counting the calls made to it. */
function counting(store: ProfileStore) {
  const calls: Record<string, number> = {};
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return v.apply(target, args);
      };
    },
  });
  return { store: wrapped, calls };
}

describe('authorised reads', () => {
  it('one request for 100 enterprises batches registration lookups instead of 100 × N reads', async () => {
    const db = await openDatabase({ memory: true });
    const base = createProfileStore({ db });
    const centre = ed25519KeyPair();
    const usccs = Array.from({ length: 100 }, (_, i) =>
      composeUscc('9', '1', '350206', `MA${String(i).padStart(6, '0')}`),
    );
    const records: IngestRecord[] = usccs.map((uscc) => ({
      kind: 'enterprise',
      record: {
        uscc,
        usccStatus: 'VALID',
        name: uscc,
        formerNames: [],
        orgType: '91',
        registrationRegion: '350206',
        domicileRegion: '350206',
        status: 'EXISTING',
        establishedOn: '2020-01-01',
        originNode: 'xm',
        version: 1,
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
    }));
    await db.batch(
      base.writeOps(
        records,
        records.map(() => undefined),
      ) as never,
    );
    const consents = centreConsents(db, centre);
    const staff = { sub: 's', role: 'centre-staff' as const };
    const now = Date.now();
    for (const uscc of usccs) {
      const k = ed25519KeyPair();
      await consents.registerKey(staff, uscc, Buffer.from(k.publicKey).toString('base64'));
      const body = {
        v: 1 as const,
        enterprise: uscc,
        home: 'xm',
        grantee: { node: 'bank-a' },
        scopes: ['registration', 'tax'],
        purpose: 'loan-application',
        notBefore: new Date(now - 1000).toISOString(),
        expiresAt: new Date(now + 86_400_000).toISOString(),
        retentionDays: 30,
        issuedAt: new Date(now).toISOString(),
        nonce: toBase64Url(k.publicKey.subarray(0, 18)),
      };
      await consents.grant({ sub: 'e', role: 'enterprise', uscc }, signConsent(body, k.seed));
    }
    const logged: AccessEvent[] = [];
    const { store, calls } = counting(base);
    const access = createAccessService({
      consents,
      source: localSectionSource(store, 'xm'),
      log: { append: async (e) => ({ index: logged.push(e) - 1, leafHash: '' }) },
      nodeId: 'xm',
      identitySeed: centre.seed,
    });
    const principal = { sub: 'o', role: 'bank-officer' as const, bank: 'bank-a' };
    const out = await access.readProfiles(
      usccs.map((uscc) => ({
        principal,
        uscc,
        sections: ['registration', 'tax'],
        purpose: 'loan-application',
        correlationId: 'corr-batch-1',
      })),
    );
    expect(out.every((p) => !(p instanceof Error) && p.registration?.uscc === p.uscc)).toBe(true);
    expect(calls.getEnterprises).toBeLessThanOrEqual(2);
    expect(calls.getEnterprise ?? 0).toBe(0);
    expect(calls.getFacts).toBe(100);
    expect(logged).toHaveLength(100);
    expect(new Set(logged.map((e) => e.correlationId))).toEqual(new Set(['corr-batch-1']));
  });
});
