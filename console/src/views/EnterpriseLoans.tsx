/**
 * The enterprise's financing at the Credit Easy-Loan platform (信易贷): it registers its industry,
 * files an application (amount, term, purpose), and sees each application with the banks matched,
 * the consent each bank asked for (approved here, signed in the browser with its own key exactly as
 * on the consents tab) and each bank's answer.
 */
import { useId, useState } from 'react';
import { query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import type { EnterpriseKey } from '../lib/consent-sign.ts';
import { approveConsent, ConsentStatus, Scopes } from './consent-common.tsx';
import { KeyLoader } from './KeyLoader.tsx';
import {
  DECISION_FIELDS,
  Decision,
  GRADE_FIELDS,
  gradeText,
  INDUSTRY_RE,
  industryLabel,
  type LoanDecision,
  type MatchedGrade,
  months,
  yuan,
} from './loan-common.tsx';

interface LoanMatch {
  bank: string;
  productId: string;
  productCode: string;
  productName: string;
  scopes: string[];
  status: string;
  consentId: string | null;
  consentStatus: string | null;
  consentBody: unknown;
  forwardedAt: string | null;
  decision: LoanDecision | null;
}
interface LoanApplication {
  id: string;
  city: string;
  industry: string;
  amountYuan: number;
  termMonths: number;
  purpose: string;
  filedAt: string;
  grade: MatchedGrade | null;
  gradeMissing: string | null;
  matches: LoanMatch[];
}
interface Registration {
  uscc: string;
  city: string;
  industry: string;
  registeredAt: string;
}

/**
 * An application's fields. The list has no page size argument, so it costs its fields once against
 * the node's query cost limit; the consent body is asked for because approving signs it.
 */
const APPLICATION_FIELDS = `id city industry amountYuan termMonths purpose filedAt grade { ${GRADE_FIELDS} } gradeMissing
  matches { bank productId productCode productName scopes status consentId consentStatus consentBody forwardedAt
    decision { ${DECISION_FIELDS} } }`;

function Register(props: {
  registered?: Registration;
  /** The newest application, which says the city and industry the platform holds. */
  latest?: LoanApplication;
  onDone: (r: Registration) => void;
}) {
  const { t } = useT();
  const id = useId();
  const [industry, setIndustry] = useState('');
  const [touched, setTouched] = useState(false);
  const action = useAction();
  const code = industry.trim().toUpperCase();
  const bad = touched && !INDUSTRY_RE.test(code);
  const submit = async () => {
    setTouched(true);
    if (!INDUSTRY_RE.test(code)) return;
    const r = await action.run(() =>
      query<{ registerOnPlatform: Registration }>(
        'mutation($i: String!) { registerOnPlatform(industry: $i) { uscc city industry registeredAt } }',
        { i: code },
      ),
    );
    if (r) props.onDone(r.registerOnPlatform);
  };
  const r = props.registered;
  return (
    <Panel title={t('loan.register')} testId="loan-register">
      <p className="hint">{t('loan.registerExplain')}</p>
      {r && (
        <p data-testid="registered">
          <Badge tone="ok">✓</Badge>{' '}
          {t('loan.registered', {
            city: t(`city.${r.city}` as Key, {}, r.city),
            industry: industryLabel(t, r.industry),
            when: new Date(r.registeredAt).toLocaleString(),
          })}
        </p>
      )}
      {!r && props.latest && (
        <p data-testid="registered">
          <Badge tone="ok">✓</Badge>{' '}
          {t('loan.registeredAs', {
            city: t(`city.${props.latest.city}` as Key, {}, props.latest.city),
            industry: industryLabel(t, props.latest.industry),
          })}
        </p>
      )}
      <form
        className="search"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor={`${id}-industry`}>{t('loan.industry')}</label>
        <div className="row">
          <input
            id={`${id}-industry`}
            value={industry}
            maxLength={5}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={bad}
            aria-describedby={bad ? `${id}-bad` : undefined}
            onChange={(e) => setIndustry(e.target.value)}
          />
          <button type="submit" disabled={action.busy}>
            {t('loan.doRegister')}
          </button>
        </div>
        {bad && (
          <p id={`${id}-bad`} className="notice notice-error" role="alert">
            {t('loan.badIndustry')}
          </p>
        )}
      </form>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
    </Panel>
  );
}

interface OfferedProduct {
  id: string;
  bank: string;
  name: string;
  minAmountYuan: number;
  maxAmountYuan: number;
  minTermMonths: number;
  maxTermMonths: number;
  minRatePct: number;
  maxRatePct: number;
  minGrade: string | null;
}

/** The products on the platform, so that the amount and term asked for can be chosen among what is offered. */
function Offered() {
  const { t } = useT();
  const products = useLoad(
    () =>
      query<{ loanProducts: OfferedProduct[] }>(
        'query { loanProducts { id bank name minAmountYuan maxAmountYuan minTermMonths maxTermMonths minRatePct maxRatePct minGrade } }',
      ).then((d) => d.loanProducts),
    [],
  );
  if (products.error !== undefined) return <ErrorNotice error={products.error} />;
  if (!products.data) return products.loading ? <Loading /> : null;
  if (products.data.length === 0) return <Empty>{t('loan.noProducts')}</Empty>;
  return (
    <div className="table-wrap">
      <table data-testid="loan-products">
        <caption className="sr-only">{t('loan.products')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('nav.officer')}</th>
            <th scope="col">{t('loan.product')}</th>
            <th scope="col">{t('lend.ranges')}</th>
            <th scope="col">{t('loan.minGrade')}</th>
          </tr>
        </thead>
        <tbody>
          {products.data.map((p) => (
            <tr key={p.id}>
              <td>{p.bank}</td>
              <td>{p.name}</td>
              <td className="small">
                {t('lend.rangeText', {
                  minA: p.minAmountYuan.toLocaleString(),
                  maxA: p.maxAmountYuan.toLocaleString(),
                  minT: p.minTermMonths,
                  maxT: p.maxTermMonths,
                  minR: p.minRatePct.toFixed(2),
                  maxR: p.maxRatePct.toFixed(2),
                })}
              </td>
              <td>{p.minGrade ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Apply(props: { onFiled: (a: LoanApplication) => void }) {
  const { t } = useT();
  const id = useId();
  const [amount, setAmount] = useState('1000000');
  const [term, setTerm] = useState('12');
  const [purpose, setPurpose] = useState('');
  const [filed, setFiled] = useState<LoanApplication>();
  const action = useAction();
  const submit = async () => {
    setFiled(undefined);
    const r = await action.run(() =>
      query<{ fileLoanApplication: LoanApplication }>(
        `mutation($i: LoanApplicationInput!) { fileLoanApplication(input: $i) { ${APPLICATION_FIELDS} } }`,
        { i: { amountYuan: Number(amount), termMonths: Number(term), purpose: purpose.trim() } },
      ),
    );
    if (r) {
      setFiled(r.fileLoanApplication);
      props.onFiled(r.fileLoanApplication);
    }
  };
  const ready = Number(amount) > 0 && Number(term) > 0 && purpose.trim() !== '';
  return (
    <Panel title={t('loan.apply')} testId="loan-apply">
      <p className="hint">{t('loan.applyExplain')}</p>
      <details>
        <summary>{t('loan.products')}</summary>
        <Offered />
      </details>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="filters">
          <div>
            <label htmlFor={`${id}-amount`}>{t('loan.amount')}</label>
            <input
              id={`${id}-amount`}
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              required
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor={`${id}-term`}>{t('loan.term')}</label>
            <input
              id={`${id}-term`}
              type="number"
              inputMode="numeric"
              min={1}
              max={360}
              step={1}
              required
              value={term}
              onChange={(e) => setTerm(e.target.value)}
            />
          </div>
        </div>
        <label htmlFor={`${id}-purpose`}>{t('loan.purpose')}</label>
        <input
          id={`${id}-purpose`}
          value={purpose}
          maxLength={200}
          required
          onChange={(e) => setPurpose(e.target.value)}
        />
        <div className="row">
          <button type="submit" disabled={action.busy || !ready}>
            {t('loan.submit')}
          </button>
        </div>
      </form>
      {filed && (
        <p className="notice notice-info" role="status" data-testid="loan-filed">
          {t('loan.filed', { n: filed.matches.length })}
        </p>
      )}
      {action.error !== undefined && <ErrorNotice error={action.error} />}
    </Panel>
  );
}

function MatchCard(props: {
  m: LoanMatch;
  enterpriseKey?: EnterpriseKey;
  busy: boolean;
  onApprove: () => void;
  onReject: () => void;
}) {
  const { t } = useT();
  const id = useId();
  const m = props.m;
  return (
    <li
      className="card"
      data-testid="loan-match"
      data-bank={m.bank}
      data-status={m.status}
      data-consent-status={m.consentStatus ?? ''}
      data-outcome={m.decision?.outcome ?? ''}
    >
      <div className="card-head">
        <strong id={`${id}-bank`}>{m.bank}</strong> <span className="muted">· {m.productName}</span>{' '}
        <Badge tone={m.status === 'DECIDED' ? 'ok' : m.status === 'UNDELIVERED' ? 'warn' : 'info'}>
          {t(`loan.status.${m.status}` as Key, {}, m.status)}
        </Badge>
      </div>
      <dl className="facts">
        <dt>{t('loan.product')}</dt>
        <dd>
          {m.productName} <code className="id">{m.productCode}</code>
        </dd>
        <dt>{t('loan.scopes')}</dt>
        <dd>
          <Scopes scopes={m.scopes} />
        </dd>
        <dt>{t('loan.consent')}</dt>
        <dd>{m.consentStatus ? <ConsentStatus status={m.consentStatus} /> : <span className="muted">—</span>}</dd>
        <dt>{t('loan.answer')}</dt>
        <dd>{m.decision ? <Decision d={m.decision} /> : <span className="muted">—</span>}</dd>
      </dl>
      {m.consentStatus === 'REQUESTED' && m.consentId && (
        <div className="row">
          <button
            type="button"
            aria-describedby={`${id}-bank`}
            disabled={!props.enterpriseKey || props.busy}
            onClick={props.onApprove}
          >
            {t('loan.approveConsent')}
          </button>
          <button
            type="button"
            className="danger"
            aria-describedby={`${id}-bank`}
            disabled={props.busy}
            onClick={props.onReject}
          >
            {t('loan.rejectConsent')}
          </button>
        </div>
      )}
    </li>
  );
}

function Applications(props: { list: ReturnType<typeof useLoad<LoanApplication[]>>; enterpriseKey?: EnterpriseKey }) {
  const { t } = useT();
  const { list } = props;
  const action = useAction();
  const act = async (run: () => Promise<unknown>) => {
    if (await action.run(run)) await list.reload();
  };
  const apps = list.data ?? [];
  const awaitingKey = apps.some((a) => a.matches.some((m) => m.consentStatus === 'REQUESTED'));
  return (
    <Panel
      title={t('loan.mine')}
      testId="loan-applications"
      actions={
        <button type="button" className="secondary" onClick={() => void list.reload()}>
          {t('common.refresh')}
        </button>
      }
    >
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {action.error !== undefined && <ErrorNotice error={action.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && apps.length === 0 && <Empty>{t('loan.none')}</Empty>}
      {awaitingKey && !props.enterpriseKey && <p className="notice notice-info">{t('loan.needKey')}</p>}
      <ul className="cards">
        {apps.map((a) => (
          <li key={a.id} className="card" data-testid="loan-application" data-application-id={a.id}>
            <div className="card-head">
              <strong>
                {yuan(t, a.amountYuan)} · {months(t, a.termMonths)}
              </strong>{' '}
              <span className="muted">
                · {t('loan.filedAt')} <When at={a.filedAt} />
              </span>
            </div>
            <dl className="facts">
              <dt>{t('loan.purpose')}</dt>
              <dd>{a.purpose}</dd>
              <dt>{t('plat.industry')}</dt>
              <dd>
                {industryLabel(t, a.industry)} · {t(`city.${a.city}` as Key, {}, a.city)}
              </dd>
              <dt>{t('loan.grade')}</dt>
              <dd data-testid="loan-grade">{gradeText(t, a.grade, a.gradeMissing)}</dd>
              <dt>{t('loan.id')}</dt>
              <dd>
                <code className="id">{a.id}</code>
              </dd>
            </dl>
            <h3>{t('loan.matches')}</h3>
            <ul className="cards">
              {a.matches.map((m) => (
                <MatchCard
                  key={m.productId}
                  m={m}
                  enterpriseKey={props.enterpriseKey}
                  busy={action.busy}
                  onApprove={() => {
                    const key = props.enterpriseKey;
                    if (key && m.consentId) void act(() => approveConsent(m.consentId as string, m.consentBody, key));
                  }}
                  onReject={() =>
                    void act(() =>
                      query('mutation($id: ID!) { rejectConsent(id: $id) { id status } }', { id: m.consentId }),
                    )
                  }
                />
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** The enterprise's financing tab (shown at the easy-loan platform only). */
export function EnterpriseLoans(props: {
  uscc: string;
  enterpriseKey?: EnterpriseKey;
  onKey: (key?: EnterpriseKey) => void;
}) {
  const { t } = useT();
  const [registered, setRegistered] = useState<Registration>();
  const list = useLoad(
    () =>
      query<{ myLoanApplications: LoanApplication[] }>(`query { myLoanApplications { ${APPLICATION_FIELDS} } }`).then(
        (d) => d.myLoanApplications,
      ),
    [],
  );
  return (
    <>
      <Register registered={registered} latest={list.data?.[0]} onDone={setRegistered} />
      <Apply onFiled={() => void list.reload()} />
      <Applications list={list} enterpriseKey={props.enterpriseKey} />
      <Panel title={t('ent.key')}>
        <KeyLoader uscc={props.uscc} current={props.enterpriseKey} onKey={props.onKey} />
      </Panel>
    </>
  );
}
