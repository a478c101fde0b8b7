/**
 * A profile as a bank officer read it: each section with the node that served it; a section whose
 * holder did not answer says so (PEER_UNAVAILABLE) beside the sections that arrived; a refused read
 * (CONSENT_REQUIRED …) is one notice naming what was missing and why.
 */
import type { ApiError } from '../api.ts';
import { Badge, Empty, ErrorNotice } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';

/** What a read returned. */
export interface ReadResult {
  sections: string[];
  profile: Record<string, unknown> | null;
  errors: ApiError[];
  errorPaths: Array<Array<string | number>>;
}

type Fact = Record<string, string | number | null>;

const FACT_COLUMNS = ['subtype', 'status', 'severity', 'decisionDate', 'sourceUnit', 'publicUntil'] as const;

function Facts({ facts }: { facts: Fact[] }) {
  const { t } = useT();
  if (facts.length === 0) return <Empty>{t('prof.noFacts')}</Empty>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {FACT_COLUMNS.map((c) => (
              <th key={c} scope="col">
                {t(`fact.${c}` as Key)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {facts.map((f) => (
            <tr key={String(f.id)}>
              {FACT_COLUMNS.map((c) => (
                <td key={c}>
                  {c === 'status' ? (
                    <Badge tone={f.status === 'ACTIVE' ? 'info' : 'warn'}>{String(f.status)}</Badge>
                  ) : (
                    (f[c] ?? '—')
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Registration({ r }: { r: Record<string, string | number | null> }) {
  const { t } = useT();
  const rows = ['name', 'status', 'orgType', 'domicileRegion', 'establishedOn', 'registeredCapitalWan', 'industryCode'];
  return (
    <dl className="facts">
      {rows.map((k) => (
        <div key={k} className="pair">
          <dt>{t(`reg.${k}` as Key)}</dt>
          <dd>{r[k] ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ProfileView({ result }: { result: ReadResult }) {
  const { t } = useT();
  const p = result.profile;
  if (!p) return result.errors[0] ? <ErrorNotice error={result.errors[0]} /> : <Empty>{t('common.noData')}</Empty>;
  const servedBy = new Map(
    (p.servedBy as Array<{ section: string; node: string | null }>).map((s) => [s.section, s.node]),
  );
  return (
    <div className="sections" data-testid="profile">
      {result.sections.map((s) => {
        const i = result.errorPaths.findIndex((path) => path[1] === s);
        const value = p[s];
        return (
          <section
            key={s}
            className="section"
            data-testid="section"
            data-section={s}
            aria-label={t(`section.${s}` as Key)}
          >
            <h3>
              {t(`section.${s}` as Key)}{' '}
              {servedBy.get(s) && (
                <Badge tone="info" testId="served-by">
                  {t('prof.servedBy', { node: servedBy.get(s) ?? '' })}
                </Badge>
              )}
            </h3>
            {i >= 0 ? (
              <ErrorNotice error={result.errors[i]} />
            ) : s === 'registration' ? (
              value ? (
                <Registration r={value as Record<string, string | number | null>} />
              ) : (
                <Empty>{t('prof.noFacts')}</Empty>
              )
            ) : (
              <Facts facts={(value as Fact[] | null) ?? []} />
            )}
          </section>
        );
      })}
    </div>
  );
}
