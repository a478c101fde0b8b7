/** Shapes shared by the evaluation modules and their ports. */
import type { CityId } from '../model/index.ts';

/** A city's credit centre as the roster lists it. */
export interface CentreInfo {
  nodeId: string;
  city: CityId;
  /** Raw Ed25519 identity key (the roster signing key). */
  signingKey: Uint8Array;
}

/** One cell of a grade distribution. */
export interface DistributionRow {
  city: CityId;
  /** GB/T 4754 section letter of the industry (`C` manufacturing …), `?` when unknown. */
  industry: string;
  grade: string;
  count: number;
}
