/**
 * The schemes in force, as shipped in `evaluation/schemes/*.json` and checked at load: one per
 * city of 厦漳泉. A node grades with its city's scheme; every node knows all of them, so that an
 * agreement can name a peer city's scheme and version.
 */

import type { CityId } from '../model/index.ts';
import { parseScheme, type Scheme } from './scheme.ts';
import qz from './schemes/qz-public-credit-1.0.0.json' with { type: 'json' };
import xm from './schemes/xm-public-credit-1.0.0.json' with { type: 'json' };
import zz from './schemes/zz-public-credit-1.0.0.json' with { type: 'json' };

/** Every scheme of the repository, checked. */
export const SCHEMES: readonly Scheme[] = Object.freeze([xm, zz, qz].map((s) => parseScheme(s)));

/** The scheme a city grades with (the latest version in the repository). */
export function schemeForCity(city: CityId): Scheme {
  const own = SCHEMES.filter((s) => s.city === city).sort((a, b) =>
    b.version.localeCompare(a.version, 'en', { numeric: true }),
  );
  if (!own[0]) throw new TypeError(`no scheme for city ${city}`);
  return own[0];
}

/** A scheme by id and version, if the repository has it. */
export function schemeById(id: string, version: string): Scheme | undefined {
  return SCHEMES.find((s) => s.id === id && s.version === version);
}
