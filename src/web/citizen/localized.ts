/**
 * Guide text in the resident's language: an item may carry translations per field (`translations`,
 * src/domain/catalog.ts); a field without one falls back to the Chinese original, and says so, so the
 * page can mark it (`lang="zh-CN"` — screen readers switch voice, and in a right-to-left page the text
 * keeps its own direction).
 */
import type { ServiceItem, TranslatableItemField } from '../../domain/catalog.ts';

/** The source language of all catalog text. */
export const CONTENT_LANG = 'zh-CN';

export interface LocalizedText {
  text: string;
  /** the language `text` is written in: the requested one, or zh-CN on fallback */
  lang: string;
  /** true when `text` is the Chinese original because no translation exists for the language */
  fallback: boolean;
}

type Translatable = Pick<ServiceItem, 'name' | 'conditions' | 'materials' | 'translations'>;

const isChinese = (lang: string) => lang === CONTENT_LANG || lang === 'zh' || lang.startsWith('zh-');

/**
 * `item[field]` in `lang` (e.g. `localizedField(guide.item, 'name', 'ug')`): the translation when the
 * item has one for that language, else the Chinese original with `fallback: true`. Chinese itself is
 * never a fallback. Blank translations count as missing.
 */
export function localizedField(
  item: Translatable,
  field: TranslatableItemField,
  lang: string,
): LocalizedText {
  const original = item[field];
  if (isChinese(lang)) return { text: original, lang: CONTENT_LANG, fallback: false };
  const text = item.translations?.[lang]?.[field]?.trim();
  return text ? { text, lang, fallback: false } : { text: original, lang: CONTENT_LANG, fallback: true };
}

/**
 * The name of the material at `index` in `lang`: translations of materials are keyed by the Chinese
 * name, so a material renamed since it was translated falls back to Chinese rather than showing a
 * stale translation.
 */
export function localizedMaterialName(item: Translatable, index: number, lang: string): LocalizedText {
  const original = item.materials[index]?.name ?? '';
  if (isChinese(lang)) return { text: original, lang: CONTENT_LANG, fallback: false };
  const text = item.translations?.[lang]?.materials?.[original]?.trim();
  return text ? { text, lang, fallback: false } : { text: original, lang: CONTENT_LANG, fallback: true };
}

/** Whether the item's translation into `lang` (if any) is still unreviewed by a native speaker. */
export function translationUnreviewed(item: Translatable, lang: string): boolean {
  const t = item.translations?.[lang];
  return t !== undefined && t.status !== 'reviewed';
}
