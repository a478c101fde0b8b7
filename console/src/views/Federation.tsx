/**
 * Federation health (members, roster version, each member's last checkpoint, this node's newest
 * cosigned checkpoint verified here) and the witnesses' alarms (split views, inconsistent or
 * rolled-back logs, quarantined members). Shared by the credit centre's and the auditor's views.
 */
import { fetchLogKeys, query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { type Verdict, verifyCheckpoint } from '../lib/verify.ts';

interface Member {
  nodeId: string;
  name: string;
  role: string;
  city: string | null;
  up: boolean;
  lastSeen: string | null;
  rttMs: number | null;
  rosterVersion: number | null;
  checkpointSize: number | null;
  quarantined: boolean;
}
interface Alarm {
  kind: string;
  nodeId: string | null;
  origin: string | null;
  at: string | null;
  detail: string;
}
interface FederationInfo {
  nodeId: string;
  rosterVersion: number;
  members: Member[];
  alarms: Alarm[];
  quarantined: string[];
}
interface Checkpoint {
  size: number;
  root: string;
  note: string;
  witnesses: string[];
}

const FEDERATION_QUERY = `query { federation { nodeId rosterVersion quarantined
  members { nodeId name role city up lastSeen rttMs rosterVersion checkpointSize quarantined }
  alarms { kind nodeId origin at detail } }
  accessLog { origin size witnessQuorum latestCheckpoint { size root note witnesses } } }`;

/** A verification verdict as a badge. */
export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  const { t } = useT();
  if (verdict.status === 'verified')
    return <Badge tone="ok">✓ {t('proof.cosigned', { n: verdict.witnesses.length, of: verdict.required })}</Badge>;
  if (verdict.status === 'unwitnessed') return <Badge tone="warn">⚠ {verdict.reason}</Badge>;
  return <Badge tone="bad">✗ {verdict.reason}</Badge>;
}

function useFederation() {
  return useLoad(async () => {
    const [d, keys] = await Promise.all([
      query<{
        federation: FederationInfo | null;
        accessLog: { origin: string; size: number; latestCheckpoint: Checkpoint | null };
      }>(FEDERATION_QUERY),
      fetchLogKeys(),
    ]);
    const cp = d.accessLog.latestCheckpoint;
    return { ...d, verdict: cp ? verifyCheckpoint(cp.note, keys) : undefined };
  }, []);
}

export function FederationHealth() {
  const { t } = useT();
  const f = useFederation();
  const fed = f.data?.federation;
  const cp = f.data?.accessLog.latestCheckpoint;
  return (
    <Panel
      title={t('fed.title')}
      testId="federation"
      actions={
        <button type="button" className="secondary" onClick={() => void f.reload()}>
          {t('common.refresh')}
        </button>
      }
    >
      {f.error !== undefined && <ErrorNotice error={f.error} />}
      {f.loading && !f.data && <Loading />}
      {f.data && !fed && <Empty>{t('fed.standalone')}</Empty>}
      {fed && (
        <>
          <p>
            {t('fed.roster', {
              v: fed.rosterVersion,
              n: fed.members.length,
              up: fed.members.filter((m) => m.up).length,
            })}
          </p>
          {cp && f.data?.verdict && (
            <p>
              {t('fed.ownCheckpoint', { size: cp.size })} <VerdictBadge verdict={f.data.verdict} />{' '}
              <span className="muted small">{cp.witnesses.join(', ')}</span>
            </p>
          )}
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('fed.node')}</th>
                  <th scope="col">{t('fed.role')}</th>
                  <th scope="col">{t('fed.state')}</th>
                  <th scope="col">{t('fed.checkpoint')}</th>
                  <th scope="col">{t('fed.rosterCol')}</th>
                  <th scope="col">{t('fed.lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {fed.members.map((m) => (
                  <tr key={m.nodeId} data-testid="member">
                    <th scope="row">
                      {m.nodeId}
                      {m.nodeId === fed.nodeId && <span className="muted small"> ({t('fed.self')})</span>}
                    </th>
                    <td>
                      {t(`role.${m.role}` as Key, {}, m.role)}
                      {m.city && ` · ${m.city}`}
                    </td>
                    <td>
                      <Badge tone={m.quarantined ? 'bad' : m.up ? 'ok' : 'warn'}>
                        {m.quarantined ? t('fed.quarantined') : m.up ? t('fed.up') : t('fed.down')}
                      </Badge>
                      {m.rttMs !== null && <span className="muted small"> {Math.round(m.rttMs)} ms</span>}
                    </td>
                    <td>{m.checkpointSize ?? '—'}</td>
                    <td>{m.rosterVersion ?? '—'}</td>
                    <td>
                      <When at={m.lastSeen} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {fed && <Alarms alarms={fed.alarms} quarantined={fed.quarantined} />}
    </Panel>
  );
}

export function Alarms(props: { alarms: Alarm[]; quarantined: string[]; splitViewOnly?: boolean }) {
  const { t } = useT();
  const shown = props.splitViewOnly
    ? props.alarms.filter((a) => ['SPLIT_VIEW', 'INCONSISTENT', 'ROLLBACK', 'BAD_SIGNATURE'].includes(a.kind))
    : props.alarms;
  return (
    <div data-testid="alarms">
      {!props.splitViewOnly && <h3>{t('fed.alarms')}</h3>}
      {props.quarantined.length > 0 && (
        <div className="notice notice-error" role="alert">
          {t('fed.quarantinedList', { nodes: props.quarantined.join(', ') })}
        </div>
      )}
      {shown.length === 0 ? (
        <p>
          <Badge tone="ok">{t('fed.noAlarms')}</Badge>
        </p>
      ) : (
        <ul className="cards compact">
          {shown.map((a) => (
            <li key={`${a.kind}-${a.nodeId}-${a.at}-${a.detail}`} className="card">
              <Badge tone="bad">{a.kind}</Badge> {a.nodeId ?? a.origin} · <When at={a.at} />
              <p className="small">{a.detail}</p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The split-view alarms alone (auditor). */
export function SplitViewAlarms() {
  const { t } = useT();
  const f = useFederation();
  return (
    <Panel title={t('fed.splitAlarms')} testId="split-alarms">
      {f.error !== undefined && <ErrorNotice error={f.error} />}
      {f.loading && !f.data && <Loading />}
      {f.data && !f.data.federation && <Empty>{t('fed.standalone')}</Empty>}
      {f.data?.federation && (
        <Alarms alarms={f.data.federation.alarms} quarantined={f.data.federation.quarantined} splitViewOnly />
      )}
    </Panel>
  );
}
