/**
 * UI languages. Every string the app shows lives in ./locales/*.json (precompiled at build time by
 * @intlify/unplugin-vue-i18n). zh-CN is the default and ships in the first-load bundle; the other
 * languages — en, bo (Tibetan, བོད་ཡིག) and ug (Uyghur, ئۇيغۇرچە, right to left) — are separate chunks
 * fetched when chosen, with zh-CN as their fallback for missing keys. bo and ug also fetch their
 * script's font (only then: a zh-CN or en visit never loads it) and their review status file, which
 * decides whether the "not reviewed by a native speaker" notice shows.
 *
 * A new language: a core file `locales/<lang>.json`, feature files `locales/<feature>/<lang>.json`,
 * a review file `locales/review/<lang>.json`, an entry in {@link LOCALES} and a loader in
 * {@link LOADERS} — see docs/translating.md.
 */
import { Locale as VantLocale } from 'vant';
import vantZhCN from 'vant/es/locale/lang/zh-CN';
import { reactive } from 'vue';
import { createI18n } from 'vue-i18n';
import { needsReviewNotice, type ReviewFile } from './i18n-report.ts';
import zhCNCore from './locales/zh-CN.json';

/**
 * Each feature keeps its strings in its own folder, `locales/<feature>/<lang>.json`, under its own
 * top-level key(s) (e.g. `offline.*` in locales/offline/zh-CN.json); they are merged over the core
 * file `locales/<lang>.json`. zh-CN is bundled; every other language is fetched when chosen.
 * `locales/review/` holds review status, not messages.
 */
const AREA_ZH = import.meta.glob<{ default: Record<string, unknown> }>(
  ['./locales/*/zh-CN.json', '!./locales/review/*.json'],
  { eager: true },
);
const AREA_LAZY = import.meta.glob<{ default: Record<string, unknown> }>([
  './locales/*/*.json',
  '!./locales/*/zh-CN.json',
  '!./locales/review/*.json',
]);
const REVIEW = import.meta.glob<{ default: ReviewFile }>('./locales/review/*.json');

const zhCN = Object.assign({}, zhCNCore, ...Object.values(AREA_ZH).map((m) => m.default)) as typeof zhCNCore;

/** Every feature file of `lang` merged (missing keys fall back to zh-CN). */
async function areaMessages(lang: string): Promise<Record<string, unknown>> {
  const loads = Object.entries(AREA_LAZY)
    .filter(([file]) => file.endsWith(`/${lang}.json`))
    .map(([, load]) => load().then((m) => m.default));
  return Object.assign({}, ...(await Promise.all(loads)));
}

/** The review status file of `lang`, or undefined when it has none (zh-CN, en). */
async function reviewOf(lang: string): Promise<ReviewFile | undefined> {
  const load = REVIEW[`./locales/review/${lang}.json`];
  return load ? (await load()).default : undefined;
}

export type MessageSchema = typeof zhCNCore;
export type AppLocale = 'zh-CN' | 'en' | 'bo' | 'ug';

export interface LocaleInfo {
  code: AppLocale;
  /** the language's name in itself */
  label: string;
  /** writing direction, set on `<html dir>` */
  dir: 'ltr' | 'rtl';
}

export const LOCALES: readonly LocaleInfo[] = [
  { code: 'zh-CN', label: '中文', dir: 'ltr' },
  { code: 'en', label: 'English', dir: 'ltr' },
  { code: 'bo', label: 'བོད་ཡིག', dir: 'ltr' },
  { code: 'ug', label: 'ئۇيغۇرچە', dir: 'rtl' },
];

export const localeInfo = (code: string): LocaleInfo =>
  LOCALES.find((l) => l.code === code) ?? (LOCALES[0] as LocaleInfo);

const STORAGE_KEY = 'tongban.locale';

