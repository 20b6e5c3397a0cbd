/** Display helpers: code-list labels, time limits, fees, distances — all through the locale files. */
import type { ComposerTranslation } from 'vue-i18n';
import type { Fee, Guide, TimeLimit } from './api.ts';

type T = ComposerTranslation;

/** The label of a code-list identifier (`prefix.id` in the locale files), or the raw value if unknown. */
export function codeLabel(t: T, prefix: string, id: string): string {
  const key = `${prefix}.${id}`;
  const text = t(key);
  return text === key ? id : text;
}

export const industryLabel = (t: T, id: string) => codeLabel(t, 'industry', id);

/** "20 个工作日" / "0 个工作日（当场办结）" / "法律法规未规定" — the unit is always spelled out. */
export function timeLimitText(t: T, limit: TimeLimit | null): string {
  if (limit === null) return t('timeLimit.none');
  const text = t(`timeLimit.${limit.unit}`, limit.value);
  return limit.value === 0 ? t('timeLimit.onTheSpot', { limit: text }) : text;
}

/** Yuan with up to two decimals, grouped: 1,234.5 → "1,234.50"; 10 → "10". */
export function yuan(amount: number, locale: string): string {
  const whole = Number.isInteger(amount);
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: 2,
  }).format(amount);
}

/** "label：value" in Chinese, "label: value" in English (`punct.labelled`). */
export function labelled(t: T, label: string, value: string): string {
  return t('punct.labelled', { label, value });
}

/**
 * A list in the locale's own way: 窗口领取、邮寄 / "Pickup, mail" (`narrow`, for data lists), or
 * 县级…和乡镇… / "county … and township …" (`long`, in a sentence).
 */
export function listText(
  items: readonly string[],
  locale: string,
  style: 'narrow' | 'long' = 'narrow',
): string {
  const format = new Intl.ListFormat(locale, { type: 'conjunction', style });
  const own = LIST_FALLBACK[locale];
  // Browsers carry no list patterns for bo and ug and would answer in English ("a, b, and c").
  if (own && format.resolvedOptions().locale.split('-')[0] !== locale.split('-')[0]) {
    if (items.length < 2 || style === 'narrow') return items.join(own.separator);
    return `${items.slice(0, -1).join(own.separator)}${own.and}${items.at(-1)}`;
  }
  return format.format(items);
}

/** List punctuation of languages the browsers' Intl.ListFormat does not know: separator and "and". */
const LIST_FALLBACK: Readonly<Record<string, { separator: string; and: string }>> = {
  bo: { separator: '། ', and: ' དང་ ' },
  ug: { separator: '، ', and: ' ۋە ' },
};

export interface FeeLine {
  text: string;
  /** 收费依据, the document that sets the fee */
  basis?: string;
}

export function feeLines(t: T, fees: Guide['item']['fees'], locale: string): FeeLine[] {
  if (fees.free) return [{ text: t('guide.free') }];
  return fees.items.map((f: Fee) => ({
    text: labelled(t, f.name, t('fee.amount', { amount: yuan(f.amountYuan, locale) })),
    ...(f.basis ? { basis: labelled(t, t('fee.basis'), f.basis) } : {}),
  }));
}

export function visitsText(t: T, visits: number): string {
  return visits === 0 ? t('guide.visitsZero') : t('guide.visitsN', visits);
}

export function km(distance: number, locale: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: distance < 10 ? 1 : 0 }).format(distance);
}
