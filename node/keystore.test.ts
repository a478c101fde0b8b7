import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ed25519Sign, ed25519Verify } from '../crypto/index.ts';
import { KeyFileError, loadOrCreateKeys } from './keystore.ts';

const dir = () => mkdtemp(join(tmpdir(), 'keys-'));

describe('key store', () => {
  it('creates the key file with mode 0600 and loads the same keys again', async () => {
    const path = join(await dir(), 'node-keys.json');
    const a = await loadOrCreateKeys(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateKeys(path);
    expect(b.identity.publicKey).toEqual(a.identity.publicKey);
    expect(b.commitmentKey).toEqual(a.commitmentKey);
    const msg = new TextEncoder().encode('checkpoint');
    expect(ed25519Verify(a.identity.publicKey, msg, ed25519Sign(b.identity.seed, msg))).toBe(true);
  });

  it('seals keys with a passphrase: nothing secret in the file, wrong passphrase refused', async () => {
    const path = join(await dir(), 'node-keys.json');
    const keys = await loadOrCreateKeys(path, { passphrase: 'correct horse' });
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(Buffer.from(keys.identity.seed).toString('base64'));
    await expect(loadOrCreateKeys(path)).rejects.toBeInstanceOf(KeyFileError);
    await expect(loadOrCreateKeys(path, { passphrase: 'wrong' })).rejects.toThrow(/passphrase is wrong/);
    const again = await loadOrCreateKeys(path, { passphrase: 'correct horse' });
    expect(again.identity.publicKey).toEqual(keys.identity.publicKey);
  });

  it('refuses a tampered sealed file and a malformed plain file', async () => {
    const d = await dir();
    const sealed = join(d, 'sealed.json');
    await loadOrCreateKeys(sealed, { passphrase: 'p' });
    const file = JSON.parse(await readFile(sealed, 'utf8'));
    // Flip one bit of the ciphertext (replacing its first character could leave it unchanged).
    const data = Buffer.from(file.sealed.data, 'base64');
    data[0] ^= 1;
    file.sealed.data = data.toString('base64');
    await writeFile(sealed, JSON.stringify(file));
    await expect(loadOrCreateKeys(sealed, { passphrase: 'p' })).rejects.toBeInstanceOf(KeyFileError);
    const plain = join(d, 'plain.json');
    await writeFile(plain, '{"version":1,"keys":{"identitySeed":"short"}}');
    await expect(loadOrCreateKeys(plain)).rejects.toThrow(/malformed/);
    await writeFile(plain, 'not json');
    await expect(loadOrCreateKeys(plain)).rejects.toThrow(/not valid JSON/);
  });
});
