/**
 * Vite build of the web console. The shared crypto modules it bundles (crypto/merkle.ts,
 * crypto/note.ts) import node:crypto through crypto/encoding.ts, hash.ts and ed25519.ts: the
 * `browser-crypto` plugin puts the browser builds of src/crypto/ in their place (same exports,
 * checked against the originals by console/browser-crypto.test.ts), and any other Node built-in
 * reaching the bundle fails the build.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const SHIMS: Readonly<Record<string, string>> = {
  [here('../crypto/encoding.ts')]: here('./src/crypto/encoding.ts'),
  [here('../crypto/hash.ts')]: here('./src/crypto/hash.ts'),
  [here('../crypto/ed25519.ts')]: here('./src/crypto/ed25519.ts'),
};

function browserCrypto(): Plugin {
  return {
    name: 'credit-console-browser-crypto',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer) return null;
      if (source.startsWith('node:'))
        this.error(`${importer} imports ${source}: Node built-ins cannot run in the browser`);
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && SHIMS[resolved.id] ? SHIMS[resolved.id] : null;
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  plugins: [browserCrypto(), react()],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
  },
});
