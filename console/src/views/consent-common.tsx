/** Consents as the views show them: their fields, status badge and scopes. */
import { Badge } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';

/** A consent as the API lists it. */
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
  body: unknown;
  history: Array<{ to: string; at: string; by: string; role: string; node: string; reason: string | null }>;
}

export const CONSENT_FIELDS =
  'id enterprise grantee officer scopes purpose notBefore expiresAt maxUses uses retentionDays issuedAt status home body history { to at by role node reason }';

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
