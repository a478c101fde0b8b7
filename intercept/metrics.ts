/** Check-and-intercept counters in the Prometheus text format (appended to the node's `/metrics`). */
import { DECISIONS } from './decide.ts';
import { type Counts, FEEDBACK_OUTCOMES } from './store.ts';

const label = (v: string) => v.replace(/["\\\n]/g, '_');

/** Renders running totals per matter and department as Prometheus counters. */
export function renderInterceptMetrics(
  totals: Iterable<{ matter: string; department: string; counts: Counts }>,
): string {
  const rows = [...totals].sort((a, b) => `${a.matter}\0${a.department}`.localeCompare(`${b.matter}\0${b.department}`));
  const lines: string[] = [];
  const counter = (name: string, help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [labels, value] of samples) lines.push(`${name}{${labels}} ${value}`);
  };
  const base = (r: (typeof rows)[number]) => `matter="${label(r.matter)}",department="${label(r.department)}"`;
  counter(
    'credit_intercept_requests_total',
    'Check-and-intercept calls of business systems, per matter and department.',
    rows.map((r) => [base(r), r.counts.requests]),
  );
  counter(
    'credit_intercept_checks_total',
    'Enterprises checked by business systems, per matter and department.',
    rows.map((r) => [base(r), r.counts.checks]),
  );
  counter(
    'credit_intercept_hits_total',
    'Enterprises checked for which a measure applied (BLOCK, WARN or REWARD).',
    rows.map((r) => [base(r), r.counts.hits]),
  );
  counter(
    'credit_intercept_decisions_total',
    'Decisions of checks, per matter, department and decision.',
    rows.flatMap((r) => DECISIONS.map((d): [string, number] => [`${base(r)},decision="${d}"`, r.counts[d]])),
  );
  counter(
    'credit_intercept_feedback_total',
    'Feedback of business systems on decisions, per matter, department and outcome.',
    rows.flatMap((r) => FEEDBACK_OUTCOMES.map((o): [string, number] => [`${base(r)},outcome="${o}"`, r.counts[o]])),
  );
  return `${lines.join('\n')}\n`;
}
