import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composeUscc, normaliseUscc, orgCheckChar, USCC_ALPHABET, usccCheckChar, validateUscc } from './uscc.ts';

describe('USCC (GB 32100-2015)', () => {
  it.each([
    '91350200776049653A',
    '91110000600037341L',
    '91350500798359476R',
    '913502000728319549',
    '123502001549897397',
    '9135021359498494XQ',
    '91350213678251743X',
    '91350503MA31DKY80A',
    '91350200MA2YJ1XR9G',
    '91350206MA31LUJ437',
    '91440101MA5CJQ4N59',
  ])('accepts the published code %s with no warning', (code) => {
    expect(validateUscc(code)).toEqual({ valid: true, code, status: 'VALID', warnings: [] });
  });

  it('accepts a check character of 0 (S mod 31 = 0)', () => {
    const r = validateUscc('91350206MA32Q033X0');
    expect(r.valid).toBe(true);
    expect(usccCheckChar('91350206MA32Q033X')).toBe('0');
  });

  it.each(['N2350212MA2YJ1XR9C', 'Y1350200776049653L'])('accepts %s, which begins with a letter', (code) => {
    expect(validateUscc(code).valid).toBe(true);
  });

  it('accepts allow-listed pilot codes and marks them', () => {
    const r = validateUscc('91350203M0001QAY9B');
    expect(r).toMatchObject({ valid: true, status: 'VALID_LEGACY_PILOT' });
  });

  it('warns, without rejecting, on a wrong organisation-code digit (position 17)', () => {
    const first16 = '9135020077604965';
    const wrong17 = `${first16}4`;
    const code = wrong17 + usccCheckChar(wrong17);
    const r = validateUscc(code);
    expect(r).toMatchObject({ valid: true, warnings: ['ORG_CHECKSUM'] });
  });

  it.each([
    ['12345678', 'LENGTH'],
    ['91110000600037342L', 'CHECKSUM'],
    ['91350200776049653I', 'CHARSET'],
    ['9135020A776049653A', 'REGION_NOT_DIGITS'],
    ['91350200776049653AA', 'LENGTH'],
    ['', 'LENGTH'],
  ])('rejects %s (%s)', (code, error) => {
    expect(validateUscc(code)).toMatchObject({ valid: false, error });
  });

  it('normalises full-width, lower-case and spaced input', () => {
    expect(normaliseUscc('９１３５ 0200-776049653a')).toBe('91350200776049653A');
    expect(validateUscc('９１３５０２００７７６０４９６５３ａ').valid).toBe(true);
  });

  it('computes the GB 11714 digit with the full alphabet (M = 22)', () => {
    expect(orgCheckChar('MA31DKY8')).toBe('0');
    expect(orgCheckChar('77604965')).toBe('3');
  });

  const usccChar = fc.constantFrom(...USCC_ALPHABET.split(''));
  const validCode = fc
    .tuple(
      fc.constantFrom('91', '92', '93', '12', '51', 'N2'),
      fc.constantFrom('350200', '350203', '350500', '350582', '350602'),
      fc.array(usccChar, { minLength: 8, maxLength: 8 }),
    )
    .map(([head, region, body]) => composeUscc(head[0], head[1], region, body.join('')));

  it('property: every composed code validates', () => {
    fc.assert(fc.property(validCode, (code) => validateUscc(code).valid));
  });

  it('property: any single-character change is detected', () => {
    fc.assert(
      fc.property(validCode, fc.nat(17), usccChar, (code, pos, ch) => {
        fc.pre(code[pos] !== ch);
        const changed = code.slice(0, pos) + ch + code.slice(pos + 1);
        const r = validateUscc(changed);
        // Position 17 is protected by the check character; the org digit only warns.
        return !r.valid || (r.valid && r.status === 'VALID_LEGACY_PILOT');
      }),
      { numRuns: 5000 },
    );
  });

  it('property: never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => typeof validateUscc(s).valid === 'boolean'));
  });
});
