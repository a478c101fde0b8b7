/**
 * The inputs of an evaluation: an enterprise's registration record and its facts, read from the
 * profile store, with a digest over them (what an attestation's `inputsDigest` commits to and what
 * tells the evaluator, cheaply, that an enterprise's inputs changed).
 *
 * The digest is SHA-256 over a domain prefix and, in store key order, each record's key and its
 * JSON (`JSON.stringify` of the stored record: the bytes the store holds), EVALUATION facts left
 * out (they are outputs). Reading one enterprise goes through the {@link ProfileStore}; the full
 * scan reads the store's documented key ranges (`e!<uscc>`, `f!<uscc>!…`, see `profiles/index.ts`)
 * as raw JSON in two merged cursors, so each record is parsed once and hashed as stored; both
 * ways give the same digest (tested).
 */
import { createHash } from 'node:crypto';
import { type CreditFact, FACT_SECTION, type LegalPerson } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { Cursor } from './cursor.ts';

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
const EVALUATION_SECTION = '!evaluation!';

/** The text an enterprise's digest is computed over, one record at a time (hashed once, at the end). */
const line = (key: string, json: string) => `${key}\0${json}\n`;
const digestOf = (text: string) => createHash('sha256').update(DOMAIN).update(text).digest('hex');

/** What the input source needs. */
export interface InputSourceComponents {
  db: RootDb;
  profiles: ProfileStore;
}

/** Creates the input source over the node's profile store. */
export function profileInputs(c: InputSourceComponents): InputSource {
  const sub = jsonSublevel(c.db, 'profiles');
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
      const enterprises = new Cursor(sub, 'e!', 'e"');
      const facts = new Cursor(sub, 'f!', 'f"');
      try {
        for (;;) {
          signal?.throwIfAborted();
          const e = await enterprises.peek();
          if (!e) return;
          enterprises.advance();
          const uscc = e[0].slice(2);
          const registration = JSON.parse(e[1]) as LegalPerson;
          const take = wanted(registration);
          let text = take ? line(e[0], e[1]) : undefined;
          const list: CreditFact[] = [];
          for (;;) {
            const f = facts.buffered() ?? (await facts.peek());
            if (!f) break;
            const owner = f[0].slice(2, 2 + uscc.length);
            if (owner < uscc) {
              facts.advance(); // facts of an enterprise without a registration record here
              continue;
            }
            if (owner !== uscc || f[0][2 + uscc.length] !== '!') break;
            facts.advance();
            if (text === undefined || f[0].includes(EVALUATION_SECTION, 2 + uscc.length)) continue;
            text += line(f[0], f[1]);
            list.push(JSON.parse(f[1]) as CreditFact);
          }
          if (text !== undefined) yield { uscc, registration, facts: list, digest: digestOf(text) };
        }
      } finally {
        await Promise.all([enterprises.close(), facts.close()]);
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
