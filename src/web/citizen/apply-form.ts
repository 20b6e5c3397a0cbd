/**
 * The rules of the application form in the browser: which fields of an item's form are shown
 * (`visibleWhen`), the form data sent (shown fields only, empty ones left out), and every problem in
 * the applicant's own language. The checking itself is the server's: `validateFormData`
 * (src/domain/form.ts) and the resident ID number check (src/domain/identity-number.ts, GB 11643) run
 * here unchanged; only their messages are put into words for the UI.
 */
import type { ComposerTranslation } from 'vue-i18n';
import { isAppError } from '../../domain/errors.ts';
import { type FormField, validateFormData } from '../../domain/form.ts';
import { parseIdentityNumber } from '../../domain/identity-number.ts';

type T = ComposerTranslation;

/** A form value as typed: text, yes/no, chosen options; null when not answered. */
export type FieldValue = string | boolean | string[] | null;
export type FieldValues = Record<string, FieldValue>;

const isEmpty = (v: FieldValue | undefined) =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && v.trim() === '') ||
  (Array.isArray(v) && v.length === 0);

/** The value a field compares with `visibleWhen.equals`: numbers typed as text count as numbers. */
function comparable(f: FormField, v: FieldValue | undefined): unknown {
  if (typeof v === 'string' && ['number', 'integer', 'amount_yuan'].includes(f.type)) {
    const n = Number(v.trim());
    return v.trim() !== '' && Number.isFinite(n) ? n : v;
  }
  return typeof v === 'string' ? v.trim() : v;
}

/** The fields shown for these values: no `visibleWhen`, or its (shown) field holds exactly `equals`. */
export function visibleFields(fields: readonly FormField[], values: FieldValues): FormField[] {
  const shown = new Map<string, FormField>();
  for (const f of fields) {
    const ctl = f.visibleWhen;
    if (!ctl) {
      shown.set(f.key, f);
      continue;
    }
    const controller = shown.get(ctl.key);
    if (controller && comparable(controller, values[ctl.key]) === ctl.equals) shown.set(f.key, f);
  }
  return [...shown.values()];
}

/** The form data to send: the shown fields' non-empty values, as typed (the server cleans them). */
export function formDataOf(fields: readonly FormField[], values: FieldValues): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const f of visibleFields(fields, values)) {
    const v = values[f.key];
    if (!isEmpty(v)) out[f.key] = typeof v === 'string' ? v.trim() : (v as FieldValue);
  }
  return out;
}

/** The label of a field in the UI language when the item gives one, else its Chinese label. */
export function fieldLabel(f: FormField, locale: string): string {
  const labels = f.labels ?? {};
  return labels[locale] ?? labels[locale.split('-')[0] ?? ''] ?? f.label;
}

/** What to enter in a field, in words: "请填写遗失日期，格式为 年-月-日". */
function invalidText(t: T, f: FormField, label: string): string {
  const unit = f.unit ?? (f.type === 'amount_yuan' ? t('account.form.yuan') : '');
  const range =
    f.min !== undefined && f.max !== undefined
      ? t('account.form.range.between', { min: f.min, max: f.max, unit })
      : f.min !== undefined
        ? t('account.form.range.atLeast', { min: f.min, unit })
        : f.max !== undefined
          ? t('account.form.range.atMost', { max: f.max, unit })
          : '';
  const key = `account.form.invalid.${f.type}`;
  const text = t(key, { label, range, help: f.help ?? '', max: f.maxLength ?? '' });
  if (f.pattern && (f.type === 'text' || f.type === 'textarea'))
    return t('account.form.invalid.pattern', { label, help: f.help ?? '' });
  return text === key ? t('account.form.invalid.other', { label }) : text;
}

/**
 * Checks the form with the server's own `validateFormData` and returns field key → message in the UI
 * language (empty when the form is fine).
 */
export function formErrors(
  t: T,
  fields: readonly FormField[],
  values: FieldValues,
  locale: string,
): Record<string, string> {
  const result = validateFormData(fields, formDataOf(fields, values));
  if (result.ok) return {};
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const out: Record<string, string> = {};
  for (const issue of result.issues) {
    const key = issue.field.replace(/^formData\./, '');
    const f = byKey.get(key);
    if (!f || out[key]) continue;
    const label = fieldLabel(f, locale);
    out[key] = isEmpty(values[key])
      ? ['boolean', 'select', 'multiselect'].includes(f.type)
        ? t('account.form.chooseRequired', { label })
        : t('account.form.required', { label })
      : invalidText(t, f, label);
  }
  return out;
}

/**
 * The problem of a resident ID number in words (GB 11643: length, date, area code, check character),
 * or null when it is valid. With `mask` (the account's masked number, e.g. 5201**********1234) the
 * number must also be the account's own.
 */
export function idNumberError(t: T, value: string, mask: string | null = null): string | null {
  let normalised: string;
  try {
    normalised = parseIdentityNumber(value).value;
  } catch (e) {
    if (isAppError(e)) {
      const key = `account.idNumber.${e.code.replace('identity.', '')}`;
      const text = t(key);
      return text === key ? t('account.idNumber.invalid') : text;
    }
    throw e;
  }
  if (mask && /^\S{4}\*+\S{4}$/.test(mask)) {
    if (normalised.slice(0, 4) !== mask.slice(0, 4) || normalised.slice(-4) !== mask.slice(-4).toUpperCase())
      return t('account.idNumber.notYours', { mask });
  }
  return null;
}

/** A mainland mobile number: 11 digits starting 13–19. */
export const MOBILE_PATTERN = /^1[3-9]\d{9}$/;

/** The problem of a mobile number in words, or null. */
export function phoneError(t: T, value: string, required = true): string | null {
  const v = value.replace(/\s/g, '');
  if (v === '') return required ? t('account.phone.required') : null;
  return MOBILE_PATTERN.test(v) ? null : t('account.phone.invalid');
}
