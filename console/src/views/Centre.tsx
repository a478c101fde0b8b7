/**
 * The credit centre's console: check-and-intercept counters per matter, department and day (SVG
 * bar charts), the evaluation grade distribution per city, objections awaiting a decision with
 * their deadlines (decided here with reasons), and federation health.
 */
import { useId, useState } from 'react';
import { query } from '../api.ts';
import { Badge, BarChart, Empty, ErrorNotice, Loading, Panel, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { FederationHealth } from './Federation.tsx';

interface Counter {
  day: string;
  matter: string;
  department: string;
  checks: number;
  hits: number;
  pass: number;
  warn: number;
  block: number;
  reward: number;
  incomplete: number;
  applied: number;
  overridden: number;
}
interface Objection {
  id: string;
  factId: string;
  uscc: string;
  subtype: string;
  receivedBy: string;
  status: string;
  reason: string;
  filedAt: string;
  deadline: string;
  workingDaysLeft: number | null;
  overdue: boolean;
  dueSoon: boolean;
}

function sumBy(rows: Counter[], key: (c: Counter) => string) {
  const out = new Map<string, Counter>();
  for (const r of rows) {
    const k = key(r);
    const acc = out.get(k);
    if (!acc) out.set(k, { ...r });
    else
      for (const f of [
        'checks',
        'hits',
        'pass',
        'warn',
        'block',
        'reward',
        'incomplete',
        'applied',
        'overridden',
      ] as const)
        acc[f] += r[f];
  }
  return [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function Counters() {
  const { t } = useT();
  const c = useLoad(
    () =>
      query<{ interceptCounters: Counter[] }>(
        'query { interceptCounters { day matter department checks hits pass warn block reward incomplete applied overridden } }',
      ).then((d) => d.interceptCounters),
    [],
  );
  const rows = c.data ?? [];
  const series = [t('ctr.checks'), t('ctr.block'), t('ctr.warn'), t('ctr.reward')];
  const bars = (groups: Array<[string, Counter]>, label: (k: string) => string) =>
    groups.map(([k, v]) => ({ label: label(k), values: [v.checks, v.block, v.warn, v.reward] }));
  return (
    <Panel title={t('ctr.title')} testId="counters">
      <p className="hint">{t('ctr.explain')}</p>
      {c.error !== undefined && <ErrorNotice error={c.error} />}
      {c.loading && <Loading />}
      {c.data && rows.length === 0 && <Empty>{t('ctr.none')}</Empty>}
      {rows.length > 0 && (
        <div className="charts">
          <BarChart
            title={t('ctr.byMatter')}
            series={series}
            rows={bars(
              sumBy(rows, (r) => r.matter),
              (k) => t(`matter.${k}` as Key, {}, k),
            )}
          />
          <BarChart
            title={t('ctr.byDepartment')}
            series={series}
            rows={bars(
              sumBy(rows, (r) => r.department),
              (k) => k,
            )}
          />
          <BarChart
            title={t('ctr.byDay')}
            series={series}
            rows={bars(
              sumBy(rows, (r) => r.day),
              (k) => k,
            )}
          />
        </div>
      )}
    </Panel>
  );
}

const GRADES = ['A', 'B', 'C', 'D'];

function Grades() {
  const { t } = useT();
  const g = useLoad(
    () =>
      query<{
        gradeDistribution: { rows: Array<{ city: string; grade: string; count: number }>; unavailable: string[] };
      }>('query { gradeDistribution { rows { city industry grade count } unavailable } }').then(
        (d) => d.gradeDistribution,
      ),
    [],
  );
  const byCity = new Map<string, number[]>();
  for (const r of g.data?.rows ?? []) {
    const counts = byCity.get(r.city) ?? [0, 0, 0, 0];
    const i = GRADES.indexOf(r.grade);
    if (i >= 0) counts[i] += r.count;
    byCity.set(r.city, counts);
  }
  return (
    <Panel title={t('grade.title')} testId="grades">
      {g.error !== undefined && <ErrorNotice error={g.error} />}
      {g.loading && <Loading />}
      {g.data && g.data.unavailable.length > 0 && (
        <div className="notice notice-warn" role="alert">
          <strong>{t('err.PEER_UNAVAILABLE')}</strong>{' '}
          {t('grade.unavailable', { nodes: g.data.unavailable.join(', ') })}
        </div>
      )}
      {g.data && (
        <BarChart
          title={t('grade.chart')}
          series={GRADES.map((x) => t('grade.letter', { g: x }))}
          rows={[...byCity.entries()]
            .sort()
            .map(([city, values]) => ({ label: t(`city.${city}` as Key, {}, city), values }))}
        />
      )}
    </Panel>
  );
}

function PendingObjections() {
  const { t } = useT();
  const id = useId();
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const list = useLoad(
    () =>
      query<{ objections: Objection[] }>(
        `query { objections(status: "PENDING") { id factId uscc subtype receivedBy status reason filedAt deadline
          workingDaysLeft overdue dueSoon } }`,
      ).then((d) => [...d.objections].sort((a, b) => a.deadline.localeCompare(b.deadline))),
    [],
  );
  const action = useAction();
  const decide = async (o: Objection, accept: boolean) => {
    const done = await action.run(() =>
      query(
        'mutation($id: ID!, $o: ObjectionOutcome!, $r: ObjectionResolution, $why: String!) { decideObjection(id: $id, outcome: $o, resolution: $r, reasons: $why) { id status } }',
        {
          id: o.id,
          o: accept ? 'ACCEPT' : 'REJECT',
          r: accept ? 'WITHDRAW' : null,
          why: reasons[o.id] ?? '',
        },
      ),
    );
    if (done) await list.reload();
  };
  return (
    <Panel title={t('obj.pending')} testId="objections">
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {action.error !== undefined && <ErrorNotice error={action.error} />}
      {list.loading && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('obj.nonePending')}</Empty>}
      <ul className="cards">
        {(list.data ?? []).map((o) => (
          <li key={o.id} className="card">
            <div className="card-head">
              <strong>{o.subtype}</strong> <code className="id">{o.factId}</code>
              <Badge tone={o.overdue ? 'bad' : o.dueSoon ? 'warn' : 'info'}>
                {o.overdue ? t('obj.overdue') : o.dueSoon ? t('obj.dueSoon') : t('obj.status.PENDING')}
              </Badge>
            </div>
            <p>{o.reason}</p>
            <p className="muted small">
              {o.uscc} · {t('obj.filedAt', { node: o.receivedBy })} <When at={o.filedAt} /> · {t('obj.deadline')}{' '}
              <strong>{o.deadline}</strong>
              {o.workingDaysLeft !== null && ` (${t('obj.daysLeft', { n: o.workingDaysLeft })})`}
            </p>
            <label htmlFor={`${id}-${o.id}`}>{t('obj.decisionReasons')}</label>
            <input
              id={`${id}-${o.id}`}
              value={reasons[o.id] ?? ''}
              onChange={(e) => setReasons({ ...reasons, [o.id]: e.target.value })}
            />
            <div className="row">
              <button
                type="button"
                disabled={action.busy || !(reasons[o.id] ?? '').trim()}
                onClick={() => void decide(o, true)}
              >
                {t('obj.accept')}
              </button>
              <button
                type="button"
                className="danger"
                disabled={action.busy || !(reasons[o.id] ?? '').trim()}
                onClick={() => void decide(o, false)}
              >
                {t('obj.reject')}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** The credit centre staff's main view: one dashboard. */
export function Centre() {
  return (
    <div className="dashboard">
      <Counters />
      <Grades />
      <PendingObjections />
      <FederationHealth />
    </div>
  );
}
