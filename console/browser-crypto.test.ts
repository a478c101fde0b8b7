/**
 * The console's browser cryptography agrees with the node's: the browser builds of
 * crypto/encoding.ts, hash.ts and ed25519.ts (src/crypto/, which Vite puts in place of the Node
 * ones) give the same results on the same inputs, malformed ones included; the consent signature
 * made in the browser is the one authz/documents.ts makes; and the browser's bundle verifier
 * (src/lib/verify.ts) accepts and refuses exactly the proof bundles `credit-node verify bundle
 * --roster` (accesslog/verify.ts) accepts and refuses, over a log with two witnesses.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyBundle as referenceVerify, rosterWitnessPolicy } from '../accesslog/verify.ts';
import { draftConsent, consentSigningBytes as referenceBytes, signConsent } from '../authz/documents.ts';
import * as nodeEd from '../crypto/ed25519.ts';
import * as nodeEnc from '../crypto/encoding.ts';
import * as nodeHash from '../crypto/hash.ts';
import { inclusionProof, leafHash, nodeHash as merkleNode, type NodeId } from '../crypto/merkle.ts';
import { cosignCheckpoint, formatVerifierKey, noteVerifier, signCheckpoint } from '../crypto/note.ts';
import * as webEd from './src/crypto/ed25519.ts';
import * as webEnc from './src/crypto/encoding.ts';
import * as webHash from './src/crypto/hash.ts';
import { consentSigningBytes, importEnterpriseKey, KeyImportError, signConsentBody } from './src/lib/consent-sign.ts';
import { consentCommitment, type LogKeys, subjectCommitment, verifyBundle } from './src/lib/verify.ts';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

describe('browser builds of the crypto helpers', () => {
  it('encode and decode as the Node ones do, refusing the same malformed input', () => {
    for (const n of [0, 1, 2, 3, 31, 32, 33, 64, 1000, 70_000]) {
      const b = bytes(n);
      expect(webEnc.toBase64(b)).toBe(nodeEnc.toBase64(b));
      expect(webEnc.toBase64Url(b)).toBe(nodeEnc.toBase64Url(b));
      expect(webEnc.toHex(b)).toBe(nodeEnc.toHex(b));
      expect(webEnc.fromBase64(nodeEnc.toBase64(b))).toEqual(nodeEnc.fromBase64(nodeEnc.toBase64(b)));
    }
    const samples = [
      '',
      'YQ',
      'YQ=',
      'YQ==',
      'YR==',
      ' YQ==',
      'YQ==\n',
      'Y-Q=',
      '====',
      'AAAA',
      '@@@@',
      'YQ-_',
      'YWJj',
      'YWJ',
    ];
    for (const s of samples) {
      expect(webEnc.fromBase64(s), s).toEqual(nodeEnc.fromBase64(s));
      expect(webEnc.fromBase64Url(s), s).toEqual(nodeEnc.fromBase64Url(s));
    }
    for (const s of ['', 'ab', 'AB0f', 'abc', 'zz', '0x00']) expect(webEnc.fromHex(s), s).toEqual(nodeEnc.fromHex(s));
    const a = bytes(32);
    expect(webEnc.bytesEqual(a, a.slice())).toBe(true);
    expect(webEnc.bytesEqual(a, bytes(32))).toBe(false);
    expect(webEnc.bytesEqual(a, a.subarray(1))).toBe(false);
    expect(webEnc.concatBytes(a, a)).toEqual(nodeEnc.concatBytes(a, a));
  });

  it('hash as the Node ones do', () => {
    const parts = [bytes(0), bytes(7), bytes(100_000)];
    expect(webHash.sha256(...parts)).toEqual(nodeHash.sha256(...parts));
    expect(webHash.sha256()).toEqual(nodeHash.sha256());
    const key = bytes(32);
    expect(webHash.hmacSha256(key, ...parts)).toEqual(nodeHash.hmacSha256(key, ...parts));
  });

  it('sign and verify Ed25519 as OpenSSL does (RFC 8032 strict)', () => {
    const seed = bytes(32);
    const msg = bytes(200);
    expect(webEd.ed25519PublicKey(seed)).toEqual(nodeEd.ed25519PublicKey(seed));
    const sig = webEd.ed25519Sign(seed, msg);
    expect(sig).toEqual(nodeEd.ed25519Sign(seed, msg));
    const pub = nodeEd.ed25519PublicKey(seed);
    const altered = sig.slice();
    altered[10] ^= 1;
    // S + L: the same signature with a non-canonical scalar, which RFC 8032 refuses.
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) + BigInt(sig[32 + i]);
    const malleable = sig.slice();
    let t = s + L;
    for (let i = 0; i < 32; i++) {
      malleable[32 + i] = Number(t & 0xffn);
      t >>= 8n;
    }
    for (const [m, g] of [
      [msg, sig],
      [bytes(200), sig],
      [msg, altered],
      [msg, malleable],
      [msg, sig.subarray(1)],
    ] as const)
      expect(webEd.ed25519Verify(pub, m, g)).toBe(nodeEd.ed25519Verify(pub, m, g));
    expect(webEd.ed25519Verify(bytes(31), msg, sig)).toBe(false);
  });
});

describe('consent signing in the browser', () => {
  const seed = bytes(32);
  const publicKey = nodeEnc.toBase64(nodeEd.ed25519PublicKey(seed));
  const body = draftConsent({
    enterprise: '91350200776049653A',
    home: 'xm-centre',
    grantee: 'bank-a',
    scopes: ['tax'],
  });

  it('signs the same bytes with the same signature as authz/documents.ts', () => {
    expect(consentSigningBytes(body)).toEqual(referenceBytes(body));
    // Key order and JSON round trips (as the API sends the body) change nothing.
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(body).reverse())));
    const key = importEnterpriseKey(nodeEnc.toBase64(seed));
    expect(key.publicKey).toBe(publicKey);
    expect(signConsentBody(reordered, key)).toBe(signConsent(body, seed).signature);
  });

  it('imports a seed as base64, hex, JWK or a line of the demo keys file, and refuses bad keys', () => {
    const jwk = {
      kty: 'OKP',
      crv: 'Ed25519',
      d: nodeEnc.toBase64Url(seed),
      x: nodeEnc.toBase64Url(nodeEd.ed25519PublicKey(seed)),
    };
    for (const text of [
      nodeEnc.toHex(seed),
      ` ${nodeEnc.toBase64(seed)}\n`,
      JSON.stringify(jwk),
      JSON.stringify({ uscc: '91350200776049653A', publicKey, seed: nodeEnc.toBase64(seed) }),
    ])
      expect(importEnterpriseKey(text).publicKey).toBe(publicKey);
    const bad = (text: string, why: string) =>
      expect(() => importEnterpriseKey(text), text).toThrow(new KeyImportError(why));
    bad('abc', 'key.badSeed');
    bad(nodeEnc.toBase64(bytes(31)), 'key.badSeed');
    bad('{"d": "x"', 'key.notJson');
    bad(JSON.stringify({ ...jwk, crv: 'X25519' }), 'key.notEd25519');
    bad(JSON.stringify({ ...jwk, x: nodeEnc.toBase64Url(bytes(32)) }), 'key.mismatch');
    bad(JSON.stringify({ seed: nodeEnc.toBase64(seed), publicKey: nodeEnc.toBase64(bytes(32)) }), 'key.mismatch');
  });
});

/** A log of `n` entries about one enterprise, with its checkpoint signed and cosigned by two witnesses. */
function fixture(n = 6) {
  const ids = ['xm-centre', 'xm-data', 'bank-a'];
  const seeds = Object.fromEntries(ids.map((id) => [id, bytes(32)]));
  const roster = {
    members: ids.map((nodeId) => ({ nodeId, signingKey: nodeEnc.toBase64(nodeEd.ed25519PublicKey(seeds[nodeId])) })),
  };
  const origin = 'credit-data-space/xm-centre';
  const uscc = '91350200776049653A';
  const openings = Array.from({ length: n }, () => bytes(32));
  const entries = openings.map((o, i) =>
    JSON.stringify({
      v: 2,
      time: `2026-01-0${1 + (i % 9)}T00:00:00.000Z`,
      actor: { node: 'bank-a', principal: `bank-a/officer-${i}`, role: 'bank-officer' },
      action: 'PROFILE_READ',
      decision: 'ALLOW',
      scopes: ['tax'],
      correlationId: `c${i}`,
      subject: nodeEnc.toBase64(subjectCommitment(uscc, o)),
      consent: nodeEnc.toBase64(consentCommitment('consent-1', o)),
    }),
  );
  const leaves = entries.map((e) => leafHash(nodeEnc.toUtf8(e)));
  const node = ({ level, index }: NodeId): Uint8Array =>
    level === 0
      ? leaves[index]
      : merkleNode(node({ level: level - 1, index: 2 * index }), node({ level: level - 1, index: 2 * index + 1 }));
  const fold = (from: number, to: number): Uint8Array => {
    if (to - from === 1) return leaves[from];
    const k = 2 ** Math.floor(Math.log2(to - from - 1));
    return merkleNode(fold(from, from + k), fold(from + k, to));
  };
  const signed = signCheckpoint({ origin, size: n, root: fold(0, n) }, seeds['xm-centre']);
  const body = signed.slice(0, signed.indexOf('\n\n') + 1);
  const cosign = (id: string) => cosignCheckpoint(body, `credit-data-space/${id}`, seeds[id], 1_760_000_000);
  const note = signed + cosign('xm-data') + cosign('bank-a');
  const logKey = formatVerifierKey(noteVerifier(origin, nodeEd.ed25519PublicKey(seeds['xm-centre'])));
  const bundle = async (index: number) => ({
    format: 'credit-data-space/proof-bundle@1',
    logKey,
    index,
    entry: entries[index],
    proof: (await inclusionProof(index, n, (ids) => ids.map(node))).map(nodeEnc.toBase64),
    checkpoint: note,
    opening: { uscc, consentId: 'consent-1', opening: nodeEnc.toBase64(openings[index]) },
  });
  return { roster, origin, uscc, note, signed, cosign, bundle, seeds };
}

