/**
 * 申请表单 — the application form of a service item: the definition (`formFields`, an ordered list of
 * fields) and the validation of the form data an application carries against it.
 *
 * GB/T 39046-2020 (政务服务平台基础数据规范) carries an application's form content as item-specific data
 * (办件 表单信息) without fixing its fields; the field types here are tongban's own, with the
 * identifiers of the standards they check: 公民身份号码 (GB 11643), 统一社会信用代码 (GB 32100),
 * 行政区划代码 (GB/T 2260). Fields of types `id_number` and `phone` hold personal information that
 * 个人信息保护法 (arts. 28, 51) requires to be protected: {@link sensitiveFormKeys} lists them so that
 * the server can encrypt and mask them.
 *
 * Pure and browser-safe: no I/O; the web forms render and check a form with these same schemas.
 */
import safeRegex from 'safe-regex2';
import { z } from 'zod';
import { isValidCreditCode } from './credit-code.ts';
import type { FieldIssue } from './errors.ts';
import { isValidIdentityNumber } from './identity-number.ts';

/**
 * The field types of a form. Values (after cleaning, see {@link validateFormData}):
 * - `text` (one line, default ≤ 200 characters), `textarea` (several lines, default ≤ 2000): trimmed string;
 * - `number`: finite number; `integer`: whole number; `amount_yuan`: amount in yuan (元) ≥ 0 with at
 *   most 2 decimals (fen) — all three also accept the number written as a string;
 * - `date`: a real calendar date `YYYY-MM-DD` (ISO 8601);
 * - `boolean`: true / false;
 * - `select`: one option value; `multiselect`: a list of distinct option values;
 * - `id_number`: 18-character 公民身份号码 (GB 11643, check character verified, `x` upper-cased);
 * - `credit_code`: 18-character 统一社会信用代码 (GB 32100, check character verified, upper-cased);
 * - `phone`: mainland mobile number, 11 digits starting 13–19;
 * - `division`: GB/T 2260 code of a county (6 digits), township (9) or village (12);
 * - `bank_account`: a bank card or account number, 12–30 digits (spaces allowed, removed) — personal
 *   financial information (个人信息保护法 art. 28: sensitive), sealed at rest and masked like phones.
 */
export const FORM_FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'integer',
  'date',
  'boolean',
  'select',
  'multiselect',
  'id_number',
  'credit_code',
  'phone',
  'division',
  'amount_yuan',
  'bank_account',
] as const;
export type FormFieldType = (typeof FORM_FIELD_TYPES)[number];

/** 中文 names of the field types (workbook cells and documentation). */
export const FORM_FIELD_TYPE_LABELS: Readonly<Record<FormFieldType, string>> = {
  text: '单行文本',
  textarea: '多行文本',
  number: '数值',
  integer: '整数',
  date: '日期',
  boolean: '是否',
  select: '单选',
  multiselect: '多选',
  id_number: '身份证号码',
  credit_code: '统一社会信用代码',
  phone: '手机号码',
  division: '行政区划',
  amount_yuan: '金额（元）',
  bank_account: '银行账号',
};

/** Field types holding personal identifiers (个人信息保护法 art. 28 / 51): encrypted and masked by the server. */
export const SENSITIVE_FIELD_TYPES: readonly FormFieldType[] = ['id_number', 'phone', 'bank_account'];

const NUMERIC_TYPES: readonly FormFieldType[] = ['number', 'integer', 'amount_yuan'];
const TEXT_TYPES: readonly FormFieldType[] = ['text', 'textarea'];
const OPTION_TYPES: readonly FormFieldType[] = ['select', 'multiselect'];

/** Default and largest `maxLength` of text fields, in characters. */
export const TEXT_MAX_LENGTH = { text: 200, textarea: 2000, limit: 2000 } as const;
/** Longest accepted `pattern` source, in characters. */
export const PATTERN_MAX_LENGTH = 200;
/** Most fields in one form (an application carries at most 100 form values). */
export const FORM_MAX_FIELDS = 100;
/** Largest amount in yuan a form accepts. */
export const AMOUNT_YUAN_MAX = 1_000_000_000_000;

const FIELD_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const OPTION_VALUE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** 字段标识: an ASCII identifier (letter first, then letters, digits, `_`; ≤ 64), e.g. `unemploymentDate`. */
export const FormFieldKeySchema = z
  .string()
  .regex(FIELD_KEY_PATTERN, 'use an ASCII identifier: a letter, then letters, digits or _, e.g. familySize');

