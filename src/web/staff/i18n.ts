/**
 * UI languages of the staff workbench: zh-CN first (in the first-load bundle), en second (a separate
 * chunk fetched when chosen, zh-CN as its fallback). Strings live in ./locales/*.json, precompiled at
 * build time. Element Plus's own strings follow through `elementLocale` (App.vue's ElConfigProvider).
 */
import type { Language } from 'element-plus/es/locale/index';
import elZhCn from 'element-plus/es/locale/lang/zh-cn';
import { shallowRef } from 'vue';
import { createI18n } from 'vue-i18n';
import zhCNCore from './locales/zh-CN.json';

/**
 * Each feature added after the workbench keeps its strings in `locales/<feature>/<lang>.json` under its
 * own top-level key (e.g. `dashboard.*`), merged over the core file `locales/<lang>.json`.
 */
const AREA_ZH = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/zh-CN.json', {
  eager: true,
});
const AREA_EN = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/en.json');
const zhCN = Object.assign({}, zhCNCore, ...Object.values(AREA_ZH).map((m) => m.default)) as typeof zhCNCore;

export type MessageSchema = typeof zhCNCore;
export type StaffLocale = 'zh-CN' | 'en';

export const LOCALES: readonly { code: StaffLocale; label: string }[] = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
];

const STORAGE_KEY = 'tongban.staff.locale';

export const i18n = createI18n<[MessageSchema], StaffLocale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN } as Record<StaffLocale, MessageSchema>,
  missingWarn: false,
  fallbackWarn: false,
});

/** Element Plus's strings for the current language (pagination, dialogs, date pickers). */
export const elementLocale = shallowRef<Language>(elZhCn);
const ELEMENT: Partial<Record<StaffLocale, Language>> = { 'zh-CN': elZhCn };

async function ensureLoaded(locale: StaffLocale): Promise<void> {
  if (ELEMENT[locale]) return;
  const [messages, el, ...areas] = await Promise.all([
    import('./locales/en.json'),
    import('element-plus/es/locale/lang/en'),
    ...Object.values(AREA_EN).map((load) => load()),
  ]);
  i18n.global.setLocaleMessage(
    'en',
    Object.assign({}, messages.default, ...areas.map((m) => m.default)) as MessageSchema,
  );
  ELEMENT.en = el.default;
}

/** Switches the language (fetching it first), sets `<html lang>` and remembers the choice. */
export async function setLocale(locale: StaffLocale): Promise<void> {
  try {
    await ensureLoaded(locale);
  } catch {
    return;
  }
  i18n.global.locale.value = locale;
  elementLocale.value = ELEMENT[locale] ?? elZhCn;
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // the choice lasts for this visit only
  }
}

function initialLocale(): StaffLocale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LOCALES.some((l) => l.code === saved)) return saved as StaffLocale;
  } catch {
    // storage disabled
  }
  return 'zh-CN';
}

/** Resolves once the remembered language is in place (at once for zh-CN). */
export const localeReady: Promise<void> = setLocale(initialLocale());
