/**
 * CI budget of the citizen page's first load (issue 6, part 4: "at most 150 KB gzipped").
 *
 * Reads the Vite build manifest (dist/web/.vite/manifest.json, `build.manifest: true` in
 * src/web/vite.config.ts) and takes the first-load set of the citizen page: its HTML (dist/web/index.html),
 * the entry chunk, every chunk it imports statically (transitively) and the CSS of all of those, plus any
 * script or stylesheet the built HTML itself names (e.g. a service-worker registration script injected by a
 * plugin). NOT counted: dynamic imports (lazy views, heavy libraries loaded where used), fonts and other
 * assets (`assets` of a chunk, .woff2/.ttf/…), and language packs other than zh-CN (a chunk whose source
 * is under `locales/` and not zh-CN). Each file is gzipped (node:zlib, level 9) and the sizes summed.
 *
 * Run: `npm run check:bundle` after `npm run build:web`. Prints a table (biggest first) and, as the last
 * line, one JSON object `{ totalGzipBytes, budgetBytes, ok, files }`. Exits 1 when the total is over the
 * budget (the message lists the biggest files) or when the build output is missing.
 * Environment: BUNDLE_BUDGET_BYTES overrides the budget (default 153,600 bytes = 150 KiB); BUNDLE_OUT_DIR the
 * build folder (default dist/web).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

/** 150 KB gzipped (KiB: 150 × 1024 bytes). */
export const FIRST_LOAD_BUDGET_BYTES = 153_600;

/** One chunk of a Vite manifest (the fields used here). */
export interface ManifestChunk {
  file: string;
  src?: string;
  name?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  assets?: string[];
}
export type Manifest = Record<string, ManifestChunk>;

/** A file of the first load: its path relative to the build folder and why it is in the set. */
export interface FirstLoadFile {
  file: string;
  kind: 'html' | 'js' | 'css';
  /** the manifest key that brought it in (`html` for the page itself and what it names) */
  via: string;
}

const FONT = /\.(woff2?|ttf|otf|eot)$/i;

/** Whether a manifest chunk is a language pack other than zh-CN (not part of the first load). */
export function isOtherLanguagePack(key: string, chunk: ManifestChunk): boolean {
  const src = chunk.src ?? key;
  return /(^|\/)locales\//.test(src) && !/zh-CN/.test(src) && /\.(json|ts|js)$/.test(src);
}

/**
 * The files the page loads before anything is clicked: the entry chunk `entryKey` (e.g. `index.html`), its
 * static imports, transitively (cycles allowed), and their CSS; dynamic imports, fonts and other-language
 * packs are left out. The HTML page itself is not in the manifest and is added by {@link measureFirstLoad}.
 * @throws Error naming the key when `entryKey` is not in the manifest or is not an entry.
 */
export function firstLoadFiles(manifest: Manifest, entryKey: string): FirstLoadFile[] {
  const entry = manifest[entryKey];
  if (!entry)
    throw new Error(`the manifest has no entry ${JSON.stringify(entryKey)}; is it an input of the build?`);
  if (!entry.isEntry) throw new Error(`${entryKey} is in the manifest but is not an entry chunk`);
  const out: FirstLoadFile[] = [];
  const seenFiles = new Set<string>();
  const add = (file: string, kind: FirstLoadFile['kind'], via: string) => {
    if (FONT.test(file) || seenFiles.has(file)) return;
    seenFiles.add(file);
    out.push({ file, kind, via });
  };
  const visited = new Set<string>();
  const visit = (key: string) => {
    if (visited.has(key)) return;
    visited.add(key);
    const chunk = manifest[key];
    if (!chunk)
      throw new Error(`the manifest names ${JSON.stringify(key)} as an import but has no such chunk`);
    if (isOtherLanguagePack(key, chunk)) return;
    add(chunk.file, chunk.file.endsWith('.css') ? 'css' : 'js', key);
    for (const css of chunk.css ?? []) add(css, 'css', key);
    for (const imp of chunk.imports ?? []) visit(imp);
  };
  visit(entryKey);
  return out;
}

/** Scripts and stylesheets a built HTML page names by a local URL (`src=` / `href=`), relative to `base`. */
export function htmlReferences(html: string, base = '/'): { file: string; kind: 'js' | 'css' }[] {
  const refs: { file: string; kind: 'js' | 'css' }[] = [];
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"[^>]*>/gi))
    refs.push({ file: m[1]!, kind: 'js' });
  for (const m of html.matchAll(/<link\b[^>]*>/gi)) {
    const tag = m[0];
    const rel = /\brel="([^"]+)"/i.exec(tag)?.[1] ?? '';
    const href = /\bhref="([^"]+)"/i.exec(tag)?.[1];
    if (!href) continue;
    if (/\bstylesheet\b/i.test(rel)) refs.push({ file: href, kind: 'css' });
    else if (/\bmodulepreload\b/i.test(rel)) refs.push({ file: href, kind: 'js' });
  }
  return refs
    .filter((r) => !/^(data:|[a-z]+:\/\/|\/\/)/i.test(r.file))
    .map((r) => ({
      ...r,
      file: r.file.startsWith(base) ? r.file.slice(base.length) : r.file.replace(/^\.\//, ''),
    }))
    .filter((r) => !FONT.test(r.file));
}

/** Gzipped size in bytes (node:zlib, level 9). */
export function gzipBytes(data: Buffer | string): number {
  return gzipSync(data, { level: constants.Z_BEST_COMPRESSION }).length;
}

