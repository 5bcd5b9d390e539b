import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard: a static single-page app served by the API at /dashboard.
 * Vite's own transformer (Oxc) compiles the TSX with React's automatic JSX
 * runtime, so no plugin is needed for a production build. Hashed files land
 * in dist/web/assets, which the API serves with immutable caching.
 * `npm run dev:web` serves the sources instead, with the API calls proxied
 * to an API running on port 3000 (`npm run start:dev`).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  oxc: { jsx: { runtime: 'automatic' } },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
  build: {
    modulePreload: { polyfill: false },
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
