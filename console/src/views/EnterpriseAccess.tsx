/**
 * Every access to the enterprise's data on every node (myAccessLog), each entry's proof bundle
 * verified here in the browser against the signed checkpoint and its witnesses' cosignatures
 * (lib/verify.ts). What a row shows is read from the verified leaf bytes; a row whose proof fails
 * shows what the node claimed, marked as not proven.
 */
import { fetchLogKeys, query } from '../api.ts';
import { Badge, Empty, ErrorNotice, Loading, Panel, useLoad, When } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { type BundleCheck, verifyBundle } from '../lib/verify.ts';

interface Entry {
  index: number;
  time: string;
  node: string;
  principal: string;
  action: string;
  decision: string;
  reason: string | null;
  purpose: string | null;
  consentId: string | null;
  bundle: unknown;
}

interface Row extends Entry {
  /**
   * The node whose log holds the entry (its index counts there). Not always the actor's node: a
   * node that lists its entries for an enterprise signed in elsewhere logs the actor at that node.
   */
  log: string;
  check: BundleCheck;
}

// The newest 100 entries of each node: a listing costs its page size times its fields against
// the node's query cost limit (graphql/server.ts), which 200 of these would exceed.
const ACCESS_QUERY = `query { myAccessLog(first: 100) {
  nodes { node entries { index time node principal action decision reason purpose consentId bundle } }
  unavailable } }`;

async function load(uscc: string) {
  const [{ myAccessLog }, keys] = await Promise.all([
    query<{ myAccessLog: { nodes: Array<{ node: string; entries: Entry[] }>; unavailable: string[] } }>(ACCESS_QUERY),
    fetchLogKeys(),
  ]);
  const rows: Row[] = myAccessLog.nodes.flatMap((n) =>
    n.entries.map((e) => {
      const check = verifyBundle(e.bundle, keys, uscc);
      // A proven row shows the proven bytes; the node's other fields only where the leaf has none.
      const v = check.verdict.status !== 'failed' ? check.entry : undefined;
      return {
        ...e,
        ...(v
          ? {
              time: v.time,
              node: v.actor.node,
              principal: v.actor.principal,
              action: v.action,
              decision: v.decision,
              reason: v.reason ?? null,
              purpose: v.purpose ?? null,
              consentId: check.consentId ?? null,
            }
          : {}),
        log: n.node,
        check,
      };
    }),
  );
  rows.sort((a, b) => b.time.localeCompare(a.time));
  return { rows, unavailable: myAccessLog.unavailable };
}

function ProofBadge({ check }: { check: BundleCheck }) {
  const { t } = useT();
  const v = check.verdict;
  if (v.status === 'verified')
    return (
      <span data-testid="proof" data-proof="verified">
        <Badge tone="ok">✓ {t('proof.verified')}</Badge>
        <span className="muted small">
          {' '}
          {t('proof.detail', { size: v.size, n: v.witnesses.length, of: v.required })}
        </span>
      </span>
    );
  if (v.status === 'unwitnessed')
    return (
      <span data-testid="proof" data-proof="unwitnessed">
        <Badge tone="warn">⚠ {t('proof.unwitnessed')}</Badge> <span className="muted small">{v.reason}</span>
      </span>
    );
  return (
    <span data-testid="proof" data-proof="failed">
      <Badge tone="bad">✗ {t('proof.failed')}</Badge> <span className="small">{v.reason}</span>
    </span>
  );
}

export function EnterpriseAccess(props: { uscc: string }) {
  const { t } = useT();
  const data = useLoad(() => load(props.uscc), [props.uscc]);
  const rows = data.data?.rows ?? [];
  const counts = { verified: 0, unwitnessed: 0, failed: 0 };
  for (const r of rows) counts[r.check.verdict.status]++;
  return (
    <Panel
      title={t('access.title')}
      testId="access-log"
      actions={
        <button type="button" className="secondary" onClick={() => void data.reload()} disabled={data.loading}>
          {t('common.refresh')}
        </button>
      }
    >
      <p className="hint">{t('access.explain')}</p>
      {data.error !== undefined && <ErrorNotice error={data.error} />}
      {data.loading && <Loading />}
      {data.data && data.data.unavailable.length > 0 && (
        <div className="notice notice-warn" role="alert">
          <strong>{t('err.PEER_UNAVAILABLE')}</strong>{' '}
          {t('access.unavailable', { nodes: data.data.unavailable.join(', ') })}
        </div>
      )}
      {data.data && rows.length === 0 && <Empty>{t('access.none')}</Empty>}
      {rows.length > 0 && (
        <>
          <p role="status" data-testid="proof-summary">
            {t('access.summary', { total: rows.length, ...counts })}
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('access.when')}</th>
                  <th scope="col">{t('access.who')}</th>
                  <th scope="col">{t('access.what')}</th>
                  <th scope="col">{t('access.purpose')}</th>
                  <th scope="col">{t('access.consent')}</th>
                  <th scope="col">{t('access.proof')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.log}-${r.index}`} data-testid="access-row" data-principal={r.principal}>
                    <td>
                      <When at={r.time} />
                    </td>
                    <td>
                      {r.principal}
                      <div className="muted small">
                        {t('access.atNode')} {r.node} {r.log === r.node ? `#${r.index}` : `(${r.log} #${r.index})`}
                      </div>
                    </td>
                    <td>
                      {t(`action.${r.action}` as Key, {}, r.action)}{' '}
                      <Badge tone={r.decision === 'ALLOW' ? 'ok' : 'bad'}>
                        {t(`decision.${r.decision}` as Key, {}, r.decision)}
                      </Badge>
                      {r.reason && <div className="muted small">{r.reason}</div>}
                    </td>
                    <td>{r.purpose ? t(`purpose.${r.purpose}` as Key, {}, r.purpose) : '—'}</td>
                    <td>{r.consentId ? <code className="id">{r.consentId.slice(0, 12)}…</code> : '—'}</td>
                    <td>
                      <ProofBadge check={r.check} />
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
