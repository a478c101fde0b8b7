/**
 * Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validation.
 *
 * The check character (position 18) uses the 31-symbol USCC alphabet with weights `3^i mod 31`;
 * position 17 is the GB 11714 organisation-code check digit over positions 9–16 with the full
 * A–Z alphabet. Traps handled (see shared/reference/credit.md §1.7): a check character of `0`,
 * letters in positions 1–2, early Fujian pilot codes that fail the checksum yet are legal.
 */

/** The 31 symbols of the USCC alphabet; a symbol's index is its value. No I, O, S, V, Z. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** Weights of positions 1–17 for the check character: `3^i mod 31`. */
export const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
/** GB 11714 values: digits then the full Latin alphabet (A=10 … Z=35). */
export const ORG_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** GB 11714 weights over the 8-character organisation body (USCC positions 9–16). */
export const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/**
 * Published pilot-era codes (Fujian/Xiamen, organisation body `M000…`) that are legal although
 * their check character does not match. They validate with status `VALID_LEGACY_PILOT`.
 */
export const PILOT_ALLOWLIST: ReadonlySet<string> = new Set([
  '91350100M0001TGQXM',
  '91350211M0000XUF46',
  '91350203M0001FUE2P',
  '91350203M0001QAY9B',
]);

/** Known registration-authority (position 1) → category (position 2) pairs. */
const AUTHORITY_CATEGORIES: Readonly<Record<string, string>> = {
  '1': '1239',
  '2': '19',
  '3': '1234569',
  '4': '19',
  '5': '123459',
  '6': '129',
  '7': '129',
  '8': '129',
  '9': '1239',
  A: '19',
  G: '19',
  J: '19',
  N: '1239',
  Q: '1239',
  Y: '1',
};

/** A reason a code is not a valid USCC. */
export type UsccError = 'LENGTH' | 'CHARSET' | 'REGION_NOT_DIGITS' | 'CHECKSUM';
/** A reason to look twice at a code that is otherwise valid. */
export type UsccWarning = 'ORG_CHECKSUM' | 'UNKNOWN_AUTHORITY_CATEGORY';

/** Outcome of {@link validateUscc}. */
export type UsccResult =
  | { valid: true; code: string; status: 'VALID' | 'VALID_LEGACY_PILOT'; warnings: UsccWarning[] }
  | { valid: false; code: string; error: UsccError; position?: number };

/** Normalises user input: NFKC (full-width → ASCII), upper case, strip spaces and dashes. */
export function normaliseUscc(raw: string): string {
  return raw.normalize('NFKC').toUpperCase().replace(/[\s-]/g, '');
}

const USCC_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < USCC_ALPHABET.length; i++) USCC_VALUE[USCC_ALPHABET.charCodeAt(i)] = i;
const ORG_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ORG_ALPHABET.length; i++) ORG_VALUE[ORG_ALPHABET.charCodeAt(i)] = i;

function usccValue(code: string, i: number): number {
  const c = code.charCodeAt(i);
  return c < 128 ? USCC_VALUE[c] : -1;
}

/**
 * Computes the check character (position 18) for the first 17 characters.
 * @throws RangeError when `first17` is not 17 USCC-alphabet characters.
 */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new RangeError('first17 must have 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = usccValue(first17, i);
    if (v < 0) throw new RangeError(`first17 has a character outside the USCC alphabet at position ${i + 1}`);
    sum += v * USCC_WEIGHTS[i];
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * Computes the GB 11714 organisation-code check digit (USCC position 17) of an 8-character body.
 * @throws RangeError when `body8` is not 8 characters of 0-9A-Z.
 */
export function orgCheckChar(body8: string): string {
  if (body8.length !== 8) throw new RangeError('body8 must have 8 characters');
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = body8.charCodeAt(i);
    const v = c < 128 ? ORG_VALUE[c] : -1;
    if (v < 0) throw new RangeError(`body8 has a character outside 0-9A-Z at position ${i + 1}`);
    sum += v * ORG_WEIGHTS[i];
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/**
 * Validates a USCC. Input is normalised first ({@link normaliseUscc}); the normalised code is
 * returned in `code`. Never throws.
 */
export function validateUscc(raw: string): UsccResult {
  const code = typeof raw === 'string' ? normaliseUscc(raw) : '';
  if (code.length !== 18) return { valid: false, code, error: 'LENGTH' };
  let sum = 0;
  for (let i = 0; i < 18; i++) {
    const v = usccValue(code, i);
    if (v < 0) return { valid: false, code, error: 'CHARSET', position: i + 1 };
    if (i >= 2 && i < 8 && v > 9) return { valid: false, code, error: 'REGION_NOT_DIGITS', position: i + 1 };
    if (i < 17) sum += v * USCC_WEIGHTS[i];
  }
  const pos17 = code[16];
  if (pos17 !== 'X' && (pos17 < '0' || pos17 > '9')) {
    return { valid: false, code, error: 'CHARSET', position: 17 };
  }
  const checksumOk = USCC_ALPHABET[(31 - (sum % 31)) % 31] === code[17];
  if (!checksumOk && !PILOT_ALLOWLIST.has(code)) return { valid: false, code, error: 'CHECKSUM', position: 18 };
  const warnings: UsccWarning[] = [];
  if (orgCheckChar(code.slice(8, 16)) !== pos17) warnings.push('ORG_CHECKSUM');
  if (!AUTHORITY_CATEGORIES[code[0]]?.includes(code[1])) warnings.push('UNKNOWN_AUTHORITY_CATEGORY');
  return { valid: true, code, status: checksumOk ? 'VALID' : 'VALID_LEGACY_PILOT', warnings };
}

/** True when `raw` normalises to a valid USCC (pilot codes included). */
export function isUscc(raw: string): boolean {
  return validateUscc(raw).valid;
}

/** The registration region (USCC positions 3–8), frozen at issue time. */
export function usccRegion(code: string): string {
  return code.slice(2, 8);
}

/**
 * Builds a valid USCC from authority, category, a 6-digit region and an 8-character organisation
 * body: fills in the GB 11714 digit and the check character. Used by the data generator.
 */
export function composeUscc(authority: string, category: string, region: string, body8: string): string {
  const first17 = `${authority}${category}${region}${body8}${orgCheckChar(body8)}`;
  return first17 + usccCheckChar(first17);
}
