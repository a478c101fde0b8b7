/** Building blocks shared by the role views: panels, error notices, loading, badges, tabs and bar charts. */
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiError } from './api.ts';
import { type Key, useT } from './i18n.tsx';

/** A titled section of a view. */
export function Panel(props: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  testId?: string;
  /** `data-*` attributes (state a test can wait on). */
  data?: Record<`data-${string}`, string | number>;
}) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id} data-testid={props.testId} {...props.data}>
      <div className="panel-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions && <div className="panel-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

const KNOWN_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CONSENT_REQUIRED',
  'PEER_UNAVAILABLE',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'WRONG_NODE',
  'LOG_UNAVAILABLE',
  'LOG_CORRUPT',
  'STORAGE_FAILED',
  'NETWORK',
  'NOT_RESPONSIBLE',
  // The loan journey's own codes (easyloan/errors.ts).
  'NO_MATCHING_PRODUCT',
  'NOT_ELIGIBLE',
  'NOT_REGISTERED',
  'DECISION_INVALID',
  'ALREADY_DECIDED',
  'NOT_FORWARDED',
  'WRONG_ROLE',
  'MONITORING_CONSENT_REQUIRED',
  'NOT_A_BORROWER',
  'ALERT_NOT_FOUND',
]);

/** An error as a notice: what happened (by code) and what the node said. Never a blank panel. */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useT();
  const e = error instanceof ApiError ? error : new ApiError((error as Error)?.message ?? String(error), 'INTERNAL');
  const code = KNOWN_CODES.has(e.code) ? e.code : 'INTERNAL';
  const missing = Array.isArray(e.extensions.missing) ? (e.extensions.missing as string[]) : [];
  const reason = typeof e.extensions.reason === 'string' ? e.extensions.reason : undefined;
  const home = typeof e.extensions.home === 'string' ? e.extensions.home : undefined;
  return (
    <div className={`notice notice-error code-${code}`} role="alert" data-code={e.code}>
      <strong>{t(`err.${code}` as Key)}</strong>
      <p>{t(`err.${code}.help` as Key)}</p>
      {missing.length > 0 && (
        <p>
          {t('err.missing')} {missing.map((s) => t(`section.${s}` as Key, {}, s)).join(', ')}
        </p>
      )}
      {reason && (
        <p>
          {t('err.reason')} <code>{reason}</code>
        </p>
      )}
      {home && (
        <p>
          {t('err.home')} <code>{home}</code>
        </p>
      )}
      <p className="muted">
        <span className="code-tag">{e.code}</span> {e.message}
      </p>
    </div>
  );
}

/** A polite status line while something loads. */
export function Loading() {
  const { t } = useT();
  return (
    <p className="muted" role="status">
      {t('common.loading')}
    </p>
  );
}

/** A line saying a list is empty. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A small coloured label; the colour never carries the meaning alone (the text does). */
export function Badge(props: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${props.tone}`} data-testid={props.testId}>
      {props.children}
    </span>
  );
}

/**
 * Loads data at first and whenever `deps` change (compared by their JSON), and on `reload`; keeps
 * the last error for an {@link ErrorNotice}. An answer that arrives after a newer load started is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const latest = useRef(load);
  latest.current = load;
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await latest.current();
      if (mine === seq.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === seq.current) setState({ error, loading: false });
    }
  }, []);
  const key = JSON.stringify(deps);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the caller's dependencies
  useEffect(() => {
    void reload();
  }, [reload, key]);
  return { ...state, reload };
}

/** Runs an action, keeping whether it runs and its error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** Tabs of a view (a labelled navigation of buttons; the current one is marked for assistive technology). */
export function Tabs<K extends string>(props: {
  label: string;
  tabs: ReadonlyArray<{ id: K; label: string }>;
  current: K;
  onChange: (id: K) => void;
}) {
  return (
    <nav className="tabs" aria-label={props.label}>
      {props.tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          className={tab.id === props.current ? 'tab current' : 'tab'}
          aria-current={tab.id === props.current ? 'page' : undefined}
          onClick={() => props.onChange(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </nav>
  );
}

/** One bar group of a chart. */
export interface BarRow {
  label: string;
  values: number[];
}

/**
 * Horizontal bars in SVG, one group per row and one bar per series, with the figures written
 * beside them; described for screen readers by a table of the same figures.
 */
export function BarChart(props: { title: string; series: string[]; rows: BarRow[] }) {
  const { t } = useT();
  const max = Math.max(1, ...props.rows.flatMap((r) => r.values));
  const bar = 14;
  const gap = 4;
  const group = props.series.length * (bar + gap) + 10;
  const labelW = 150;
  const width = 560;
  const height = props.rows.length * group + 24;
  if (props.rows.length === 0) return <Empty>{t('common.noData')}</Empty>;
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <ul className="legend" aria-hidden="true">
        {props.series.map((s, i) => (
          <li key={s}>
            <span className={`swatch series-${i}`} /> {s}
          </li>
        ))}
      </ul>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title} preserveAspectRatio="xMinYMin meet">
        {props.rows.map((r, i) => (
          <g key={r.label} transform={`translate(0 ${i * group})`}>
            <text x={labelW - 8} y={bar + 2} textAnchor="end" className="chart-label">
              {r.label.length > 18 ? `${r.label.slice(0, 17)}…` : r.label}
            </text>
            {r.values.map((v, j) => {
              const w = Math.max(v > 0 ? 2 : 0, (v / max) * (width - labelW - 60));
              return (
                <g key={props.series[j]} transform={`translate(${labelW} ${j * (bar + gap)})`}>
                  <rect width={w} height={bar} className={`series-${j}`} rx="2" />
                  <text x={w + 4} y={bar - 3} className="chart-value">
                    {v}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <table className="sr-only">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{t('common.item')}</th>
            {props.series.map((s) => (
              <th key={s} scope="col">
                {s}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              {r.values.map((v, j) => (
                <td key={props.series[j]}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A date-time for people (local time, to the second). */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const d = new Date(at);
  return <time dateTime={at}>{Number.isNaN(d.getTime()) ? at : d.toLocaleString()}</time>;
}
