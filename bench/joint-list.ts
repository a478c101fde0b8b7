/**
 * The private list check part of the joint-query benchmark (bench/joint.ts): bank-a checks up to
 * 10,000 consented enterprises, a tenth of them listed, against xm-centre's dishonest-debtor list
 * of BENCH_JOINT_LIST (100,000) over libp2p, first cold then warm, beside the same OPRF steps in
 * process on one thread (no network, no consent). Also the centre's incremental preparation of
 * the new listings and its rescan when nothing changed.
 */
import { randomInt } from 'node:crypto';
import {
  createListMirror,
  createOprfClient,
  createOprfServer,
  encodeSnapshot,
  generateOprfKey,
  prepareListParallel,
} from '../crypto/psi/index.ts';
import type { CreditFact } from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { best, env, median, ms, profiled, rate, ratio, settle, usccs, withLoopDelay, write } from './joint-common.ts';
import { officer, PURPOSE } from './joint-plaintext.ts';

const LIST_SIZE = env('BENCH_JOINT_LIST', 100_000);

/**
 * Runs the list check part. `codes`: enterprises whose consents (with `joint:listCheck`) bank-a
 * holds; `now`: the time stamp of the generated records.
 */
export async function listCheckPart(centre: CreditNode, bank: CreditNode, codes: readonly string[], now: string) {
  // --- List check: 10,000 against a centre list of LIST_SIZE dishonest debtors. ---------------
  // The centre's 30-second rescan is stopped (after one last pass), so that the refresh timed here
  // is the one that prepares the new listings.
  const lists = centre.federation!.listCheck;
  lists.stop();
  await lists.refresh();
  const listCodes = codes.slice(0, 10_000);
  const hits = new Set(listCodes.filter((_, i) => i % 10 === 0));
  const listed = [...hits, ...usccs(LIST_SIZE - hits.size, '8C1')];
  await write(
    centre,
    listed.map((uscc) => ({
      kind: 'fact',
      record: {
        id: `bench-dd-${uscc}`,
        uscc,
        category: 'JUDICIAL',
        subtype: 'DISHONEST_DEBTOR',
        polarity: 'NEGATIVE',
        legalDocumentRef: '(2026)闽0203执1号',
        sourceUnit: '厦门市思明区人民法院',
        decisionDate: '2026-06-01',
        usageRange: 'PUBLIC',
        status: 'ACTIVE',
        payload: {},
        originNode: 'xm-centre',
        version: 1,
        updatedAt: now,
      } satisfies CreditFact,
    })),
  );
  await settle();
  const refresh = await withLoopDelay(async () => {
    const t0 = performance.now();
    await lists.refresh();
    return performance.now() - t0;
  });
  // What the periodic rescan costs the centre when nothing changed (every 30 s in production).
  const r0 = performance.now();
  await lists.refresh();
  const rescanMs = performance.now() - r0;
  const check = async () => {
    await settle();
    const t0 = performance.now();
    const r = await bank.federation!.listCheck.check(officer, listCodes, PURPOSE, {
      correlationId: `bench-list-${randomInt(1e9)}`,
    });
    const elapsed = performance.now() - t0;
    const correct =
      r.unavailable.length === 0 &&
      r.rows.every(
        (row) => row.status === 'OK' && row.listed.some((l) => l.list === 'dishonest-debtor') === hits.has(row.uscc),
      );
    return { ms: elapsed, correct };
  };
  const cold = await check();
  const warm: number[] = [];
  let warmOk = true;
  for (let r = 0; r < 3; r++) {
    const w = r === 2 ? await profiled('list-warm', check) : await check();
    warm.push(w.ms);
    warmOk &&= w.correct;
  }
  // In-process baseline: the same OPRF steps on a list of the same size, no network, no consent.
  const key = generateOprfKey();
  const server = createOprfServer({ key });
  const enc = new TextEncoder();
  const baseList = await prepareListParallel(
    listed.map((u) => enc.encode(u)),
    key,
    { workers: 2 },
  );
  const mirror = createListMirror({ keyId: server.publicInfo.keyId });
  mirror.applySnapshot(baseList.snapshot());
  const inProcess: number[] = [];
  for (let r = 0; r < 3; r++) {
    await settle();
    const t0 = performance.now();
    const blinded = createOprfClient().blind(listCodes.map((u) => enc.encode(u)));
    const values = blinded.finalize(server.evaluate(blinded.blinded));
    const found = values.filter((v) => mirror.has(v)).length;
    inProcess.push(performance.now() - t0);
    if (found !== hits.size) throw new Error('in-process list check is wrong');
  }
  const out = {
    setup: `bank-a checks ${listCodes.length} consented enterprises (${hits.size} listed) against xm-centre's dishonest-debtor list of ${listed.length}`,
    centreRefresh: {
      what: `${listed.length} new listings prepared incrementally by federation.listCheck.refresh()`,
      ms: ms(refresh.value),
      elementsPerSecond: rate(listed.length, refresh.value),
      eventLoopDelay: refresh.loop,
      rescanWithoutChangesMs: ms(rescanMs),
    },
    overLibp2p: {
      firstCheckMs: ms(cold.ms),
      firstCheckNote: 'includes fetching the snapshot of both lists into the bank mirror',
      snapshotFrameBytes: Math.ceil((encodeSnapshot(baseList.snapshot()).length * 4) / 3),
      warmChecksMs: warm.map(ms),
      correct: cold.correct && warmOk,
    },
    inProcessBaseline: {
      what: 'blind + evaluate + finalise + look up, same batch and list size, one thread, no network, no consent',
      runsMs: inProcess.map(ms),
    },
    ratioWarmToInProcess: {
      median: ratio(median(warm), median(inProcess)),
      best: ratio(best(warm), best(inProcess)),
    },
    target: { batchMs: 2000 },
  };
  console.error(`joint bench: list check ${JSON.stringify(out)}`);
  return out;
}