export interface MeasuredFile extends FirstLoadFile {
  /** bytes on disk */
  bytes: number;
  /** bytes after gzip level 9 */
  gzipBytes: number;
}

export interface BundleReport {
  files: MeasuredFile[];
  totalBytes: number;
  totalGzipBytes: number;
  budgetBytes: number;
  ok: boolean;
}

export interface MeasureOptions {
  /** the build folder (default dist/web) */
  outDir: string;
  /** the page's manifest key and HTML file (default index.html) */
  entryKey?: string;
  html?: string;
  /** gzipped bytes allowed (default {@link FIRST_LOAD_BUDGET_BYTES}) */
  budgetBytes?: number;
  /** where the manifest is, relative to outDir (default .vite/manifest.json) */
  manifestPath?: string;
}

/**
 * Measures the first load of one page of a build: the HTML, {@link firstLoadFiles} and what the HTML
 * names, each gzipped; sorted biggest first.
 * @throws Error saying what to run when the build folder, its manifest or a listed file is missing.
 */
export function measureFirstLoad(options: MeasureOptions): BundleReport {
  const { outDir } = options;
  const entryKey = options.entryKey ?? 'index.html';
  const htmlFile = options.html ?? 'index.html';
  const budgetBytes = options.budgetBytes ?? FIRST_LOAD_BUDGET_BYTES;
  const manifestFile = path.join(outDir, options.manifestPath ?? '.vite/manifest.json');
  if (!fs.existsSync(manifestFile))
    throw new Error(
      `no build manifest at ${manifestFile}: run \`npm run build:web\` first (src/web/vite.config.ts needs build.manifest: true)`,
    );
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  const htmlPath = path.join(outDir, htmlFile);
  if (!fs.existsSync(htmlPath))
    throw new Error(`no built page at ${htmlPath}: run \`npm run build:web\` first`);
  const html = fs.readFileSync(htmlPath, 'utf8');
  const list: FirstLoadFile[] = [
    { file: htmlFile, kind: 'html', via: 'html' },
    ...firstLoadFiles(manifest, entryKey),
  ];
  for (const ref of htmlReferences(html))
    if (!list.some((f) => f.file === ref.file)) list.push({ ...ref, via: 'html' });
  const files = list.map((f) => {
    const p = path.join(outDir, f.file);
    if (!fs.existsSync(p))
      throw new Error(`${f.file} (from ${f.via}) is not in ${outDir}: rebuild the web client`);
    const data = fs.readFileSync(p);
    return { ...f, bytes: data.length, gzipBytes: gzipBytes(data) };
  });
  files.sort((a, b) => b.gzipBytes - a.gzipBytes);
  const totalGzipBytes = files.reduce((s, f) => s + f.gzipBytes, 0);
  return {
    files,
    totalBytes: files.reduce((s, f) => s + f.bytes, 0),
    totalGzipBytes,
    budgetBytes,
    ok: totalGzipBytes <= budgetBytes,
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** The report as a text table (biggest first) with the total against the budget. */
export function formatReport(r: BundleReport): string {
  const width = Math.max(4, ...r.files.map((f) => f.file.length));
  const lines = [
    `${'file'.padEnd(width)}  ${'raw'.padStart(9)}  ${'gzip'.padStart(9)}`,
    ...r.files.map(
      (f) => `${f.file.padEnd(width)}  ${kb(f.bytes).padStart(9)}  ${kb(f.gzipBytes).padStart(9)}`,
    ),
    `${'total'.padEnd(width)}  ${kb(r.totalBytes).padStart(9)}  ${kb(r.totalGzipBytes).padStart(9)}  (budget ${kb(r.budgetBytes)} = ${r.budgetBytes} bytes gzipped)`,
  ];
  return lines.join('\n');
}

function main(): void {
  const root = path.resolve(import.meta.dirname, '..');
  const budgetEnv = process.env.BUNDLE_BUDGET_BYTES;
  const budgetBytes = budgetEnv ? Number(budgetEnv) : FIRST_LOAD_BUDGET_BYTES;
  if (!Number.isInteger(budgetBytes) || budgetBytes <= 0) {
    console.error(
      `BUNDLE_BUDGET_BYTES must be a whole number of bytes > 0, not ${JSON.stringify(budgetEnv)}`,
    );
    process.exit(1);
  }
  let report: BundleReport;
  try {
    report = measureFirstLoad({
      outDir: path.resolve(root, process.env.BUNDLE_OUT_DIR ?? 'dist/web'),
      budgetBytes,
    });
  } catch (e) {
    console.error(`check:bundle: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  console.log('citizen page, first load (HTML + entry + static imports + their CSS; gzip level 9):');
  console.log(formatReport(report));
  if (!report.ok) {
    const biggest = report.files
      .slice(0, 5)
      .map((f) => `  ${f.file} ${kb(f.gzipBytes)} (via ${f.via})`)
      .join('\n');
    console.error(
      `\nFirst load is ${report.totalGzipBytes} bytes gzipped, over the budget of ${report.budgetBytes} by ${report.totalGzipBytes - report.budgetBytes}. Biggest files:\n${biggest}\nMove what the search page does not need behind a dynamic import() (a lazy view, or a library imported where it is used).`,
    );
  }
  console.log(
    JSON.stringify({
      check: 'citizen-first-load',
      totalGzipBytes: report.totalGzipBytes,
      totalBytes: report.totalBytes,
      budgetBytes: report.budgetBytes,
      ok: report.ok,
      files: report.files.map((f) => ({ file: f.file, gzipBytes: f.gzipBytes })),
    }),
  );
  if (!report.ok) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