/** Labels in other languages: BCP 47 language tag → text, e.g. `{ en: 'Date of unemployment' }`. */
export const FormLabelsSchema = z
  .record(
    z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'use a language tag such as en, ug or zh-Hant'),
    z
      .string()
      .trim()
      .min(1)
      .max(100)
      .refine((s) => !/[;\n]/.test(s), 'a label cannot contain ; or a line break'),
  )
  .describe('labels in other languages: language tag → text');

const labelText = z
  .string()
  .trim()
  .min(1, 'give the label')
  .max(100)
  .refine((s) => !/[;\n]/.test(s), 'a label cannot contain ; or a line break');

/** An option of a select / multiselect field: the stored `value` (ASCII) and the shown `label` (中文). */
export const FormOptionSchema = z
  .strictObject({
    value: z
      .string()
      .regex(OPTION_VALUE_PATTERN, 'use 1–64 ASCII letters, digits, _, . or - as the option value'),
    label: labelText.describe('选项名称 (中文)'),
  })
  .meta({ id: 'FormOption' });
export type FormOption = z.infer<typeof FormOptionSchema>;

/**
 * One field of an application form (表单字段). `required` applies only while the field is visible:
 * a field with `visibleWhen` is shown (and required) only when the earlier field `visibleWhen.key`
 * holds exactly `visibleWhen.equals`. `min`/`max` bound numeric values (in `unit`; yuan for
 * `amount_yuan`); `maxLength` (characters) and `pattern` (an ECMAScript regular expression matched
 * against the whole value, ≤ 200 characters, refused when it may backtrack catastrophically) apply to
 * text fields; `options` are required for select and multiselect.
 */
export const FormFieldSchema = z
  .strictObject({
    key: FormFieldKeySchema.describe('字段标识: ASCII identifier, the key in formData'),
    label: labelText.describe('字段名称 (中文)'),
    labels: FormLabelsSchema.optional(),
    type: z.enum(FORM_FIELD_TYPES).describe(`字段类型: one of ${FORM_FIELD_TYPES.join(', ')}`),
    required: z.boolean().default(false).describe('必填 (while visible)'),
    help: z.string().trim().min(1).max(500).optional().describe('填写说明'),
    options: z.array(FormOptionSchema).min(1).max(200).optional().describe('选项 (select, multiselect)'),
    min: z.number().finite().optional().describe('最小值 (numeric types)'),
    max: z.number().finite().optional().describe('最大值 (numeric types)'),
    maxLength: z
      .number()
      .int()
      .min(1)
      .max(TEXT_MAX_LENGTH.limit)
      .optional()
      .describe('最大长度 in characters (text, textarea)'),
    pattern: z
      .string()
      .min(1)
      .max(PATTERN_MAX_LENGTH)
      .optional()
      .describe('格式: regular expression the whole value must match (text, textarea)'),
    unit: z.string().trim().min(1).max(20).optional().describe('单位, e.g. 人, 元, 平方米'),
    visibleWhen: z
      .strictObject({
        key: FormFieldKeySchema,
        equals: z.union([z.string().max(200), z.number(), z.boolean()]),
      })
      .optional()
      .describe('显示条件: shown (and required) only when an earlier field equals this value'),
  })
  .meta({ id: 'FormField' });
export type FormField = z.infer<typeof FormFieldSchema>;
export type FormFieldInput = z.input<typeof FormFieldSchema>;

/**
 * Why a pattern cannot be used, or null when it can: it must compile as a Unicode regular expression
 * and must not be able to backtrack catastrophically (star height > 1, checked with safe-regex2).
 */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > PATTERN_MAX_LENGTH)
    return `the pattern is longer than ${PATTERN_MAX_LENGTH} characters; shorten it`;
  try {
    new RegExp(pattern, 'u');
  } catch (e) {
    return `the pattern is not a valid regular expression (${(e as Error).message}); correct it`;
  }
  if (!safeRegex(pattern)) {
    return 'the pattern may take exponential time (nested repetition such as (a+)+); simplify it';
  }
  return null;
}

