/**
 * The enterprise's console: consent requests to approve (signed here with its own key) or reject,
 * its consents to pause, resume or revoke, every access to its data with proofs verified in the
 * browser, its profile as banks see it, its grade and its objections.
 */
import { type ReactNode, useState } from 'react';
import { query } from '../api.ts';
import { Empty, ErrorNotice, Loading, Panel, Tabs, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import type { EnterpriseKey } from '../lib/consent-sign.ts';
import { approveConsent, CONSENT_FIELDS, type Consent, ConsentStatus, Scopes } from './consent-common.tsx';
import { EnterpriseAccess } from './EnterpriseAccess.tsx';
import { EnterpriseLoans } from './EnterpriseLoans.tsx';
import { EnterpriseProfile } from './EnterpriseProfile.tsx';
import { KeyLoader } from './KeyLoader.tsx';

const days = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);

function ConsentCard(props: { c: Consent; children?: ReactNode }) {
  const { t } = useT();
  const c = props.c;
  return (
    <li className="card" data-testid="consent" data-consent-id={c.id} data-status={c.status}>
      <div className="card-head">
        <strong>{c.grantee}</strong>
        {c.officer && <span className="muted"> · {c.officer}</span>}
        <ConsentStatus status={c.status} />
      </div>
      <dl className="facts">
        <dt>{t('consent.purpose')}</dt>
        <dd>{t(`purpose.${c.purpose}` as Key, {}, c.purpose)}</dd>
        <dt>{t('consent.sections')}</dt>
        <dd>
          <Scopes scopes={c.scopes} />
        </dd>
        <dt>{t('consent.duration')}</dt>
        <dd>
          {t('consent.days', { n: days(c.notBefore, c.expiresAt) })} (<When at={c.notBefore} /> –{' '}
          <When at={c.expiresAt} />)
        </dd>
        <dt>{t('consent.uses')}</dt>
        <dd>{c.maxUses === null ? `${c.uses}` : `${c.uses} / ${c.maxUses}`}</dd>
        <dt>{t('consent.retention')}</dt>
        <dd>{t('consent.days', { n: c.retentionDays })}</dd>
        <dt>{t('consent.id')}</dt>
        <dd>
          <code className="id">{c.id}</code>
        </dd>
      </dl>
      {props.children}
    </li>
  );
}

const newestFirst = (list: Consent[]) => [...list].sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));

/**
 * The enterprise's consents by status, in two requests so that each stays under the node's query
 * cost limit: the requests to approve (with the body to sign) and the live ones, then the past ones.
 */
async function loadConsents() {
  const page = (status: string, fields = CONSENT_FIELDS) =>
    `${status.toLowerCase()}: consents(status: ${status}, first: 50) { ${fields} }`;
  type Listed = Record<string, Consent[]>;
  const [live, past] = await Promise.all([
    query<Listed>(`query { ${page('REQUESTED', `${CONSENT_FIELDS} body`)} ${page('ACTIVE')} ${page('PAUSED')} }`),
    query<Listed>(`query { ${['REVOKED', 'REJECTED', 'EXPIRED'].map((s) => page(s)).join(' ')} }`),
  ]);
  return {
    pending: newestFirst(live.requested),
    live: newestFirst([...live.active, ...live.paused]),
    past: newestFirst([...past.revoked, ...past.rejected, ...past.expired]),
  };
}

