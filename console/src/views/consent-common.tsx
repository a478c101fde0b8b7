/** Consents as the views show them: their fields, status badge and scopes; approving one with the enterprise's key. */
import { query } from '../api.ts';
import { Badge } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { type EnterpriseKey, signConsentBody } from '../lib/consent-sign.ts';

/** A consent as the views list it ({@link CONSENT_FIELDS}). */
export interface Consent {
  id: string;
  enterprise: string;
  grantee: string;
  officer: string | null;
  scopes: string[];
  purpose: string;
  notBefore: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  retentionDays: number;
  issuedAt: string;
  status: string;
  home: string;
  /** The canonical body the enterprise signs: asked for only where a request is approved. */
  body?: unknown;
}

/**
 * The fields the views show. A listing costs its page size (`first`) times its fields against the
 * node's query cost limit (graphql/server.ts `QUERY_LIMITS.cost`): the signed body is asked for
 * only with the requests the enterprise approves, and the transition history, which no view
 * shows, not at all.
 */
export const CONSENT_FIELDS =
  'id enterprise grantee officer scopes purpose notBefore expiresAt maxUses uses retentionDays issuedAt status home';

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  ACTIVE: 'ok',
  REQUESTED: 'info',
  PAUSED: 'warn',
  REVOKED: 'bad',
  REJECTED: 'bad',
  EXPIRED: 'muted',
};

/** A consent's status as a badge. */
export function ConsentStatus({ status }: { status: string }) {
  const { t } = useT();
  return (
    <Badge tone={STATUS_TONE[status] ?? 'muted'} testId="consent-status">
      {t(`status.${status}` as Key, {}, status)}
    </Badge>
  );
}

/** Scopes as people read them. */
export function Scopes({ scopes }: { scopes: string[] }) {
  const { t } = useT();
  return (
    <ul className="chips">
      {scopes.map((s) => (
        <li key={s}>{t(`section.${s}` as Key, {}, s)}</li>
      ))}
    </ul>
  );
}

/**
 * The enterprise approves a consent request: its canonical body signed here, in the browser, with
 * the enterprise's own key (never sent), and the signature handed to the consent's home node.
 */
export const approveConsent = (id: string, body: unknown, key: EnterpriseKey) =>
  query<{ approveConsent: { id: string; status: string } }>(
    'mutation($id: ID!, $s: String!) { approveConsent(id: $id, signature: $s) { id status } }',
    { id, s: signConsentBody(body, key) },
  );
