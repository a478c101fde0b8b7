/**
 * The enterprise loads its own Ed25519 key to sign consents in this tab: pasted or read from a
 * file (a base64 or hex seed, a JWK, or the demo data's keys file, whose line for this USCC is
 * taken). The key is checked against the binding the credit centre registered and is kept in
 * memory only: it is never stored, logged or sent; reloading the page forgets it.
 */
import { type ChangeEvent, useId, useState } from 'react';
import { query } from '../api.ts';
import { Badge, ErrorNotice } from '../components.tsx';
import { type Key, useT } from '../i18n.tsx';
import { type EnterpriseKey, importEnterpriseKey, KeyImportError } from '../lib/consent-sign.ts';

/** The line of a multi-line text (a keys file) that names `uscc`, or the text itself. */
function pick(text: string, uscc: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length > 1 ? (lines.find((l) => l.includes(`"${uscc}"`)) ?? '') : text;
}

export function KeyLoader(props: { uscc: string; current?: EnterpriseKey; onKey: (key?: EnterpriseKey) => void }) {
  const { t } = useT();
  const id = useId();
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [issuer, setIssuer] = useState<string>();

  const load = async (raw: string) => {
    setProblem(undefined);
    setError(undefined);
    let key: EnterpriseKey;
    try {
      key = importEnterpriseKey(pick(raw, props.uscc));
    } catch (err) {
      setProblem(err instanceof KeyImportError ? err.message : 'key.badSeed');
      return;
    }
    try {
      const { keyBinding } = await query<{ keyBinding: { publicKey: string; issuer: string } | null }>(
        'query($u: String!) { keyBinding(uscc: $u) { publicKey issuer } }',
        { u: props.uscc },
      );
      if (!keyBinding) return setProblem('key.unbound');
      if (keyBinding.publicKey !== key.publicKey) return setProblem('key.notBound');
      setIssuer(keyBinding.issuer);
      setText('');
      props.onKey(key);
    } catch (err) {
      setError(err);
    }
  };

  const fromFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) await load(await file.text());
  };

  if (props.current)
    return (
      <div className="keybox" data-testid="key-loaded">
        <p>
          <Badge tone="ok">{t('key.loaded')}</Badge> <code>{props.current.publicKey.slice(0, 16)}…</code>{' '}
          {issuer && t('key.boundBy', { node: issuer })}
        </p>
        <p className="muted">{t('key.memoryOnly')}</p>
        <button type="button" className="secondary" onClick={() => props.onKey(undefined)}>
          {t('key.forget')}
        </button>
      </div>
    );
  return (
    <form
      className="keybox"
      onSubmit={(e) => {
        e.preventDefault();
        void load(text);
      }}
    >
      <label htmlFor={`${id}-text`}>{t('key.label')}</label>
      <p className="hint" id={`${id}-hint`}>
        {t('key.hint')}
      </p>
      <textarea
        id={`${id}-text`}
        aria-describedby={`${id}-hint`}
        rows={3}
        value={text}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="row">
        <button type="submit" disabled={text.trim() === ''}>
          {t('key.load')}
        </button>
        <label className="file">
          {t('key.file')}
          <input type="file" accept=".json,.jwk,.txt,.ndjson,.key" onChange={(e) => void fromFile(e)} />
        </label>
      </div>
      {problem && (
        <p className="notice notice-error" role="alert">
          {t(problem as Key)}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </form>
  );
}
