/** The loan journey as the views show it: amounts, terms and rates, a bank's decision, industries and grades. */
import { Badge } from '../components.tsx';
import { type Key, type Translate, useT } from '../i18n.tsx';

/** A bank's answer (graphql/easyloan.ts `LoanDecision`). */
export interface LoanDecision {
  outcome: string;
  amountYuan: number | null;
  termMonths: number | null;
  ratePct: number | null;
  reasonCode: string | null;
  officer: string;
  decidedAt: string;
}
export const DECISION_FIELDS = 'outcome amountYuan termMonths ratePct reasonCode officer decidedAt';

/** The grade the platform matched with (from the home centre's signed attestation). */
export interface MatchedGrade {
  grade: string;
  evaluator: string;
  city: string;
  evaluatedAt: string;
  validUntil: string;
}
export const GRADE_FIELDS = 'grade evaluator city evaluatedAt validUntil';

/** The reasons a bank may give for refusing (easyloan/types.ts `REFUSAL_REASONS`). */
export const REFUSAL_REASONS = [
  'LISTED',
  'HIGH_EXPOSURE',
  'LOW_SCORE',
  'LOW_GRADE',
  'CONSENT_NOT_GIVEN',
  'INSUFFICIENT_DATA',
  'OUTSIDE_POLICY',
] as const;

/** A GB/T 4754 code (`C`, `C33`, `C3311`), as the platform checks it. */
export const INDUSTRY_RE = /^[A-T](\d{2,4})?$/;

export const yuan = (t: Translate, n: number) => t('money.yuan', { n: n.toLocaleString() });
export const months = (t: Translate, n: number) => t('money.months', { n });
export const rate = (t: Translate, n: number) => t('money.rate', { n: n.toFixed(2) });

/** An industry code with the name of its section. */
export const industryLabel = (t: Translate, code: string) => {
  const name = t(`industry.${code.slice(0, 1)}` as Key, {}, '');
  return name ? `${code} ${name}` : code;
};

/** A bank's decision: the offer (amount, term, rate) or the refusal with its reason. */
/** The grade an application was matched with, or why there was none (`—` when not said). */
export function gradeText(t: Translate, grade: MatchedGrade | null | undefined, missing?: string | null): string {
  if (grade)
    return t('loan.gradeBy', {
      grade: grade.grade,
      evaluator: grade.evaluator,
      until: new Date(grade.validUntil).toLocaleDateString(),
    });
  return missing === undefined
    ? '—'
    : `${t('loan.noGrade')} ${t(`loan.gradeMissing.${missing}` as Key, {}, missing ?? '—')}`;
}

export function Decision({ d }: { d: LoanDecision }) {
  const { t } = useT();
  const approved = d.outcome === 'APPROVED';
  return (
    <span data-testid="decision" data-outcome={d.outcome}>
      <Badge tone={approved ? 'ok' : 'bad'}>{t(`loan.outcome.${d.outcome}` as Key, {}, d.outcome)}</Badge>{' '}
      {approved
        ? t('loan.offer', {
            amount: yuan(t, d.amountYuan ?? 0),
            term: months(t, d.termMonths ?? 0),
            rate: rate(t, d.ratePct ?? 0),
          })
        : t('loan.refusedWith', {
            reason: `${t(`reason.${d.reasonCode}` as Key, {}, d.reasonCode ?? '')} (${d.reasonCode})`,
          })}
    </span>
  );
}
