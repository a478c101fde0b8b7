/**
 * Joint queries over the federation (DESIGN §7, §11): real nodes in this process (real libp2p on
 * loopback, real Level, each node's own HE worker pool), an easy-loan coordinator, the requesting
 * bank-a, five contributing banks (bank-b … bank-f), the Xiamen credit centre (home of the
 * consents, holder of registration, judicial records and the lists) and the Xiamen process-data
 * source (tax, social insurance, utilities).
 *
 * Figures, each beside its baseline from the same run:
 * - setup: 10,000 key bindings and consents granted at their home (xm-centre) and delivered by
 *   consent propagation to every other node, which checks and adopts each (how long until every
 *   node holds them all);
 * - exposure, 5 contributing banks × 8,192 enterprises (one ciphertext), and one enterprise, beside
 *   the same protocol carrying plaintext sums (`/bench/joint-plaintext/1.0.0`, registered here on
 *   the same hosts: query → join → contribute, the same signed query, frame schema, signature
 *   checks, consent decisions and log entries on every node, the same loan reads; only the
 *   encryption, masks and decryption are missing), and that protocol without consent decisions
 *   and logging (what they cost); the time of each step; what moving one contribution's frame
 *   costs over libp2p;
 * - a bank officer's profile reads over HTTP (bank-a /graphql → xm-centre over libp2p) alone and
 *   while an 8,192-enterprise exposure runs;
 * - the multi-source score of 4,096 over the federation beside the plaintext protocol;
 * - the private list check of 10,000 against a centre list of 100,000 over libp2p (the centre's
 *   incremental preparation, a first check that fetches the snapshot, warm checks), beside the
 *   same OPRF steps in-process (bench/joint-list.ts; shared helpers in bench/joint-common.ts).
 *
 * Caveats: every node shares this machine's cores and this process's event loop, so the five
 * contributors encrypt on the same two cores (in a federation each bank encrypts on its own), and
 * any main-thread work of any node delays every other node's; event-loop delay is reported. Each
 * measured run starts once the process is quiet (what the previous run left, such as 9 nodes'
 * witnesses cosigning each other's new checkpoints, is not charged to it); the waits are reported.
 * Other processes on the machine are not controlled: batches report each run, the median and the
 * best.
 *
 * Knobs (environment): BENCH_JOINT_ENTERPRISES (10000: consents granted; the exposure batch is
 * min(8192, that), the list batch min(10000, that)), BENCH_JOINT_LIST (100000), BENCH_JOINT_LOANS
 * (3000 per contributing bank), BENCH_JOINT_RUNS (3 runs of each full batch), BENCH_JOINT_SINGLE
 * (20 one-enterprise runs), BENCH_JOINT_READ_SECONDS (5).
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { ed25519KeyPair, toBase64 } from '../crypto/index.ts';
import type { FederationHost } from '../federation/host.ts';
import { JOINT_PROTOCOL, type JointRun } from '../federation/joint/protocol.ts';
import { startTestFederation, type TestFederation } from '../federation/test-federation.ts';
import {
  type CreditFact,
  type IngestRecord,
  type LegalPerson,
  type LoanRecord,
  SCORE_MODEL_V1,
} from '../model/index.ts';
import type { CreditNode } from '../node/credit-node.ts';
import { DEMO_NODES } from '../scenarios/federation/topology.ts';
import {
  best,
  env,
  median,
  ms,
  parallel,
  pct,
  profiled,
  rate,
  ratio,
  runs,
  settle,
  usccs,
  withLoopDelay,
  write,
} from './joint-common.ts';
import { listCheckPart } from './joint-list.ts';
import { officer, PLAIN_PROTOCOL, PURPOSE, plainRun, registerPlaintext } from './joint-plaintext.ts';

/** Serialized size of one compact 8,192-slot BFV ciphertext (two primes, as contributors send them). */
const CIPHERTEXT_BYTES = 262_257;
const CONTRIBUTORS = ['bank-b', 'bank-c', 'bank-d', 'bank-e', 'bank-f'];
const BANKS = ['bank-a', ...CONTRIBUTORS];

