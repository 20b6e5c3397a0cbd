/**
 * Translation bookkeeping for the citizen app, shared by `npm run i18n:status` (scripts/i18n-status.ts),
 * the completeness test (i18n.test.ts) and the app's "not reviewed" notice (i18n.ts). Pure: it takes
 * file contents, never reads files itself, so it runs in Node and in the browser.
 *
 * Files (see docs/translating.md): `locales/<lang>.json` is the core file of a language;
 * `locales/<feature>/<lang>.json` a feature's strings, under the feature's own top-level key(s);
 * `locales/review/<lang>.json` the review status of each string of a language that is reviewed by
 * native speakers (bo, ug): `{ "<dotted key>": { "status": "machine" | "reviewed", … } }`.
 * zh-CN is the source: every other language is measured against the zh-CN keys.
 */

/** The source language: its keys are the full set every translation is compared with. */
export const SOURCE_LANG = 'zh-CN';
/** Languages that must be complete (a missing key fails `npm run i18n:status` and the test). */
export const COMPLETE_LANGS: readonly string[] = ['zh-CN', 'en'];
/** The folder under locales/ that holds review status files, not messages. */
export const REVIEW_FOLDER = 'review';

/** How far a native speaker has checked one string. */
export type ReviewStatus = 'machine' | 'reviewed';

/**
 * One string's review record. `text`: the wording the reviewer approved; when the string has changed
 * since, the review no longer counts (the string is unreviewed again).
 */
export interface ReviewEntry {
  status: ReviewStatus;
  reviewer?: string;
  /** YYYY-MM-DD */
  date?: string;
  text?: string;
}
export type ReviewFile = Record<string, ReviewEntry>;

/** One messages file: `feature` null for the core file `locales/<lang>.json`. */
export interface LocaleFile {
  path: string;
  feature: string | null;
  lang: string;
  messages: Record<string, unknown>;
}

/**
 * Where a file under locales/ belongs: `locales/en.json` → core en; `locales/nav/bo.json` → feature
 * nav, bo; review files and anything else → null. `path` may carry any prefix before `locales/`.
 */
export function localePathInfo(path: string): { feature: string | null; lang: string } | null {
  const m = /(?:^|\/)locales\/(?:([^/]+)\/)?([^/]+)\.json$/.exec(path.replaceAll('\\', '/'));
  if (!m) return null;
  const feature = m[1] ?? null;
  if (feature === REVIEW_FOLDER) return null;
  return { feature, lang: m[2] as string };
}

/** The review file's language: `locales/review/bo.json` → bo; null for other paths. */
export function reviewPathLang(path: string): string | null {
  const m = /(?:^|\/)locales\/review\/([^/]+)\.json$/.exec(path.replaceAll('\\', '/'));
  return m ? (m[1] as string) : null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Dotted key → leaf of nested messages (`{ app: { name: 'x' } }` → `app.name` → 'x'). Leaves are
 * strings in the JSON files, compiled message functions in the built app; both count as a message.
 */
export function flattenMessages(messages: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(messages)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) for (const [kk, vv] of flattenMessages(v, key)) out.set(kk, vv);
    else out.set(key, v);
  }
  return out;
}

const translated = (v: unknown) => (typeof v === 'string' ? v.trim() !== '' : v !== undefined && v !== null);

/** Whether `entry` approves the current wording `text` (a string that changed since is unreviewed). */
export function isReviewed(entry: ReviewEntry | undefined, text: unknown): boolean {
  if (entry?.status !== 'reviewed') return false;
  return entry.text === undefined || typeof text !== 'string' || entry.text === text;
}

/** Counts and key lists of one language against zh-CN (all files merged). */
export interface LanguageReport {
  lang: string;
  /** keys in zh-CN */
  total: number;
  /** zh-CN keys this language has a non-empty string for */
  translated: number;
  /** translated keys approved by a native speaker (null: the language has no review file) */
  reviewed: number | null;
  /** zh-CN keys without a translation (they show in Chinese) */
  missing: string[];
  /** keys this language has but zh-CN does not (left over; remove them) */
  extra: string[];
  /** translated keys without a review entry (count as unreviewed; `npm run i18n:status -- --mark` adds them) */
  unmarked: string[];
  /** keys marked reviewed whose wording changed since (count as unreviewed) */
  changed: string[];
  /** review entries for keys the language does not have */
  staleReview: string[];
  /** top-level keys defined by more than one file of this language (the later silently wins) */
  collisions: { key: string; paths: string[] }[];
}

/** The merged, flattened messages of `lang` and which files define each top-level key. */
function mergedOf(files: readonly LocaleFile[], lang: string) {
  const flat = new Map<string, unknown>();
  const owners = new Map<string, string[]>();
  const mine = files
    .filter((f) => f.lang === lang)
    .sort((a, b) => (a.feature === null ? -1 : b.feature === null ? 1 : a.path.localeCompare(b.path)));
  for (const f of mine) {
    for (const top of Object.keys(f.messages)) owners.set(top, [...(owners.get(top) ?? []), f.path]);
    for (const [k, v] of flattenMessages(f.messages)) flat.set(k, v);
  }
  return { flat, owners };
}

