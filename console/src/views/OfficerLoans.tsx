/**
 * The bank officer's loan applications from the easy-loan platform (信易贷): each forwarded
 * application with the grade it was matched with, the bank's product and the consent's status on
 * this node; the officer approves (amount, term, rate within the product's ranges) or refuses with
 * a reason code from the closed list, and the decision goes back to the platform.
 */
import { useId, useState } from 'react';
import { query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { ConsentStatus, Scopes } from './consent-common.tsx';
import {
  DECISION_FIELDS,
  Decision,
  GRADE_FIELDS,
  gradeText,
  industryLabel,
  type LoanDecision,
  type MatchedGrade,
  months,
  REFUSAL_REASONS,
  yuan,
} from './loan-common.tsx';

interface Product {
  id: string;
  code: string;
  name: string;
  minAmountYuan: number;
  maxAmountYuan: number;
  minTermMonths: number;
  maxTermMonths: number;
  minRatePct: number;
  maxRatePct: number;
  scopes: string[];
}
interface LenderApplication {
  applicationId: string;
  uscc: string;
  city: string;
  industry: string;
  amountYuan: number;
  termMonths: number;
  purpose: string;
  filedAt: string;
  grade: MatchedGrade | null;
  product: Product;
  consentId: string;
  consentStatus: string | null;
  receivedAt: string;
  decision: LoanDecision | null;
  monitoringConsentId: string | null;
  loanId: string | null;
}

/** The list has no page size argument: its fields count once against the node's query cost limit. */
const LENDER_FIELDS = `applicationId uscc city industry amountYuan termMonths purpose filedAt grade { ${GRADE_FIELDS} }
  product { id code name minAmountYuan maxAmountYuan minTermMonths maxTermMonths minRatePct maxRatePct scopes }
  consentId consentStatus receivedAt decision { ${DECISION_FIELDS} } monitoringConsentId loanId`;

function DecideForm(props: { a: LenderApplication; onDone: () => void }) {
  const { t } = useT();
  const id = useId();
  const { a } = props;
  const p = a.product;
  const [approve, setApprove] = useState(true);
  const [amount, setAmount] = useState(String(Math.min(a.amountYuan, p.maxAmountYuan)));
  const [term, setTerm] = useState(String(Math.min(Math.max(a.termMonths, p.minTermMonths), p.maxTermMonths)));
  const [ratePct, setRatePct] = useState(String(p.minRatePct));
  const [reason, setReason] = useState<string>(REFUSAL_REASONS[0]);
  const action = useAction();
  const submit = async () => {
    const input = approve
      ? {
          applicationId: a.applicationId,
          approve: true,
          amountYuan: Number(amount),
          termMonths: Number(term),
          ratePct: Number(ratePct),
        }
      : { applicationId: a.applicationId, approve: false, reasonCode: reason };
    const done = await action.run(() =>
      query(
        'mutation($i: LoanDecisionInput!) { decideLoanApplication(input: $i) { applicationId decision { outcome } } }',
        { i: input },
      ),
    );
    if (done) props.onDone();
  };
  return (
    // The node checks the decision against the product and says what is wrong (DECISION_INVALID).
    <form
      className="stack"
      data-testid="decide-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <fieldset>
        <legend>{t('lend.decide')}</legend>
        <div className="checks">
          <label className="check">
            <input type="radio" name={`${id}-outcome`} checked={approve} onChange={() => setApprove(true)} />
            {t('lend.approve')}
          </label>
          <label className="check">
            <input type="radio" name={`${id}-outcome`} checked={!approve} onChange={() => setApprove(false)} />
            {t('lend.refuse')}
          </label>
        </div>
      </fieldset>
      {approve ? (
        <div className="filters">
          <div>
            <label htmlFor={`${id}-amount`}>{t('lend.amount')}</label>
            <input
              id={`${id}-amount`}
              type="number"
              inputMode="numeric"
              min={p.minAmountYuan}
              max={Math.min(a.amountYuan, p.maxAmountYuan)}
              step={1}
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor={`${id}-term`}>{t('lend.term')}</label>
            <input
              id={`${id}-term`}
              type="number"
              inputMode="numeric"
              min={p.minTermMonths}
              max={p.maxTermMonths}
              step={1}
              value={term}
              onChange={(e) => setTerm(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor={`${id}-rate`}>{t('lend.rate')}</label>
            <input
              id={`${id}-rate`}
              type="number"
              inputMode="decimal"
              min={p.minRatePct}
              max={p.maxRatePct}
              step={0.01}
              value={ratePct}
              onChange={(e) => setRatePct(e.target.value)}
            />
          </div>
        </div>
      ) : (
        <>
          <label htmlFor={`${id}-reason`}>{t('lend.reason')}</label>
          <select id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)}>
            {REFUSAL_REASONS.map((r) => (
              <option key={r} value={r}>
                {t(`reason.${r}` as Key)} ({r})
              </option>
            ))}
          </select>
        </>
      )}
      <div className="row">
        <button type="submit" className={approve ? undefined : 'danger'} disabled={action.busy}>
          {t('lend.submit')}
        </button>
      </div>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
    </form>
  );
}

function ApplicationCard(props: { a: LenderApplication; onDone: () => void; onOpen: (uscc: string) => void }) {
  const { t } = useT();
  const { a } = props;
  const p = a.product;
  return (
    <li
      className="card"
      data-testid="lender-application"
      data-application-id={a.applicationId}
      data-consent-status={a.consentStatus ?? ''}
      data-outcome={a.decision?.outcome ?? ''}
    >
      <div className="card-head">
        <strong>{a.uscc}</strong>{' '}
        <span className="muted">
          · {yuan(t, a.amountYuan)} · {months(t, a.termMonths)}
        </span>{' '}
        {a.consentStatus ? <ConsentStatus status={a.consentStatus} /> : <Badge tone="muted">—</Badge>}
      </div>
      <dl className="facts">
        <dt>{t('loan.purpose')}</dt>
        <dd>{a.purpose}</dd>
        <dt>{t('plat.industry')}</dt>
        <dd>
          {industryLabel(t, a.industry)} · {t(`city.${a.city}` as Key, {}, a.city)}
        </dd>
        <dt>{t('loan.grade')}</dt>
        <dd data-testid="lender-grade">{gradeText(t, a.grade)}</dd>
        <dt>{t('loan.product')}</dt>
        <dd>
          {p.name} <code className="id">{p.code}</code>
        </dd>
        <dt>{t('lend.ranges')}</dt>
        <dd>
          {t('lend.rangeText', {
            minA: p.minAmountYuan.toLocaleString(),
            maxA: p.maxAmountYuan.toLocaleString(),
            minT: p.minTermMonths,
            maxT: p.maxTermMonths,
            minR: p.minRatePct.toFixed(2),
            maxR: p.maxRatePct.toFixed(2),
          })}
        </dd>
        <dt>{t('loan.scopes')}</dt>
        <dd>
          <Scopes scopes={p.scopes} />
        </dd>
        <dt>{t('lend.received')}</dt>
        <dd>
          <When at={a.receivedAt} />
        </dd>
        <dt>{t('loan.answer')}</dt>
        <dd>{a.decision ? <Decision d={a.decision} /> : <span className="muted">—</span>}</dd>
      </dl>
      {a.loanId && <p className="muted small">{t('lend.loan', { id: a.loanId })}</p>}
      {a.monitoringConsentId && <p className="muted small">{t('lend.monitoring')}</p>}
      <div className="row">
        <button type="button" className="secondary" onClick={() => props.onOpen(a.uscc)}>
          {t('lend.open')}
        </button>
      </div>
      {!a.decision && (
        <>
          {a.consentStatus !== 'ACTIVE' && <p className="notice notice-info">{t('lend.consentFirst')}</p>}
          <DecideForm a={a} onDone={props.onDone} />
        </>
      )}
    </li>
  );
}

/** The officer's loan applications tab (at a bank's node). */
export function OfficerLoans(props: { onOpen: (uscc: string) => void }) {
  const { t } = useT();
  const [undecided, setUndecided] = useState(false);
  const list = useLoad(
    () =>
      query<{ lenderApplications: LenderApplication[] }>(
        `query($u: Boolean) { lenderApplications(undecided: $u) { ${LENDER_FIELDS} } }`,
        { u: undecided },
      ).then((d) => d.lenderApplications),
    [undecided],
  );
  return (
    <Panel
      title={t('lend.title')}
      testId="lender-applications"
      actions={
        <button type="button" className="secondary" onClick={() => void list.reload()}>
          {t('common.refresh')}
        </button>
      }
    >
      <p className="hint">{t('lend.explain')}</p>
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={undecided} onChange={(e) => setUndecided(e.target.checked)} />
          {t('lend.undecidedOnly')}
        </label>
      </div>
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('lend.none')}</Empty>}
      <ul className="cards">
        {(list.data ?? []).map((a) => (
          <ApplicationCard
            key={`${a.applicationId}-${a.decision?.outcome ?? ''}`}
            a={a}
            onDone={() => void list.reload()}
            onOpen={props.onOpen}
          />
        ))}
      </ul>
    </Panel>
  );
}
