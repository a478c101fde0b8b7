/**
 * The node's key file: every secret the node holds, in one JSON file created with mode 0600,
 * optionally sealed with a passphrase (scrypt → AES-256-GCM).
 *
 * - `identity`: Ed25519 seed; the node's libp2p peer id, roster signing key, log checkpoint key.
 * - `api`: P-256 private key (PKCS#8 PEM) signing the API's ES256 JWTs (jsonwebtoken has no EdDSA).
 * - `commitment`: 32-byte HMAC key for keyed commitments and tokens (access log, ID numbers).
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ed25519KeyPair, fromBase64, toBase64 } from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';

/** The secrets of a node. */
export interface NodeKeys {
  identity: { seed: Uint8Array; publicKey: Uint8Array };
  /** PKCS#8 PEM of a P-256 key. */
  apiPrivateKeyPem: string;
  /** SPKI PEM of the API key. */
  apiPublicKeyPem: string;
  commitmentKey: Uint8Array;
}

/** The key file cannot be read: wrong passphrase, tampered, or malformed. */
export class KeyFileError extends CreditError {
  static override name = 'KeyFileError';
  override readonly code = 'KEY_FILE';
}

interface Plain {
  identitySeed: string;
  apiPrivateKeyPem: string;
  apiPublicKeyPem: string;
  commitmentKey: string;
}
interface FileV1 {
  version: 1;
  keys?: Plain;
  sealed?: { kdf: 'scrypt'; N: number; r: number; p: number; salt: string; iv: string; tag: string; data: string };
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;

function generate(): Plain {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    identitySeed: toBase64(ed25519KeyPair().seed),
    apiPrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    apiPublicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    commitmentKey: toBase64(new Uint8Array(randomBytes(32))),
  };
}

function kek(passphrase: string, salt: Uint8Array, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
}

function seal(keys: Plain, passphrase: string): FileV1['sealed'] {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek(passphrase, salt, SCRYPT), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(keys), 'utf8'), cipher.final()]);
  return {
    kdf: 'scrypt',
    ...SCRYPT,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

function unseal(sealed: NonNullable<FileV1['sealed']>, passphrase: string | undefined): Plain {
  if (passphrase === undefined) throw new KeyFileError('the key file is sealed: a passphrase is required');
  const { N, r, p } = sealed;
  if (![N, r, p].every(Number.isSafeInteger) || N > 1 << 20 || r > 32 || p > 16)
    throw new KeyFileError('the key file has invalid scrypt parameters');
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      kek(passphrase, Buffer.from(sealed.salt, 'base64'), { N, r, p }),
      Buffer.from(sealed.iv, 'base64'),
    );
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString();
    return JSON.parse(text) as Plain;
  } catch (err) {
    throw new KeyFileError('the passphrase is wrong or the key file was altered', { cause: err });
  }
}

function decode(plain: Plain): NodeKeys {
  const seed = fromBase64(plain.identitySeed);
  const commitmentKey = fromBase64(plain.commitmentKey);
  if (seed?.length !== 32) throw new KeyFileError('the identity key is malformed');
  if (commitmentKey?.length !== 32) throw new KeyFileError('the commitment key is malformed');
  if (!plain.apiPrivateKeyPem?.includes('PRIVATE KEY') || !plain.apiPublicKeyPem?.includes('PUBLIC KEY'))
    throw new KeyFileError('the API key is malformed');
  return {
    identity: ed25519KeyPair(seed),
    apiPrivateKeyPem: plain.apiPrivateKeyPem,
    apiPublicKeyPem: plain.apiPublicKeyPem,
    commitmentKey,
  };
}

/** Default key file name inside a data directory. */
export const KEY_FILE = 'node-keys.json';

/**
 * Loads the key file at `path`, creating it (mode 0600, atomically) with fresh keys if it does
 * not exist. With a passphrase, a new file is sealed and an existing sealed file is opened.
 * @throws KeyFileError when the file is unreadable, sealed without a passphrase, or tampered.
 */
export async function loadOrCreateKeys(path: string, options: { passphrase?: string } = {}): Promise<NodeKeys> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new KeyFileError('cannot read the key file', { cause: err });
  }
  if (text !== undefined) {
    const mode = (await stat(path)).mode & 0o077;
    if (mode !== 0) await chmod(path, 0o600);
    let file: FileV1;
    try {
      file = JSON.parse(text) as FileV1;
    } catch (err) {
      throw new KeyFileError('the key file is not valid JSON', { cause: err });
    }
    if (file?.version !== 1) throw new KeyFileError('unsupported key file version');
    if (file.sealed) return decode(unseal(file.sealed, options.passphrase));
    if (!file.keys) throw new KeyFileError('the key file holds no keys');
    return decode(file.keys);
  }
  const plain = generate();
  const file: FileV1 =
    options.passphrase !== undefined
      ? { version: 1, sealed: seal(plain, options.passphrase) }
      : { version: 1, keys: plain };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${KEY_FILE}.${process.pid}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(file, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return decode(plain);
}
