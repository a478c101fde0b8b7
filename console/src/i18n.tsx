/** The console's language (Chinese by default, English on request, remembered in this browser) and its translator. */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Key, type Lang, text } from './dictionary.ts';

export type { Key, Lang };

/** Translates a key; `fallback` (or the key) for a key the dictionary lacks (values built at run time). */
export type Translate = (key: Key, vars?: Record<string, string | number>, fallback?: string) => string;

const LANG_KEY = 'credit-console/lang';
const Ctx = createContext<{ lang: Lang; setLang: (l: Lang) => void; t: Translate } | undefined>(undefined);

export function LanguageProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh'));
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(LANG_KEY, l);
    setLangState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = text(lang, 'app.title');
  }, [lang]);
  const value = useMemo(() => {
    const t: Translate = (key, vars, fallback) => text(lang, key, vars, fallback);
    return { lang, setLang, t };
  }, [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The current language and its translator. */
export function useT() {
  const v = useContext(Ctx);
  if (!v) throw new Error('useT outside LanguageProvider');
  return v;
}
