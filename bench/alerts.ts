/**
 * Post-loan monitoring alert benchmark (issue 12): the latency of an alert from a new fact recorded
 * at a credit centre to the subscribed bank's node (p50, p99), with `BENCH_SUBSCRIPTIONS` (default
 * 10,000) subscriptions of that bank in place at the centre, beside the federation's plain round
 * trip in the same run: a `/credit/health/1.0.0` request from the centre to the bank over the same
 * libp2p connection the alerts take (the baseline).
 *
 * Two real nodes in process (`xm-centre`, a credit centre with city XM, and `bank-a`; libp2p on
 * loopback, Level on disk, signed access logs), the centre ingesting the XM share of the generated
 * data (about 2.1 × the subscriptions in enterprises, so that enough XM enterprises exist).
 *
 * Setup, through the services' own APIs in process (what the GraphQL resolvers call), nothing
 * written to a database behind their back:
 * - bank-a ingests, besides its generated loan book, a loan file booking one CURRENT loan to each
 *   borrower (the ingester, as `credit-node ingest` does);
 * - for each borrower the centre's staff register the enterprise's generated key
 *   (`consents.registerKey`), and the enterprise grants bank-a a consent with the purpose
 *   `post-loan-monitoring` and the monitoring scopes at the centre (`consents.grant`, signed with
 *   its key; 16 at a time); consent sync carries each to bank-a (waited for);
 * - a bank-a officer subscribes to all of them in one `watch.monitor` call (the API's limit,
 *   10,000), which subscribes at the centre over libp2p in frames of 1,000.
 * Consent sync sends up to 64 consents and key bindings per request; the bank checks and adopts
 * each (an Ed25519 verification of the consent, another of a binding it has not seen).
 *
 * Measured:
 * - `oneAtATime`: `BENCH_ALERTS` (default 200) new penalties, each about another borrower spread
 *   evenly across the subscriptions, recorded one per `intake.record` call (what `recordFacts`
 *   calls); latency from the call to the bank's watch list telling its `onAlert` listeners (the
 *   alert is durable there and listed by `monitoringAlerts`), read with `performance.now()` in the
 *   same process (sub-millisecond resolution, no polling). The next fact is recorded once the call
 *   returned and its alert arrived.
 * - `inBatches`: the same number of facts in calls of `BENCH_ALERT_BATCH` (default 10) facts about
 *   distinct borrowers; each alert's latency is from its call to its own arrival.
 * - `baseline`: `BENCH_PINGS_PER_ALERT` (default 2) health round trips centre → bank after each
 *   alert of the first series, interleaved so both see the same state of the machine.
 * Twenty warm-up alerts and pings are not counted. The 30 s sweeps of subscriptions and watches
 * (each walking all 10,000) run during the measurement, as in production.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { draftConsent, type Principal, signConsent } from '../authz/index.ts';
import { createIngester, openSource } from '../connectors/index.ts';
import { fromBase64 } from '../crypto/index.ts';
import { MONITORING_SCOPES } from '../easyloan/index.ts';
import { MONITORING_PURPOSE } from '../easyloan/types.ts';
import { HEALTH_PROTOCOL } from '../federation/health.ts';
import { startTestFederation, type TestFederation } from '../federation/test-federation.ts';
import { validateUscc } from '../model/index.ts';
import { silentLogger } from '../node/logger.ts';
import { penaltyRow } from '../scenarios/demo/facts.ts';

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10_000);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 200);
const BATCH = Number(process.env.BENCH_ALERT_BATCH ?? 10);
const PINGS_PER_ALERT = Number(process.env.BENCH_PINGS_PER_ALERT ?? 2);
const WARM_UP = 20;
/** Grants in flight at once during setup. */
const GRANT_CONCURRENCY = 16;
/** How long one alert may take before the bench gives up. */
const ALERT_TIMEOUT_MS = 30_000;

