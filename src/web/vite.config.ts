/**
 * Vite build of the web clients (Vue 3). Multi-page: each page is an HTML entry under src/web
 * (`index.html` = the citizen app at `/`; `staff/index.html` = the staff workbench at `/staff/`; later
 * `panorama/index.html`). Output goes to dist/web, which the server serves at `/` (src/server/main.ts
 * WEB_ROOT); `/staff/…` client-side routes get staff/index.html (src/server/http/app.ts).
 *
 * Element Plus (staff only) is imported per component (`import { ElButton } from 'element-plus'`);
 * unplugin-element-plus adds each component's own CSS, so neither page carries the whole library.
 *
 * The citizen page is a PWA (issue 6, 离线可办): vite-plugin-pwa generates `sw.js` (Workbox) that precaches
 * the citizen shell and every chunk it can load (lazy views, language packs) — and nothing of the staff
 * page — and answers navigations outside /staff/, /api/ and /docs/ with the precached index.html, so the
 * app reloads with no network. The web manifest (`manifest.webmanifest`, linked from index.html only) and
 * the icons (public/icons, rendered by scripts/render-icons.ts) are precached too. Fonts are cached when
 * first used (a Tibetan or Uyghur font only once that language was chosen), never precached.
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
import { VitePWA } from 'vite-plugin-pwa';

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

/** The web manifest of the citizen app (通办), emitted as /manifest.webmanifest. */
const MANIFEST = {
  name: '通办 · 贵州政务服务',
  short_name: '通办',
  description: '贵州政务服务通办：查询办事指南、在线申办、离线保存待发送的申请',
  lang: 'zh-CN',
  dir: 'ltr',
  start_url: '/',
  scope: '/',
  id: '/',
  display: 'standalone',
  orientation: 'portrait',
  background_color: '#ffffff',
  theme_color: '#0b5cad',
  categories: ['government', 'utilities'],
  icons: [
    { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
  ],
};

/** Files the citizen page may load (its entry, every chunk reachable from it, their CSS and images). */
const citizenFiles = new Set<string>();

/**
 * Walks the citizen entry's import graph (static and dynamic imports) when the bundle is generated, so
 * the service worker precaches exactly the citizen app: never a staff-only chunk, never a font.
 * Also emits the web manifest (here rather than by vite-plugin-pwa, which would link it from every page,
 * the staff workbench included).
 */
function citizenPrecacheList(): Plugin {
  return {
    name: 'tongban:citizen-precache-list',
    apply: 'build',
    generateBundle(_options, bundle) {
      citizenFiles.clear();
      const seen = new Set<string>();
      const visit = (fileName: string) => {
        if (seen.has(fileName)) return;
        seen.add(fileName);
        const out = bundle[fileName];
        if (!out) return;
        citizenFiles.add(fileName);
        if (out.type !== 'chunk') return;
        for (const css of out.viteMetadata?.importedCss ?? []) citizenFiles.add(css);
        for (const asset of out.viteMetadata?.importedAssets ?? [])
          if (!/\.(woff2?|ttf|otf|eot)$/.test(asset)) citizenFiles.add(asset);
        for (const f of [...out.imports, ...out.dynamicImports]) visit(f);
      };
      for (const out of Object.values(bundle))
        if (out.type === 'chunk' && out.isEntry && out.name === 'citizen') visit(out.fileName);
      if (citizenFiles.size === 0)
        this.error('citizen entry chunk not found: the precache list would be empty');
      this.emitFile({
        type: 'asset',
        fileName: 'manifest.webmanifest',
        source: `${JSON.stringify(MANIFEST, null, 2)}\n`,
      });
    },
  };
}

/** Precached besides the bundle: the page, the manifest and the icons. */
const CITIZEN_STATIC = /^(index\.html|manifest\.webmanifest|icons\/[^/]+\.(png|svg))$/;

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
    citizenPrecacheList(),
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      // registered by citizen/offline/pwa.ts (the citizen page only), not by a script in every page
      injectRegister: false,
      manifest: false,
      filename: 'sw.js',
      workbox: {
        globPatterns: ['**/*.{js,css,html,webmanifest,png,svg}'],
        manifestTransforms: [
          async (entries) => ({
            manifest: entries.filter((e) => citizenFiles.has(e.url) || CITIZEN_STATIC.test(e.url)),
            warnings: [],
          }),
        ],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/staff(\/|$)/, /^\/api\//, /^\/docs(\/|$)/, /^\/health$/],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [
          {
            // fonts (Noto Serif Tibetan / Noto Naskh Arabic for bo / ug): cached when a language first needs them
            urlPattern: ({ request, sameOrigin }) => sameOrigin && request.destination === 'font',
            handler: 'CacheFirst',
            options: {
              cacheName: 'tongban-fonts',
              expiration: { maxEntries: 60, maxAgeSeconds: 365 * 86_400 },
            },
          },
        ],
      },
    }),
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
