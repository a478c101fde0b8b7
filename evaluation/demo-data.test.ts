/**
 * Every grade of the demo data (`npm start`: 2,000 enterprises, seed `demo`) at each city's centre
 * has an explanation whose indicator points add up to its score, a digest that matches it, and an
 * attestation that verifies; each city's scheme gives a spread of grades.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngester, openSource } from '../connectors/index.ts';
import { canonicalJson, ed25519KeyPair, ed25519Signer } from '../crypto/index.ts';
import type { CityId } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { createProfileStore } from '../profiles/index.ts';
import { generate } from '../scenarios/gen/generate.ts';
import { openDatabase } from '../storage/index.ts';
import { verifyAttestation } from './attestation.ts';
import { explanationDigest } from './engine.ts';
import { createEvaluator } from './evaluator.ts';
import { profileInputs } from './inputs.ts';
import { schemeForCity } from './schemes.ts';
import { evaluationStore, type GradeRecord } from './store.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eval-demo-'));
  await generate({ enterprises: 2000, seed: 'demo', out: dir });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('grades of the demo data', () => {
  it.each([
    ['XM', 'xm-centre'],
    ['ZZ', 'zz-centre'],
    ['QZ', 'qz-centre'],
  ] as Array<[CityId, string]>)('at %s: every explanation adds up to its grade’s score', async (city, node) => {
    const db = await openDatabase({ memory: true });
    try {
      const profiles = createProfileStore({ db });
      await createIngester({ db, profiles, tokenise: (s) => s, originNode: node, logger: silentLogger() }).run(
        [`${node}/enterprises.ndjson`, `${node}/facts.ndjson`].map((f) => openSource(join(dir, f))),
      );
      const key = ed25519KeyPair();
      const evaluator = createEvaluator({
        store: evaluationStore(db),
        profiles,
        inputs: profileInputs({ db, profiles }),
        signer: ed25519Signer(key.seed),
        nodeId: node,
        city,
        scheme: schemeForCity(city),
        now: () => Date.parse('2026-12-01T08:00:00Z'),
      });
      const run = await evaluator.runAll();
      expect(run.enterprises).toBeGreaterThan(200);
      let checked = 0;
      for await (const k of evaluationStore(db).grades.keys({ gte: 'c!', lt: 'c"' })) {
        const g = (await evaluator.current(k.slice(2))) as GradeRecord;
        expect(g.explanation.indicators.reduce((s, i) => s + i.points, 0)).toBe(g.score);
        expect(g.explanation.score).toBe(g.score);
        expect(g.score).toBeLessThanOrEqual(g.maxScore);
        expect(g.explanationDigest).toBe(explanationDigest(g.explanation));
        // Built in key order: the fast serialisation is the reference RFC 8785 one.
        expect(g.explanationDigest).toBe(createHash('sha256').update(canonicalJson(g.explanation)).digest('hex'));
        expect(canonicalJson(JSON.parse(g.document))).toBe(g.document);
        expect(verifyAttestation(evaluator.issue(g), key.publicKey).body).toMatchObject({
          grade: g.grade,
          score: g.score,
          explanationDigest: g.explanationDigest,
        });
        checked++;
      }
      expect(checked).toBe(run.enterprises);
      expect(Object.values(run.grades).filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    } finally {
      await db.close();
    }
  });
});
