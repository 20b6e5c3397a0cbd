/**
 * The first-load budget check (scripts/check-bundle.ts) on a tiny synthetic build: it follows static
 * imports transitively and counts their CSS, leaves out dynamic imports, fonts and other-language packs,
 * adds what the HTML names, gzips every file, and fails over budget (also through the CLI: exit 1).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  firstLoadFiles,
  gzipBytes,
  htmlReferences,
  type Manifest,
  measureFirstLoad,
} from './check-bundle.ts';

const MANIFEST: Manifest = {
  'index.html': {
    file: 'assets/entry.js',
    src: 'index.html',
    isEntry: true,
    imports: ['_shared.js', '_vendor.js', 'citizen/locales/en.json'],
    dynamicImports: ['views/Lazy.vue', 'citizen/locales/bo.json'],
    css: ['assets/entry.css'],
    assets: ['assets/font.woff2'],
  },
  '_shared.js': { file: 'assets/shared.js', imports: ['_deep.js', 'index.html'], css: ['assets/shared.css'] },
  '_vendor.js': { file: 'assets/vendor.js', imports: ['_deep.js'] },
  '_deep.js': { file: 'assets/deep.js' },
  'citizen/locales/en.json': { file: 'assets/en.js', src: 'citizen/locales/en.json' },
  'views/Lazy.vue': {
    file: 'assets/lazy.js',
    src: 'views/Lazy.vue',
    isDynamicEntry: true,
    imports: ['_shared.js', '_heavy.js'],
    css: ['assets/lazy.css'],
  },
  '_heavy.js': { file: 'assets/heavy.js' },
  'citizen/locales/bo.json': { file: 'assets/bo.js', src: 'citizen/locales/bo.json', isDynamicEntry: true },
};

const HTML = `<!doctype html><html><head>
<script type="module" crossorigin src="/assets/entry.js"></script>
<link rel="modulepreload" crossorigin href="/assets/shared.js">
<link rel="stylesheet" crossorigin href="/assets/entry.css">
<link rel="manifest" href="/manifest.webmanifest">
<link rel="icon" href="data:image/svg+xml,x">
<script id="vite-plugin-pwa:register-sw" src="/registerSW.js"></script>
</head><body><div id="app"></div></body></html>`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes the synthetic build: every file of the manifest with `sizes[file]` random (incompressible) bytes. */
function build(sizes: Record<string, number> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-bundle-'));
  dirs.push(dir);
  const files = new Set<string>(['registerSW.js']);
  for (const c of Object.values(MANIFEST)) {
    files.add(c.file);
    for (const f of [...(c.css ?? []), ...(c.assets ?? [])]) files.add(f);
  }
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), randomBytes(sizes[f] ?? 100));
  }
  fs.mkdirSync(path.join(dir, '.vite'));
  fs.writeFileSync(path.join(dir, '.vite/manifest.json'), JSON.stringify(MANIFEST));
  fs.writeFileSync(path.join(dir, 'index.html'), HTML);
  return dir;
}

describe('first-load set', () => {
  test('follows static imports transitively (through a cycle), with their CSS; no dynamic imports, fonts or other languages', () => {
    const files = firstLoadFiles(MANIFEST, 'index.html').map((f) => f.file);
    expect(files.sort()).toEqual(
      [
        'assets/entry.js',
        'assets/entry.css',
        'assets/shared.js',
        'assets/shared.css',
        'assets/deep.js',
        'assets/vendor.js',
      ].sort(),
    );
    // each counted once though two chunks import it
    expect(files.filter((f) => f === 'assets/deep.js')).toHaveLength(1);
  });

  test('refuses an unknown or non-entry key', () => {
    expect(() => firstLoadFiles(MANIFEST, 'nope.html')).toThrow(/no entry "nope.html"/);
    expect(() => firstLoadFiles(MANIFEST, '_shared.js')).toThrow(/not an entry/);
  });

  test('the HTML names its scripts and stylesheets (local ones only)', () => {
    expect(htmlReferences(HTML)).toEqual([
      { file: 'assets/entry.js', kind: 'js' },
      { file: 'registerSW.js', kind: 'js' },
      { file: 'assets/shared.js', kind: 'js' },
      { file: 'assets/entry.css', kind: 'css' },
    ]);
  });
});

describe('measure against the budget', () => {
  test('sums the gzipped sizes of the HTML, the set and what the HTML names', () => {
    const dir = build({ 'assets/heavy.js': 50_000, 'assets/font.woff2': 50_000, 'assets/bo.js': 50_000 });
    const r = measureFirstLoad({ outDir: dir, budgetBytes: 10_000 });
    expect(r.files.map((f) => f.file).sort()).toEqual(
      [
        'index.html',
        'assets/entry.js',
        'assets/entry.css',
        'assets/shared.js',
        'assets/shared.css',
        'assets/deep.js',
        'assets/vendor.js',
        'registerSW.js',
      ].sort(),
    );
    const expected = r.files.reduce((s, f) => s + gzipBytes(fs.readFileSync(path.join(dir, f.file))), 0);
    expect(r.totalGzipBytes).toBe(expected);
    // 8 files of ~100 random bytes: far below the 50 kB lazy chunk, font and language pack left out
    expect(r.totalGzipBytes).toBeLessThan(3_000);
    expect(r.ok).toBe(true);
  });

  test('a static import that grows past the budget fails, naming the biggest file first', () => {
    const dir = build({ 'assets/deep.js': 20_000 });
    const r = measureFirstLoad({ outDir: dir, budgetBytes: 10_000 });
    expect(r.ok).toBe(false);
    expect(r.files[0]?.file).toBe('assets/deep.js');
    expect(r.totalGzipBytes).toBeGreaterThan(20_000);
  });

  test('a missing build says what to run', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'check-bundle-empty-'));
    dirs.push(empty);
    expect(() => measureFirstLoad({ outDir: empty })).toThrow(/npm run build:web/);
  });
});

describe('the CLI', () => {
  const script = path.resolve(import.meta.dirname, 'check-bundle.ts');
  const run = (outDir: string, budget: string) =>
    spawnSync(process.execPath, [script], {
      env: { ...process.env, BUNDLE_OUT_DIR: outDir, BUNDLE_BUDGET_BYTES: budget },
      encoding: 'utf8',
    });

  test('exits 1 over budget listing the biggest files, 0 within; the last stdout line is JSON', () => {
    const dir = build({ 'assets/vendor.js': 5_000 });
    const over = run(dir, '1000');
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/over the budget of 1000 by \d+/);
    expect(over.stderr).toMatch(/Biggest files:\n {2}assets\/vendor\.js/);
    const last = JSON.parse(over.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ check: 'citizen-first-load', budgetBytes: 1000, ok: false });
    expect(last.totalGzipBytes).toBeGreaterThan(5_000);
    const within = run(dir, String(last.totalGzipBytes));
    expect(within.status).toBe(0);
    expect(JSON.parse(within.stdout.trim().split('\n').at(-1)!).ok).toBe(true);
  });

  test('without a build it exits 1 saying to build', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'check-bundle-none-'));
    dirs.push(empty);
    const r = run(empty, '153600');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm run build:web/);
  });

  test('refuses a budget that is not a number of bytes', () => {
    const r = run(build(), '150KB');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BUNDLE_BUDGET_BYTES must be a whole number/);
  });
});