/** Every language found in `files`, in the order zh-CN, en, then alphabetical. */
export function languagesOf(files: readonly LocaleFile[]): string[] {
  const langs = [...new Set(files.map((f) => f.lang))];
  const rank = (l: string) => {
    const i = COMPLETE_LANGS.indexOf(l);
    return i === -1 ? COMPLETE_LANGS.length : i;
  };
  return langs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The report of each language in `files` against zh-CN. `reviews`: the review file of each language
 * that has one (by language).
 */
export function languageReports(
  files: readonly LocaleFile[],
  reviews: Readonly<Record<string, ReviewFile>>,
): LanguageReport[] {
  const source = mergedOf(files, SOURCE_LANG).flat;
  const sourceKeys = [...source.keys()].filter((k) => translated(source.get(k)));
  return languagesOf(files).map((lang) => {
    const { flat, owners } = mergedOf(files, lang);
    const review = reviews[lang];
    const missing = sourceKeys.filter((k) => !translated(flat.get(k)));
    const present = sourceKeys.filter((k) => translated(flat.get(k)));
    const extra = [...flat.keys()].filter((k) => !source.has(k));
    const unmarked = review ? present.filter((k) => !review[k]) : [];
    const changed = review
      ? present.filter((k) => review[k]?.status === 'reviewed' && !isReviewed(review[k], flat.get(k)))
      : [];
    return {
      lang,
      total: sourceKeys.length,
      translated: present.length,
      reviewed: review ? present.filter((k) => isReviewed(review[k], flat.get(k))).length : null,
      missing,
      extra,
      unmarked,
      changed,
      staleReview: review ? Object.keys(review).filter((k) => !flat.has(k)) : [],
      collisions: [...owners].filter(([, paths]) => paths.length > 1).map(([key, paths]) => ({ key, paths })),
    };
  });
}

/**
 * Per feature folder (and the core files, feature null): the zh-CN keys of that folder missing from
 * the same folder's `lang` file — a feature must translate its own strings, not rely on another file.
 */
export function missingByFeature(
  files: readonly LocaleFile[],
  lang: string,
): { feature: string | null; path: string; missing: string[] }[] {
  const features = [...new Set(files.filter((f) => f.lang === SOURCE_LANG).map((f) => f.feature))];
  return features.map((feature) => {
    const zh = files.find((f) => f.feature === feature && f.lang === SOURCE_LANG) as LocaleFile;
    const other = files.find((f) => f.feature === feature && f.lang === lang);
    const have = other ? flattenMessages(other.messages) : new Map<string, unknown>();
    const missing = [...flattenMessages(zh.messages)]
      .filter(([, v]) => translated(v))
      .map(([k]) => k)
      .filter((k) => !translated(have.get(k)));
    return { feature, path: other?.path ?? zh.path.replace(`${SOURCE_LANG}.json`, `${lang}.json`), missing };
  });
}

/**
 * Whether a language should show the "not reviewed" notice: some zh-CN key has no translation (shown
 * in Chinese), or some translated key is not approved in the review file. Languages without a review
 * file (zh-CN, en) never do. Leaves may be compiled messages (no wording check then).
 */
export function needsReviewNotice(
  source: Record<string, unknown>,
  messages: Record<string, unknown>,
  review: ReviewFile | undefined,
): boolean {
  if (!review) return false;
  const flat = flattenMessages(messages);
  for (const [k, v] of flattenMessages(source)) {
    if (!translated(v)) continue;
    const mine = flat.get(k);
    if (!translated(mine) || !isReviewed(review[k], mine)) return true;
  }
  return false;
}

/**
 * The review file after `--mark`: translated keys without an entry get `{ status: 'machine' }`,
 * entries of keys the language no longer has are dropped, reviewed entries without `text` get the
 * current wording. Keys sorted.
 */
export function markedReview(review: ReviewFile, messages: ReadonlyMap<string, unknown>): ReviewFile {
  const out: ReviewFile = {};
  for (const key of [...messages.keys()].sort()) {
    const text = messages.get(key);
    if (!translated(text)) continue;
    const entry = review[key];
    if (!entry) out[key] = { status: 'machine' };
    else if (entry.status === 'reviewed' && entry.text === undefined && typeof text === 'string')
      out[key] = { ...entry, text };
    else out[key] = entry;
  }
  return out;
}

/** The merged flattened messages of one language (for {@link markedReview}). */
export function flatMessagesOf(files: readonly LocaleFile[], lang: string): Map<string, unknown> {
  return mergedOf(files, lang).flat;
}
