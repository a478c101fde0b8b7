/**
 * The auditor's console: this node's access log by bank, purpose, decision and time range
 * (auditEntries: enterprises and consents appear only as commitments), the checkpoint history
 * with each checkpoint's signature and cosignatures verified in the browser, and the witnesses'
 * split-view alarms.
 */
import { useId, useState } from 'react';
import { fetchLogKeys, query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { verifyCheckpoint } from '../lib/verify.ts';
import { SplitViewAlarms, VerdictBadge } from './Federation.tsx';

interface AuditEntry {
  index: number;
  time: string;
  node: string;
  principal: string;
  action: string;
  decision: string;
  reason: string | null;
  purpose: string | null;
  consentRef: string | null;
  scopes: string[];
}
interface Filter {
  bank: string;
  purpose: string;
  decision: string;
  from: string;
  to: string;
}

/** A `datetime-local` value as an ISO instant (undefined when empty). */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function AccessLog() {
  const { t } = useT();
  const id = useId();
  const [draft, setDraft] = useState<Filter>({ bank: '', purpose: '', decision: '', from: '', to: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const r = useLoad(
    () =>
      query<{ auditEntries: { entries: AuditEntry[]; scanned: number; truncated: boolean } }>(
        `query($f: AuditFilter) { auditEntries(filter: $f) { scanned truncated
          entries { index time node principal action decision reason purpose consentRef scopes } } }`,
        {
          f: {
            first: 200,
            ...(filter.bank ? { bank: filter.bank.trim() } : {}),
            ...(filter.purpose ? { purpose: filter.purpose } : {}),
            ...(filter.decision ? { decision: filter.decision } : {}),
            ...(filter.from ? { from: iso(filter.from) } : {}),
            ...(filter.to ? { to: iso(filter.to) } : {}),
          },
        },
      ).then((d) => d.auditEntries),
    [filter],
  );
  const set = (k: keyof Filter) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  return (
    <Panel title={t('aud.title')} testId="audit-log">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
        }}
      >
        <div>
          <label htmlFor={`${id}-bank`}>{t('aud.bank')}</label>
          <input id={`${id}-bank`} value={draft.bank} onChange={set('bank')} placeholder="bank-a" />
        </div>
        <div>
          <label htmlFor={`${id}-purpose`}>{t('consent.purpose')}</label>
          <select id={`${id}-purpose`} value={draft.purpose} onChange={set('purpose')}>
            <option value="">{t('aud.any')}</option>
            {['loan-application', 'post-loan-monitoring', 'credit-evaluation', 'supply-chain-finance'].map((p) => (
              <option key={p} value={p}>
                {t(`purpose.${p}` as Key, {}, p)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-decision`}>{t('aud.decision')}</label>
          <select id={`${id}-decision`} value={draft.decision} onChange={set('decision')}>
            <option value="">{t('aud.any')}</option>
            <option value="ALLOW">{t('decision.ALLOW')}</option>
            <option value="DENY">{t('decision.DENY')}</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-from`}>{t('aud.from')}</label>
          <input id={`${id}-from`} type="datetime-local" value={draft.from} onChange={set('from')} />
        </div>
        <div>
          <label htmlFor={`${id}-to`}>{t('aud.to')}</label>
          <input id={`${id}-to`} type="datetime-local" value={draft.to} onChange={set('to')} />
        </div>
        <div className="row end">
          <button type="submit">{t('aud.apply')}</button>
        </div>
      </form>
      {r.error !== undefined && <ErrorNotice error={r.error} />}
      {r.loading && <Loading />}
      {r.data && (
        <p className="muted" role="status">
          {t('aud.count', { n: r.data.entries.length, scanned: r.data.scanned })}
          {r.data.truncated && ` ${t('aud.truncated')}`}
        </p>
      )}
      {r.data && r.data.entries.length === 0 && <Empty>{t('aud.none')}</Empty>}
      {r.data && r.data.entries.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('access.when')}</th>
                <th scope="col">{t('access.who')}</th>
                <th scope="col">{t('access.what')}</th>
                <th scope="col">{t('access.purpose')}</th>
                <th scope="col">{t('aud.scopes')}</th>
              </tr>
            </thead>
            <tbody>
              {r.data.entries.map((e) => (
                <tr key={e.index} data-testid="audit-row">
                  <td>{e.index}</td>
                  <td>
                    <When at={e.time} />
                  </td>
                  <td>
                    {e.principal}
                    <div className="muted small">{e.node}</div>
                  </td>
                  <td>
                    {t(`action.${e.action}` as Key, {}, e.action)}{' '}
                    <Badge tone={e.decision === 'ALLOW' ? 'ok' : 'bad'}>
                      {t(`decision.${e.decision}` as Key, {}, e.decision)}
                    </Badge>
                    {e.reason && <div className="muted small">{e.reason}</div>}
                  </td>
                  <td>{e.purpose ? t(`purpose.${e.purpose}` as Key, {}, e.purpose) : '—'}</td>
                  <td className="small">{e.scopes.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

function Checkpoints() {
  const { t } = useT();
  const c = useLoad(async () => {
    const [d, keys] = await Promise.all([
      query<{ checkpoints: Array<{ size: number; root: string; note: string; witnesses: string[] }> }>(
        'query { checkpoints(first: 20) { size root note witnesses } }',
      ),
      fetchLogKeys(),
    ]);
    return d.checkpoints.map((cp) => ({ ...cp, verdict: verifyCheckpoint(cp.note, keys) }));
  }, []);
  return (
    <Panel title={t('aud.checkpoints')} testId="checkpoints">
      <p className="hint">{t('aud.checkpointsExplain')}</p>
      {c.error !== undefined && <ErrorNotice error={c.error} />}
      {c.loading && <Loading />}
      {c.data && c.data.length === 0 && <Empty>{t('aud.noCheckpoints')}</Empty>}
      {c.data && c.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('aud.size')}</th>
                <th scope="col">{t('aud.root')}</th>
                <th scope="col">{t('aud.cosigners')}</th>
                <th scope="col">{t('aud.verified')}</th>
              </tr>
            </thead>
            <tbody>
              {c.data.map((cp) => (
                <tr key={`${cp.size}-${cp.root}`}>
                  <td>{cp.size}</td>
                  <td>
                    <code className="id">{cp.root.slice(0, 16)}…</code>
                  </td>
                  <td className="small">{cp.witnesses.join(', ') || '—'}</td>
                  <td>
                    <VerdictBadge verdict={cp.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** The auditor's main view. */
export function Auditor() {
  return (
    <div className="dashboard">
      <AccessLog />
      <Checkpoints />
      <SplitViewAlarms />
    </div>
  );
}
