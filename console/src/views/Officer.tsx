/**
 * The bank officer's console: find an enterprise by USCC, see the consents granted to the bank,
 * request one, read the consented profile (each section with the node that served it), download
 * the signed credit report, and run joint queries (OfficerJoint); at a bank's node, the loan
 * applications the easy-loan platform forwarded (OfficerLoans) and post-loan monitoring
 * (OfficerMonitoring).
 */
import { useId, useState } from 'react';
import { validateUscc } from '../../../model/uscc.ts';
import { ApiError, gql, query } from '../api.ts';
import { Empty, ErrorNotice, Loading, Panel, Tabs, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { SECTIONS, sectionSelection } from '../sections.ts';
import { CONSENT_FIELDS, type Consent, ConsentStatus, Scopes } from './consent-common.tsx';
import { OfficerJoint } from './OfficerJoint.tsx';
import { OfficerLoans } from './OfficerLoans.tsx';
import { OfficerMonitoring } from './OfficerMonitoring.tsx';
import { ProfileView, type ReadResult } from './ProfileView.tsx';

interface Purpose {
  id: string;
  description: string;
  maxDays: number;
  scopes: string[];
}

function RequestForm(props: { uscc: string; onDone: () => void }) {
  const { t } = useT();
  const id = useId();
  const purposes = useLoad(
    () => query<{ purposes: Purpose[] }>('query { purposes { id description maxDays scopes } }'),
    [],
  );
  const [purpose, setPurpose] = useState('loan-application');
  const [scopes, setScopes] = useState<string[]>(['registration', 'tax']);
  const [days, setDays] = useState(30);
  const action = useAction();
  const p = purposes.data?.purposes.find((x) => x.id === purpose);
  const submit = async () => {
    const done = await action.run(() =>
      query(`mutation($i: ConsentRequestInput!) { requestConsent(input: $i) { id status } }`, {
        i: { enterprise: props.uscc, scopes, purpose, days },
      }),
    );
    if (done) props.onDone();
  };
  return (
    <form
      className="stack"
      data-testid="request-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {purposes.error !== undefined && <ErrorNotice error={purposes.error} />}
      <label htmlFor={`${id}-purpose`}>{t('consent.purpose')}</label>
      <select id={`${id}-purpose`} value={purpose} onChange={(e) => setPurpose(e.target.value)}>
        {(purposes.data?.purposes ?? []).map((x) => (
          <option key={x.id} value={x.id}>
            {t(`purpose.${x.id}` as Key, {}, x.description)}
          </option>
        ))}
      </select>
      <fieldset>
        <legend>{t('consent.sections')}</legend>
        <div className="checks">
          {(p?.scopes ?? []).map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />
              {t(`section.${s}` as Key, {}, s)}
            </label>
          ))}
        </div>
      </fieldset>
      <label htmlFor={`${id}-days`}>{t('consent.durationDays')}</label>
      <input
        id={`${id}-days`}
        type="number"
        min={1}
        max={p?.maxDays ?? 365}
        value={days}
        onChange={(e) => setDays(Number(e.target.value))}
      />
      <div className="row">
        <button type="submit" disabled={action.busy || scopes.length === 0}>
          {t('off.request')}
        </button>
      </div>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
    </form>
  );
}

/** The sections a consent lets the bank read. */
const sectionsOf = (c: Consent | undefined) =>
  (c?.scopes ?? ['registration']).filter((s) => (SECTIONS as readonly string[]).includes(s));

