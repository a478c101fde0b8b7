/**
 * The console's shell: sign-in, the header (who is signed in where, language, sign-out) and the
 * view of the signed-in role. The node confirms the token (`me`) before any view loads; a token
 * the node refuses or that expires returns to the sign-in page saying so.
 */
import { useCallback, useEffect, useState } from 'react';
import {
  type Claims,
  endSession,
  fetchNodeRole,
  initialSession,
  query,
  type Session,
  setToken,
  startSession,
} from './api.ts';
import { ErrorNotice, Loading } from './components.tsx';
import { type Key, useT } from './i18n.tsx';
import { Auditor } from './views/Auditor.tsx';
import { Centre } from './views/Centre.tsx';
import { Enterprise } from './views/Enterprise.tsx';
import { Officer } from './views/Officer.tsx';
import { Platform } from './views/Platform.tsx';
import { SignIn } from './views/SignIn.tsx';

/**
 * The view of the signed-in role. `nodeRole` (the node's own, from its /health) decides what the
 * node takes part in: the loan journey at the easy-loan platform (enterprises) and banks (officers).
 */
function RoleView({ claims, nodeRole }: { claims: Claims; nodeRole?: string }) {
  const { t } = useT();
  switch (claims.role) {
    case 'enterprise':
      return claims.uscc ? (
        <Enterprise uscc={claims.uscc} nodeRole={nodeRole} />
      ) : (
        <p className="notice notice-error">{t('signin.malformed')}</p>
      );
    case 'bank-officer':
      return <Officer bank={claims.bank} nodeRole={nodeRole} />;
    case 'platform-operator':
      return <Platform />;
    case 'centre-staff':
      return <Centre />;
    case 'auditor':
      return <Auditor />;
    default:
      return <p className="notice notice-info">{t('app.noView')}</p>;
  }
}

/** The node a token was issued by (`credit-node:<id>`). */
const nodeOf = (c: Claims) => (c.iss?.startsWith('credit-node:') ? c.iss.slice('credit-node:'.length) : c.iss);

export function App() {
  const { t, lang, setLang } = useT();
  const [boot] = useState(initialSession);
  const [session, setSession] = useState<Session | undefined>(boot && !('error' in boot) ? boot : undefined);
  const [reason, setReason] = useState<string | undefined>(boot && 'error' in boot ? boot.error : undefined);
  const [confirmed, setConfirmed] = useState<{ ok: boolean; error?: unknown; nodeRole?: string }>();

  const signOut = useCallback((why?: string) => {
    endSession();
    setToken(undefined);
    setSession(undefined);
    setConfirmed(undefined);
    setReason(why);
  }, []);

  useEffect(() => {
    if (!session) return;
    setToken(session.token, () => signOut('signin.refused'));
    setConfirmed(undefined);
    Promise.all([
      query<{ me: { role: string } }>('query { me { sub role } }'),
      // A node that does not say its role shows the views every node offers.
      fetchNodeRole().catch(() => undefined),
    ]).then(
      ([, nodeRole]) => setConfirmed({ ok: true, nodeRole }),
      (error: unknown) => setConfirmed({ ok: false, error }),
    );
    // Leave when the token expires, saying so, rather than failing request after request.
    const left = session.claims.exp * 1000 - Date.now();
    const timer = setTimeout(() => signOut('signin.expired'), Math.min(Math.max(0, left), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  const langSwitch = (
    <button
      type="button"
      className="secondary lang"
      onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}
      lang={lang === 'zh' ? 'en' : 'zh-CN'}
    >
      {lang === 'zh' ? 'English' : '中文'}
    </button>
  );

  if (!session)
    return (
      <>
        <header className="top">
          <span className="brand">{t('app.title')}</span>
          {langSwitch}
        </header>
        <SignIn
          reason={reason}
          onToken={(token) => {
            const s = startSession(token);
            if ('error' in s) setReason(s.error);
            else {
              setReason(undefined);
              setSession(s);
            }
          }}
        />
      </>
    );
  const c = session.claims;
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <span className="brand">{t('app.title')}</span>
        <span className="who" data-testid="who">
          {t(`role.${c.role}` as Key)} · {c.uscc ?? c.bank ?? c.department ?? c.sub} ·{' '}
          {t('app.atNode', { node: nodeOf(c) ?? '?' })}
        </span>
        {langSwitch}
        <button type="button" className="secondary" onClick={() => signOut()}>
          {t('app.signOut')}
        </button>
      </header>
      <main id="main" className="content" data-role={c.role}>
        {!confirmed && <Loading />}
        {confirmed && !confirmed.ok && <ErrorNotice error={confirmed.error} />}
        {confirmed?.ok && <RoleView claims={c} nodeRole={confirmed.nodeRole} />}
      </main>
    </>
  );
}
