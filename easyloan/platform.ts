/**
 * The Credit Easy-Loan platform (信易贷平台), run by the `easy-loan` node: banks publish loan
 * products here (through their own nodes), enterprises register and file financing applications,
 * the platform matches each application to the eligible products (./match.ts, with the grade of
 * the enterprise's home city centre) and forwards it to those banks, each of which creates a
 * consent request (home: this platform) for exactly the scopes its product needs; the enterprise
 * approves per bank here. Banks report their decisions here, where the enterprise sees them.
 *
 * - Bad input changes nothing: an application no product offers (`NO_MATCHING_PRODUCT`) or none
 *   admits (`NOT_ELIGIBLE`) stores nothing; a decision from a bank the application was not
 *   forwarded to (`NOT_FORWARDED`), a second decision (`ALREADY_DECIDED`) or one outside the
 *   product's bounds (`DECISION_INVALID`) is refused.
 * - A bank that does not answer keeps its match `UNDELIVERED`; the platform forwards it again
 *   (every 30 s and at start) until it does. A bank's node creates the request once per application.
 * - The grade fetch is logged at both ends (`PEER_FETCH`, purpose `loan-application`); consent
 *   requests are logged by the consent machinery. Purposes of applications are kept, never logged.
 *
 * Storage (sublevel `easyloan`): `p!<productId>` product, `e!<uscc>` registered enterprise,
 * `a!<id>` application, `u!<uscc>!<filedAt>!<id>` index, `r!<id>` applications with an undelivered match.
 */
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { ConsentService } from '../authz/consents.ts';
import type { Principal } from '../authz/principals.ts';
import { verifyAttestation } from '../evaluation/attestation.ts';
import { cityOfRegion } from '../model/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import {
  AlreadyDecidedError,
  DecisionInvalidError,
  InvalidInputError,
  NotForwardedError,
  NotFoundError,
  NotRegisteredError,
} from './errors.ts';
import { computeFigures, type Figures } from './figures.ts';
import { matchProducts } from './match.ts';
import type { DecisionReport, EasyLoanPeers, ProductPublication } from './ports.ts';
import {
  ApplicationInputSchema,
  decisionProblem,
  invalid,
  isIndustryCode,
  LOAN_PURPOSE,
  type LoanApplication,
  type LoanMatch,
  type MatchedGrade,
  type PlatformEnterprise,
  type Product,
  parseProduct,
} from './types.ts';
import { keyedLock, mustBe, newId } from './util.ts';

/** How often undelivered matches are forwarded again. */
export const FORWARD_RETRY_MS = 30_000;

/** What the platform needs. */
export interface PlatformComponents {
  db: RootDb;
  consents: ConsentService;
  log: AccessLogPort;
  nodeId: string;
  peers: () => EasyLoanPeers | undefined;
  logger: Logger;
  now?: () => number;
}

