/**
 * Sign-in: the console holds a bearer token the node issued, nothing else. A token arrives in
 * the URL fragment (`/#token=…`, as `npm start` prints per role; the fragment never reaches a
 * server) or is pasted here (`credit-node token` prints one). The node exposes no way to get a
 * token without its operator: there is no issuance endpoint.
 */
import { useId, useState } from 'react';
import { type Key, useT } from '../i18n.tsx';

export function SignIn(props: { reason?: string; onToken: (token: string) => void }) {
  const { t } = useT();
  const id = useId();
  const [token, setToken] = useState('');
  return (
    <main className="signin" id="main">
      <h1>{t('signin.title')}</h1>
      {props.reason && (
        <div className="notice notice-error" role="alert" data-testid="signin-reason">
          {t(props.reason as Key)}
        </div>
      )}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          props.onToken(token);
        }}
      >
        <label htmlFor={`${id}-token`}>{t('signin.token')}</label>
        <p className="hint" id={`${id}-hint`}>
          {t('signin.hint')}
        </p>
        <textarea
          id={`${id}-token`}
          aria-describedby={`${id}-hint`}
          rows={4}
          value={token}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setToken(e.target.value)}
        />
        <div className="row">
          <button type="submit" disabled={token.trim() === ''}>
            {t('signin.submit')}
          </button>
        </div>
      </form>
      <section className="help">
        <h2>{t('signin.how')}</h2>
        <pre>npx credit-node token --config ./xm/config.json --role enterprise --sub rep-01 --uscc 91350200…</pre>
        <p>{t('signin.demo')}</p>
        <p className="muted small">{t('signin.safety')}</p>
      </section>
    </main>
  );
}