/** Problems of one field's own properties (not depending on other fields). */
function fieldProblems(f: FormField): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const isOptionType = OPTION_TYPES.includes(f.type);
  if (isOptionType && !f.options) out.push({ path: ['options'], message: `a ${f.type} field needs options` });
  if (!isOptionType && f.options)
    out.push({ path: ['options'], message: `options are only for select and multiselect, not ${f.type}` });
  if (f.options) {
    const values = f.options.map((o) => o.value);
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) out.push({ path: ['options'], message: `the option value ${dup} appears twice` });
  }
  const numeric = NUMERIC_TYPES.includes(f.type);
  for (const bound of ['min', 'max'] as const) {
    if (f[bound] !== undefined && !numeric)
      out.push({ path: [bound], message: `${bound} is only for number, integer and amount_yuan fields` });
  }
  if (f.min !== undefined && f.max !== undefined && f.min > f.max)
    out.push({ path: ['min'], message: `min ${f.min} is greater than max ${f.max}` });
  if (f.type === 'amount_yuan' && f.min !== undefined && f.min < 0)
    out.push({ path: ['min'], message: 'an amount in yuan is never negative; use a min of 0 or more' });
  const text = TEXT_TYPES.includes(f.type);
  if (f.maxLength !== undefined && !text)
    out.push({ path: ['maxLength'], message: 'maxLength is only for text and textarea fields' });
  if (f.pattern !== undefined) {
    if (!text) out.push({ path: ['pattern'], message: 'pattern is only for text and textarea fields' });
    const problem = patternProblem(f.pattern);
    if (problem) out.push({ path: ['pattern'], message: problem });
  }
  if (f.unit !== undefined && !numeric)
    out.push({ path: ['unit'], message: 'unit is only for number, integer and amount_yuan fields' });
  return out;
}

/**
 * 申请表单 definition: an ordered list of {@link FormFieldSchema} fields (≤ 100) with unique keys, each
 * consistent in itself (options for select, min ≤ max, a safe pattern …) and whose `visibleWhen` names an
 * EARLIER field (not a multiselect) with a value that field can hold.
 */
export const FormFieldsSchema = z
  .array(FormFieldSchema)
  .max(FORM_MAX_FIELDS)
  .superRefine((fields, ctx) => {
    const seen = new Map<string, FormField>();
    fields.forEach((f, i) => {
      if (seen.has(f.key)) {
        ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `the key ${f.key} appears twice` });
      }
      for (const p of fieldProblems(f))
        ctx.addIssue({ code: 'custom', path: [i, ...p.path], message: p.message });
      if (f.visibleWhen) {
        const ctl = seen.get(f.visibleWhen.key);
        const problem = !ctl
          ? `visibleWhen refers to ${f.visibleWhen.key}, which is not an earlier field of this form`
          : controlProblem(ctl, f.visibleWhen.equals);
        if (problem) ctx.addIssue({ code: 'custom', path: [i, 'visibleWhen'], message: problem });
      }
      if (!seen.has(f.key)) seen.set(f.key, f);
    });
  })
  .meta({ id: 'FormFields' });
export type FormFields = z.infer<typeof FormFieldsSchema>;

function controlProblem(ctl: FormField, equals: string | number | boolean): string | null {
  if (ctl.type === 'multiselect') return `visibleWhen cannot depend on the multiselect field ${ctl.key}`;
  const r = valueSchema(ctl).safeParse(equals);
  if (!r.success || r.data !== equals)
    return `visibleWhen.equals ${JSON.stringify(equals)} is not a value the field ${ctl.key} can hold`;
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Form data

/** A cleaned form value. */
export type FormValue = string | number | boolean | string[];
/** Cleaned form data: field key → value; absent (or hidden) fields have no key. */
export type FormData = Record<string, FormValue>;

const numberText = /^\s*-?\d+(\.\d+)?\s*$/;
const toNumber = (v: unknown) => (typeof v === 'string' && numberText.test(v) ? Number(v) : v);
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar date written YYYY-MM-DD (proleptic Gregorian, years 1000–9999). */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1000) return false;
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const range = (f: FormField) => {
  const unit = f.unit ? ` ${f.unit}` : f.type === 'amount_yuan' ? ' 元' : '';
  if (f.min !== undefined && f.max !== undefined) return ` from ${f.min} to ${f.max}${unit}`;
  if (f.min !== undefined) return ` of at least ${f.min}${unit}`;
  if (f.max !== undefined) return ` of at most ${f.max}${unit}`;
  return unit ? ` in${unit}` : '';
};

function bounded(schema: z.ZodNumber, f: FormField, what: string): z.ZodNumber {
  let s = schema;
  if (f.min !== undefined) s = s.min(f.min, `${f.label}: enter ${what}${range(f)}`);
  if (f.max !== undefined) s = s.max(f.max, `${f.label}: enter ${what}${range(f)}`);
  return s;
}

