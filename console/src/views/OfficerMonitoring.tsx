/**
 * The bank officer's post-loan monitoring (信用波动预警): the borrowers the bank watches, a
 * subscription to a borrower (under its post-loan-monitoring consent, checked by every node that
 * holds facts), and the alerts those nodes sent, to acknowledge with an optional note.
 */
import { useId, useState } from 'react';
import { validateUscc } from '../../../model/uscc.ts';
import { query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';

interface Borrower {
  uscc: string;
  consentId: string;
  since: string;
  status: string;
  endedAt: string | null;
  endReason: string | null;
}
interface MonitorResult {
  uscc: string;
  status: string;
  code: string | null;
  reason: string | null;
  holders: Record<string, string>;
}
interface Alert {
  id: string;
  uscc: string;
  kind: string;
  factId: string;
  subtype: string;
  section: string;
  severity: string | null;
  decisionDate: string;
  sourceUnit: string;
  origin: string;
  receivedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
}

/**
 * A page of alerts. The page size is a literal argument, which multiplies the fields' cost against
 * the node's query cost limit (5,000): 50 alerts of these 14 fields stay well under it.
 */
const ALERTS_PAGE = 50;
const ALERT_FIELDS =
  'id uscc kind factId subtype section severity decisionDate sourceUnit origin receivedAt acknowledgedAt acknowledgedBy note';

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'muted'> = { ACTIVE: 'ok', PAUSED: 'warn', ENDED: 'muted' };

function Borrowers() {
  const { t } = useT();
  const id = useId();
  const [input, setInput] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [result, setResult] = useState<MonitorResult>();
  const list = useLoad(
    () =>
      query<{ monitoredBorrowers: Borrower[] }>(
        'query { monitoredBorrowers { uscc consentId since status endedAt endReason } }',
      ).then((d) => d.monitoredBorrowers),
    [],
  );
  const action = useAction();
  const subscribe = async () => {
    setResult(undefined);
    const v = validateUscc(input.trim().toUpperCase());
    setInvalid(!v.valid);
    if (!v.valid) return;
    const r = await action.run(() =>
      query<{ monitorBorrower: MonitorResult }>(
        'mutation($u: String!) { monitorBorrower(uscc: $u) { uscc status code reason holders } }',
        { u: v.code },
      ),
    );
    if (r) {
      setResult(r.monitorBorrower);
      await list.reload();
    }
  };
  return (
    <Panel
      title={t('mon.borrowers')}
      testId="monitored"
      actions={
        <button type="button" className="secondary" onClick={() => void list.reload()}>
          {t('common.refresh')}
        </button>
      }
    >
      <p className="hint">{t('mon.explain')}</p>
      <form
        className="search"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void subscribe();
        }}
      >
        <label htmlFor={`${id}-uscc`}>{t('mon.uscc')}</label>
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
          <button type="submit" disabled={action.busy}>
            {t('mon.subscribe')}
          </button>
        </div>
        {invalid && (
          <p id={`${id}-bad`} className="notice notice-error" role="alert">
            {t('off.badUscc')}
          </p>
        )}
      </form>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
      {result && (
        <div
          className={`notice ${result.status === 'SUBSCRIBED' ? 'notice-info' : 'notice-error'}`}
          role="status"
          data-testid="monitor-result"
          data-status={result.status}
        >
          <strong>{t(`mon.result.${result.status}` as Key, {}, result.status)}</strong> {result.uscc}
          {result.code && (
            <p>
              {t(`err.${result.code}` as Key, {}, result.code)} <span className="code-tag">{result.code}</span>{' '}
              {result.reason}
            </p>
          )}
          <p className="small">
            {t('mon.holders')}{' '}
            {Object.entries(result.holders ?? {})
              .map(([node, answer]) => `${node}: ${answer}`)
              .join(', ') || '—'}
          </p>
        </div>
      )}
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('mon.none')}</Empty>}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('off.uscc')}</th>
                <th scope="col">{t('fed.state')}</th>
                <th scope="col">{t('mon.since')}</th>
                <th scope="col">{t('consent.id')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((b) => (
                <tr key={`${b.uscc}-${b.consentId}`} data-testid="borrower" data-status={b.status}>
                  <td>{b.uscc}</td>
                  <td>
                    <Badge tone={STATUS_TONE[b.status] ?? 'muted'}>
                      {t(`mon.status.${b.status}` as Key, {}, b.status)}
                    </Badge>
                    {b.endReason && <div className="muted small">{b.endReason}</div>}
                  </td>
                  <td>
                    <When at={b.since} />
                  </td>
                  <td>
                    <code className="id">{b.consentId.slice(0, 12)}…</code>
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

function Alerts() {
  const { t } = useT();
  const id = useId();
  const [unacknowledged, setUnacknowledged] = useState(true);
  const [selected, setSelected] = useState<string[]>([]);
  const [note, setNote] = useState('');
  const list = useLoad(
    () =>
      query<{ monitoringAlerts: Alert[] }>(
        `query($u: Boolean) { monitoringAlerts(unacknowledged: $u, first: ${ALERTS_PAGE}) { ${ALERT_FIELDS} } }`,
        { u: unacknowledged },
      ).then((d) => d.monitoringAlerts),
    [unacknowledged],
  );
  const action = useAction();
  const acknowledge = async () => {
    const done = await action.run(() =>
      query('mutation($ids: [ID!]!, $n: String) { acknowledgeAlerts(ids: $ids, note: $n) { id acknowledgedAt } }', {
        ids: selected,
        n: note.trim() || null,
      }),
    );
    if (done) {
      setSelected([]);
      setNote('');
      await list.reload();
    }
  };
  const alerts = list.data ?? [];
  return (
    <Panel
      title={t('mon.alerts')}
      testId="alerts"
      actions={
        <button type="button" className="secondary" onClick={() => void list.reload()}>
          {t('common.refresh')}
        </button>
      }
    >
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={unacknowledged} onChange={(e) => setUnacknowledged(e.target.checked)} />
          {t('mon.unackOnly')}
        </label>
      </div>
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && alerts.length === 0 && <Empty>{t('mon.noAlerts')}</Empty>}
      {alerts.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">{t('mon.acknowledge')}</span>
                </th>
                <th scope="col">{t('mon.kind')}</th>
                <th scope="col">{t('off.uscc')}</th>
                <th scope="col">{t('mon.fact')}</th>
                <th scope="col">{t('mon.origin')}</th>
                <th scope="col">{t('mon.received')}</th>
                <th scope="col">{t('mon.ack')}</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id} data-testid="alert" data-kind={a.kind} data-acknowledged={a.acknowledgedAt ? 1 : 0}>
                  <td>
                    {!a.acknowledgedAt && (
                      <input
                        type="checkbox"
                        aria-label={t('mon.select', { id: a.factId })}
                        checked={selected.includes(a.id)}
                        onChange={(e) =>
                          setSelected(e.target.checked ? [...selected, a.id] : selected.filter((x) => x !== a.id))
                        }
                      />
                    )}
                  </td>
                  <td>
                    <Badge tone={a.kind === 'NEW_FACT' || a.kind === 'OBJECTION_REJECTED' ? 'warn' : 'info'}>
                      {t(`mon.kind.${a.kind}` as Key, {}, a.kind)}
                    </Badge>
                  </td>
                  <td>{a.uscc}</td>
                  <td>
                    {t(`section.${a.section}` as Key, {}, a.section)} · {a.subtype}
                    {a.severity && ` · ${a.severity}`}
                    <div className="muted small">
                      {a.decisionDate} · {a.sourceUnit} · <code className="id">{a.factId}</code>
                    </div>
                  </td>
                  <td>{a.origin}</td>
                  <td>
                    <When at={a.receivedAt} />
                  </td>
                  <td>
                    {a.acknowledgedAt ? (
                      <>
                        <When at={a.acknowledgedAt} />
                        <div className="muted small">
                          {a.acknowledgedBy}
                          {a.note && ` · ${a.note}`}
                        </div>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {alerts.some((a) => !a.acknowledgedAt) && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void acknowledge();
          }}
        >
          <label htmlFor={`${id}-note`}>{t('mon.note')}</label>
          <input id={`${id}-note`} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          <div className="row">
            <button type="submit" disabled={action.busy || selected.length === 0}>
              {t('mon.acknowledge')} ({selected.length})
            </button>
          </div>
        </form>
      )}
      {action.error !== undefined && <ErrorNotice error={action.error} />}
    </Panel>
  );
}

/** The officer's post-loan monitoring tab (at a bank's node). */
export function OfficerMonitoring() {
  return (
    <>
      <Borrowers />
      <Alerts />
    </>
  );
}
