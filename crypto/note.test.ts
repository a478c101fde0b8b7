import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519KeyPair } from './ed25519.ts';
import { fromBase64, toHex } from './encoding.ts';
import {
  cosignCheckpoint,
  formatCheckpoint,
  formatVerifierKey,
  NoteError,
  noteVerifier,
  openCheckpoint,
  parseCheckpoint,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
  signCheckpoint,
  signNote,
  verifyCosignature,
  verifyNote,
} from './note.ts';

describe('C2SP signed-note', () => {
  it('verifies the signed-note spec example', () => {
    const v = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    const note =
      'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect(verifyNote(note, [v])).toEqual({ text: 'This is an example message.\n', signedBy: ['example.com/foo'] });
  });

  it('re-signs the Go sumdb/note vector byte for byte', () => {
    const skey = fromBase64('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz')!;
    const seed = skey.subarray(1);
    const v = parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
    expect(toHex(v.keyId)).toBe('c74f20a3');
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = signNote(text, 'PeterNeumann', seed);
    expect(note).toBe(
      `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
    );
    expect(verifyNote(note, [v]).signedBy).toEqual(['PeterNeumann']);
    expect(formatVerifierKey(v)).toBe('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
  });

  it('refuses notes signed by another key, tampered, or malformed', () => {
    const log = ed25519KeyPair();
    const other = ed25519KeyPair();
    const v = noteVerifier('credit/xm', log.publicKey);
    const note = signNote('hello\n', 'credit/xm', log.seed);
    expect(() => verifyNote(signNote('hello\n', 'credit/xm', other.seed), [v])).toThrow(/no signature by a known key/);
    expect(() => verifyNote(note.replace('hello', 'hellO'), [v])).toThrow(/does not verify/);
    expect(() => verifyNote(note.slice(0, -1), [v])).toThrow(NoteError);
    expect(() => verifyNote(note.replace('\n\n', '\n'), [v])).toThrow(NoteError);
    expect(() => verifyNote(`${note}extra line\n`, [v])).toThrow(NoteError);
    expect(() => parseVerifierKey('credit/xm+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')).toThrow(
      /does not match/,
    );
  });
});

describe('C2SP tlog-checkpoint and cosignature/v1', () => {
  const log = ed25519KeyPair();
  const witness = ed25519KeyPair();
  const logV = noteVerifier('credit-data-space/xm-centre', log.publicKey);
  const witnessV = noteVerifier('credit-data-space/zz-centre', witness.publicKey, SIG_COSIGNATURE_V1);
  const cp = { origin: 'credit-data-space/xm-centre', size: 12345, root: new Uint8Array(32).fill(7) };

  it('round-trips a signed checkpoint and a cosignature', () => {
    const note = signCheckpoint(cp, log.seed);
    const body = formatCheckpoint(cp);
    const cosig = cosignCheckpoint(body, witnessV.name, witness.seed, 1_790_000_000);
    expect(verifyCosignature(body, cosig, witnessV)).toBe(1_790_000_000);
    const opened = openCheckpoint(note + cosig, logV, [witnessV]);
    expect(opened.checkpoint).toEqual(cp);
    expect(opened.cosignedBy).toEqual([witnessV.name]);
  });

  it.each([
    ['extra line', 'credit-data-space/xm-centre\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\next\n'],
    ['leading zero', 'o\n01\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n'],
    ['short root', 'o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH\n'],
    ['no final newline', 'o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='],
    ['empty origin', '\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n'],
  ])('rejects a checkpoint with %s', (_label, text) => {
    expect(() => parseCheckpoint(text)).toThrow(NoteError);
  });

  it('rejects a checkpoint signed by another key and a cosignature over another checkpoint', () => {
    const forged = signCheckpoint(cp, ed25519KeyPair().seed);
    expect(() => openCheckpoint(forged, logV)).toThrow(NoteError);
    const body = formatCheckpoint(cp);
    const cosig = cosignCheckpoint(body, witnessV.name, witness.seed, 1);
    expect(() => verifyCosignature(formatCheckpoint({ ...cp, size: 12346 }), cosig, witnessV)).toThrow(
      /does not verify/,
    );
  });

  it('property: flipping any byte of a signed checkpoint is detected', () => {
    const note = signCheckpoint(cp, log.seed);
    fc.assert(
      fc.property(fc.nat(note.length - 1), fc.integer({ min: 1, max: 127 }), (pos, delta) => {
        const code = note.charCodeAt(pos);
        const changed = note.slice(0, pos) + String.fromCharCode((code + delta) % 0x10000) + note.slice(pos + 1);
        try {
          const opened = openCheckpoint(changed, logV);
          // Only an encoding-equivalent change could survive, and none exists for these bytes.
          return opened.checkpoint.size === cp.size && changed === note;
        } catch {
          return true;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