/** The zod schema of one field's (non-empty) value; messages name the field's Chinese label. */
function valueSchema(f: FormField): z.ZodType<FormValue> {
  const L = f.label;
  switch (f.type) {
    case 'text':
    case 'textarea': {
      const maxLength = f.maxLength ?? TEXT_MAX_LENGTH[f.type];
      let s = z
        .string(`${L}: enter text`)
        .trim()
        .max(maxLength, `${L}: enter at most ${maxLength} characters`);
      if (f.pattern !== undefined) {
        const re = new RegExp(`^(?:${f.pattern})$`, 'u');
        s = s.regex(re, `${L}: the value does not have the required format${f.help ? ` (${f.help})` : ''}`);
      }
      return s;
    }
    case 'number':
      return z.preprocess(toNumber, bounded(z.number(`${L}: enter a number${range(f)}`), f, 'a number'));
    case 'integer':
      return z.preprocess(
        toNumber,
        bounded(
          z.number(`${L}: enter a whole number${range(f)}`).int(`${L}: enter a whole number${range(f)}`),
          f,
          'a whole number',
        ),
      );
    case 'amount_yuan':
      return z.preprocess(
        toNumber,
        bounded(
          z
            .number(`${L}: enter an amount in yuan (元), e.g. 1250.50`)
            .min(0, `${L}: enter an amount of 0 元 or more`)
            .max(AMOUNT_YUAN_MAX, `${L}: enter an amount of at most ${AMOUNT_YUAN_MAX} 元`)
            .refine(
              (n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6,
              `${L}: enter the amount in yuan with at most 2 decimals (fen), e.g. 1250.50`,
            ),
          f,
          'an amount',
        ),
      );
    case 'date':
      return z
        .string(`${L}: enter a date as YYYY-MM-DD, e.g. 2024-03-01`)
        .trim()
        .refine(isIsoDate, `${L}: enter a real date as YYYY-MM-DD, e.g. 2024-03-01`);
    case 'boolean':
      return z.boolean(`${L}: choose 是 (true) or 否 (false)`);
    case 'select': {
      const values = (f.options ?? []).map((o) => o.value);
      const choices = (f.options ?? []).map((o) => `${o.value} (${o.label})`).join(', ');
      return z
        .string(`${L}: choose one of ${choices}`)
        .refine((v) => values.includes(v), `${L}: choose one of ${choices}`);
    }
    case 'multiselect': {
      const values = (f.options ?? []).map((o) => o.value);
      const choices = (f.options ?? []).map((o) => `${o.value} (${o.label})`).join(', ');
      return z
        .array(z.string(), `${L}: choose a list of ${choices}`)
        .refine((vs) => vs.every((v) => values.includes(v)), `${L}: choose only among ${choices}`)
        .refine((vs) => new Set(vs).size === vs.length, `${L}: choose each option once`);
    }
    case 'id_number':
      return z
        .string(`${L}: enter the 18-character resident identity number`)
        .trim()
        .transform((v) => v.toUpperCase())
        .refine(
          (v) => isValidIdentityNumber(v),
          `${L}: enter the 18-character resident identity number (公民身份号码) with a real birth date and check character, as printed on the ID card`,
        );
    case 'credit_code':
      return z
        .string(`${L}: enter the 18-character unified social credit code`)
        .trim()
        .transform((v) => v.toUpperCase())
        .refine(
          (v) => isValidCreditCode(v),
          `${L}: enter the 18-character unified social credit code (统一社会信用代码) as printed on the business licence`,
        );
    case 'phone':
      return z
        .string(`${L}: enter a mainland mobile number of 11 digits, e.g. 13800000000`)
        .trim()
        .regex(
          /^1[3-9]\d{9}$/,
          `${L}: enter a mainland mobile number of 11 digits starting 13–19, e.g. 13800000000`,
        );
    case 'bank_account':
      return z
        .string(`${L}: enter the account number, 12–30 digits`)
        .transform((v) => v.replace(/[\s-]/g, ''))
        .refine(
          (v) => /^\d{12,30}$/.test(v),
          `${L}: enter the bank account number, 12–30 digits as on the card`,
        );
    case 'division':
      return z
        .string(`${L}: enter a division code of 6, 9 or 12 digits, e.g. 520102`)
        .trim()
        .regex(
          /^(\d{6}|\d{9}|\d{12})$/,
          `${L}: enter the code of a county (6 digits), township (9) or village (12), e.g. 520102 (GB/T 2260)`,
        );
  }
}

const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && v.trim() === '') ||
  (Array.isArray(v) && v.length === 0);

/** The result of {@link validateFormData}: the cleaned data, or every problem found. */
export type FormDataResult = { ok: true; data: FormData } | { ok: false; issues: FieldIssue[] };

