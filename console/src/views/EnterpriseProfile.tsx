/**
 * The enterprise's profile as banks see it: for each section, which banks hold a live consent to
 * read it (the API gives an enterprise no read of its own sections: that is a bank's read under
 * its consent); its public credit grade with the indicators and the facts behind them; and its
 * objections to facts (filed here, decided by the node that determined the fact).
 */
import { useId, useState } from 'react';
import { query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useAction, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { SECTIONS } from '../sections.ts';
import type { Consent } from './consent-common.tsx';

interface Evaluation {
  grade: string;
  score: number;
  maxScore: number;
  evaluator: string;
  city: string;
  evaluatedAt: string;
  validUntil: string;
  scheme: { id: string; version: string };
  indicators: Array<{
    id: string;
    name: string;
    points: number;
    weight: number;
    facts: string[];
    disputed: string[] | null;
  }>;
}

interface Objection {
  id: string;
  factId: string;
  subtype: string;
  originNode: string;
  status: string;
  reason: string;
  filedAt: string;
  deadline: string;
  workingDaysLeft: number | null;
  overdue: boolean;
  decision: { outcome: string; resolution: string | null; reasons: string; at: string } | null;
}

function SectionsByBank() {
  const { t } = useT();
  // Only the fields shown: a listing costs its page size times its fields against the node's limit.
  const list = useLoad(
    () =>
      query<{ consents: Array<Pick<Consent, 'id' | 'grantee' | 'purpose' | 'expiresAt' | 'scopes'>> }>(
        'query { consents(status: ACTIVE, first: 200) { id grantee purpose expiresAt scopes } }',
      ).then((d) => d.consents),
    [],
  );
  return (
    <Panel title={t('prof.sections')} testId="profile-sections">
      <p className="hint">{t('prof.explain')}</p>
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {list.loading && <Loading />}
      {list.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('prof.section')}</th>
                <th scope="col">{t('prof.seenBy')}</th>
              </tr>
            </thead>
            <tbody>
              {SECTIONS.map((s) => {
                const by = list.data!.filter((c) => c.scopes.includes(s));
                return (
                  <tr key={s}>
                    <th scope="row">{t(`section.${s}` as Key)}</th>
                    <td>
                      {by.length === 0 ? (
                        <span className="muted">{t('prof.nobody')}</span>
                      ) : (
                        by.map((c) => (
                          <div key={c.id}>
                            <strong>{c.grantee}</strong> · {t(`purpose.${c.purpose}` as Key, {}, c.purpose)} ·{' '}
                            {t('prof.until')} <When at={c.expiresAt} />
                          </div>
                        ))
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

function Grade(props: { uscc: string; onFact: (id: string) => void }) {
  const { t } = useT();
  const ev = useLoad(
    () =>
      query<{ evaluation: Evaluation }>(
        `query($u: String!) { evaluation(uscc: $u) { grade score maxScore evaluator city evaluatedAt validUntil
          scheme { id version } indicators { id name points weight facts disputed } } }`,
        { u: props.uscc },
      ).then((d) => d.evaluation),
    [props.uscc],
  );
  const e = ev.data;
  return (
    <Panel title={t('prof.grade')}>
      {ev.error !== undefined && <ErrorNotice error={ev.error} />}
      {ev.loading && <Loading />}
      {e && (
        <>
          <p className="grade">
            <span className={`grade-letter grade-${e.grade}`}>{e.grade}</span> {e.score} / {e.maxScore} · {e.scheme.id}@
            {e.scheme.version} · {e.evaluator} · <When at={e.evaluatedAt} />
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('prof.indicator')}</th>
                  <th scope="col">{t('prof.points')}</th>
                  <th scope="col">{t('prof.facts')}</th>
                </tr>
              </thead>
              <tbody>
                {e.indicators.map((i) => (
                  <tr key={i.id}>
                    <th scope="row">{i.name}</th>
                    <td>
                      {i.points} / {i.weight}
                    </td>
                    <td>
                      {i.facts.map((f) => (
                        <button key={f} type="button" className="link" onClick={() => props.onFact(f)}>
                          {f}
                          {i.disputed?.includes(f) ? ` (${t('prof.disputed')})` : ''}
                        </button>
                      ))}
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

function Objections(props: { factId: string; setFactId: (id: string) => void }) {
  const { t } = useT();
  const id = useId();
  const [reason, setReason] = useState('');
  const list = useLoad(
    () =>
      query<{ myObjections: Objection[] }>(
        `query { myObjections { id factId subtype originNode status reason filedAt deadline workingDaysLeft overdue
          decision { outcome resolution reasons at } } }`,
      ).then((d) => d.myObjections),
    [],
  );
  const action = useAction();
  const file = async () => {
    const done = await action.run(() =>
      query('mutation($f: String!, $r: String!) { fileObjection(factId: $f, reason: $r) { id } }', {
        f: props.factId.trim(),
        r: reason.trim(),
      }),
    );
    if (done) {
      setReason('');
      await list.reload();
    }
  };
  return (
    <Panel title={t('obj.mine')}>
      {list.error !== undefined && <ErrorNotice error={list.error} />}
      {list.loading && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('obj.none')}</Empty>}
      {list.data && list.data.length > 0 && (
        <ul className="cards compact">
          {list.data.map((o) => (
            <li key={o.id} className="card">
              <div className="card-head">
                <strong>{o.subtype}</strong> <code className="id">{o.factId}</code>
                <Badge
                  tone={
                    o.status === 'PENDING' ? (o.overdue ? 'bad' : 'info') : o.status === 'ACCEPTED' ? 'ok' : 'muted'
                  }
                >
                  {t(`obj.status.${o.status}` as Key, {}, o.status)}
                </Badge>
              </div>
              <p>{o.reason}</p>
              <p className="muted small">
                {t('obj.filed')} <When at={o.filedAt} /> · {t('obj.decides', { node: o.originNode })} ·{' '}
                {t('obj.deadline')} {o.deadline}
                {o.workingDaysLeft !== null && ` (${t('obj.daysLeft', { n: o.workingDaysLeft })})`}
              </p>
              {o.decision && (
                <p>
                  {t(`obj.outcome.${o.decision.outcome}` as Key, {}, o.decision.outcome)}
                  {o.decision.resolution && ` · ${o.decision.resolution}`}: {o.decision.reasons}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void file();
        }}
      >
        <h3>{t('obj.file')}</h3>
        <label htmlFor={`${id}-fact`}>{t('obj.factId')}</label>
        <input id={`${id}-fact`} value={props.factId} onChange={(e) => props.setFactId(e.target.value)} />
        <label htmlFor={`${id}-reason`}>{t('obj.reason')}</label>
        <textarea id={`${id}-reason`} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        <div className="row">
          <button type="submit" disabled={action.busy || !props.factId.trim() || !reason.trim()}>
            {t('obj.submit')}
          </button>
        </div>
        {action.error !== undefined && <ErrorNotice error={action.error} />}
      </form>
    </Panel>
  );
}

export function EnterpriseProfile(props: { uscc: string }) {
  const [factId, setFactId] = useState('');
  return (
    <>
      <SectionsByBank />
      <Grade uscc={props.uscc} onFact={setFactId} />
      <Objections factId={factId} setFactId={setFactId} />
    </>
  );
}
