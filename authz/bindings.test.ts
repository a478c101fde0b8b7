import { describe, expect, it } from 'vitest';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import { composeUscc } from '../model/index.ts';
import { openDatabase } from '../storage/index.ts';
import { createBindingStore } from './bindings.ts';

const uscc = composeUscc('9', '1', '350206', 'MA00000C');

async function fixture() {
  const centre = ed25519KeyPair();
  let trust = new Map([['xm', centre.publicKey]]);
  const store = (nodeId: string, seed: Uint8Array) =>
    openDatabase({ memory: true }).then((db) =>
      createBindingStore({ db, nodeId, identitySeed: seed, trustedIssuers: () => trust }),
    );
  const home = await store('xm', centre.seed);
  const bank = await store('bank-a', ed25519KeyPair().seed);
  return { home, bank, centre, distrust: () => (trust = new Map()) };
}

describe('key bindings', () => {
  it('a verified binding is remembered, never a changed body under its signature, nor an issuer no longer trusted', async () => {
    const f = await fixture();
    const key = ed25519KeyPair();
    const binding = await f.home.register({ sub: 's', role: 'centre-staff' }, uscc, toBase64(key.publicKey));
    expect(await f.bank.import(binding)).toBe(true);
    expect(await f.bank.enterpriseKey(uscc)).toEqual(key.publicKey);
    expect(await f.bank.enterpriseKey(uscc)).toEqual(key.publicKey); // remembered: same answer
    // The same signature over another key, or another date, is refused however often the real one verified.
    const swapped = { ...binding, body: { ...binding.body, publicKey: toBase64(ed25519KeyPair().publicKey) } };
    await expect(f.bank.import(swapped)).rejects.toMatchObject({ name: 'ConsentInvalidError' });
    const later = { ...binding, body: { ...binding.body, issuedAt: '2099-01-01T00:00:00.000Z' } };
    await expect(f.bank.import(later)).rejects.toMatchObject({ name: 'ConsentInvalidError' });
    expect(await f.bank.enterpriseKey(uscc)).toEqual(key.publicKey);
    // Trust is asked every time: a centre no longer trusted vouches for nothing, remembered or not.
    f.distrust();
    await expect(f.bank.enterpriseKey(uscc)).rejects.toMatchObject({ name: 'ConsentInvalidError' });
    await expect(f.bank.import(binding)).rejects.toMatchObject({ name: 'ConsentInvalidError' });
  });
});
