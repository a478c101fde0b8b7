/**
 * The platform operator's console at the Credit Easy-Loan platform (信易贷): the platform's totals
 * (registered, with a bound key, authorised, applications, matches, decisions, approvals, amounts
 * granted, enterprises with a loan, median time to decision), the plan's two shares, and the same
 * figures by city and industry as a chart and a table.
 */
import { query } from '../api.ts';
import { BarChart, Empty, ErrorNotice, Loading, Panel, useLoad, When } from '../components.tsx';
import { type Key, type Translate, useT } from '../i18n.tsx';
import { industryLabel } from './loan-common.tsx';

interface Row {
  city: string;
  industry: string;
  registered: number;
  boundKey: number;
  authorised: number;
  applications: number;
  matches: number;
  forwarded: number;
  decisions: number;
  approvals: number;
  refusals: number;
  grantedYuan: number;
  enterprisesWithLoan: number;
  medianDecisionSeconds: number | null;
}
interface Figures {
  at: string;
  totals: Row;
  rows: Row[];
  authorisedShare: number | null;
  loanShare: number | null;
}

const ROW_FIELDS =
  'city industry registered boundKey authorised applications matches forwarded decisions approvals refusals grantedYuan enterprisesWithLoan medianDecisionSeconds';

/** The counted columns, in the order the table shows them. */
const COUNTS = [
  ['registered', 'plat.registered'],
  ['boundKey', 'plat.boundKey'],
  ['authorised', 'plat.authorised'],
  ['applications', 'plat.applications'],
  ['matches', 'plat.matches'],
  ['forwarded', 'plat.forwarded'],
  ['decisions', 'plat.decisions'],
  ['approvals', 'plat.approvals'],
  ['refusals', 'plat.refusals'],
  ['enterprisesWithLoan', 'plat.withLoan'],
] as const satisfies ReadonlyArray<readonly [keyof Row, Key]>;

const share = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const seconds = (t: Translate, s: number | null) =>
  s === null ? '—' : t('plat.seconds', { n: s < 10 ? s.toFixed(1) : Math.round(s) });

function Totals({ f }: { f: Figures }) {
  const { t } = useT();
  return (
    <>
      <ul className="stats" data-testid="platform-totals">
        {COUNTS.map(([k, label]) => (
          <li key={k} data-figure={k} data-value={f.totals[k]}>
            <span className="stat-value">{f.totals[k].toLocaleString()}</span>
            <span className="stat-label">{t(label)}</span>
          </li>
        ))}
        <li data-figure="grantedYuan" data-value={f.totals.grantedYuan}>
          <span className="stat-value">{f.totals.grantedYuan.toLocaleString()}</span>
          <span className="stat-label">{t('plat.granted')}</span>
        </li>
        <li data-figure="medianDecisionSeconds">
          <span className="stat-value">{seconds(t, f.totals.medianDecisionSeconds)}</span>
          <span className="stat-label">{t('plat.median')}</span>
        </li>
      </ul>
      <p className="muted small">
        {t('plat.at')} <When at={f.at} />
      </p>
    </>
  );
}

function Shares({ f }: { f: Figures }) {
  const { t } = useT();
  const bar = (label: string, value: number | null, testId: string) => (
    <div className="share" data-testid={testId} data-value={value ?? ''}>
      <div className="share-head">
        <span>{label}</span> <strong>{share(value)}</strong>
      </div>
      <meter className="share-meter" aria-label={label} min={0} max={1} value={value ?? 0}>
        {share(value)}
      </meter>
    </div>
  );
  return (
    <Panel title={t('plat.shares')} testId="platform-shares">
      <p className="hint">{t('plat.sharesExplain')}</p>
      {bar(t('plat.authorisedShare'), f.authorisedShare, 'authorised-share')}
      {bar(t('plat.loanShare'), f.loanShare, 'loan-share')}
    </Panel>
  );
}

function ByCityAndIndustry({ f }: { f: Figures }) {
  const { t } = useT();
  const label = (r: Row) => `${t(`city.${r.city}` as Key, {}, r.city)} · ${industryLabel(t, r.industry)}`;
  const rows = [...f.rows].sort((a, b) => a.city.localeCompare(b.city) || a.industry.localeCompare(b.industry));
  return (
    <Panel title={t('plat.byCity')} testId="platform-rows">
      {rows.length === 0 && <Empty>{t('plat.none')}</Empty>}
      {rows.length > 0 && (
        <>
          <BarChart
            title={t('plat.chart')}
            series={[t('plat.applications'), t('plat.approvals'), t('plat.withLoan')]}
            rows={rows.map((r) => ({
              label: label(r),
              values: [r.applications, r.approvals, r.enterprisesWithLoan],
            }))}
          />
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('plat.city')}</th>
                  <th scope="col">{t('plat.industry')}</th>
                  {COUNTS.map(([k, l]) => (
                    <th key={k} scope="col">
                      {t(l)}
                    </th>
                  ))}
                  <th scope="col">{t('plat.granted')}</th>
                  <th scope="col">{t('plat.median')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr
                    key={`${r.city}-${r.industry}`}
                    data-testid="figure-row"
                    data-city={r.city}
                    data-industry={r.industry}
                  >
                    <th scope="row">{t(`city.${r.city}` as Key, {}, r.city)}</th>
                    <td>{industryLabel(t, r.industry)}</td>
                    {COUNTS.map(([k]) => (
                      <td key={k} data-figure={k}>
                        {r[k]}
                      </td>
                    ))}
                    <td>{r.grantedYuan.toLocaleString()}</td>
                    <td>{seconds(t, r.medianDecisionSeconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Panel>
  );
}

/** The platform operator's main view. */
export function Platform() {
  const { t } = useT();
  const f = useLoad(
    () =>
      query<{ platformFigures: Figures }>(
        `query { platformFigures { at authorisedShare loanShare totals { ${ROW_FIELDS} } rows { ${ROW_FIELDS} } } }`,
      ).then((d) => d.platformFigures),
    [],
  );
  return (
    <div className="dashboard">
      <Panel
        title={t('plat.title')}
        testId="platform-figures"
        actions={
          <button type="button" className="secondary" onClick={() => void f.reload()}>
            {t('common.refresh')}
          </button>
        }
      >
        {f.error !== undefined && <ErrorNotice error={f.error} />}
        {f.loading && !f.data && <Loading />}
        {f.data && <Totals f={f.data} />}
      </Panel>
      {f.data && <Shares f={f.data} />}
      {f.data && <ByCityAndIndustry f={f.data} />}
    </div>
  );
}
