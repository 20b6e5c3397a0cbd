/**
 * UI languages. Every string the app shows lives in ./locales/*.json (precompiled at build time by
 * @intlify/unplugin-vue-i18n). zh-CN is the default; en is complete and the fallback for missing keys.
 * More languages (bo, ug — issue 6) add a JSON file here and an entry in {@link LOCALES}.
 */
import { Locale as VantLocale } from 'vant';
import vantEnUS from 'vant/es/locale/lang/en-US';
import vantZhCN from 'vant/es/locale/lang/zh-CN';
import { createI18n } from 'vue-i18n';
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

export type MessageSchema = typeof zhCN;
export type AppLocale = 'zh-CN' | 'en';

export const LOCALES: readonly { code: AppLocale; label: string }[] = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
];

const STORAGE_KEY = 'tongban.locale';
const VANT_LOCALES = { 'zh-CN': ['zh-CN', vantZhCN], en: ['en-US', vantEnUS] } as const;

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
  fallbackLocale: { 'zh-CN': ['en'], default: ['zh-CN', 'en'] },
  messages: { 'zh-CN': zhCN, en },
  missingWarn: false,
  fallbackWarn: false,
});

/** Switches the UI language: vue-i18n, Vant's own strings, `<html lang>`, and remembers it. */
export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale;
  const [vantName, vantMessages] = VANT_LOCALES[locale];
  VantLocale.use(vantName, vantMessages);
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // the choice lasts for this visit only
  }
}

setLocale(initialLocale());
