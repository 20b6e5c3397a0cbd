/**
 * The citizen app's locale files: zh-CN and en complete in every feature folder, no feature
 * overriding another's strings, placeholders kept by every translation, review files that match.
 * Reads the files the app bundles (import.meta.glob), so a new feature folder is checked as soon as it
 * exists — a feature that adds zh-CN strings without English fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  flattenMessages,
  type LocaleFile,
  languageReports,
  localePathInfo,
  missingByFeature,
  needsReviewNotice,
  type ReviewFile,
  reviewPathLang,
  SOURCE_LANG,
} from './i18n-report.ts';

const MESSAGES = import.meta.glob<Record<string, unknown>>('./locales/**/*.json', {
  eager: true,
  import: 'default',
});

const files: LocaleFile[] = [];
const reviews: Record<string, ReviewFile> = {};
for (const [path, messages] of Object.entries(MESSAGES)) {
  const reviewLang = reviewPathLang(path);
  if (reviewLang) reviews[reviewLang] = messages as ReviewFile;
  const info = localePathInfo(path);
  if (info) files.push({ path, ...info, messages });
}
const features = [...new Set(files.map((f) => f.feature))];
const fileOf = (feature: string | null, lang: string) =>
  files.find((f) => f.feature === feature && f.lang === lang);

describe('locale files', () => {
  it('finds the core files and the feature folders', () => {
    expect(fileOf(null, SOURCE_LANG)).toBeDefined();
    expect(features.length).toBeGreaterThan(1);
  });

  it.each(features.map((f) => [f ?? '(core)', f] as const))(
    'every zh-CN key of %s is in the same folder’s en.json',
    (_name, feature) => {
      const [report] = missingByFeature(
        files.filter((f) => f.feature === feature),
        'en',
      );
      expect(report?.missing, `add these keys to ${report?.path}`).toEqual([]);
    },
  );

  it('zh-CN and en are complete across all files, with no key left over', () => {
    const [zh, en] = languageReports(files, reviews);
    expect(zh?.lang).toBe('zh-CN');
    expect(en?.lang).toBe('en');
    expect(en?.missing).toEqual([]);
    expect(en?.extra).toEqual([]);
  });

  it('a feature file uses its folder name as top-level key, and no two files share a top-level key', () => {
    for (const f of files.filter((x) => x.feature !== null)) {
      expect(Object.keys(f.messages), f.path).toEqual([f.feature]);
    }
    for (const r of languageReports(files, reviews)) expect(r.collisions, r.lang).toEqual([]);
  });

  it('every translation keeps the placeholders of the zh-CN string', () => {
    const placeholders = (s: unknown) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const source = new Map<string, unknown>();
    for (const f of files.filter((x) => x.lang === SOURCE_LANG))
      for (const [k, v] of flattenMessages(f.messages)) source.set(k, v);
    const wrong: string[] = [];
    for (const f of files.filter((x) => x.lang !== SOURCE_LANG)) {
      for (const [k, v] of flattenMessages(f.messages)) {
        const zh = source.get(k);
        if (zh === undefined) continue;
        // of plural forms ("no copies | {n} copy | {n} copies") the last, the general one, has them all
        const general = String(v).split(' | ').at(-1);
        const missing = placeholders(zh).filter((p) => !placeholders(general).includes(p));
        if (missing.length > 0) wrong.push(`${f.path} ${k}: lacks {${missing.join('}, {')}}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('bo and ug have a review file whose statuses are machine or reviewed, for keys that exist', () => {
    for (const lang of ['bo', 'ug']) {
      const review = reviews[lang];
      expect(review, `locales/review/${lang}.json`).toBeDefined();
      const report = languageReports(files, reviews).find((r) => r.lang === lang);
      expect(report?.staleReview, lang).toEqual([]);
      expect(report?.unmarked, `${lang}: run npm run i18n:status -- --mark`).toEqual([]);
      for (const [key, entry] of Object.entries(review ?? {}))
        expect(['machine', 'reviewed'], `${lang} ${key}`).toContain(entry.status);
    }
  });

  it('the bo and ug strings written so far are marked machine (no native review yet), so the notice shows', () => {
    const zh = Object.assign({}, ...files.filter((f) => f.lang === SOURCE_LANG).map((f) => f.messages));
    for (const lang of ['bo', 'ug']) {
      const mine = Object.assign({}, ...files.filter((f) => f.lang === lang).map((f) => f.messages));
      expect(needsReviewNotice(zh, mine, reviews[lang]), lang).toBe(true);
    }
    expect(needsReviewNotice(zh, zh, undefined)).toBe(false);
  });
});

describe('review bookkeeping', () => {
  const zh: LocaleFile = {
    path: 'locales/zh-CN.json',
    feature: null,
    lang: 'zh-CN',
    messages: { a: { x: '甲', y: '乙' } },
  };
  const bo = (messages: Record<string, unknown>): LocaleFile => ({
    path: 'locales/bo.json',
    feature: null,
    lang: 'bo',
    messages,
  });

  it('counts translated, reviewed and missing against zh-CN; a changed string is unreviewed again', () => {
    const review: ReviewFile = {
      'a.x': { status: 'reviewed', reviewer: 'Tashi', date: '2025-01-01', text: 'ཀ' },
      'a.y': { status: 'reviewed', text: 'old wording' },
    };
    const [, r] = languageReports([zh, bo({ a: { x: 'ཀ', y: 'ཁ' } })], { bo: review });
    expect(r).toMatchObject({
      lang: 'bo',
      total: 2,
      translated: 2,
      reviewed: 1,
      missing: [],
      changed: ['a.y'],
    });
    const [, partial] = languageReports([zh, bo({ a: { x: 'ཀ' } })], { bo: review });
    expect(partial).toMatchObject({ translated: 1, missing: ['a.y'] });
  });

  it('the notice shows for a missing or unreviewed string, not when all is reviewed', () => {
    const all: ReviewFile = { 'a.x': { status: 'reviewed' }, 'a.y': { status: 'reviewed' } };
    expect(needsReviewNotice(zh.messages, { a: { x: 'ཀ', y: 'ཁ' } }, all)).toBe(false);
    expect(needsReviewNotice(zh.messages, { a: { x: 'ཀ' } }, all)).toBe(true);
    expect(needsReviewNotice(zh.messages, { a: { x: 'ཀ', y: 'ཁ' } }, { 'a.x': { status: 'reviewed' } })).toBe(
      true,
    );
  });
});
