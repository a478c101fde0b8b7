import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngester, openSource } from '../connectors/index.ts';
import { ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import type { CreditFact, IngestRecord } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore, type ProfileStore } from '../profiles/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { openDatabase, type RootDb } from '../storage/index.ts';
import { verifyAttestation } from './attestation.ts';
import { explanationDigest } from './engine.ts';
import { createEvaluator, type Evaluator } from './evaluator.ts';
import { profileInputs } from './inputs.ts';
import { schemeForCity } from './schemes.ts';
import { evaluationStore, type GradeRecord } from './store.ts';
import { penalty, seriousListing } from './test-helpers.ts';

let dir: string;
let db: RootDb;
let profiles: ProfileStore;
let evaluator: Evaluator;
let clock = Date.parse('2026-12-01T08:00:00Z');
const identity = ed25519KeyPair();

/** Stores facts as the ingester would (one atomic batch). */
async function put(facts: CreditFact[]) {
  const records: IngestRecord[] = facts.map((record) => ({ kind: 'fact', record }));
  await db.batch(profiles.writeOps(records, await profiles.existing(records)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eval-unit-'));
  await generate({ enterprises: 400, seed: 'evaluator-test', out: join(dir, 'data') });
  db = await openDatabase({ memory: true });
  profiles = createProfileStore({ db });
  await createIngester({ db, profiles, tokenise: (s) => s, originNode: 'zz-centre', logger: silentLogger() }).run(
    ['zz-centre/enterprises.ndjson', 'zz-centre/facts.ndjson', 'xm-centre/enterprises.ndjson'].map((f) =>
      openSource(join(dir, 'data', f)),
    ),
  );
  evaluator = createEvaluator({
    store: evaluationStore(db),
    profiles,
    inputs: profileInputs({ db, profiles }),
    signer: ed25519Signer(identity.seed),
    nodeId: 'zz-centre',
    city: 'ZZ',
    scheme: schemeForCity('ZZ'),
    now: () => clock,
  });
}, 120_000);

afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const graded: GradeRecord[] = [];

describe('the evaluator of a city node', () => {
  it('grades every enterprise domiciled in its city; each explanation adds up to its score and is attested', async () => {
    const run = await evaluator.runAll();
    expect(run.enterprises).toBeGreaterThan(40);
    expect(run.graded).toBe(run.enterprises);
    expect(Object.values(run.grades).reduce((a, b) => a + b, 0)).toBe(run.enterprises);
    for await (const e of profileInputs({ db, profiles }).scan(() => true)) {
      const r = await evaluator.current(e.uscc);
      if (!evaluator.responsibleFor(e.registration)) {
        expect(r).toBeUndefined();
        continue;
      }
      expect(r).toBeDefined();
      graded.push(r!);
      expect(r!.explanation.indicators.reduce((s, i) => s + i.points, 0)).toBe(r!.score);
      expect(r!.explanationDigest).toBe(explanationDigest(r!.explanation));
      const { body } = verifyAttestation(evaluator.issue(r!), identity.publicKey);
      expect(body).toMatchObject({ subject: e.uscc, grade: r!.grade, score: r!.score, seq: 1, inputsDigest: e.digest });
      // Reading one enterprise gives the digest the scan gave.
      expect((await profileInputs({ db, profiles }).one(e.uscc))?.digest).toBe(e.digest);
      // The grade is the enterprise's EVALUATION fact, readable in the evaluation section.
      const ev = (await profiles.getFacts(e.uscc, ['evaluation'])).find((f) => f.originNode === 'zz-centre');
      expect(ev?.payload).toMatchObject({ grade: r!.grade, scheme: 'zz-public-credit@1.0.0' });
    }
    expect(graded.length).toBe(run.enterprises);
    // Generated data gives a spread of grades, not one.
    expect(new Set(graded.map((g) => g.grade)).size).toBeGreaterThanOrEqual(3);
    const dist = await evaluator.distribution();
    expect(dist.reduce((s, r) => s + r.count, 0)).toBe(run.enterprises);
  });

  it('grades nothing again while the inputs stay the same', async () => {
    const again = await evaluator.runAll();
    expect(again).toMatchObject({ graded: 0, unchanged: again.enterprises });
    const one = graded[0];
    expect(await evaluator.changed(one.uscc)).toBe(false);
    expect((await evaluator.reevaluate(one.uscc))?.seq).toBe(1);
  });

  it('re-grades one enterprise when a fact about it is added, keeping the earlier grade in its history', async () => {
    const target = graded.find((g) => g.grade !== 'D')!;
    await put([seriousListing('2026-11-20', { uscc: target.uscc })]);
    expect(await evaluator.changed(target.uscc)).toBe(true);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => evaluator.reevaluate(target.uscc)));
    expect(a?.grade).toBe('D');
    expect(new Set([a?.seq, b?.seq, c?.seq])).toEqual(new Set([2]));
    expect(a?.explanation.cap?.reason).toBe('SERIOUS_DISHONESTY');
    const history = await evaluator.history(target.uscc);
    expect(history.map((h) => [h.seq, h.grade])).toEqual([[1, target.grade]]);
    const ev = (await profiles.getFacts(target.uscc, ['evaluation'])).find((f) => f.originNode === 'zz-centre');
    expect(ev).toMatchObject({ version: 2, payload: { grade: 'D' }, polarity: 'NEGATIVE' });
  });

  it('re-grades when a fact is repaired, and when time alone ends a penalty publicity window', async () => {
    const target = graded.find((g) => g.grade !== 'D' && !g.explanation.indicators.some((i) => i.changesOn))!;
    const p = penalty('GENERAL', '2026-11-01', '2027-01-10', { uscc: target.uscc });
    await put([p]);
    const with1 = await evaluator.reevaluate(target.uscc);
    expect(with1?.stableUntil).toBe('2027-01-10');
    expect(with1?.explanation.indicators.find((i) => i.id === 'penalties')?.facts).toContain(p.id);
    clock = Date.parse('2027-01-10T00:00:00Z');
    try {
      expect(await evaluator.changed(target.uscc)).toBe(true);
      const after = await evaluator.reevaluate(target.uscc);
      expect(after?.explanation.indicators.find((i) => i.id === 'penalties')?.points).toBe(18);
      await put([{ ...p, status: 'REPAIRED', version: 2 }]);
      expect(await evaluator.changed(target.uscc)).toBe(true);
      expect((await evaluator.reevaluate(target.uscc))?.seq).toBe((after?.seq ?? 0) + 1);
    } finally {
      clock = Date.parse('2026-12-01T08:00:00Z');
    }
  });

  it('does not grade an enterprise of another city or one it does not hold', async () => {
    let other: string | undefined;
    for await (const e of profileInputs({ db, profiles }).scan((r) => !evaluator.responsibleFor(r))) {
      other = e.uscc;
      break;
    }
    expect(other).toBeDefined();
    expect(await evaluator.reevaluate(other!)).toBeUndefined();
    expect(await evaluator.current(other!)).toBeUndefined();
    expect(await evaluator.reevaluate('91350602MA00000000')).toBeUndefined();
  });
});