/** The platform. */
export interface EasyLoanPlatform {
  /** API: published products (anyone signed in). */
  products(p: Principal, options?: { all?: boolean }): Promise<Product[]>;
  /** API: an enterprise registers (or updates its declared industry). */
  register(p: Principal, industry: string): Promise<PlatformEnterprise>;
  /** API: an enterprise files an application; matched and forwarded before this returns. */
  file(p: Principal, input: unknown, correlationId: string): Promise<LoanApplication>;
  /** API: the enterprise's applications, newest first, with every bank's answer. */
  myApplications(p: Principal): Promise<LoanApplication[]>;
  /** API: the platform's figures (platform operator, auditors). */
  figures(p: Principal): Promise<Figures>;
  /** The figures for metrics (cached a few seconds). */
  cachedFigures(): Promise<Figures>;
  /** Federation: a bank publishes a product (`peer` is the authenticated bank, whose product it is). */
  receiveProduct(peer: string, publication: ProductPublication): Promise<Product>;
  /** Federation: a bank withdraws one of its products. */
  receiveWithdraw(peer: string, code: string): Promise<Product>;
  /** Federation: a bank reports its decision on an application forwarded to it. */
  receiveDecision(peer: string, report: DecisionReport): Promise<void>;
  /** Forwards every undelivered match again; returns how many were delivered. */
  retryUndelivered(): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the platform of the easy-loan node. */
export function createEasyLoanPlatform(c: PlatformComponents): EasyLoanPlatform {
  const now = c.now ?? Date.now;
  const sub: Sublevel = jsonSublevel(c.db, 'easyloan');
  const log = c.logger.child({ component: 'easyloan-platform' });
  const locked = keyedLock();
  let timer: NodeJS.Timeout | undefined;
  let cache: { at: number; figures: Promise<Figures> } | undefined;

  const allProducts = async () => {
    const out: Product[] = [];
    for await (const v of sub.values({ gte: 'p!', lt: 'p"' })) out.push(v as Product);
    return out;
  };
  const getApp = async (id: string) =>
    typeof id === 'string' && /^[A-Za-z0-9_-]{16,43}$/.test(id)
      ? ((await sub.get(`a!${id}`)) as LoanApplication | undefined)
      : undefined;
  const saveApp = (app: LoanApplication) =>
    sub.batch([
      { type: 'put', key: `a!${app.id}`, value: app },
      app.matches.some((m) => m.status === 'UNDELIVERED')
        ? { type: 'put', key: `r!${app.id}`, value: '' }
        : { type: 'del', key: `r!${app.id}` },
    ]);

  /** The grade of the enterprise's home city centre, from its signed attestation, logged here. */
  const gradeOf = async (
    p: Principal,
    { uscc, city }: PlatformEnterprise,
    correlationId: string,
  ): Promise<{ grade?: MatchedGrade; missing?: string }> => {
    const peers = c.peers();
    const centre = city === 'OTHER' ? undefined : peers?.centreOf(city);
    if (!peers || !centre) return { missing: 'NO_CENTRE' };
    let outcome: { grade?: MatchedGrade; missing?: string };
    try {
      const answer = await peers.grade(centre, { uscc, correlationId });
      const key = peers.signingKey(centre);
      const { body } = verifyAttestation(answer.attestation, key ?? '');
      if (body.subject !== uscc || body.evaluator.node !== centre) outcome = { missing: 'BAD_ATTESTATION' };
      else if (Date.parse(body.validUntil) <= now()) outcome = { missing: 'STALE' };
      else
        outcome = {
          grade: {
            grade: body.grade,
            evaluator: centre,
            city: body.evaluator.city,
            evaluatedAt: body.evaluatedAt,
            validUntil: body.validUntil,
          },
        };
    } catch (err) {
      const code = (err as { code?: string }).code;
      outcome = {
        missing: code === 'NOT_GRADED' ? 'NOT_GRADED' : code === 'BAD_REQUEST' ? 'BAD_ATTESTATION' : 'UNAVAILABLE',
      };
    }
    await c.log.append({
      time: new Date(now()).toISOString(),
      actor: { node: c.nodeId, principal: `${p.role}:${p.sub}`, role: p.role },
      action: 'PEER_FETCH',
      decision: outcome.grade ? 'ALLOW' : 'DENY',
      ...(outcome.missing ? { reason: outcome.missing } : {}),
      purpose: LOAN_PURPOSE,
      scopes: ['evaluation'],
      subject: uscc,
      correlationId,
    });
    return outcome;
  };

  /** Forwards the undelivered matches of an application to their banks (in parallel). */
  const forward = async (app: LoanApplication) => {
    const peers = c.peers();
    if (!peers) return app;
    const products = new Map((await allProducts()).map((p) => [p.id, p]));
    const { matches: _, ...application } = app;
    const results = await Promise.all(
      app.matches.map(async (m): Promise<LoanMatch> => {
        const product = products.get(m.productId);
        if (m.status !== 'UNDELIVERED' || !product) return m;
        try {
          const { consentId } = await peers.forward(m.bank, { application, product });
          return { ...m, status: 'FORWARDED', consentId, forwardedAt: new Date(now()).toISOString() };
        } catch (err) {
          log.warn({ bank: m.bank, code: (err as { code?: string }).code }, 'application not forwarded; retried later');
          return m;
        }
      }),
    );
    return locked(app.id, async () => {
      const fresh = (await getApp(app.id)) ?? app;
      const next = {
        ...fresh,
        matches: fresh.matches.map((m, i) => (m.status === 'UNDELIVERED' ? results[i] : m)),
      };
      await saveApp(next);
      return next;
    });
  };

  const platform: EasyLoanPlatform = {
    async products(p, options = {}) {
      const list = await allProducts();
      return options.all && (p.role === 'platform-operator' || p.role === 'auditor')
        ? list
        : list.filter((x) => x.status === 'ACTIVE');
    },
    async register(p, industry) {
      mustBe(p, 'enterprise');
      if (!isIndustryCode(industry))
        throw new InvalidInputError('industry must be a GB/T 4754 code such as C or C3311', [
          { field: 'industry', rule: 'INDUSTRY', message: 'not a GB/T 4754 code' },
        ]);
      const uscc = p.uscc!;
      const held = (await sub.get(`e!${uscc}`)) as PlatformEnterprise | undefined;
      const record: PlatformEnterprise = {
        uscc,
        city: cityOfRegion(uscc.slice(2, 8)) ?? 'OTHER',
        industry,
        registeredAt: held?.registeredAt ?? new Date(now()).toISOString(),
      };
      await sub.put(`e!${uscc}`, record);
      cache = undefined;
      return record;
    },
    async file(p, input, correlationId) {
      mustBe(p, 'enterprise');
      const parsed = ApplicationInputSchema.safeParse(input);
      if (!parsed.success) throw invalid('invalid application', parsed.error);
      const who = (await sub.get(`e!${p.uscc}`)) as PlatformEnterprise | undefined;
      if (!who) throw new NotRegisteredError('register on the platform (registerOnPlatform) before applying');
      const products = await allProducts();
      const app0 = { ...parsed.data, city: who.city, industry: who.industry };
      // Amount and term first: no grade is fetched (nor logged) for an application no product offers.
      matchProducts(products, app0, 'A');
      const { grade, missing } = await gradeOf(p, who, correlationId);
      const matched = matchProducts(products, app0, grade?.grade);
      const app: LoanApplication = {
        id: newId(),
        uscc: who.uscc,
        ...app0,
        filedAt: new Date(now()).toISOString(),
        ...(grade ? { grade } : { gradeMissing: missing }),
        matches: matched.map((x) => ({
          bank: x.bank,
          productId: x.id,
          productCode: x.code,
          productName: x.name,
          scopes: [...x.scopes],
          status: 'UNDELIVERED',
        })),
      };
      await sub.batch([
        { type: 'put', key: `a!${app.id}`, value: app },
        { type: 'put', key: `u!${app.uscc}!${app.filedAt}!${app.id}`, value: '' },
        { type: 'put', key: `r!${app.id}`, value: '' },
      ]);
      cache = undefined;
      return forward(app);
    },
    async myApplications(p) {
      mustBe(p, 'enterprise');
      const ids: string[] = [];
      for await (const k of sub.keys({ gte: `u!${p.uscc}!`, lt: `u!${p.uscc}!\xff`, reverse: true, limit: 200 }))
        ids.push(k.slice(k.lastIndexOf('!') + 1));
      return ((await sub.getMany(ids.map((i) => `a!${i}`))) as Array<LoanApplication | undefined>).filter(
        (a) => a !== undefined,
      );
    },
    async figures(p) {
      mustBe(p, 'platform-operator', 'auditor');
      return computeFigures({ sub, consents: c.consents, now });
    },
    cachedFigures() {
      if (!cache || now() - cache.at > 5_000) {
        const figures = computeFigures({ sub, consents: c.consents, now });
        cache = { at: now(), figures };
        figures.catch(() => {
          cache = undefined;
        });
      }
      return cache.figures;
    },
    async receiveProduct(peer, publication) {
      const by = publication?.publishedBy;
      if (typeof by !== 'string' || !/^[A-Za-z0-9._@:-]{1,128}$/.test(by))
        throw new InvalidInputError('invalid product: publishedBy is not an officer id');
      const code = (publication.input as { code?: unknown } | undefined)?.code;
      const held = typeof code === 'string' ? ((await sub.get(`p!${peer}:${code}`)) as Product | undefined) : undefined;
      // The bank is the authenticated peer: a node publishes only its own products.
      const product = parseProduct(
        publication.input,
        peer,
        by,
        new Date(now()).toISOString(),
        (held?.version ?? 0) + 1,
      );
      await sub.put(`p!${product.id}`, product);
      return product;
    },
    async receiveWithdraw(peer, code) {
      const held = typeof code === 'string' ? ((await sub.get(`p!${peer}:${code}`)) as Product | undefined) : undefined;
      if (!held) throw new NotFoundError('no such product of this bank');
      const next: Product = { ...held, status: 'WITHDRAWN', version: held.version + 1 };
      await sub.put(`p!${held.id}`, next);
      return next;
    },
    async receiveDecision(peer, report) {
      await locked(report.applicationId, async () => {
        const app = await getApp(report.applicationId);
        const i = app?.matches.findIndex((m) => m.bank === peer && m.status !== 'UNDELIVERED') ?? -1;
        if (!app || i < 0) throw new NotForwardedError('this application was not forwarded to this bank');
        const match = app.matches[i];
        if (match.decision) throw new AlreadyDecidedError('this bank already decided this application');
        const product = (await sub.get(`p!${match.productId}`)) as Product | undefined;
        if (report.productId !== match.productId || !product)
          throw new DecisionInvalidError('the decision names another product than the one matched');
        const d = report.decision;
        const problem = decisionProblem(
          {
            applicationId: app.id,
            approve: d.outcome === 'APPROVED',
            ...(d.amountYuan !== undefined ? { amountYuan: d.amountYuan } : {}),
            ...(d.termMonths !== undefined ? { termMonths: d.termMonths } : {}),
            ...(d.ratePct !== undefined ? { ratePct: d.ratePct } : {}),
            ...(d.reasonCode !== undefined ? { reasonCode: d.reasonCode } : {}),
          },
          app,
          product,
        );
        if (problem) throw new DecisionInvalidError(problem);
        const matches = [...app.matches];
        matches[i] = { ...match, status: 'DECIDED', decision: d };
        await saveApp({ ...app, matches });
        cache = undefined;
      });
    },
    async retryUndelivered() {
      let delivered = 0;
      for await (const k of sub.keys({ gte: 'r!', lt: 'r"', limit: 1000 })) {
        const app = await getApp(k.slice(2));
        if (!app) continue;
        const next = await forward(app);
        delivered += next.matches.filter(
          (m, i) => m.status === 'FORWARDED' && app.matches[i].status === 'UNDELIVERED',
        ).length;
      }
      return delivered;
    },
    async start() {
      const retry = () =>
        void platform.retryUndelivered().catch((err) => log.error({ err: (err as Error).message }, 'retry failed'));
      timer = setInterval(retry, FORWARD_RETRY_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return platform;
}
