/** The measures lists shipped in `intercept/measures/*.json`, checked at load; the newest is in force. */
import xzq from './measures/xzq-joint-measures-1.0.0.json' with { type: 'json' };
import { type MeasuresList, parseMeasures } from './measures.ts';

/** Every measures list of the repository, checked. */
export const MEASURES_LISTS: readonly MeasuresList[] = Object.freeze([xzq].map((m) => parseMeasures(m)));

/** The measures list in force: the latest version in the repository. */
export function measuresInForce(): MeasuresList {
  return [...MEASURES_LISTS].sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }))[0];
}
