/**
 * The inputs of an evaluation: an enterprise's registration record and its facts, read from the
 * profile store, with a digest over them (what an attestation's `inputsDigest` commits to and what
 * tells the evaluator, cheaply, that an enterprise's inputs changed).
 *
 * The digest is SHA-256 over a domain prefix and, in store key order, each record's key and its
 * JSON (`JSON.stringify` of the stored record: the bytes the store holds), EVALUATION facts left
 * out (they are outputs). Both ways go through the {@link ProfileStore}: reading one enterprise
 * with `getEnterprise` and `getFacts`, the full scan with its `scan`, which hands over each record
 * as stored, so each is parsed once and hashed as stored; both ways give the same digest (tested).
 */
import { createHash } from 'node:crypto';
import { type CreditFact, FACT_SECTION, type LegalPerson } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import type { RootDb } from '../storage/index.ts';

/** What one enterprise is evaluated from. */
export interface EnterpriseInputs {
  uscc: string;
  registration: LegalPerson;
  /** Its facts in store order, EVALUATION facts excluded. */
  facts: CreditFact[];
  /** Hex SHA-256 over the stored records. */
  digest: string;
}

/** Where inputs come from. */
export interface InputSource {
  /** One enterprise; `undefined` when its registration record is not held here. */
  one(uscc: string): Promise<EnterpriseInputs | undefined>;
  /** Every enterprise whose registration `wanted` accepts, in USCC order, read in one pass. */
  scan(wanted: (registration: LegalPerson) => boolean, signal?: AbortSignal): AsyncIterable<EnterpriseInputs>;
}

const DOMAIN = 'credit-data-space/evaluation-inputs/v1\n';

/** The text an enterprise's digest is computed over, one record at a time (hashed once, at the end). */
const line = (key: string, json: string) => `${key}\0${json}\n`;
const digestOf = (text: string) => createHash('sha256').update(DOMAIN).update(text).digest('hex');

/** What the input source needs. */
export interface InputSourceComponents {
  /** @deprecated Not read any more: the full scan goes through `profiles.scan`. */
  db?: RootDb;
  profiles: ProfileStore;
}

/** Creates the input source over the node's profile store. */
export function profileInputs(c: InputSourceComponents): InputSource {
  return {
    async one(uscc) {
      const registration = await c.profiles.getEnterprise(uscc);
      if (!registration) return undefined;
      let text = line(`e!${uscc}`, JSON.stringify(registration));
      const facts: CreditFact[] = [];
      for (const f of await c.profiles.getFacts(uscc)) {
        if (f.subtype === 'EVALUATION') continue;
        facts.push(f);
      }
      for (const [key, f] of keyed(uscc, facts)) text += line(key, JSON.stringify(f));
      return { uscc, registration, facts, digest: digestOf(text) };
    },
    async *scan(wanted, signal) {
      // Facts of an enterprise without a registration record here are skipped, as are EVALUATION facts.
      const all = c.profiles.scan({
        filter: (registration) => registration !== undefined && wanted(registration),
        skipSections: [FACT_SECTION.EVALUATION],
        signal,
      });
      for await (const { uscc, enterprise, facts, stored } of all) {
        let text = '';
        for (const [key, json] of stored) text += line(key, json);
        yield { uscc, registration: enterprise!, facts, digest: digestOf(text) };
      }
    },
  };
}

/** The store keys of an enterprise's facts (`f!<uscc>!<section>!<id>`), sorted as the store sorts them. */
function keyed(uscc: string, facts: readonly CreditFact[]): Array<[string, CreditFact]> {
  return facts
    .map((f): [string, CreditFact] => [`f!${uscc}!${FACT_SECTION[f.subtype]}!${f.id}`, f])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
