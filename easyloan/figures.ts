/**
 * The platform's figures (the 2025–2027 plan's targets: the share of enterprises with a valid
 * authorisation, and the share that obtained a loan): enterprises registered, with a bound key,
 * with a valid authorisation; applications, matches, decisions, approvals, amounts granted and the
 * median time from forwarding to decision; by city and industry (GB/T 4754 section), with totals,
 * and as Prometheus text. Computed from the platform's records in one pass over them.
 */
import type { ConsentService } from '../authz/consents.ts';
import type { Sublevel } from '../storage/index.ts';
import type { LoanApplication, PlatformEnterprise } from './types.ts';
import { median } from './util.ts';

/** Figures of one city and industry (or the totals: `*`). */
export interface FigureRow {
  city: string;
  /** GB/T 4754 section letter (`?` unknown). */
  industry: string;
  registered: number;
  boundKey: number;
  /** Registered enterprises holding at least one ACTIVE consent (any bank, any purpose). */
  authorised: number;
  applications: number;
  matches: number;
  /** Matches the bank received (a consent request was created). */
  forwarded: number;
  decisions: number;
  approvals: number;
  refusals: number;
  grantedYuan: number;
  /** Enterprises with at least one approval. */
  enterprisesWithLoan: number;
  /** Median seconds from forwarding to the bank's decision (null without decisions). */
  medianDecisionSeconds: number | null;
}

/** The platform's figures. */
export interface Figures {
  at: string;
  totals: FigureRow;
  rows: FigureRow[];
  /** authorised / registered (null without registrations). */
  authorisedShare: number | null;
  /** enterprisesWithLoan / registered. */
  loanShare: number | null;
}

/** What the figures are computed from. */
export interface FigureSources {
  sub: Sublevel;
  consents: Pick<ConsentService, 'bindingFor' | 'list'>;
  now: () => number;
}

const AS_PLATFORM = { sub: 'easy-loan-figures', role: 'auditor' } as const;

/** Computes the figures. */
export async function computeFigures(s: FigureSources): Promise<Figures> {
  const groups = new Map<string, { row: FigureRow; waits: number[]; borrowers: Set<string> }>();
  const group = (city: string, industry: string) => {
    const key = `${city}|${industry}`;
    let g = groups.get(key);
    if (!g) {
      g = { row: emptyRow(city, industry), waits: [], borrowers: new Set() };
      groups.set(key, g);
    }
    return g;
  };
  for await (const v of s.sub.values({ gte: 'e!', lt: 'e"' })) {
    const e = v as PlatformEnterprise;
    const g = group(e.city, e.industry[0] ?? '?');
    g.row.registered++;
    if (await s.consents.bindingFor(e.uscc)) g.row.boundKey++;
    if ((await s.consents.list(AS_PLATFORM, { uscc: e.uscc, status: 'ACTIVE', limit: 1 })).length > 0)
      g.row.authorised++;
  }
  for await (const v of s.sub.values({ gte: 'a!', lt: 'a"' })) {
    const a = v as LoanApplication;
    const g = group(a.city, a.industry[0] ?? '?');
    g.row.applications++;
    g.row.matches += a.matches.length;
    for (const m of a.matches) {
      if (m.status !== 'UNDELIVERED') g.row.forwarded++;
      const d = m.decision;
      if (!d) continue;
      g.row.decisions++;
      if (m.forwardedAt) g.waits.push((Date.parse(d.decidedAt) - Date.parse(m.forwardedAt)) / 1000);
      if (d.outcome === 'APPROVED') {
        g.row.approvals++;
        g.row.grantedYuan += d.amountYuan ?? 0;
        g.borrowers.add(a.uscc);
      } else g.row.refusals++;
    }
  }
  const totals = emptyRow('*', '*');
  const allWaits: number[] = [];
  const rows = [...groups.values()]
    .sort((a, b) => a.row.city.localeCompare(b.row.city) || a.row.industry.localeCompare(b.row.industry))
    .map(({ row, waits, borrowers }) => {
      row.enterprisesWithLoan = borrowers.size;
      row.medianDecisionSeconds = round(median(waits));
      allWaits.push(...waits);
      for (const k of SUMMED) totals[k] += row[k];
      return row;
    });
  totals.medianDecisionSeconds = round(median(allWaits));
  return {
    at: new Date(s.now()).toISOString(),
    totals,
    rows,
    authorisedShare: totals.registered ? totals.authorised / totals.registered : null,
    loanShare: totals.registered ? totals.enterprisesWithLoan / totals.registered : null,
  };
}

const SUMMED = [
  'registered',
  'boundKey',
  'authorised',
  'applications',
  'matches',
  'forwarded',
  'decisions',
  'approvals',
  'refusals',
  'grantedYuan',
  'enterprisesWithLoan',
] as const;

function emptyRow(city: string, industry: string): FigureRow {
  return {
    city,
    industry,
    registered: 0,
    boundKey: 0,
    authorised: 0,
    applications: 0,
    matches: 0,
    forwarded: 0,
    decisions: 0,
    approvals: 0,
    refusals: 0,
    grantedYuan: 0,
    enterprisesWithLoan: 0,
    medianDecisionSeconds: null,
  };
}

const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 1000) / 1000);

const label = (v: string) => v.replace(/["\\\n]/g, '_');

/** The figures as Prometheus text (gauges per city and industry, and the two shares). */
export function figuresMetrics(f: Figures): string {
  const out: string[] = [];
  const gauge = (name: string, help: string, pick: (r: FigureRow) => number | null) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const r of f.rows) {
      const v = pick(r);
      if (v !== null) out.push(`${name}{city="${label(r.city)}",industry="${label(r.industry)}"} ${v}`);
    }
  };
  gauge('credit_easyloan_enterprises_registered', 'Enterprises registered on the platform.', (r) => r.registered);
  gauge('credit_easyloan_enterprises_bound_key', 'Registered enterprises with a bound key.', (r) => r.boundKey);
  gauge(
    'credit_easyloan_enterprises_authorised',
    'Registered enterprises with at least one active consent.',
    (r) => r.authorised,
  );
  gauge('credit_easyloan_applications', 'Financing applications filed.', (r) => r.applications);
  gauge('credit_easyloan_matches', 'Application-to-bank matches.', (r) => r.matches);
  gauge('credit_easyloan_decisions', 'Decisions reported by banks.', (r) => r.decisions);
  gauge('credit_easyloan_approvals', 'Approvals reported by banks.', (r) => r.approvals);
  gauge('credit_easyloan_granted_yuan', 'Amounts approved, in yuan.', (r) => r.grantedYuan);
  gauge(
    'credit_easyloan_decision_seconds_median',
    'Median seconds from forwarding to decision.',
    (r) => r.medianDecisionSeconds,
  );
  out.push(
    '# HELP credit_easyloan_authorised_share Share of registered enterprises with a valid authorisation.',
    '# TYPE credit_easyloan_authorised_share gauge',
    `credit_easyloan_authorised_share ${f.authorisedShare ?? 0}`,
    '# HELP credit_easyloan_loan_share Share of registered enterprises that obtained a loan.',
    '# TYPE credit_easyloan_loan_share gauge',
    `credit_easyloan_loan_share ${f.loanShare ?? 0}`,
  );
  return `${out.join('\n')}\n`;
}