/**
 * Validates an application's form data against an item's form definition and returns the cleaned data
 * (strings trimmed, numbers given as text turned into numbers, ID numbers and credit codes upper-cased,
 * empty values and hidden fields dropped) or EVERY problem at once as `{ field: 'formData.<key>',
 * message }`, the message naming the field's Chinese label and saying what to enter.
 *
 * Rules: a key the form does not define is refused; a field is visible when it has no `visibleWhen` or
 * its controlling field is visible and holds exactly `visibleWhen.equals`; a visible required field must
 * be given; a hidden field must be left empty; values are checked by type (see {@link FORM_FIELD_TYPES}).
 * `fields` is assumed valid ({@link FormFieldsSchema}). Never throws.
 */
export function validateFormData(fields: readonly FormField[], data: unknown): FormDataResult {
  const issues: FieldIssue[] = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      issues: [{ field: 'formData', message: 'send the form data as an object of field → value' }],
    };
  }
  const input = data as Record<string, unknown>;
  const byKey = new Map(fields.map((f) => [f.key, f]));
  for (const key of Object.keys(input)) {
    if (!byKey.has(key)) {
      const known = fields.map((f) => `${f.key} (${f.label})`).join(', ');
      issues.push({
        field: `formData.${key}`,
        message:
          fields.length === 0
            ? `this service has no application form fields; remove ${key}`
            : `${key} is not a field of this form; remove it (the fields are ${known})`,
      });
    }
  }
  const out: FormData = {};
  const visible = new Set<string>();
  const undecided = new Set<string>(); // fields whose visibility depends on a value that failed
  for (const f of fields) {
    const ctl = f.visibleWhen;
    if (ctl && undecided.has(ctl.key)) {
      undecided.add(f.key);
      continue;
    }
    const shown = !ctl || (visible.has(ctl.key) && out[ctl.key] === ctl.equals);
    const raw = Object.hasOwn(input, f.key) ? input[f.key] : undefined;
    if (!shown) {
      if (!isEmpty(raw)) {
        const controller = byKey.get(ctl?.key ?? '');
        issues.push({
          field: `formData.${f.key}`,
          message: `${f.label}: only applies when ${controller?.label ?? ctl?.key} is ${JSON.stringify(ctl?.equals)}; leave it empty`,
        });
      }
      continue;
    }
    visible.add(f.key);
    if (isEmpty(raw)) {
      if (f.required)
        issues.push({ field: `formData.${f.key}`, message: `${f.label} is required: ${whatToEnter(f)}` });
      continue;
    }
    const r = valueSchema(f).safeParse(raw);
    if (!r.success) {
      issues.push({
        field: `formData.${f.key}`,
        message: r.error.issues[0]?.message ?? `${f.label}: invalid`,
      });
      undecided.add(f.key);
      continue;
    }
    out[f.key] = r.data;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, data: out };
}

function whatToEnter(f: FormField): string {
  switch (f.type) {
    case 'date':
      return 'enter a date as YYYY-MM-DD';
    case 'select':
    case 'multiselect':
      return `choose ${(f.options ?? []).map((o) => o.label).join(' / ')}`;
    case 'boolean':
      return 'choose 是 or 否';
    case 'number':
    case 'integer':
    case 'amount_yuan':
      return `enter ${f.type === 'integer' ? 'a whole number' : f.type === 'amount_yuan' ? 'an amount in yuan' : 'a number'}${range(f)}`;
    default:
      return `enter the ${FORM_FIELD_TYPE_LABELS[f.type]}${f.help ? ` (${f.help})` : ''}`;
  }
}

/**
 * The zod schema of form data for a definition: parses to the cleaned {@link FormData} or fails with one
 * issue per bad field, its path the field key (so under a parent `formData` the path reads
 * `formData.<key>`). Same rules as {@link validateFormData}.
 */
export function formDataSchemaFor(fields: readonly FormField[]): z.ZodType<FormData, unknown> {
  return z.unknown().transform((data, ctx) => {
    const r = validateFormData(fields, data);
    if (r.ok) return r.data;
    for (const i of r.issues) {
      ctx.addIssue({ code: 'custom', path: i.field.split('.').slice(1), message: i.message });
    }
    return z.NEVER;
  });
}

/**
 * Keys of the fields holding personal identifiers (types `id_number`, `phone`): under 个人信息保护法
 * (arts. 28 and 51) the server encrypts these values at rest and masks them in responses and logs.
 */
export function sensitiveFormKeys(fields: readonly FormField[]): string[] {
  return fields.filter((f) => SENSITIVE_FIELD_TYPES.includes(f.type)).map((f) => f.key);
}