const ENTERPRISES = env('BENCH_JOINT_ENTERPRISES', 10_000);
const EXPOSURE_BATCH = Math.min(8192, ENTERPRISES);
const SCORE_BATCH = Math.min(4096, ENTERPRISES);
const LOANS_PER_BANK = env('BENCH_JOINT_LOANS', 3000);
const FULL_RUNS = env('BENCH_JOINT_RUNS', 3);
const SINGLE_RUNS = env('BENCH_JOINT_SINGLE', 20);
const READ_SECONDS = env('BENCH_JOINT_READ_SECONDS', 5);
/** Parts to run after the exposure (BENCH_JOINT_PARTS, default all: reads,score,list). */
const PARTS = new Set((process.env.BENCH_JOINT_PARTS ?? 'reads,score,list').split(','));

// ---------------------------------------------------------------------------------------------
// Timing of the protocol steps, from the requests each node sends.

interface Mark {
  node: string;
  to: string;
  op: string;
  start: number;
  end: number;
}
let marks: Mark[] | undefined;

function tap(node: string, host: FederationHost) {
  const request = host.request.bind(host);
  host.request = async (to, protocol, body, options) => {
    const into = marks;
    const start = performance.now();
    try {
      return await request(to, protocol, body, options);
    } finally {
      if (into && (protocol === JOINT_PROTOCOL || protocol === PLAIN_PROTOCOL))
        into.push({ node, to, op: String((body as { op?: string }).op), start, end: performance.now() });
    }
  };
}

/** Runs `fn` and splits its time into the protocol's steps. */
async function traced<T>(fn: () => Promise<T>): Promise<{ value: T; totalMs: number; steps: Record<string, number> }> {
  const mine: Mark[] = [];
  marks = mine;
  const t0 = performance.now();
  let value: T;
  try {
    value = await fn();
  } finally {
    marks = undefined;
  }
  const t1 = performance.now();
  const span = (op: string) => {
    const m = mine.filter((x) => x.op === op);
    return m.length === 0
      ? undefined
      : { start: Math.min(...m.map((x) => x.start)), end: Math.max(...m.map((x) => x.end)) };
  };
  const q = span('query');
  const j = span('join');
  const c = span('contribute');
  const steps: Record<string, number> = {};
  if (q && j && c) {
    steps.requesterBeforeQuery = ms(q.start - t0);
    steps.coordinatorBeforeJoin = ms(j.start - q.start);
    steps.joinStep = ms(j.end - j.start);
    steps.contributeStep = ms(c.end - c.start);
    steps.coordinatorSumAndReply = ms(q.end - c.end);
    steps.requesterAfterReply = ms(t1 - q.end);
  }
  return { value, totalMs: t1 - t0, steps };
}

interface Expected {
  outstanding: number;
  overdue: number;
  lenders: number;
}

function exposureCorrect(run: JointRun, expected: ReadonlyMap<string, Expected>): boolean {
  return run.rows.every((r) => {
    const e = expected.get(r.uscc) ?? { outstanding: 0, overdue: 0, lenders: 0 };
    return (
      r.status === 'OK' && r.outstandingYuan === e.outstanding && r.overdueYuan === e.overdue && r.lenders === e.lenders
    );
  });
}

/** What went wrong in a run that is not all correct. */
function issues(run: JointRun) {
  const statuses: Record<string, number> = {};
  for (const r of run.rows)
    statuses[`${r.status}${r.reason ? `:${r.reason}` : ''}`] =
      (statuses[`${r.status}${r.reason ? `:${r.reason}` : ''}`] ?? 0) + 1;
  return { statuses, contributors: run.contributors, dropped: run.dropped };
}

function plainCorrect(
  rows: Array<{ status: string; uscc: string; values?: Record<string, number> }>,
  expected: ReadonlyMap<string, Expected>,
): boolean {
  return rows.every((r) => {
    const e = expected.get(r.uscc) ?? { outstanding: 0, overdue: 0, lenders: 0 };
    return (
      r.status === 'OK' &&
      r.values?.outstanding === e.outstanding &&
      r.values?.overdue === e.overdue &&
      r.values?.lenders === e.lenders
    );
  });
}