type VantMessages = typeof vantZhCN;
interface LocaleBundle {
  messages: MessageSchema;
  /** Vant's own strings (its date picker, dialogs …); Vant has none for bo and ug: zh-CN there */
  vantName: string;
  vant: VantMessages;
  review?: ReviewFile;
}

/**
 * The languages fetched on demand: their messages, Vant's own strings, their review status and, for
 * bo and ug, the font of their script — regular weight (400) only, of the script's own subset: bold
 * text is synthesised (Noto Serif Tibetan 400 ≈ 160 KB, Noto Naskh Arabic 400 arabic ≈ 53 KB).
 */
const LOADERS: Record<Exclude<AppLocale, 'zh-CN'>, () => Promise<LocaleBundle>> = {
  en: async () => {
    const [messages, areas, vant] = await Promise.all([
      import('./locales/en.json'),
      areaMessages('en'),
      import('vant/es/locale/lang/en-US'),
    ]);
    return {
      messages: { ...messages.default, ...areas } as MessageSchema,
      vantName: 'en-US',
      vant: vant.default,
    };
  },
  bo: async () => {
    const [messages, areas, review] = await Promise.all([
      import('./locales/bo.json'),
      areaMessages('bo'),
      reviewOf('bo'),
      import('@fontsource/noto-serif-tibetan/tibetan-400.css'),
    ]);
    return {
      messages: { ...messages.default, ...areas } as MessageSchema,
      vantName: 'zh-CN',
      vant: vantZhCN,
      ...(review ? { review } : {}),
    };
  },
  ug: async () => {
    const [messages, areas, review] = await Promise.all([
      import('./locales/ug.json'),
      areaMessages('ug'),
      reviewOf('ug'),
      import('@fontsource/noto-naskh-arabic/arabic-400.css'),
    ]);
    return {
      messages: { ...messages.default, ...areas } as MessageSchema,
      vantName: 'zh-CN',
      vant: vantZhCN,
      ...(review ? { review } : {}),
    };
  },
};

const VANT: Partial<Record<AppLocale, readonly [string, VantMessages]>> = { 'zh-CN': ['zh-CN', vantZhCN] };
/** per loaded language: whether it shows the "not reviewed" notice */
const NOTICE: Partial<Record<AppLocale, boolean>> = { 'zh-CN': false };

/**
 * The state of the current language's translation, for the notice under the header:
 * `unreviewed` — some string is machine-translated (not checked by a native speaker) or missing
 * (shown in Chinese).
 */
export const translationState = reactive({ unreviewed: false });

function initialLocale(): AppLocale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LOCALES.some((l) => l.code === saved)) return saved as AppLocale;
  } catch {
    // storage disabled
  }
  return 'zh-CN';
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN } as Record<AppLocale, MessageSchema>,
  missingWarn: false,
  fallbackWarn: false,
});

async function ensureLoaded(locale: AppLocale): Promise<void> {
  if (VANT[locale]) return;
  const bundle = await LOADERS[locale as Exclude<AppLocale, 'zh-CN'>]();
  i18n.global.setLocaleMessage(locale, bundle.messages);
  VANT[locale] = [bundle.vantName, bundle.vant];
  NOTICE[locale] = needsReviewNotice(zhCN, bundle.messages, bundle.review);
}

/**
 * Switches the UI language (fetching it first when needed): vue-i18n, Vant's own strings,
 * `<html lang dir>`, the review notice, and remembers it. A language that cannot be fetched (offline,
 * not cached yet) leaves the current one.
 */
export async function setLocale(locale: AppLocale): Promise<void> {
  try {
    await ensureLoaded(locale);
  } catch {
    return;
  }
  const vant = VANT[locale];
  if (vant) VantLocale.use(vant[0], vant[1]);
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
  document.documentElement.dir = localeInfo(locale).dir;
  translationState.unreviewed = NOTICE[locale] ?? false;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // the choice lasts for this visit only
  }
}

/** Resolves once the remembered language is in place (at once for zh-CN). */
export const localeReady: Promise<void> = setLocale(initialLocale());
