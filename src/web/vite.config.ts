/**
 * Vite build of the web clients (Vue 3). Multi-page: each page is an HTML entry under src/web
 * (`index.html` = the citizen app at `/`; `staff/index.html` = the staff workbench at `/staff/`; later
 * `panorama/index.html`). Output goes to dist/web, which the server serves at `/` (src/server/main.ts
 * WEB_ROOT); `/staff/…` client-side routes get staff/index.html (src/server/http/app.ts).
 *
 * Element Plus (staff only) is imported per component (`import { ElButton } from 'element-plus'`);
 * unplugin-element-plus adds each component's own CSS, so neither page carries the whole library.
 *
 * Build: `npm run build:web`. Dev: `npm run dev:web` (proxies /api to the server on :3000).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite';
import vue from '@vitejs/plugin-vue';
import ElementPlus from 'unplugin-element-plus/vite';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Writes `<file>.br` (quality 11) and `<file>.gz` (level 9) beside every script, stylesheet, page and SVG of
 * 1 KB or more in the build, once everything is written; the server sends the one the browser accepts
 * (@fastify/static `preCompressed`, src/server/http/app.ts). On a 2G link the first load's bytes are its time.
 */
function precompress(outDir: string): Plugin {
  const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest)$/;
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === '.vite' ? [] : walk(p);
      return COMPRESSIBLE.test(e.name) ? [p] : [];
    });
  return {
    name: 'tongban:precompress',
    apply: 'build',
    enforce: 'post',
    closeBundle: {
      order: 'post',
      handler() {
        for (const file of walk(outDir)) {
          const data = fs.readFileSync(file);
          if (data.length < 1024) continue;
          fs.writeFileSync(`${file}.gz`, gzipSync(data, { level: constants.Z_BEST_COMPRESSION }));
          fs.writeFileSync(
            `${file}.br`,
            brotliCompressSync(data, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
              },
            }),
          );
        }
      },
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [
    vue(),
    // Per-component Element Plus styles for the staff page's named imports (no full stylesheet).
    ElementPlus({}),
    // Locale JSON is precompiled at build time, so the browser gets vue-i18n's runtime only
    // (no message compiler, no eval).
    VueI18nPlugin({
      include: [here('./citizen/locales/**'), here('./staff/locales/**')],
      // review status files (docs/translating.md) are plain data, not messages
      exclude: [here('./citizen/locales/review/**')],
      runtimeOnly: true,
      compositionOnly: true,
      fullInstall: false,
      dropMessageCompiler: true,
      strictMessage: false,
    }),
    precompress(here('../../dist/web')),
  ],
  define: {
    // Composition API only (Vant 4, vue-router and vue-i18n need no Options API); no devtools in production.
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2020',
    // dist/web/.vite/manifest.json: the chunk graph scripts/check-bundle.ts sums the first load from
    manifest: true,
    rolldownOptions: {
      input: {
        citizen: here('./index.html'),
        staff: here('./staff/index.html'),
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
