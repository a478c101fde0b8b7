/**
 * Joint queries of a bank officer (usable but not visible): cross-bank exposure and the
 * multi-source score run as jobs (runJointQuery with wait: false, then jointQueryJob polled for
 * progress), and the private list check against the centres' lists.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Panel, useAction } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';

interface JointRow {
  uscc: string;
  status: string;
  reason: string | null;
  outstandingYuan: number | null;
  overdueYuan: number | null;
  lenders: number | null;
  score: number | null;
  without: string[] | null;
}
interface Job {
  id: string;
  kind: string;
  status: string;
  done: number;
  total: number;
  error: string | null;
  result: { rows: JointRow[]; contributors: string[]; dropped: string[] } | null;
}
interface ListRow {
  uscc: string;
  status: string;
  reason: string | null;
  listed: Array<{ centre: string; list: string }>;
}

const JOB_FIELDS = `id kind status done total error result { rows { uscc status reason outstandingYuan overdueYuan lenders score without }
  contributors dropped }`;
const POLL_MS = 700;

const codes = (text: string) => [
  ...new Set(
    text
      .split(/[\s,;]+/)
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  ),
];
const yuan = (n: number | null) => (n === null ? '—' : n.toLocaleString(undefined, { maximumFractionDigits: 0 }));

export function OfficerJoint(props: { initial?: string }) {
  const { t } = useT();
  const id = useId();
  const [text, setText] = useState(props.initial ?? '');
  const [purpose, setPurpose] = useState('loan-application');
  const [job, setJob] = useState<Job>();
  const [lists, setLists] = useState<{ rows: ListRow[]; unavailable: string[] }>();
  const action = useAction();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const poll = (jobId: string) => {
    timer.current = setTimeout(async () => {
      const r = await action.run(() =>
        query<{ jointQueryJob: Job }>(`query($id: ID!) { jointQueryJob(id: $id) { ${JOB_FIELDS} } }`, { id: jobId }),
      );
      if (!r) return;
      setJob(r.jointQueryJob);
      if (r.jointQueryJob.status === 'RUNNING') poll(jobId);
    }, POLL_MS);
  };
  const run = async (kind: 'EXPOSURE' | 'SCORE') => {
    clearTimeout(timer.current);
    setJob(undefined);
    setLists(undefined);
    const r = await action.run(() =>
      query<{ runJointQuery: Job }>(`mutation($i: JointQueryInput!) { runJointQuery(input: $i) { ${JOB_FIELDS} } }`, {
        i: { kind, usccs: codes(text), purpose, wait: false },
      }),
    );
    if (!r) return;
    setJob(r.runJointQuery);
    if (r.runJointQuery.status === 'RUNNING') poll(r.runJointQuery.id);
  };
  const check = async () => {
    clearTimeout(timer.current);
    setJob(undefined);
    setLists(undefined);
    const r = await action.run(() =>
      query<{ checkLists: { rows: ListRow[]; unavailable: string[] } }>(
        'mutation($u: [String!]!, $p: String!) { checkLists(usccs: $u, purpose: $p) { rows { uscc status reason listed { centre list } } unavailable } }',
        { u: codes(text), p: purpose },
      ),
    );
    if (r) setLists(r.checkLists);
  };
  const n = codes(text).length;
  return (
    <Panel title={t('joint.title')} testId="joint">
      <p className="hint">{t('joint.explain')}</p>
      <form className="stack" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={`${id}-codes`}>{t('joint.codes')}</label>
        <textarea
          id={`${id}-codes`}
          rows={4}
          value={text}
          spellCheck={false}
          onChange={(e) => setText(e.target.value)}
        />
        <label htmlFor={`${id}-purpose`}>{t('consent.purpose')}</label>
        <select id={`${id}-purpose`} value={purpose} onChange={(e) => setPurpose(e.target.value)}>
          {['loan-application', 'post-loan-monitoring', 'supply-chain-finance', 'credit-evaluation'].map((p) => (
            <option key={p} value={p}>
              {t(`purpose.${p}` as Key, {}, p)}
            </option>
          ))}
        </select>
        <div className="row">
          <button type="button" disabled={n === 0 || action.busy} onClick={() => void run('EXPOSURE')}>
            {t('joint.exposure')}
          </button>
          <button type="button" disabled={n === 0 || action.busy} onClick={() => void run('SCORE')}>
            {t('joint.score')}
          </button>
          <button type="button" disabled={n === 0 || action.busy} onClick={() => void check()}>
            {t('joint.lists')}
          </button>
        </div>
      </form>
      {action.error !== undefined && <ErrorNotice error={action.error} />}
      {job && (
        <div className="job" aria-live="polite">
          <label htmlFor={`${id}-progress`}>
            {t(`joint.kind.${job.kind}` as Key, {}, job.kind)} ·{' '}
            {t(`joint.status.${job.status}` as Key, {}, job.status)} · {job.done} / {job.total}
          </label>
          <progress id={`${id}-progress`} max={Math.max(1, job.total)} value={job.done} />
          {job.error && <ErrorNotice error={new Error(job.error)} />}
          {job.result && <JointTable kind={job.kind} rows={job.result.rows} />}
          {job.result && (
            <p className="muted small">
              {t('joint.contributors')} {job.result.contributors.join(', ') || '—'}
              {job.result.dropped.length > 0 && ` · ${t('joint.dropped')} ${job.result.dropped.join(', ')}`}
            </p>
          )}
        </div>
      )}
      {lists && (
        <>
          {lists.unavailable.length > 0 && (
            <div className="notice notice-warn" role="alert">
              <strong>{t('err.PEER_UNAVAILABLE')}</strong>{' '}
              {t('joint.centresDown', { nodes: lists.unavailable.join(', ') })}
            </div>
          )}
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">USCC</th>
                  <th scope="col">{t('joint.state')}</th>
                  <th scope="col">{t('joint.listed')}</th>
                </tr>
              </thead>
              <tbody>
                {lists.rows.map((r) => (
                  <tr key={r.uscc}>
                    <td>{r.uscc}</td>
                    <td>
                      {r.status}
                      {r.reason && <div className="muted small">{r.reason}</div>}
                    </td>
                    <td>
                      {r.listed.length === 0 ? (
                        <Badge tone="ok">{t('joint.notListed')}</Badge>
                      ) : (
                        r.listed.map((l) => (
                          <Badge key={`${l.centre}-${l.list}`} tone="bad">
                            {l.centre}: {l.list}
                          </Badge>
                        ))
                      )}
                    </td>
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

function JointTable(props: { kind: string; rows: JointRow[] }) {
  const { t } = useT();
  if (props.rows.length === 0) return <Empty>{t('common.noData')}</Empty>;
  const exposure = props.kind.toLowerCase() === 'exposure';
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">USCC</th>
            <th scope="col">{t('joint.state')}</th>
            {exposure ? (
              <>
                <th scope="col">{t('joint.outstanding')}</th>
                <th scope="col">{t('joint.overdue')}</th>
                <th scope="col">{t('joint.lenders')}</th>
              </>
            ) : (
              <th scope="col">{t('joint.scoreCol')}</th>
            )}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.uscc}>
              <td>{r.uscc}</td>
              <td>
                <Badge tone={r.status === 'OK' ? 'ok' : 'bad'}>{r.status}</Badge>
                {r.reason && <div className="muted small">{r.reason}</div>}
                {r.without && r.without.length > 0 && (
                  <div className="muted small">
                    {t('joint.without')} {r.without.join(', ')}
                  </div>
                )}
              </td>
              {exposure ? (
                <>
                  <td>{yuan(r.outstandingYuan)}</td>
                  <td>{yuan(r.overdueYuan)}</td>
                  <td>{r.lenders ?? '—'}</td>
                </>
              ) : (
                <td>{r.score === null ? '—' : r.score.toFixed(1)}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
