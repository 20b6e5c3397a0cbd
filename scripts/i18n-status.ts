/**
 * `npm run i18n:status` — the state of the citizen app's translations: per language the number of
 * keys (those of zh-CN, the source, across the core file and every feature folder), how many are
 * translated, how many a native speaker has reviewed, and how many are missing (shown in Chinese).
 * Then the details: missing keys by file for the languages that must be complete, keys left over,
 * translated strings without a review entry, reviewed strings changed since, top-level key collisions.
 *
 * Exits 1 when zh-CN or en lacks a key of zh-CN (they must be complete), when two files of a language
 * define the same top-level key, or when a file is not valid JSON. bo and ug may be incomplete: their
 * missing strings fall back to zh-CN in the app.
 *
 * `npm run i18n:status -- --mark` also updates the review files (locales/review/<lang>.json): adds
 * `{ "status": "machine" }` for translated strings without an entry, drops entries of removed keys,
 * and records the reviewed wording (`text`) of reviewed entries without one. See docs/translating.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  COMPLETE_LANGS,
  flatMessagesOf,
  type LanguageReport,
  type LocaleFile,
  languageReports,
  localePathInfo,
  markedReview,
  missingByFeature,
  type ReviewFile,
  reviewPathLang,
} from '../src/web/citizen/i18n-report.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
export const LOCALES_DIR = path.join(ROOT, 'src/web/citizen/locales');

/** Every messages file and review file under `dir`. @throws Error naming the file that is not valid JSON. */
export function readLocales(dir = LOCALES_DIR): { files: LocaleFile[]; reviews: Record<string, ReviewFile> } {
  const files: LocaleFile[] = [];
  const reviews: Record<string, ReviewFile> = {};
  const paths = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.json'))
    .sort();
  for (const rel of paths) {
    const full = path.join(dir, rel);
    const shown = path.relative(ROOT, full);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (e) {
      throw new Error(`${shown} is not valid JSON: ${(e as Error).message}`);
    }
    const reviewLang = reviewPathLang(`locales/${rel}`);
    if (reviewLang) {
      reviews[reviewLang] = json as ReviewFile;
      continue;
    }
    const info = localePathInfo(`locales/${rel}`);
    if (info) files.push({ path: shown, ...info, messages: json as Record<string, unknown> });
  }
  return { files, reviews };
}

/** The review file written one entry per line, keys sorted (as the shipped files are). */
export function formatReview(review: ReviewFile): string {
  const lines = Object.keys(review)
    .sort()
    .map((k) => {
      const e = review[k];
      const body = Object.entries(e ?? {})
        .map(([p, v]) => `${JSON.stringify(p)}: ${JSON.stringify(v)}`)
        .join(', ');
      return `  ${JSON.stringify(k)}: { ${body} }`;
    });
  return `{\n${lines.join(',\n')}\n}\n`;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

function table(reports: readonly LanguageReport[]): string {
  const head = `${pad('language', 10)}${pad('keys', 7)}${pad('translated', 12)}${pad('reviewed', 10)}missing`;
  const rows = reports.map(
    (r) =>
      `${pad(r.lang, 10)}${pad(r.total, 7)}${pad(r.translated, 12)}${pad(r.reviewed ?? '—', 10)}${r.missing.length}`,
  );
  return [head, ...rows].join('\n');
}

function list(title: string, keys: readonly string[], max = 20): string[] {
  if (keys.length === 0) return [];
  const shown = keys.slice(0, max).map((k) => `    ${k}`);
  if (keys.length > max) shown.push(`    … and ${keys.length - max} more`);
  return [`  ${title} (${keys.length}):`, ...shown];
}

/** Runs the report; returns the exit code. */
export function main(argv: readonly string[], dir = LOCALES_DIR, out = console.log): number {
  let data: ReturnType<typeof readLocales>;
  try {
    data = readLocales(dir);
  } catch (e) {
    out(`i18n:status: ${(e as Error).message}`);
    return 1;
  }
  const { files, reviews } = data;
  const reports = languageReports(files, reviews);
  out(table(reports));
  out(
    '("reviewed": approved by a native speaker, see locales/review/; — : the language is not reviewed that way)',
  );

  let failed = false;
  for (const r of reports) {
    const lines: string[] = [];
    if (COMPLETE_LANGS.includes(r.lang) && r.missing.length > 0) {
      failed = true;
      for (const f of missingByFeature(files, r.lang))
        lines.push(...list(`MISSING in ${f.path} — ${r.lang} must be complete`, f.missing, 50));
    } else {
      lines.push(...list('missing (shown in Chinese)', r.missing));
    }
    for (const c of r.collisions) {
      failed = true;
      lines.push(`  COLLISION: top-level key "${c.key}" is defined by ${c.paths.join(' and ')}`);
    }
    lines.push(...list('left over (not in zh-CN; remove them)', r.extra));
    lines.push(...list('without review entry (unreviewed; --mark adds them)', r.unmarked));
    lines.push(...list('changed since reviewed (unreviewed again)', r.changed));
    lines.push(...list('review entries of removed keys (--mark drops them)', r.staleReview));
    if (lines.length > 0) out(`\n${r.lang}:\n${lines.join('\n')}`);
  }

  if (argv.includes('--mark')) {
    for (const [lang, review] of Object.entries(reviews)) {
      const file = path.join(dir, 'review', `${lang}.json`);
      const next = formatReview(markedReview(review, flatMessagesOf(files, lang)));
      if (fs.readFileSync(file, 'utf8') !== next) {
        fs.writeFileSync(file, next);
        out(`updated ${path.relative(ROOT, file)}`);
      }
    }
  }
  if (failed)
    out('\ni18n:status: FAILED — zh-CN and en must have every key; top-level keys must not collide.');
  return failed ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