function Consents(props: { uscc: string; enterpriseKey?: EnterpriseKey; onKey: (key?: EnterpriseKey) => void }) {
  const { t } = useT();
  const key = props.enterpriseKey;
  const [confirming, setConfirming] = useState<string>();
  const list = useLoad(loadConsents, []);
  const action = useAction();
  const act = async (run: () => Promise<unknown>) => {
    setConfirming(undefined);
    const done = await action.run(run);
    if (done) await list.reload();
  };
  const approve = (c: Consent) => key && act(() => approveConsent(c.id, c.body, key));
  const transition = (name: string, c: Consent) =>
    act(() => query(`mutation($id: ID!) { ${name}(id: $id) { id status } }`, { id: c.id }));

  const { pending = [], live = [], past = [] } = list.data ?? {};
  const reload = (
    <button type="button" className="secondary" onClick={() => void list.reload()}>
      {t('common.refresh')}
    </button>
  );
  return (
    <>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
      <Panel title={t('ent.pending')} actions={reload} testId="pending-requests">
        {list.error !== undefined && <ErrorNotice error={list.error} />}
        {list.loading && !list.data && <Loading />}
        {list.data && pending.length === 0 && <Empty>{t('ent.noPending')}</Empty>}
        {pending.length > 0 && !key && <p className="notice notice-info">{t('ent.needKey')}</p>}
        <ul className="cards">
          {pending.map((c) => (
            <ConsentCard key={c.id} c={c}>
              <div className="row">
                <button type="button" disabled={!key || action.busy} onClick={() => void approve(c)}>
                  {t('ent.approve')}
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={action.busy}
                  onClick={() => void transition('rejectConsent', c)}
                >
                  {t('ent.reject')}
                </button>
              </div>
            </ConsentCard>
          ))}
        </ul>
      </Panel>
      <Panel title={t('ent.key')}>
        <KeyLoader uscc={props.uscc} current={key} onKey={props.onKey} />
      </Panel>
      <Panel title={t('ent.active')} testId="active-consents">
        {list.data && live.length === 0 && <Empty>{t('ent.noActive')}</Empty>}
        <ul className="cards">
          {live.map((c) => (
            <ConsentCard key={c.id} c={c}>
              <div className="row">
                {c.status === 'ACTIVE' ? (
                  <button
                    type="button"
                    className="secondary"
                    disabled={action.busy}
                    onClick={() => void transition('pauseConsent', c)}
                  >
                    {t('ent.pause')}
                  </button>
                ) : (
                  <button
                    type="button"
                    className="secondary"
                    disabled={action.busy}
                    onClick={() => void transition('resumeConsent', c)}
                  >
                    {t('ent.resume')}
                  </button>
                )}
                {confirming === c.id ? (
                  <>
                    <button
                      type="button"
                      className="danger"
                      disabled={action.busy}
                      onClick={() => void transition('revokeConsent', c)}
                    >
                      {t('ent.confirmRevoke')}
                    </button>
                    <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
                      {t('common.cancel')}
                    </button>
                  </>
                ) : (
                  <button type="button" className="danger" disabled={action.busy} onClick={() => setConfirming(c.id)}>
                    {t('ent.revoke')}
                  </button>
                )}
              </div>
            </ConsentCard>
          ))}
        </ul>
      </Panel>
      {past.length > 0 && (
        <Panel title={t('ent.past')}>
          <ul className="cards compact">
            {past.map((c) => (
              <ConsentCard key={c.id} c={c} />
            ))}
          </ul>
        </Panel>
      )}
    </>
  );
}

type Tab = 'loans' | 'consents' | 'access' | 'profile';

/**
 * The enterprise's main view. At the easy-loan platform (`nodeRole` easy-loan), where it applies
 * for financing, the financing tab comes first; elsewhere there is none. The key, once loaded,
 * serves every tab until the page is reloaded.
 */
export function Enterprise(props: { uscc: string; nodeRole?: string }) {
  const { t } = useT();
  const loans = props.nodeRole === 'easy-loan';
  const [tab, setTab] = useState<Tab>(loans ? 'loans' : 'consents');
  const [key, setKey] = useState<EnterpriseKey>();
  return (
    <>
      <Tabs
        label={t('nav.enterprise')}
        current={tab}
        onChange={setTab}
        tabs={[
          ...(loans ? [{ id: 'loans' as const, label: t('ent.tab.loans') }] : []),
          { id: 'consents', label: t('ent.tab.consents') },
          { id: 'access', label: t('ent.tab.access') },
          { id: 'profile', label: t('ent.tab.profile') },
        ]}
      />
      {tab === 'loans' && loans && <EnterpriseLoans uscc={props.uscc} enterpriseKey={key} onKey={setKey} />}
      {tab === 'consents' && <Consents uscc={props.uscc} enterpriseKey={key} onKey={setKey} />}
      {tab === 'access' && <EnterpriseAccess uscc={props.uscc} />}
      {tab === 'profile' && <EnterpriseProfile uscc={props.uscc} />}
    </>
  );
}
