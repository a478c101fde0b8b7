/**
 * A bank's lending desk on the easy-loan platform, run by every `bank` node: its officers publish
 * loan products (sent to the platform, which keeps them), receive the applications the platform
 * forwards (for each, the node creates a consent request at the platform for exactly the scopes
 * the product needs, in the name of the officer who published it), read the consented profile and
 * run the joint queries they need through the ordinary API, then decide. A decision is reported to
 * the platform first and kept here only once the platform accepted it; an approval books the loan
 * on the bank's own loan book (so joint exposure and post-loan monitoring see it) and asks the
 * enterprise for a `post-loan-monitoring` consent (home: the platform).
 *
 * Storage (sublevel `easyloan-desk`): `p!<code>` the bank's products as the platform accepted them,
 * `i!<applicationId>` forwarded applications with their consent and decision.
 */
import type { Logger } from 'pino';
import type { ConsentService } from '../authz/consents.ts';
import type { ConsentStatus } from '../authz/lifecycle.ts';
import type { Principal } from '../authz/principals.ts';
import type { IngestRecord } from '../model/index.ts';
import { validateRecord } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import {
  AlreadyDecidedError,
  DecisionInvalidError,
  NotForwardedError,
  NotFoundError,
  WrongRoleError,
} from './errors.ts';
import type { EasyLoanPeers, ForwardedApplication } from './ports.ts';
import {
  DecisionInputSchema,
  decisionOf,
  decisionProblem,
  invalid,
  LOAN_PURPOSE,
  type LoanDecision,
  MONITORING_PURPOSE,
  type Product,
  parseProduct,
} from './types.ts';
import { addMonthsIso, day, keyedLock, mustBe } from './util.ts';

/** The scopes of the monitoring consent asked for with an approval: the facts alerts report. */
export const MONITORING_SCOPES = ['judicial', 'penalties', 'abnormalList', 'seriousDishonesty'] as const;

/** An application forwarded to this bank. */
export interface InboxEntry {
  application: ForwardedApplication['application'];
  product: Product;
  consentId: string;
  receivedAt: string;
  decision?: LoanDecision;
  /** The post-loan monitoring consent asked for with an approval. */
  monitoringConsentId?: string;
  /** The loan booked with an approval. */
  loanId?: string;
}

/** What the desk needs. */
export interface DeskComponents {
  db: RootDb;
  consents: ConsentService;
  profiles: ProfileStore;
  nodeId: string;
  peers: () => EasyLoanPeers | undefined;
  logger: Logger;
  now?: () => number;
}

/** A bank's lending desk. */
export interface LenderDesk {
  /** API: an officer publishes (or republishes) a product at the platform. */
  publish(p: Principal, input: unknown): Promise<Product>;
  /** API: an officer withdraws a product. */
  withdraw(p: Principal, code: string): Promise<Product>;
  /** API: this bank's products. */
  products(p: Principal): Promise<Product[]>;
  /** API: applications forwarded here, newest first, each with its consent's status here. */
  inbox(
    p: Principal,
    options?: { undecided?: boolean },
  ): Promise<Array<InboxEntry & { consentStatus?: ConsentStatus }>>;
  /** API: an officer decides an application (reported to the platform first). */
  decide(p: Principal, input: unknown): Promise<InboxEntry>;
  /** Federation: the platform forwards an application; answers with the consent request. */
  receiveApplication(peer: string, forwarded: ForwardedApplication): Promise<{ consentId: string }>;
}