/** Sequential reads of one consented section over HTTP (bank-a /graphql) until `until()` says stop. */
async function reads(bank: CreditNode, codes: readonly string[], until: () => boolean) {
  const token = bank.tokens.issue(officer);
  const query = `query($u: String!) { enterprise(uscc: $u, purpose: "${PURPOSE}") { registration { name status } } }`;
  const times: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  for (let i = 0; !until(); i++) {
    const t = performance.now();
    const res = await fetch(`${bank.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables: { u: codes[i % codes.length] } }),
    });
    const body = (await res.json()) as { errors?: unknown[]; data?: { enterprise?: { registration?: unknown } } };
    times.push(performance.now() - t);
    if (body.errors || !body.data?.enterprise?.registration) errors++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    reads: times.length,
    errors,
    seconds: +seconds.toFixed(1),
    readsPerSecond: Math.round(times.length / seconds),
    p50Ms: ms(pct(times, 50)),
    p99Ms: ms(pct(times, 99)),
    maxMs: ms(Math.max(...times)),
  };
}

/** Runs the joint-query benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const started = performance.now();
  const root = await mkdtemp(join(tmpdir(), 'bench-joint-'));
  const savedTmp = process.env.TMPDIR;
  const restoreTmp = () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  };
  let fed: TestFederation | undefined;
  try {
    // The test federation makes its directories under the temp dir: under ours, removed at the end.
    process.env.TMPDIR = root;
    const serves = (id: string) => DEMO_NODES.find((d) => d.nodeId === id)!.serves!;
    fed = await startTestFederation(
      {
        'xm-centre': 'credit-centre',
        'xm-data': 'source',
        'easy-loan': 'easy-loan',
        ...Object.fromEntries(BANKS.map((b) => [b, 'bank' as const])),
      },
      {
        cities: Object.fromEntries(['xm-centre', 'xm-data', 'easy-loan', ...BANKS].map((id) => [id, 'XM' as const])),
        serves: { 'xm-centre': serves('xm-centre'), 'xm-data': serves('xm-data') },
      },
    );
    restoreTmp();
    const n = fed.nodes;
    const startMs = performance.now() - started;
    for (const [id, node] of Object.entries(n)) {
      await registerPlaintext(node);
      tap(id, node.federation!.host);
    }

    // --- Enterprises, key bindings and consents (home: xm-centre). -----------------------------
    const codes = usccs(ENTERPRISES, '7B0');
    const keys = codes.map(() => ed25519KeyPair());
    const now = new Date().toISOString();
    await write(
      n['xm-centre'],
      codes.map((uscc, i) => ({
        kind: 'enterprise',
        record: {
          uscc,
          usccStatus: 'VALID',
          name: `厦门基准${i}号有限公司`,
          formerNames: [],
          orgType: uscc.slice(0, 2),
          registrationRegion: uscc.slice(2, 8),
          domicileRegion: uscc.slice(2, 8),
          status: 'EXISTING',
          establishedOn: '2015-03-01',
          originNode: 'xm-centre',
          version: 1,
          updatedAt: now,
        } satisfies LegalPerson,
      })),
    );
    const centre = n['xm-centre'];
    const staff: Principal = { sub: 'staff', role: 'centre-staff' };
    const consentOf = new Map<string, string>();
    const scopes = ['registration', 'joint:exposure', 'joint:score', 'joint:listCheck'];
    const signed = codes.map((uscc, i) =>
      signConsent(draftConsent({ enterprise: uscc, home: 'xm-centre', grantee: 'bank-a', scopes }), keys[i].seed),
    );
    /** Key bindings then consents at the home, `width` at a time. */
    const grantAll = async (from: number, to: number) => {
      const t0 = performance.now();
      await parallel(codes.slice(from, to), 32, (uscc, i) =>
        centre.consents.registerKey(staff, uscc, toBase64(keys[from + i].publicKey)),
      );
      const t1 = performance.now();
      await parallel(codes.slice(from, to), 32, async (uscc, i) => {
        const r = await centre.consents.grant({ sub: 'rep', role: 'enterprise', uscc }, signed[from + i]);
        consentOf.set(uscc, r.id);
      });
      return { bindingsMs: t1 - t0, grantsMs: performance.now() - t1 };
    };
    // Every key binding and consent through the real path: granted at the home, delivered by consent
    // propagation to every other node (up to 64 messages per request), checked and adopted there.
    const peers = Object.keys(n).length - 1;
    const t = performance.now();
    const granted = await grantAll(0, ENTERPRISES);
    let propagated = false;
    const deadline = Date.now() + 1_800_000;
    while (!propagated && Date.now() < deadline) propagated = await centre.federation!.consentSync.idle(5000);
    const propagationMs = performance.now() - t;
    if (!propagated) throw new Error('consents did not propagate in time');
    for (const id of Object.keys(n))
      if (id !== 'xm-centre' && !(await n[id].consents.get(consentOf.get(codes[ENTERPRISES - 1])!)))
        throw new Error(`${id} lacks the consents`);
    const setup = {
      nodes: Object.keys(n).length,
      startMs: ms(startMs),
      enterprises: ENTERPRISES,
      consentScopes: scopes,
      propagation: {
        what: `${ENTERPRISES} key bindings and ${ENTERPRISES} consents granted at xm-centre (32 at a time) while consent propagation delivers each to the ${peers} other nodes (up to 64 messages per request), where it is checked and adopted`,
        bindingsAtHomeMs: ms(granted.bindingsMs),
        grantsAtHomeMs: ms(granted.grantsMs),
        untilEveryNodeHoldsThemMs: ms(propagationMs),
        deliveriesPerSecond: rate(2 * ENTERPRISES * peers, propagationMs),
        consentsEverywherePerSecond: rate(ENTERPRISES, propagationMs),
      },
    };
    console.error(`joint bench: setup ${JSON.stringify(setup)}`);

    // --- Loan books of the five contributing banks. --------------------------------------------
    const exposureCodes = codes.slice(0, EXPOSURE_BATCH);
    const expected = new Map<string, Expected>();
    for (const bank of CONTRIBUTORS) {
      const loans: IngestRecord[] = [];
      const lends = new Set<string>();
      for (let i = 0; i < LOANS_PER_BANK; i++) {
        const uscc = exposureCodes[randomInt(exposureCodes.length)];
        const r = randomInt(100);
        const status: LoanRecord['status'] = r < 90 ? 'CURRENT' : r < 97 ? 'OVERDUE' : 'SETTLED';
        const loan: LoanRecord = {
          bank,
          loanId: `${bank}-L${String(i).padStart(7, '0')}`,
          uscc,
          outstandingYuan: randomInt(100, 50_000) * 1000,
          startDate: '2025-01-15',
          maturityDate: '2028-01-15',
          status,
          updatedAt: now,
        };
        loans.push({ kind: 'loan', record: loan });
        if (status === 'SETTLED') continue;
        const e = expected.get(uscc) ?? { outstanding: 0, overdue: 0, lenders: 0 };
        e.outstanding += loan.outstandingYuan;
        if (status === 'OVERDUE') e.overdue += loan.outstandingYuan;
        if (!lends.has(uscc)) e.lenders++;
        lends.add(uscc);
        expected.set(uscc, e);
      }
      await write(n[bank], loans);
    }
    const lent = exposureCodes.filter((u) => expected.has(u));

    // --- Exposure: warm-up (every node starts its HE pool), then the full batch. --------------
    const joint = n['bank-a'].federation!.joint;
    const heRun = (batch: readonly string[]) => joint.run(officer, 'exposure', batch, PURPOSE);
    for (let i = 0; i < 2; i++) {
      await heRun([lent[i]]);
      await plainRun(n['bank-a'], 'exposure', [lent[i]], true, consentOf);
    }
    // A first full run warms the consent caches (untimed in the figures, reported).
    await settle();
    const coldMs = (await traced(() => plainRun(n['bank-a'], 'exposure', exposureCodes, true, consentOf))).totalMs;
    // Full batches, HE and the two plaintext variants in turn, each once the federation is quiet.
    const settled: number[] = [];
    const heFull: Array<{ ms: number; steps: Record<string, number> }> = [];
    let heCorrect = true;
    let heIssues: unknown;
    let loopDuringHe: { p99Ms: number; maxMs: number } | undefined;
    const plainFull: number[] = [];
    const plainSteps: Array<Record<string, number>> = [];
    const bareFull: number[] = [];
    let plainOk = true;
    for (let r = 0; r < FULL_RUNS; r++) {
      settled.push(await settle());
      const { value, loop } = await withLoopDelay(() =>
        traced(() => (r === 0 ? profiled('exposure-he', () => heRun(exposureCodes)) : heRun(exposureCodes))),
      );
      if (!exposureCorrect(value.value, expected)) {
        heCorrect = false;
        heIssues ??= issues(value.value);
      }
      heFull.push({ ms: ms(value.totalMs), steps: value.steps });
      loopDuringHe ??= loop;
      settled.push(await settle());
      const p = await traced(() => {
        const go = () => plainRun(n['bank-a'], 'exposure', exposureCodes, true, consentOf);
        return r === 0 ? profiled('exposure-plain', go) : go();
      });
      plainOk &&= plainCorrect(p.value, expected);
      plainFull.push(p.totalMs);
      plainSteps.push(p.steps);
      settled.push(await settle());
      const b = await traced(() => plainRun(n['bank-a'], 'exposure', exposureCodes, false, consentOf));
      plainOk &&= plainCorrect(b.value, expected);
      bareFull.push(b.totalMs);
    }
    // One enterprise at a time, alternating HE and plaintext, each once the federation is quiet.
    const heOne: number[] = [];
    const heOneSteps: Array<Record<string, number>> = [];
    const plainOne: number[] = [];
    const plainOneSteps: Array<Record<string, number>> = [];
    for (let r = 0; r < SINGLE_RUNS; r++) {
      const uscc = lent[(r + 2) % lent.length];
      settled.push(await settle(10_000));
      const h = await traced(() => (r === 1 ? profiled('one-he', () => heRun([uscc])) : heRun([uscc])));
      if (!exposureCorrect(h.value, expected)) {
        heCorrect = false;
        heIssues ??= issues(h.value);
      }
      heOne.push(h.totalMs);
      heOneSteps.push(h.steps);
      settled.push(await settle(10_000));
      const p = await traced(() => plainRun(n['bank-a'], 'exposure', [uscc], true, consentOf));
      plainOk &&= plainCorrect(p.value, expected);
      plainOne.push(p.totalMs);
      plainOneSteps.push(p.steps);
    }
    // What moving one contribution costs: a frame the size of two compact 8,192-slot ciphertexts in
    // base64 (as a contributor answers), bank-a → easy-loan over libp2p, answered with its size.
    const ciphertextB64 = toBase64(new Uint8Array(CIPHERTEXT_BYTES));
    const transfer: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t0 = performance.now();
      await n['bank-a'].federation!.host.request(
        'easy-loan',
        PLAIN_PROTOCOL,
        { op: 'echo', payload: { outstanding: ciphertextB64, overdueAndLenders: ciphertextB64 } },
        { timeoutMs: 60_000 },
      );
      transfer.push(performance.now() - t0);
    }
    const heMs = heFull.map((x) => x.ms);
    const stepMedians = (list: Array<Record<string, number>>) =>
      Object.fromEntries(Object.keys(list[0] ?? {}).map((k) => [k, ms(median(list.map((s) => s[k])))]));
    const exposure = {
      setup: `bank-a asks; ${CONTRIBUTORS.length} contributing banks (${LOANS_PER_BANK} random loans each over the batch, ${lent.length} of ${EXPOSURE_BATCH} enterprises borrow); coordinator easy-loan; all in one process on this machine`,
      correct: { he: heCorrect, plaintext: plainOk, ...(heIssues ? { heIssues } : {}) },
      settleBeforeEachRun: {
        what: 'wait until this process uses under 1/4 core over 500 ms (witnesses catching up with the previous run)',
        totalMs: settled.reduce((a, b) => a + b, 0),
        maxMs: Math.max(...settled),
      },
      batch: {
        enterprises: EXPOSURE_BATCH,
        firstRunColdMs: {
          what: 'an untimed warm-up: the same plaintext run first, with cold consent caches (bank-a looks up the consents of 8,192 enterprises)',
          ms: ms(coldMs),
        },
        he: {
          ...runs(heMs, EXPOSURE_BATCH),
          stepsMs: heFull.map((x) => x.steps),
          eventLoopDelayDuringFirstRun: loopDuringHe,
        },
        plaintextBaseline: {
          what: 'same protocol, same checks and logs, plaintext vectors as JSON',
          ...runs(plainFull, EXPOSURE_BATCH),
          stepsMedianMs: stepMedians(plainSteps),
        },
        plaintextWithoutConsentOrLog: runs(bareFull, EXPOSURE_BATCH),
        ratioHeToPlaintext: {
          median: ratio(median(heMs), median(plainFull)),
          best: ratio(best(heMs), best(plainFull)),
        },
        ratioPlaintextToBare: {
          median: ratio(median(plainFull), median(bareFull)),
          best: ratio(best(plainFull), best(bareFull)),
        },
        target: { enterpriseTotalsPerSecond: 20_000, ratio: 5 },
      },
      oneEnterprise: {
        runs: SINGLE_RUNS,
        he: { p50Ms: ms(median(heOne)), p90Ms: ms(pct(heOne, 90)), stepsP50Ms: stepMedians(heOneSteps) },
        plaintextBaseline: {
          p50Ms: ms(median(plainOne)),
          p90Ms: ms(pct(plainOne, 90)),
          stepsP50Ms: stepMedians(plainOneSteps),
        },
        ratioHeToPlaintext: ratio(median(heOne), median(plainOne)),
        target: { p50Ms: 150 },
        transferOfOneContributionP50Ms: {
          what: `bank-a → easy-loan, a JSON frame of two ${CIPHERTEXT_BYTES}-byte compact ciphertexts in base64 (${2 * ciphertextB64.length} characters); an 8,192 run moves 5 of these, 2 more for the sums and 6 public keys of ~270 KB; a run of up to 585 (one enterprise) uses the small parameter set: one 88 KB ciphertext per contributor and a 70 KB public key`,
          ms: ms(median(transfer)),
          megabytesPerSecond: +((2 * ciphertextB64.length) / 1e3 / median(transfer)).toFixed(1),
        },
      },
    };
    console.error(`joint bench: exposure ${JSON.stringify(exposure)}`);

    const profileReads = !PARTS.has('reads')
      ? undefined
      : await (async () => {
          // --- Profile reads over HTTP, alone and while an 8,192-enterprise exposure runs. -----------
          const readable = codes.slice(0, 200);
          await reads(
            n['bank-a'],
            readable,
            (() => {
              const end = performance.now() + 1000;
              return () => performance.now() > end;
            })(),
          );
          const settledBeforeReads = await settle();
          const aloneEnd = performance.now() + READ_SECONDS * 1000;
          const alone = await withLoopDelay(() => reads(n['bank-a'], readable, () => performance.now() > aloneEnd));
          const settledBeforeRun = await settle();
          let running = true;
          const during = await withLoopDelay(async () => {
            const run = traced(() => heRun(exposureCodes)).finally(() => {
              running = false;
            });
            const r = await reads(n['bank-a'], readable, () => !running);
            const done = await run;
            const correct = exposureCorrect(done.value, expected);
            return {
              ...r,
              exposureRunMs: ms(done.totalMs),
              exposureStepsMs: done.steps,
              exposureCorrect: correct,
              ...(correct ? {} : { exposureIssues: issues(done.value) }),
            };
          });
          const out = {
            what: 'bank-a officer reads registration of a consented enterprise: HTTP /graphql at bank-a → xm-centre over libp2p; consent checked and logged on both; one client, sequential',
            settledMs: { beforeAlone: settledBeforeReads, beforeDuring: settledBeforeRun },
            alone: { ...alone.value, eventLoopDelay: alone.loop },
            duringExposure: { ...during.value, eventLoopDelay: during.loop },
            ratioP99: ratio(during.value.p99Ms, alone.value.p99Ms),
            ratioP50: ratio(during.value.p50Ms, alone.value.p50Ms),
          };
          console.error(`joint bench: reads ${JSON.stringify(out)}`);
          return out;
        })();

    const score = !PARTS.has('score')
      ? undefined
      : await (async () => {
          // --- Score, batch of 4,096: facts at xm-data (tax, social insurance, utilities) and xm-centre. --
          const scoreCodes = codes.slice(0, SCORE_BATCH);
          const facts = (
            node: string,
            subtype: CreditFact['subtype'],
            payload: Record<string, unknown>,
            uscc: string,
          ) =>
            ({
              kind: 'fact',
              record: {
                id: `bench-${subtype}-${uscc}`,
                uscc,
                category:
                  subtype === 'ENFORCEMENT'
                    ? 'JUDICIAL'
                    : subtype === 'UTILITY'
                      ? 'CONTRACT_PERFORMANCE'
                      : 'COMPLIANCE',
                subtype,
                polarity: subtype === 'ENFORCEMENT' ? 'NEGATIVE' : 'NEUTRAL',
                ...(subtype === 'ENFORCEMENT' ? { legalDocumentRef: '(2026)闽0203执1号' } : {}),
                sourceUnit: 'bench',
                decisionDate: '2026-09-28',
                usageRange: 'AUTHORIZED_ONLY',
                status: 'ACTIVE',
                payload,
                originNode: node,
                version: 1,
                updatedAt: now,
              } satisfies CreditFact,
            }) as IngestRecord;
          await write(
            n['xm-data'],
            scoreCodes.flatMap((u) => [
              facts('xm-data', 'TAX_GRADE', { year: 2025, grade: ['A', 'B', 'M', 'C', 'D'][randomInt(5)] }, u),
              facts(
                'xm-data',
                'SOCIAL_INSURANCE',
                { insuredEmployees: randomInt(800), arrearsYuan: randomInt(20) === 0 ? 5000 : 0 },
                u,
              ),
              facts('xm-data', 'UTILITY', { arrearsMonths: randomInt(30) === 0 ? 2 : 0 }, u),
            ]),
          );
          await write(
            n['xm-centre'],
            scoreCodes.filter(() => randomInt(20) === 0).map((u) => facts('xm-centre', 'ENFORCEMENT', {}, u)),
          );
          await joint.run(officer, 'score', scoreCodes.slice(0, 1), PURPOSE);
          const heScore: number[] = [];
          let heScores: JointRun | undefined;
          const plainScore: number[] = [];
          let plainScores: Awaited<ReturnType<typeof plainRun>> = [];
          for (let r = 0; r < FULL_RUNS; r++) {
            await settle();
            const h = await traced(() => joint.run(officer, 'score', scoreCodes, PURPOSE));
            heScore.push(h.totalMs);
            heScores = h.value;
            await settle();
            const p = await traced(() => plainRun(n['bank-a'], 'score', scoreCodes, true, consentOf));
            plainScore.push(p.totalMs);
            plainScores = p.value;
          }
          const maxScoreError = Math.max(
            ...heScores!.rows.map((row, i) =>
              Math.abs((row.score ?? Number.NaN) - (plainScores[i].values?.score ?? 0)),
            ),
          );
          const out = {
            setup: `batch of ${SCORE_BATCH}; holders xm-data (tax, social insurance, utilities) and xm-centre (judicial)`,
            he: {
              ...runs(heScore, SCORE_BATCH),
              allOk: heScores!.rows.every((r) => r.status === 'OK'),
            },
            plaintextBaseline: {
              what: 'same protocol, same checks and logs, plaintext centred features as JSON, weighted sum at the coordinator',
              ...runs(plainScore, SCORE_BATCH),
            },
            ratioHeToPlaintext: {
              median: ratio(median(heScore), median(plainScore)),
              best: ratio(best(heScore), best(plainScore)),
            },
            maxAbsDifference: maxScoreError,
            precision: 1 / SCORE_MODEL_V1.scale,
          };
          console.error(`joint bench: score ${JSON.stringify(out)}`);
          return out;
        })();

    const listCheck = PARTS.has('list') ? await listCheckPart(centre, n['bank-a'], codes, now) : undefined;

    return {
      setup,
      exposure,
      profileReads,
      score,
      listCheck,
      benchSeconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    restoreTmp();
    await fed?.stop();
    await rm(root, { recursive: true, force: true });
  }
}