describe('proof bundles verified in the browser', () => {
  it('accepts and refuses exactly what credit-node verify bundle --roster does', async () => {
    const f = fixture();
    const keys: LogKeys = { version: 1, members: f.roster.members };
    const { policy, logKey } = rosterWitnessPolicy(f.roster, f.origin);
    const reference = (b: unknown) => {
      try {
        referenceVerify(b, logKey, policy);
        return 'verified';
      } catch {
        return 'failed';
      }
    };
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const good = await f.bundle(3);
    const forgedCosig = f.cosign('xm-data').replace(/.{8}\n$/, 'AAAAAAA=\n');
    const otherLog = fixture();
    const cases: Array<[string, unknown, 'verified' | 'unwitnessed' | 'failed']> = [
      ['intact', good, 'verified'],
      ['first entry', await f.bundle(0), 'verified'],
      ['last entry', await f.bundle(5), 'verified'],
      ['one cosignature of two needed', { ...good, checkpoint: f.signed + f.cosign('bank-a') }, 'unwitnessed'],
      ['no cosignature', { ...good, checkpoint: f.signed }, 'unwitnessed'],
      ['entry altered', { ...good, entry: good.entry.replace('officer-3', 'officer-4') }, 'failed'],
      ['proof hash altered', { ...good, proof: [flip(good.proof[0], 5), ...good.proof.slice(1)] }, 'failed'],
      ['proof shortened', { ...good, proof: good.proof.slice(1) }, 'failed'],
      ['index moved', { ...good, index: 2 }, 'failed'],
      ['checkpoint size altered', { ...good, checkpoint: good.checkpoint.replace('\n6\n', '\n7\n') }, 'failed'],
      ['forged cosignature', { ...good, checkpoint: f.signed + forgedCosig + f.cosign('bank-a') }, 'failed'],
      ['another log key', { ...(await otherLog.bundle(3)) }, 'failed'],
      [
        'bundle claims another key',
        { ...good, logKey: formatVerifierKey(noteVerifier(f.origin, bytes(32))) },
        'failed',
      ],
      [
        'opening of another enterprise',
        { ...good, opening: { ...good.opening, uscc: '91350100M0001TGQXM' } },
        'failed',
      ],
      ['opening of another consent', { ...good, opening: { ...good.opening, consentId: 'consent-2' } }, 'failed'],
      ['not a bundle', { ...good, format: 'x' }, 'failed'],
      ['proof not a list', { ...good, proof: 'AAAA' }, 'failed'],
    ];
    for (const [name, b, expected] of cases) {
      const got = verifyBundle(b, keys, f.uscc);
      expect(got.verdict.status, name).toBe(expected);
      expect(reference(b), name).toBe(expected === 'verified' ? 'verified' : 'failed');
    }
    const ok = verifyBundle(good, keys, f.uscc);
    expect(ok.entry?.actor.principal).toBe('bank-a/officer-3');
    expect(ok.consentId).toBe('consent-1');
    expect(ok.verdict).toMatchObject({
      witnesses: ['credit-data-space/bank-a', 'credit-data-space/xm-data'],
      required: 2,
    });
    // The browser also requires the entry to be about the signed-in enterprise.
    const { opening: _, ...bare } = good;
    expect(verifyBundle(bare, keys, f.uscc).verdict.status).toBe('failed');
    expect(reference(bare)).toBe('verified');
  });
});
