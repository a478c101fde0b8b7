import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CreditFact,
  FACT_SECTION,
  FACT_SUBTYPES,
  type FactSubtype,
  type IngestRecord,
  type LegalPerson,
  type LoanRecord,
  type Section,
} from '../model/index.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { createProfileStore, type ProfileScanOptions, type ProfileStore, type ScannedProfile } from './index.ts';

/** An 18-character code standing for a USCC (the store does not check codes). */
const code = (n: number) => `91350200MA${String(n).padStart(8, '0')}`;

function enterprise(uscc: string, over: Partial<LegalPerson> = {}): LegalPerson {
  return {
    uscc,
    usccStatus: 'VALID',
    name: `测试企业 ${uscc}`,
    formerNames: [],
    orgType: '91',
    registrationRegion: '350200',
    domicileRegion: '350203',
    status: 'EXISTING',
    establishedOn: '2012-03-04',
    originNode: 'xm-centre',
    version: 1,
    updatedAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

function fact(uscc: string, id: string, subtype: FactSubtype = 'ADMIN_PENALTY'): CreditFact {
  return {
    id,
    uscc,
    category: 'ADMINISTRATIVE',
    subtype,
    polarity: 'NEUTRAL',
    sourceUnit: '测试单位',
    decisionDate: '2026-03-01',
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: { n: id },
    originNode: 'xm-centre',
    version: 1,
    updatedAt: '2026-03-01T00:00:00Z',
  };
}

const loan = (uscc: string, loanId: string): LoanRecord => ({
  bank: 'bank-a',
  loanId,
  uscc,
  outstandingYuan: 1000,
  startDate: '2025-01-01',
  maturityDate: '2027-01-01',
  status: 'CURRENT',
  updatedAt: '2026-01-01T00:00:00Z',
});

let db: RootDb;
let store: ProfileStore;

beforeEach(async () => {
  db = await openDatabase({ memory: true });
  store = createProfileStore({ db });
});

afterEach(async () => {
  await db.close();
});

/** Stores records as the ingester does (one atomic batch). */
async function put(records: IngestRecord[]) {
  await db.batch(store.writeOps(records, await store.existing(records)));
}

async function collect(options?: ProfileScanOptions) {
  const out: ScannedProfile[] = [];
  for await (const p of store.scan(options)) out.push(p);
  return out;
}

const factKey = (f: CreditFact) => `f!${f.uscc}!${FACT_SECTION[f.subtype]}!${f.id}`;
const byKey = (a: CreditFact, b: CreditFact) => (factKey(a) < factKey(b) ? -1 : factKey(a) > factKey(b) ? 1 : 0);

/** What a scan should yield, computed from the records alone. */
function expected(
  enterprises: LegalPerson[],
  facts: CreditFact[],
  options: { filter?: (e: LegalPerson | undefined) => boolean; skip?: readonly Section[] } = {},
): ScannedProfile[] {
  const usccs = [...new Set([...enterprises.map((e) => e.uscc), ...facts.map((f) => f.uscc)])].sort();
  const out: ScannedProfile[] = [];
  for (const uscc of usccs) {
    const e = enterprises.find((x) => x.uscc === uscc);
    if (options.filter && !options.filter(e)) continue;
    const mine = facts.filter((f) => f.uscc === uscc && !options.skip?.includes(FACT_SECTION[f.subtype])).sort(byKey);
    out.push({
      uscc,
      enterprise: e,
      facts: mine,
      stored: [
        ...(e ? [[`e!${uscc}`, JSON.stringify(e)] as [string, string]] : []),
        ...mine.map((f): [string, string] => [factKey(f), JSON.stringify(f)]),
      ],
    });
  }
  return out;
}

describe('ProfileStore.scan', () => {
  it('yields every enterprise in USCC order with its facts in key order and its records as stored; no loans', async () => {
    const [a, b, c] = [code(3), code(1), code(2)];
    const enterprises = [enterprise(a), enterprise(b, { registeredCapitalWan: 12.5 }), enterprise(c)];
    const facts = [
      fact(a, 'F3', 'TAX_GRADE'),
      fact(a, 'F1', 'ADMIN_PENALTY'),
      fact(a, 'F2', 'ABNORMAL_LIST'),
      fact(c, 'F4', 'HONOUR'),
    ];
    await put([
      ...enterprises.map((record): IngestRecord => ({ kind: 'enterprise', record })),
      ...facts.map((record): IngestRecord => ({ kind: 'fact', record })),
      { kind: 'loan', record: loan(b, 'L1') },
    ]);
    const scanned = await collect();
    expect(scanned.map((p) => p.uscc)).toEqual([b, c, a]);
    expect(scanned).toEqual(expected(enterprises, facts));
    // Sections in key order: abnormalList < penalties < tax.
    expect(scanned[2].facts.map((f) => f.id)).toEqual(['F2', 'F1', 'F3']);
    expect(scanned[0].facts).toEqual([]);
  });

  it('yields facts held without a legal-person record with no enterprise, and the filter sees them so', async () => {
    const [a, b, orphan] = [code(1), code(3), code(2)];
    await put([
      { kind: 'enterprise', record: enterprise(a) },
      { kind: 'enterprise', record: enterprise(b) },
      { kind: 'fact', record: fact(orphan, 'F1') },
      { kind: 'fact', record: fact(b, 'F2') },
    ]);
    const all = await collect();
    expect(all.map((p) => [p.uscc, p.enterprise?.uscc, p.facts.map((f) => f.id)])).toEqual([
      [a, a, []],
      [orphan, undefined, ['F1']],
      [b, b, ['F2']],
    ]);
    const seen: Array<[string | undefined, string]> = [];
    const registered = await collect({
      filter: (e, uscc) => {
        seen.push([e?.uscc, uscc]);
        return e !== undefined;
      },
    });
    expect(registered.map((p) => p.uscc)).toEqual([a, b]);
    expect(seen).toEqual([
      [a, a],
      [undefined, orphan],
      [b, b],
    ]);
  });

  it('leaves out the facts of skipped sections and of enterprises the filter refuses', async () => {
    const [a, b] = [code(1), code(2)];
    await put([
      { kind: 'enterprise', record: enterprise(a, { domicileRegion: '350602' }) },
      { kind: 'enterprise', record: enterprise(b) },
      { kind: 'fact', record: fact(a, 'F1', 'EVALUATION') },
      { kind: 'fact', record: fact(a, 'F2', 'TAX_GRADE') },
      { kind: 'fact', record: fact(b, 'F3', 'EVALUATION') },
    ]);
    const scanned = await collect({
      filter: (e) => e?.domicileRegion === '350602',
      skipSections: ['evaluation'],
    });
    expect(scanned.map((p) => [p.uscc, p.facts.map((f) => f.id), p.stored.map(([k]) => k)])).toEqual([
      [a, ['F2'], [`e!${a}`, `f!${a}!tax!F2`]],
    ]);
  });

  it('streams across read chunks: 2,500 enterprises and 5,000 facts, the same as reading each one', async () => {
    const records: IngestRecord[] = [];
    const usccs = Array.from({ length: 2500 }, (_, i) => code(i));
    for (const [i, uscc] of usccs.entries()) {
      // Every seventh has no legal-person record, every fifth no facts.
      if (i % 7 !== 3) records.push({ kind: 'enterprise', record: enterprise(uscc) });
      if (i % 5 !== 0)
        for (const s of ['TAX_GRADE', 'JUDGMENT', 'HONOUR'] as const)
          records.push({ kind: 'fact', record: fact(uscc, `F${i}-${s}`, s) });
    }
    for (let i = 0; i < records.length; i += 1000) await put(records.slice(i, i + 1000));
    let n = 0;
    for await (const p of store.scan({ filter: (e) => e !== undefined })) {
      expect(p.uscc).toBe(usccs.filter((_, i) => i % 7 !== 3)[n++]);
      expect(p.enterprise).toEqual(await store.getEnterprise(p.uscc));
      expect(p.facts).toEqual(await store.getFacts(p.uscc));
    }
    expect(n).toBe(usccs.filter((_, i) => i % 7 !== 3).length);
  });

  it('matches a model of the store for any records (property)', async () => {
    const subtype = fc.constantFrom(...FACT_SUBTYPES);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 15 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), subtype), { maxLength: 40 }),
        fc.subarray([...new Set(Object.values(FACT_SECTION))]),
        fc.boolean(),
        async (held, factSpecs, skip, onlyRegistered) => {
          const mem = await openDatabase({ memory: true });
          try {
            const s = createProfileStore({ db: mem });
            const enterprises = held.map((n) => enterprise(code(n)));
            const facts = factSpecs.map(([n, st], i) => fact(code(n), `F${i}`, st));
            const records: IngestRecord[] = [
              ...enterprises.map((record): IngestRecord => ({ kind: 'enterprise', record })),
              ...facts.map((record): IngestRecord => ({ kind: 'fact', record })),
            ];
            await mem.batch(s.writeOps(records, await s.existing(records)));
            const filter = onlyRegistered ? (e: LegalPerson | undefined) => e !== undefined : undefined;
            const out: ScannedProfile[] = [];
            for await (const p of s.scan({ skipSections: skip, ...(filter ? { filter } : {}) })) out.push(p);
            expect(out).toEqual(expected(enterprises, facts, { skip, ...(filter ? { filter } : {}) }));
          } finally {
            await mem.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stops with the signal’s reason once aborted, and a consumer may stop early', async () => {
    await put(
      Array.from({ length: 10 }, (_, i): IngestRecord => ({ kind: 'enterprise', record: enterprise(code(i)) })),
    );
    const controller = new AbortController();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const p of store.scan({ signal: controller.signal })) {
          seen.push(p.uscc);
          if (seen.length === 3) controller.abort(new Error('stop'));
        }
      })(),
    ).rejects.toThrow('stop');
    expect(seen).toHaveLength(3);
    for await (const _ of store.scan()) break;
    // The cursors were closed: the store still reads and writes.
    await put([{ kind: 'fact', record: fact(code(0), 'F1') }]);
    expect((await collect())[0].facts.map((f) => f.id)).toEqual(['F1']);
  });
});

describe('ProfileStore.getLoansMany', () => {
  it('equals getLoans for each code, in the order asked, with duplicates, unknown codes and long books', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9 })), { maxLength: 120 }),
        fc.array(fc.integer({ min: 0, max: 45 }), { minLength: 0, maxLength: 30 }),
        async (loans, asked) => {
          const mem = await openDatabase({ memory: true });
          try {
            const s = createProfileStore({ db: mem });
            // Enterprise 7 has a long book (more than one read step of the iterator).
            const records: IngestRecord[] = [
              ...loans.map(([e, k], i): IngestRecord => ({ kind: 'loan', record: loan(code(e), `L${k}-${i}`) })),
              ...Array.from(
                { length: 300 },
                (_, i): IngestRecord => ({ kind: 'loan', record: loan(code(7), `B${i}`) }),
              ),
            ];
            await mem.batch(s.writeOps(records, await s.existing(records)));
            const codes = asked.map(code);
            const many = await s.getLoansMany(codes);
            expect(many).toEqual(await Promise.all(codes.map((c) => s.getLoans(c))));
          } finally {
            await mem.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