const staff: Principal = { sub: 'bench-staff', role: 'centre-staff' };
const officer: Principal = { sub: 'bench-officer', role: 'bank-officer', bank: 'bank-a' };

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50Ms: +pct(s, 0.5).toFixed(2),
    p99Ms: +pct(s, 0.99).toFixed(2),
    maxMs: +s[s.length - 1].toFixed(2),
  };
};
const seconds = (t: number) => +((performance.now() - t) / 1000).toFixed(1);

/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, f: (x: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]);
    }),
  );
}

/** Runs the post-loan alert benchmark. */
export async function bench(): Promise<Record<string, unknown>> {
  const enterprises = Math.ceil(SUBSCRIPTIONS * 2.1) + 500;
  const setup: Record<string, number> = {};
  let fed: TestFederation | undefined;
  const t0 = performance.now();
  try {
    fed = await startTestFederation(
      { 'xm-centre': 'credit-centre', 'bank-a': 'bank' },
      { cities: { 'xm-centre': 'XM' }, enterprises },
    );
    setup.generateAndIngestS = seconds(t0);
    const centre = fed.nodes['xm-centre'];
    const bank = fed.nodes['bank-a'];
    const data = fed.dataDir!;

    // Borrowers: the first valid XM enterprises the centre holds, with their generated keys.
    const keys = new Map<string, { publicKey: string; seed: string }>();
    for (const line of (await readFile(join(data, 'keys/enterprises.ndjson'), 'utf8')).split('\n'))
      if (line) {
        const k = JSON.parse(line) as { uscc: string; publicKey: string; seed: string };
        keys.set(k.uscc, k);
      }
    const borrowers: string[] = [];
    const seen = new Set<string>();
    for (const line of (await readFile(join(data, 'xm-centre/enterprises.ndjson'), 'utf8')).split('\n')) {
      if (!line || borrowers.length >= SUBSCRIPTIONS) continue;
      const u = (JSON.parse(line) as { uscc: string }).uscc;
      if (seen.has(u) || !validateUscc(u).valid || !keys.has(u)) continue;
      seen.add(u);
      borrowers.push(u);
    }
    if (borrowers.length < SUBSCRIPTIONS)
      throw new Error(`only ${borrowers.length} XM enterprises generated, ${SUBSCRIPTIONS} wanted`);

    // bank-a books a loan to each (a loan file through the ingester).
    let t = performance.now();
    const loanFile = join(data, 'bench-loans.ndjson');
    await writeFile(
      loanFile,
      borrowers
        .map((uscc, i) =>
          JSON.stringify({
            bank: 'bank-a',
            loanId: `bank-a-BENCH${String(i).padStart(6, '0')}`,
            uscc,
            outstandingYuan: 2_000_000,
            startDate: '2025-06-01',
            maturityDate: '2028-06-01',
            status: 'CURRENT',
            updatedAt: new Date().toISOString(),
          }),
        )
        .join('\n'),
    );
    await createIngester({
      db: bank.db,
      profiles: bank.profiles,
      tokenise: bank.tokenise,
      originNode: 'bank-a',
      logger: silentLogger(),
    }).run([openSource(loanFile, 'loan')]);
    setup.loansS = seconds(t);

    // Key bindings and monitoring consents at the centre, carried to bank-a by consent sync.
    t = performance.now();
    await pool(borrowers, GRANT_CONCURRENCY, async (uscc) => {
      const k = keys.get(uscc)!;
      await centre.consents.registerKey(staff, uscc, k.publicKey);
      const body = draftConsent({
        enterprise: uscc,
        home: 'xm-centre',
        grantee: 'bank-a',
        scopes: [...MONITORING_SCOPES],
        purpose: MONITORING_PURPOSE,
        days: 180,
      });
      await centre.consents.grant({ sub: 'rep', role: 'enterprise', uscc }, signConsent(body, fromBase64(k.seed)!));
    });
    setup.consentsGrantedS = seconds(t);
    if (!(await centre.federation!.consentSync.idle(120_000)))
      throw new Error('consents did not reach bank-a within 120 s');
    setup.consentsAtBankS = seconds(t);

    // One officer call subscribes to every borrower at the centre.
    t = performance.now();
    const monitored = await bank.easyLoan.watch!.monitor(officer, borrowers);
    const refused = monitored.filter((r) => r.status !== 'SUBSCRIBED');
    if (refused.length > 0)
      throw new Error(`${refused.length} subscriptions refused, e.g. ${JSON.stringify(refused[0])}`);
    setup.subscribeS = seconds(t);
    const held = (await centre.easyLoan.alerts!.subscriptions(staff)).find((s) => s.bank === 'bank-a')?.borrowers;
    if (held !== SUBSCRIPTIONS) throw new Error(`the centre holds ${held} subscriptions, ${SUBSCRIPTIONS} wanted`);
    setup.totalS = seconds(t0);

    // Alerts are timed by the bank's own listener.
    const waiting = new Map<string, (at: number) => void>();
    bank.easyLoan.watch!.onAlert((a) => waiting.get(a.factId)?.(performance.now()));
    const arrival = (factId: string) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no alert for ${factId} in time`)), ALERT_TIMEOUT_MS);
        waiting.set(factId, (at) => {
          clearTimeout(timer);
          waiting.delete(factId);
          resolve(at);
        });
      });
    const ping = async () => {
      const s = performance.now();
      await centre.federation!.host.request('bank-a', HEALTH_PROTOCOL, {});
      return performance.now() - s;
    };
    const intake = centre.easyLoan.intake!;
    /** Borrowers in turn, spread evenly across the subscriptions. */
    let turn = 0;
    const stride = Math.max(1, Math.floor(SUBSCRIPTIONS / (2 * ALERTS + WARM_UP)));
    const nextBorrower = () => borrowers[(turn++ * stride) % borrowers.length];
    /** Records one call of facts; returns each alert's latency and the call's own duration. */
    const recordCall = async (n: number) => {
      const rows = Array.from({ length: n }, () => penaltyRow(nextBorrower()));
      const arrivals = rows.map((r) => arrival(r.id));
      const s = performance.now();
      const r = await intake.record(staff, rows);
      const returned = performance.now() - s;
      if (r.alerts !== n) throw new Error(`${r.alerts} alerts queued for ${n} facts`);
      return { latencies: (await Promise.all(arrivals)).map((at) => at - s), returned };
    };

    for (let i = 0; i < WARM_UP; i++) {
      await recordCall(1);
      await ping();
    }
    const single: number[] = [];
    const calls: number[] = [];
    const pings: number[] = [];
    for (let i = 0; i < ALERTS; i++) {
      const r = await recordCall(1);
      single.push(...r.latencies);
      calls.push(r.returned);
      for (let j = 0; j < PINGS_PER_ALERT; j++) pings.push(await ping());
    }
    const batched: number[] = [];
    for (let i = 0; i < Math.ceil(ALERTS / BATCH); i++) batched.push(...(await recordCall(BATCH)).latencies);

    const alerts = summary(single);
    const baseline = summary(pings);
    return {
      subscriptions: SUBSCRIPTIONS,
      enterprisesGenerated: enterprises,
      setupSeconds: setup,
      oneAtATime: {
        path: 'intake.record at xm-centre (facts + outbox in one batch) → outbox → libp2p /credit/monitoring → bank-a watch list (checks, log entry, stored)',
        ...alerts,
        recordCallP50Ms: summary(calls).p50Ms,
      },
      inBatches: { factsPerCall: BATCH, ...summary(batched) },
      baseline: { path: 'xm-centre → bank-a /credit/health/1.0.0 request, same libp2p connection', ...baseline },
      ratioP50: +(alerts.p50Ms / baseline.p50Ms).toFixed(1),
      ratioP99: +(alerts.p99Ms / baseline.p99Ms).toFixed(1),
      resolution: 'performance.now() in one process; arrival from the watch list onAlert listener (no polling)',
    };
  } finally {
    await fed?.stop();
    if (fed?.dataDir) await rm(join(fed.dataDir, '..'), { recursive: true, force: true });
  }
}
