/**
 * UI languages. Every string the app shows lives in ./locales/*.json (precompiled at build time by
 * @intlify/unplugin-vue-i18n). zh-CN is the default and ships in the first-load bundle; other
 * languages (en; later bo, ug — issue 6) are separate chunks fetched when chosen, with zh-CN as their
 * fallback for missing keys. A new language adds a JSON file, a loader in {@link LOADERS} and an entry
 * in {@link LOCALES}.
 */
import { Locale as VantLocale } from 'vant';
import vantZhCN from 'vant/es/locale/lang/zh-CN';
import { createI18n } from 'vue-i18n';
import zhCNCore from './locales/zh-CN.json';

/**
 * Each feature keeps its strings in its own folder, `locales/<feature>/<lang>.json`, under its own
 * top-level key(s) (e.g. `offline.*` in locales/offline/zh-CN.json); they are merged over the core
 * file `locales/<lang>.json`. zh-CN is bundled; every other language is fetched when chosen.
 */
const AREA_ZH = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/zh-CN.json', {
  eager: true,
});
const AREA_LAZY = import.meta.glob<{ default: Record<string, unknown> }>([
  './locales/*/*.json',
  '!./locales/*/zh-CN.json',
]);

const zhCN = Object.assign({}, zhCNCore, ...Object.values(AREA_ZH).map((m) => m.default)) as typeof zhCNCore;

/** Every feature file of `lang` merged (missing keys fall back to zh-CN). */
async function areaMessages(lang: string): Promise<Record<string, unknown>> {
  const loads = Object.entries(AREA_LAZY)
    .filter(([file]) => file.endsWith(`/${lang}.json`))
    .map(([, load]) => load().then((m) => m.default));
  return Object.assign({}, ...(await Promise.all(loads)));
}

export type MessageSchema = typeof zhCNCore;
export type AppLocale = 'zh-CN' | 'en';

export const LOCALES: readonly { code: AppLocale; label: string }[] = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
];

const STORAGE_KEY = 'tongban.locale';

type VantMessages = typeof vantZhCN;
interface LocaleBundle {
  messages: MessageSchema;
  vantName: string;
  vant: VantMessages;
}

/** The languages fetched on demand: their messages and Vant's own strings. */
const LOADERS: Record<Exclude<AppLocale, 'zh-CN'>, () => Promise<LocaleBundle>> = {
  en: async () => {
    const [messages, areas, vant] = await Promise.all([
      import('./locales/en.json'),
      areaMessages('en'),
      import('vant/es/locale/lang/en-US'),
    ]);
    return { messages: { ...messages.default, ...areas } as MessageSchema, vantName: 'en-US', vant: vant.default };
  },
};

const VANT: Partial<Record<AppLocale, readonly [string, VantMessages]>> = { 'zh-CN': ['zh-CN', vantZhCN] };

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
}

/**
 * Switches the UI language (fetching it first when needed): vue-i18n, Vant's own strings,
 * `<html lang>`, and remembers it. A language that cannot be fetched leaves the current one.
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
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // the choice lasts for this visit only
  }
}

/** Resolves once the remembered language is in place (at once for zh-CN). */
export const localeReady: Promise<void> = setLocale(initialLocale());
