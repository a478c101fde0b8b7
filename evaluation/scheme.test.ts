import { describe, expect, it } from 'vitest';
import { SchemeInvalidError } from './errors.ts';
import { parseScheme, schemeKey } from './scheme.ts';
import xm from './schemes/xm-public-credit-1.0.0.json' with { type: 'json' };
import { SCHEMES, schemeById, schemeForCity } from './schemes.ts';

const clone = () => structuredClone(xm) as Record<string, unknown> & { indicators: Array<Record<string, unknown>> };
const refused = (mutate: (s: ReturnType<typeof clone>) => void, message: RegExp) => {
  const s = clone();
  mutate(s);
  let err: unknown;
  try {
    parseScheme(s);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SchemeInvalidError);
  expect((err as SchemeInvalidError).code).toBe('SCHEME_INVALID');
  expect((err as Error).message).toMatch(message);
};

describe('indicator models (schemes) as versioned data', () => {
  it('ships one valid scheme per city, with different indicators, weights and thresholds', () => {
    expect(SCHEMES.map(schemeKey).sort()).toEqual([
      'qz-public-credit@1.0.0',
      'xm-public-credit@1.0.0',
      'zz-public-credit@1.0.0',
    ]);
    for (const city of ['XM', 'ZZ', 'QZ'] as const) {
      const s = schemeForCity(city);
      expect(s.city).toBe(city);
      expect(s.indicators.reduce((n, i) => n + i.weight, 0)).toBe(s.totalWeight);
    }
    const kinds = (c: 'XM' | 'ZZ') => schemeForCity(c).indicators.map((i) => i.kind);
    expect(kinds('XM')).not.toContain('taxGrade');
    expect(kinds('ZZ')).toContain('taxGrade');
    expect(schemeForCity('QZ').totalWeight).not.toBe(schemeForCity('ZZ').totalWeight);
    expect(schemeById('zz-public-credit', '1.0.0')?.city).toBe('ZZ');
    expect(schemeById('zz-public-credit', '9.9.9')).toBeUndefined();
  });

  it('refuses an unknown indicator kind, naming the known ones', () => {
    refused((s) => {
      s.indicators[0].kind = 'lunarPhase';
    }, /unknown kind "lunarPhase" \(known: registrationAge/);
  });

  it('refuses weights that do not sum as declared', () => {
    refused((s) => {
      s.totalWeight = 120;
    }, /weights sum to 100, the scheme declares 120/);
  });

  it('refuses thresholds out of order', () => {
    refused((s) => {
      s.thresholds = { A: 70, B: 80, C: 60 };
    }, /thresholds out of order/);
    refused((s) => {
      s.thresholds = { A: 101, B: 80, C: 60 };
    }, /thresholds out of order/);
  });

  it('refuses a tax grade M given points of its own: M is insufficient history, not a quality grade', () => {
    const s = structuredClone(schemeForCity('ZZ')) as unknown as { indicators: Array<Record<string, unknown>> };
    const tax = s.indicators.find((i) => i.kind === 'taxGrade')!;
    tax.points = { ...(tax.points as object), M: 3 };
    expect(() => parseScheme(s)).toThrow(/M means insufficient history/);
  });

  it('refuses points above an indicator weight, an unreachable weight, repeated ids and malformed fields', () => {
    refused((s) => {
      s.indicators[1].points = { EXISTING: 11, REVOKED: 0, CANCELLED: 0, MOVED_OUT: 0 };
    }, /gives 11 points, above its weight 10/);
    refused((s) => {
      s.indicators[1].points = { EXISTING: 9, REVOKED: 0, CANCELLED: 0, MOVED_OUT: 0 };
    }, /can reach only 9 of its weight 10/);
    refused((s) => {
      s.indicators[2].id = 'registrationAge';
    }, /indicator id registrationAge is repeated/);
    refused((s) => {
      s.version = 'one';
    }, /version: must be MAJOR.MINOR.PATCH/);
    refused((s) => {
      s.indicators[2].deduct = { MINOR: 1 };
    }, /indicator 2 \(penalties\)/);
    refused((s) => {
      s.indicators[0].bands = [
        { minYears: 0, points: 2 },
        { minYears: 0, points: 8 },
      ];
    }, /increasing order/);
    expect(() => parseScheme('not a scheme')).toThrow(SchemeInvalidError);
  });
});