/** Creates a bank's lending desk. */
export function createLenderDesk(c: DeskComponents): LenderDesk {
  const now = c.now ?? Date.now;
  const sub: Sublevel = jsonSublevel(c.db, 'easyloan-desk');
  const log = c.logger.child({ component: 'easyloan-desk' });
  const locked = keyedLock();
  const officer = (p: Principal) => {
    mustBe(p, 'bank-officer');
    if (p.bank !== c.nodeId) throw new WrongRoleError(`officers of ${p.bank} act at their own bank's node`);
    return p;
  };
  const platformOf = () => {
    const peers = c.peers();
    const platform = peers?.platform();
    if (!peers || !platform) throw new WrongRoleError('no easy-loan platform is reachable from this node');
    return { peers, platform };
  };

  return {
    async publish(p, input) {
      officer(p);
      // Checked here first: a malformed product is refused without leaving the bank.
      parseProduct(input, c.nodeId, p.sub, new Date(now()).toISOString());
      const { peers, platform } = platformOf();
      const product = await peers.publish(platform, { input: input as never, publishedBy: p.sub });
      await sub.put(`p!${product.code}`, product);
      return product;
    },
    async withdraw(p, code) {
      officer(p);
      const held = typeof code === 'string' ? ((await sub.get(`p!${code}`)) as Product | undefined) : undefined;
      if (!held) throw new NotFoundError('no such product of this bank');
      const { peers, platform } = platformOf();
      const product = await peers.withdraw(platform, code);
      await sub.put(`p!${product.code}`, product);
      return product;
    },
    async products(p) {
      officer(p);
      const out: Product[] = [];
      for await (const v of sub.values({ gte: 'p!', lt: 'p"' })) out.push(v as Product);
      return out;
    },
    async inbox(p, options = {}) {
      officer(p);
      const out: Array<InboxEntry & { consentStatus?: ConsentStatus }> = [];
      for await (const v of sub.values({ gte: 'i!', lt: 'i"' })) {
        const e = v as InboxEntry;
        if (options.undecided && e.decision) continue;
        const consent = await c.consents.get(e.consentId);
        out.push({ ...e, ...(consent ? { consentStatus: consent.status } : {}) });
      }
      return out.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
    },
    async decide(p, input) {
      officer(p);
      const parsed = DecisionInputSchema.safeParse(input);
      if (!parsed.success) throw invalid('invalid decision', parsed.error);
      const d = parsed.data;
      return locked(d.applicationId, async () => {
        const entry = (await sub.get(`i!${d.applicationId}`)) as InboxEntry | undefined;
        if (!entry) throw new NotForwardedError('this application was not forwarded to this bank');
        if (entry.decision) throw new AlreadyDecidedError('this bank already decided this application');
        const problem = decisionProblem(d, entry.application, entry.product);
        if (problem) throw new DecisionInvalidError(problem);
        const decision = decisionOf(d, entry.application, p.sub, new Date(now()).toISOString());
        const loan = decision.outcome === 'APPROVED' ? bookLoan(c.nodeId, entry, decision, now()) : undefined;
        const { peers, platform } = platformOf();
        // The platform is the record of decisions: nothing is kept here unless it accepted.
        await peers.decide(platform, { applicationId: d.applicationId, productId: entry.product.id, decision });
        let next: InboxEntry = { ...entry, decision };
        if (!loan) {
          await sub.put(`i!${d.applicationId}`, next);
          return next;
        }
        next = { ...next, loanId: (loan.record as { loanId: string }).loanId };
        await c.db.batch([
          ...c.profiles.writeOps([loan], await c.profiles.existing([loan])),
          { type: 'put', sublevel: sub, key: `i!${d.applicationId}`, value: next },
        ] as never);
        const monitoring = await requestMonitoring(p, next);
        if (!monitoring.monitoringConsentId) return next;
        next = { ...next, ...monitoring };
        await sub.put(`i!${d.applicationId}`, next);
        return next;
      });
    },
    async receiveApplication(peer, forwarded) {
      const { application, product } = forwarded;
      return locked(application.id, async () => {
        const held = (await sub.get(`i!${application.id}`)) as InboxEntry | undefined;
        if (held) return { consentId: held.consentId };
        const own = (await sub.get(`p!${product?.code}`)) as Product | undefined;
        if (!own || own.id !== product.id || own.status !== 'ACTIVE')
          throw new NotForwardedError('the application names no active product of this bank');
        // The bank asks for exactly the scopes its product needs; the consent lives at the platform.
        const request = await c.consents.request(
          { sub: own.publishedBy, role: 'bank-officer', bank: c.nodeId },
          {
            enterprise: application.uscc,
            scopes: [...own.scopes],
            purpose: LOAN_PURPOSE,
            days: own.consentDays,
            home: peer,
          },
        );
        const entry: InboxEntry = {
          application,
          product: own,
          consentId: request.id,
          receivedAt: new Date(now()).toISOString(),
        };
        await sub.put(`i!${application.id}`, entry);
        return { consentId: request.id };
      });
    },
  };

  async function requestMonitoring(p: Principal, entry: InboxEntry) {
    const home = c.peers()?.platform();
    if (!home) return {};
    try {
      const r = await c.consents.request(p, {
        enterprise: entry.application.uscc,
        scopes: [...MONITORING_SCOPES],
        purpose: MONITORING_PURPOSE,
        days: Math.min(365, Math.max(1, (entry.decision?.termMonths ?? 12) * 31)),
        home,
      });
      return { monitoringConsentId: r.id };
    } catch (err) {
      log.warn({ code: (err as { code?: string }).code }, 'monitoring consent not requested');
      return {};
    }
  }
}

/** The loan an approval books on the bank's own book (validated as an ingested loan row would be). */
function bookLoan(bank: string, entry: InboxEntry, d: LoanDecision, at: number): IngestRecord {
  const start = day(at);
  const v = validateRecord(
    'loan',
    {
      bank,
      loanId: `el-${entry.application.id}`,
      uscc: entry.application.uscc,
      outstandingYuan: d.amountYuan,
      startDate: start,
      maturityDate: addMonthsIso(start, d.termMonths ?? entry.application.termMonths),
      status: 'CURRENT',
      updatedAt: new Date(at).toISOString(),
    },
    { originNode: bank, tokenise: () => '' },
  );
  if (!v.ok) throw new DecisionInvalidError(`the loan cannot be booked: ${v.errors.map((e) => e.rule).join(', ')}`);
  return v.value;
}