function download(name: string, content: string) {
  const url = URL.createObjectURL(new Blob([content], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function EnterpriseLookup(props: { uscc: string }) {
  const { t } = useT();
  const [chosen, setChosen] = useState<string>();
  const [read, setRead] = useState<ReadResult>();
  const [reads, setReads] = useState(0);
  const consents = useLoad(
    () =>
      query<{ consents: Consent[]; keyBinding: { issuer: string; issuedAt: string } | null }>(
        `query($u: String!) { consents(uscc: $u, first: 50) { ${CONSENT_FIELDS} } keyBinding(uscc: $u) { issuer issuedAt } }`,
        { u: props.uscc },
      ),
    [props.uscc],
  );
  const list = [...(consents.data?.consents ?? [])].sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
  // The consent to read under: the one chosen, else the newest live one, else the newest of any status.
  const consent = list.find((c) => c.id === chosen) ?? list.find((c) => c.status === 'ACTIVE') ?? list[0];
  const reading = useAction();
  const report = useAction();
  const purpose = consent?.purpose ?? 'loan-application';

  const readProfile = async () => {
    setRead(undefined);
    const sections = sectionsOf(consent);
    const q = `query($u: String!, $p: String!, $c: ID) { enterprise(uscc: $u, purpose: $p, consentId: $c) {
      uscc servedBy { section node } unavailable ${sections.map(sectionSelection).join(' ')} } }`;
    const r = await reading.run(() =>
      gql<{ enterprise: Record<string, unknown> | null }>(q, { u: props.uscc, p: purpose, c: consent?.id }),
    );
    if (r)
      setRead({
        sections,
        profile: r.data?.enterprise ?? null,
        errors: r.errors.map(ApiError.of),
        errorPaths: r.errors.map((e) => e.path ?? []),
      });
    setReads((n) => n + 1);
    void consents.reload();
  };
  const downloadReport = () =>
    report.run(async () => {
      const { creditReport } = await query<{
        creditReport: { reportId: string; document: string; signature: string; signedBy: string };
      }>(
        'query($u: String!, $p: String!, $c: ID) { creditReport(uscc: $u, purpose: $p, consentId: $c) { reportId document signature signedBy } }',
        { u: props.uscc, p: purpose, c: consent?.id },
      );
      const { document, signature, signedBy } = creditReport;
      download(
        `credit-report-${props.uscc}-${creditReport.reportId}.json`,
        `${JSON.stringify({ document, signature, signedBy }, null, 2)}\n`,
      );
    });

  return (
    <>
      <Panel
        title={t('off.consents', { uscc: props.uscc })}
        testId="officer-consents"
        actions={
          <button type="button" className="secondary" onClick={() => void consents.reload()}>
            {t('common.refresh')}
          </button>
        }
      >
        {consents.error !== undefined && <ErrorNotice error={consents.error} />}
        {consents.loading && !consents.data && <Loading />}
        {consents.data && (
          <p className="muted">
            {consents.data.keyBinding ? t('off.bound', { node: consents.data.keyBinding.issuer }) : t('off.unbound')}
          </p>
        )}
        {consents.data && list.length === 0 && <Empty>{t('off.noConsents')}</Empty>}
        {list.length > 0 && (
          <fieldset className="choices">
            <legend>{t('off.readUnder')}</legend>
            {list.map((c) => (
              <label key={c.id} className="choice" data-testid="consent" data-status={c.status}>
                <input type="radio" name="consent" checked={consent?.id === c.id} onChange={() => setChosen(c.id)} />
                <span>
                  <ConsentStatus status={c.status} /> {t(`purpose.${c.purpose}` as Key, {}, c.purpose)} ·{' '}
                  {t('prof.until')} <When at={c.expiresAt} />
                  <Scopes scopes={c.scopes} />
                </span>
              </label>
            ))}
          </fieldset>
        )}
        <div className="row">
          <button type="button" onClick={() => void readProfile()} disabled={reading.busy}>
            {t('off.read')}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => void downloadReport()}
            disabled={report.busy || !consent}
          >
            {t('off.report')}
          </button>
        </div>
        {report.error !== undefined && <ErrorNotice error={report.error} />}
      </Panel>
      <Panel title={t('off.profile')} testId="officer-profile" data={{ 'data-reads': reads }}>
        {reading.busy && <Loading />}
        {reading.error !== undefined && <ErrorNotice error={reading.error} />}
        {read ? <ProfileView result={read} /> : !reading.busy && <Empty>{t('off.notRead')}</Empty>}
      </Panel>
      <Panel title={t('off.requestTitle')}>
        <RequestForm uscc={props.uscc} onDone={() => void consents.reload()} />
      </Panel>
    </>
  );
}

type Tab = 'lookup' | 'joint' | 'loans' | 'monitoring';

/** The bank officer's main view; the loan tabs where the node is a bank (`nodeRole`), which has a lending desk. */
export function Officer(props: { bank?: string; nodeRole?: string }) {
  const { t } = useT();
  const id = useId();
  const lends = props.nodeRole === 'bank';
  const [tab, setTab] = useState<Tab>('lookup');
  const [input, setInput] = useState('');
  const [uscc, setUscc] = useState<string>();
  const [invalid, setInvalid] = useState(false);
  const find = () => {
    const r = validateUscc(input.trim().toUpperCase());
    setInvalid(!r.valid);
    if (r.valid) setUscc(r.code);
  };
  return (
    <>
      <Tabs
        label={t('nav.officer')}
        current={tab}
        onChange={setTab}
        tabs={[
          { id: 'lookup', label: t('off.tab.lookup') },
          { id: 'joint', label: t('off.tab.joint') },
          ...(lends
            ? [
                { id: 'loans' as const, label: t('off.tab.loans') },
                { id: 'monitoring' as const, label: t('off.tab.monitoring') },
              ]
            : []),
        ]}
      />
      {tab === 'lookup' && (
        <>
          <Panel title={t('off.find')}>
            <form
              className="search"
              onSubmit={(e) => {
                e.preventDefault();
                find();
              }}
            >
              <label htmlFor={`${id}-uscc`}>{t('off.uscc')}</label>
              <div className="row">
                <input
                  id={`${id}-uscc`}
                  value={input}
                  maxLength={18}
                  autoComplete="off"
                  spellCheck={false}
                  aria-invalid={invalid}
                  aria-describedby={invalid ? `${id}-bad` : undefined}
                  onChange={(e) => setInput(e.target.value)}
                />
                <button type="submit">{t('off.search')}</button>
              </div>
              {invalid && (
                <p id={`${id}-bad`} className="notice notice-error" role="alert">
                  {t('off.badUscc')}
                </p>
              )}
              {props.bank && <p className="muted small">{t('off.asBank', { bank: props.bank })}</p>}
            </form>
          </Panel>
          {uscc && <EnterpriseLookup key={uscc} uscc={uscc} />}
        </>
      )}
      {tab === 'joint' && <OfficerJoint initial={uscc} />}
      {tab === 'loans' && lends && (
        <OfficerLoans
          onOpen={(u) => {
            setInput(u);
            setInvalid(false);
            setUscc(u);
            setTab('lookup');
          }}
        />
      )}
      {tab === 'monitoring' && lends && <OfficerMonitoring />}
    </>
  );
}
