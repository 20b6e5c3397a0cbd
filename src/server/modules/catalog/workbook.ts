import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { z } from 'zod';
import {
  CASE_TYPES,
  type CodeList,
  codeListLabel,
  DECIDING_BASES,
  DELIVERY_OPTIONS,
  DivisionCodeSchema,
  EXERCISE_LEVELS,
  type Fees,
  HANDLING_FORMS,
  IMPLEMENTING_BODY_NATURES,
  INDUSTRIES,
  ITEM_TYPES,
  type ItemTranslation,
  ItemTranslationSchema,
  MATERIAL_FORMS,
  MATERIAL_REQUIREMENTS,
  MATERIAL_SOURCES,
  MaterialSchema,
  PROCESSING_MODES,
  parseCodeListValue,
  SERVICE_OBJECTS,
  type ServiceItem,
  ServiceItemSchema,
  SPECIAL_PROCEDURES,
  TIME_LIMIT_UNITS,
  type TimeLimit,
  TRANSLATION_STATUSES,
  TranslationLanguageSchema,
  UNIVERSAL_SCOPES,
  VariancesSchema,
  varianceIssues,
} from '../../../domain/catalog.ts';
import { DEPARTMENT_KINDS } from '../../../domain/department.ts';
import { type FieldIssue, invalid, invalidMany } from '../../../domain/errors.ts';
import {
  FORM_FIELD_TYPE_LABELS,
  FORM_FIELD_TYPES,
  type FormField,
  FormFieldSchema,
  FormFieldsSchema,
} from '../../../domain/form.ts';

/**
 * The catalog workbook: reads and writes the service catalog as .xlsx (exceljs) or .csv, in one column
 * layout so that export → import round-trips. Every row and cell is validated and ALL problems are
 * collected as `{ field: 'sheet 事项, row 12, column 承诺办结时限', message }` — an invalid file is
 * rejected whole (AppError validation `catalog.invalid_file`) and so changes nothing.
 *
 * Layout (GB/T 39046-2020 table 4 elements, Chinese headers; code list cells take the Chinese label,
 * the standard code or the English identifier; lists are separated by 、 or newlines):
 * - sheet 事项 (items): one row per service item — see {@link ITEM_COLUMNS};
 * - sheet 材料 (materials): one row per material, keyed by 基本编码 + 序号 — {@link MATERIAL_COLUMNS};
 * - sheet 实施清单 (local variances): one row per item + division; blank cells inherit — {@link VARIANCE_COLUMNS};
 * - sheet 表单 (application form fields, src/domain/form.ts): one row per field, keyed by 基本编码 + 序号 —
 *   {@link FORM_COLUMNS}; options as `value=label;value=label`, other-language names as `en=Name;…`;
 * - sheet 译文 (translations of an item's resident-facing text, optional): one row per item + language —
 *   {@link TRANSLATION_COLUMNS}; material names as `中文名称|译文`, one per line;
 * - sheet 说明: provenance and notes, ignored on import.
 * Columns are found by header, so their order does not matter and extra columns are ignored.
 *
 * CSV: one file holds the sheets as sections, each starting with a line `[事项]`, `[材料]`, `[实施清单]`, `[表单]` or `[译文]`
 * followed by its header line; a CSV without section lines is read as the 事项 sheet alone. Row numbers
 * in CSV errors are line numbers of the file.
 */

/** One implementation's local variances as a catalog file carries them (实施清单 sheet). */
export const VarianceRowSchema = z
  .object({ itemCode: z.string(), divisionCode: DivisionCodeSchema, variances: VariancesSchema })
  .meta({ id: 'VarianceRow' });
export type VarianceRow = z.infer<typeof VarianceRowSchema>;

/** A whole catalog file: items (with their materials) and local implementation variances. */
export const CatalogDataSchema = z.object({
  items: z.array(ServiceItemSchema),
  implementations: z.array(VarianceRowSchema).default([]),
});
export type CatalogData = z.infer<typeof CatalogDataSchema>;
export type CatalogDataInput = z.input<typeof CatalogDataSchema>;

export const SHEETS = {
  items: '事项',
  materials: '材料',
  variances: '实施清单',
  forms: '表单',
  translations: '译文',
  readme: '说明',
} as const;
type DataSheetKey = 'items' | 'materials' | 'variances' | 'forms' | 'translations';
type DataSheet = (typeof SHEETS)[DataSheetKey];

/** A row of a sheet as read from a file: its sheet, its row (xlsx row / CSV line) and cells by header. */
export interface RawRow {
  sheet: DataSheet;
  row: number;
  cells: Record<string, string>;
}

/** The rows of a catalog file, per data sheet; `present` tells which sheets the file had. */
export interface RawCatalog {
  items: RawRow[];
  materials: RawRow[];
  variances: RawRow[];
  forms: RawRow[];
  translations: RawRow[];
  present: Set<DataSheet>;
  /** Header-row problems (missing columns), reported with the other issues. */
  issues: FieldIssue[];
}

const DEPARTMENT_KIND_LIST: CodeList = Object.fromEntries(
  Object.entries(DEPARTMENT_KINDS).map(([id, k]) => [id, { code: id, label: k.name }]),
);

/** 事项 sheet columns, in export order. */
export const ITEM_COLUMNS = [
  '基本编码',
  '事项名称',
  '别名',
  '事项类型',
  '所属行业',
  '实施部门类别',
  '行使层级',
  '实施主体性质',
  '服务对象',
  '办理形式',
  '办件类型',
  '特别程序',
  '设定依据',
  '受理条件',
  '法定办结时限',
  '法定办结时限单位',
  '承诺办结时限',
  '承诺办结时限单位',
  '是否收费',
  '收费项目',
  '到现场次数',
  '通办范围',
  '送达方式',
  '办理模式',
  '审批地确定依据',
  '热度',
  '样例数据',
] as const;

/** 材料 sheet columns, in export order. */
export const MATERIAL_COLUMNS = [
  '基本编码',
  '序号',
  '材料名称',
  '出具单位',
  '原件份数',
  '复印件份数',
  '必要性',
  '材料形式',
  '来源渠道',
  '备注',
] as const;

/** 实施清单 sheet columns, in export order. Blank cells inherit from the parent division. */
export const VARIANCE_COLUMNS = [
  '基本编码',
  '行政区划代码',
  '承诺办结时限',
  '承诺办结时限单位',
  '是否收费',
  '收费项目',
  '补充说明',
  '受理大厅编码',
] as const;

/**
 * 表单 sheet columns, in export order: one row per form field (src/domain/form.ts) of an item, in 序号
 * order. 字段类型 takes the Chinese name (单行文本 …) or the identifier (text …); 选项 `value=label;…`;
 * 其他语言名称 `en=Name;…`; 显示条件字段 + 显示条件值: shown only when that earlier field has that value.
 */
export const FORM_COLUMNS = [
  '基本编码',
  '序号',
  '字段标识',
  '字段名称',
  '其他语言名称',
  '字段类型',
  '必填',
  '填写说明',
  '选项',
  '最小值',
  '最大值',
  '最大长度',
  '格式',
  '单位',
  '显示条件字段',
  '显示条件值',
] as const;

/**
 * 译文 sheet columns, in export order: one row per item and language (tongban extension). 语言 is a
 * language tag (bo, ug, en …); 审校状态 机器翻译 (machine) or 已审校 (reviewed); blank text cells fall back
 * to the Chinese original; 材料名称 one `中文名称|译文` per line, the Chinese name as in the 材料 sheet.
 */
export const TRANSLATION_COLUMNS = [
  '基本编码',
  '语言',
  '审校状态',
  '审校人',
  '审校日期',
  '事项名称',
  '受理条件',
  '材料名称',
] as const;

const REQUIRED_COLUMNS: Record<DataSheet, readonly string[]> = {
  [SHEETS.items]: ITEM_COLUMNS,
  [SHEETS.materials]: MATERIAL_COLUMNS,
  [SHEETS.variances]: VARIANCE_COLUMNS,
  [SHEETS.forms]: FORM_COLUMNS,
  [SHEETS.translations]: ['基本编码', '语言', '审校状态'],
};

const FORM_FIELD_TYPE_LIST: CodeList = Object.fromEntries(
  FORM_FIELD_TYPES.map((t) => [t, { code: t, label: FORM_FIELD_TYPE_LABELS[t] }]),
);

/** Which 事项 column holds each ServiceItem field (for mapping schema problems back to cells). */
const ITEM_FIELD_COLUMN: Record<string, string> = {
  code: '基本编码',
  name: '事项名称',
  aliases: '别名',
  itemType: '事项类型',
  industry: '所属行业',
  departmentKind: '实施部门类别',
  exerciseLevels: '行使层级',
  implementingBodyNature: '实施主体性质',
  serviceObjects: '服务对象',
  handlingForms: '办理形式',
  caseType: '办件类型',
  specialProcedures: '特别程序',
  legalBasis: '设定依据',
  conditions: '受理条件',
  legalTimeLimit: '法定办结时限',
  promisedTimeLimit: '承诺办结时限',
  fees: '收费项目',
  requiredVisits: '到现场次数',
  universalScope: '通办范围',
  deliveryOptions: '送达方式',
  processingModes: '办理模式',
  decidingBasis: '审批地确定依据',
  popularity: '热度',
  sample: '样例数据',
};
const MATERIAL_FIELD_COLUMN: Record<string, string> = {
  name: '材料名称',
  issuingBody: '出具单位',
  originalCount: '原件份数',
  copyCount: '复印件份数',
  requirement: '必要性',
  form: '材料形式',
  source: '来源渠道',
  notes: '备注',
};
const FORM_FIELD_COLUMN: Record<string, string> = {
  key: '字段标识',
  label: '字段名称',
  labels: '其他语言名称',
  type: '字段类型',
  required: '必填',
  help: '填写说明',
  options: '选项',
  min: '最小值',
  max: '最大值',
  maxLength: '最大长度',
  pattern: '格式',
  unit: '单位',
  visibleWhen: '显示条件字段',
};
const TRANSLATION_FIELD_COLUMN: Record<string, string> = {
  status: '审校状态',
  reviewer: '审校人',
  date: '审校日期',
  name: '事项名称',
  conditions: '受理条件',
  materials: '材料名称',
};
const VARIANCE_FIELD_COLUMN: Record<string, string> = {
  promisedTimeLimit: '承诺办结时限',
  fees: '收费项目',
  notes: '补充说明',
  acceptingHallCodes: '受理大厅编码',
};

const YES = ['是', 'y', 'yes', 'true', '1'];
const NO = ['否', 'n', 'no', 'false', '0'];

/** Reads cells of one row, recording cell problems with their sheet/row/column address. */
class CellReader {
  readonly failed = new Set<string>();
  private readonly raw: RawRow;
  private readonly issues: FieldIssue[];
  constructor(raw: RawRow, issues: FieldIssue[]) {
    this.raw = raw;
    this.issues = issues;
  }

  where(column: string): string {
    return `sheet ${this.raw.sheet}, row ${this.raw.row}, column ${column}`;
  }

  fail(column: string, message: string): undefined {
    if (!this.failed.has(column)) this.issues.push({ field: this.where(column), message });
    this.failed.add(column);
    return undefined;
  }

  text(column: string): string {
    return (this.raw.cells[column] ?? '').trim();
  }

  list(column: string): string[] {
    return this.text(column)
      .split(/[、\n]/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  code(list: CodeList, column: string, what: string): string | undefined {
    const t = this.text(column);
    if (t === '') return this.fail(column, `${what} is empty; use one of ${labels(list)}`);
    const id = parseCodeListValue(list, t);
    return id ?? this.fail(column, `"${t}" is not a ${what}; use one of ${labels(list)}`);
  }

  codes(list: CodeList, column: string, what: string): string[] | undefined {
    const out: string[] = [];
    for (const t of this.list(column)) {
      const id = parseCodeListValue(list, t);
      if (id === null)
        return this.fail(column, `"${t}" is not a ${what}; use ${labels(list)}, separated by 、`);
      out.push(id);
    }
    return out;
  }

  /** An integer cell; blank gives `blank`. */
  int(
    column: string,
    blank: number | null | 'error',
    range: [number, number] = [0, 1_000_000],
  ): number | null | undefined {
    const t = this.text(column);
    if (t === '') return blank === 'error' ? this.fail(column, 'is empty; write a whole number') : blank;
    if (!/^\d+$/.test(t)) return this.fail(column, `"${t}" is not a whole number`);
    const n = Number(t);
    if (n < range[0] || n > range[1])
      return this.fail(column, `${n} is out of range; use ${range[0]}–${range[1]}`);
    return n;
  }

  bool(column: string, blank: boolean | null): boolean | null | undefined {
    const t = this.text(column).toLowerCase();
    if (t === '') return blank;
    if (YES.includes(t)) return true;
    if (NO.includes(t)) return false;
    return this.fail(column, `"${t}" is not 是 or 否`);
  }

  /** A time limit from a value column and a unit column; both blank → null. */
  timeLimit(valueColumn: string, unitColumn: string): TimeLimit | null | undefined {
    const value = this.int(valueColumn, null, [0, 3650]);
    const unitText = this.text(unitColumn);
    if (value === undefined) return undefined;
    if (value === null) {
      if (unitText !== '')
        return this.fail(valueColumn, `is empty but ${unitColumn} is "${unitText}"; give the number too`);
      return null;
    }
    if (unitText === '') return this.fail(unitColumn, `is empty; use one of ${labels(TIME_LIMIT_UNITS)}`);
    const unit = parseCodeListValue(TIME_LIMIT_UNITS, unitText);
    if (unit === null)
      return this.fail(
        unitColumn,
        `"${unitText}" is not a time unit; use one of ${labels(TIME_LIMIT_UNITS)}`,
      );
    return { value, unit };
  }

  /** 是否收费 + 收费项目 (one fee per line: `名称|金额|依据`, amount in yuan). Blank 是否收费 → `blank`. */
  fees(flagColumn: string, itemsColumn: string, blank: 'error' | 'inherit'): Fees | null | undefined {
    const charged = this.bool(flagColumn, null);
    if (charged === undefined) return undefined;
    const lines = this.text(itemsColumn)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (charged === null) {
      if (lines.length > 0) return this.fail(flagColumn, `is empty but ${itemsColumn} lists fees; write 是`);
      return blank === 'inherit' ? null : this.fail(flagColumn, 'is empty; write 是 or 否');
    }
    const items = [];
    for (const line of lines) {
      const parts = line.split(/[|｜]/).map((p) => p.trim());
      const amount = (parts[1] ?? '').replace(/元$/, '');
      if (parts.length !== 3 || parts[0] === '' || parts[2] === '' || !/^\d+(\.\d{1,2})?$/.test(amount)) {
        return this.fail(
          itemsColumn,
          `"${line}" is not a fee; write 名称|金额（元）|收费依据, one per line, e.g. 工本费|20|《…》`,
        );
      }
      items.push({ name: parts[0] as string, amountYuan: Number(amount), basis: parts[2] as string });
    }
    return { free: !charged, items };
  }
}

function labels(list: CodeList): string {
  return Object.values(list)
    .map((e) => e.label)
    .join('、');
}

function pushSchemaIssues(
  reader: CellReader,
  error: z.ZodError,
  columns: Record<string, string>,
  fallback: string,
  issues: FieldIssue[],
): void {
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? '');
    const column = columns[key] ?? fallback;
    if (reader.failed.has(column)) continue;
    reader.failed.add(column);
    issues.push({ field: reader.where(column), message: issue.message });
  }
}

function readItemRow(raw: RawRow, issues: FieldIssue[]): ServiceItem | null {
  const r = new CellReader(raw, issues);
  const draft = {
    code: r.text('基本编码'),
    name: r.text('事项名称'),
    aliases: r.list('别名'),
    itemType: r.code(ITEM_TYPES, '事项类型', '事项类型 (GB/T 39046 A.1)'),
    industry: r.code(INDUSTRIES, '所属行业', '所属行业'),
    departmentKind: r.code(DEPARTMENT_KIND_LIST, '实施部门类别', '实施部门类别'),
    exerciseLevels: r.codes(EXERCISE_LEVELS, '行使层级', '行使层级 (A.2)'),
    implementingBodyNature: r.code(IMPLEMENTING_BODY_NATURES, '实施主体性质', '实施主体性质 (A.3)'),
    serviceObjects: r.codes(SERVICE_OBJECTS, '服务对象', '服务对象 (A.4)'),
    handlingForms: r.codes(HANDLING_FORMS, '办理形式', '办理形式 (A.5)'),
    caseType: r.code(CASE_TYPES, '办件类型', '办件类型 (A.6)'),
    specialProcedures: r.codes(SPECIAL_PROCEDURES, '特别程序', '特别程序 (A.7)'),
    legalBasis: r.text('设定依据'),
    conditions: r.text('受理条件'),
    legalTimeLimit: r.timeLimit('法定办结时限', '法定办结时限单位'),
    promisedTimeLimit: r.timeLimit('承诺办结时限', '承诺办结时限单位'),
    fees: r.fees('是否收费', '收费项目', 'error'),
    requiredVisits: r.int('到现场次数', 'error', [0, 10]),
    universalScope: r.code(UNIVERSAL_SCOPES, '通办范围', '通办范围'),
    deliveryOptions: r.codes(DELIVERY_OPTIONS, '送达方式', '送达方式'),
    processingModes: r.codes(PROCESSING_MODES, '办理模式', '办理模式'),
    decidingBasis: r.code(DECIDING_BASES, '审批地确定依据', '审批地确定依据'),
    popularity: r.int('热度', 0, [0, 100]),
    materials: [],
    sample: r.bool('样例数据', false),
  };
  if (draft.promisedTimeLimit === null)
    r.fail('承诺办结时限', 'is empty; write the promised limit (0 for 即办件)');
  const parsed = ServiceItemSchema.safeParse(draft);
  if (!parsed.success) {
    pushSchemaIssues(r, parsed.error, ITEM_FIELD_COLUMN, '基本编码', issues);
    return null;
  }
  return r.failed.size > 0 ? null : parsed.data;
}

/** Splits `a=b;c=d` (or one pair per line) into pairs; null when a part has no `=`. */
function pairs(text: string): [string, string][] | null {
  const out: [string, string][] = [];
  for (const part of text.split(/[;\n]/)) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    out.push([p.slice(0, eq).trim(), p.slice(eq + 1).trim()]);
  }
  return out;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Reads the 表单 rows: per item (基本编码, which must be an item of the 事项 sheet) the fields in 序号
 * order, each checked with {@link FormFieldSchema} and the whole form with {@link FormFieldsSchema}
 * (unique keys, visibleWhen on an earlier field …). Problems go to `issues` with sheet, row and column.
 */
function readFormRows(
  rows: readonly RawRow[],
  itemCodes: ReadonlySet<string>,
  issues: FieldIssue[],
): Map<string, FormField[]> {
  type Entry = { seq: number; row: RawRow; reader: CellReader; field: FormField | null; key: string };
  const byItem = new Map<string, Entry[]>();
  // Types by item and key, to read 显示条件值 as the controlling field's kind of value.
  const typeOf = new Map<string, string>();
  for (const row of rows) {
    const t = parseCodeListValue(FORM_FIELD_TYPE_LIST, (row.cells.字段类型 ?? '').trim());
    if (t) typeOf.set(`${(row.cells.基本编码 ?? '').trim()}|${(row.cells.字段标识 ?? '').trim()}`, t);
  }
  for (const row of rows) {
    const r = new CellReader(row, issues);
    const itemCode = r.text('基本编码');
    if (!itemCodes.has(itemCode)) {
      r.fail(
        '基本编码',
        `"${itemCode}" is not an item of the ${SHEETS.items} sheet; add the item or correct the code`,
      );
    }
    const seq = r.int('序号', 'error', [1, 100]);
    const draft: Record<string, unknown> = {
      key: r.text('字段标识'),
      label: r.text('字段名称'),
      type: r.code(FORM_FIELD_TYPE_LIST, '字段类型', '字段类型'),
      required: r.bool('必填', false),
    };
    const labels = r.text('其他语言名称');
    if (labels !== '') {
      const p = pairs(labels);
      if (p === null)
        r.fail('其他语言名称', `"${labels}" is not a list of names; write 语言=名称;…, e.g. en=Family size`);
      else draft.labels = Object.fromEntries(p);
    }
    const options = r.text('选项');
    if (options !== '') {
      const p = pairs(options);
      if (p === null)
        r.fail('选项', `"${options}" is not a list of options; write 值=名称;…, e.g. lost=遗失;damaged=损坏`);
      else draft.options = p.map(([value, label]) => ({ value, label }));
    }
    for (const [column, prop] of [
      ['最小值', 'min'],
      ['最大值', 'max'],
    ] as const) {
      const t = r.text(column);
      if (t === '') continue;
      if (!DECIMAL.test(t)) r.fail(column, `"${t}" is not a number; write e.g. 0, 12 or 0.5`);
      else draft[prop] = Number(t);
    }
    const maxLength = r.int('最大长度', null, [1, 2000]);
    if (typeof maxLength === 'number') draft.maxLength = maxLength;
    for (const [column, prop] of [
      ['填写说明', 'help'],
      ['格式', 'pattern'],
      ['单位', 'unit'],
    ] as const) {
      const t = r.text(column);
      if (t !== '') draft[prop] = t;
    }
    const whenKey = r.text('显示条件字段');
    const whenValue = r.text('显示条件值');
    if (whenKey === '' && whenValue !== '')
      r.fail('显示条件字段', `is empty but 显示条件值 is "${whenValue}"; name the field`);
    if (whenKey !== '') {
      const ctlType = typeOf.get(`${itemCode}|${whenKey}`);
      let equals: string | number | boolean | undefined = whenValue;
      if (ctlType === 'boolean') {
        const b = r.bool('显示条件值', null);
        equals = b ?? undefined;
        if (b === null) r.fail('显示条件值', 'is empty; write 是 or 否');
      } else if (ctlType === 'number' || ctlType === 'integer' || ctlType === 'amount_yuan') {
        if (!DECIMAL.test(whenValue)) r.fail('显示条件值', `"${whenValue}" is not a number`);
        equals = Number(whenValue);
      } else if (whenValue === '') {
        r.fail('显示条件值', `is empty; write the value of ${whenKey} that shows this field`);
      }
      if (equals !== undefined) draft.visibleWhen = { key: whenKey, equals };
    }
    const parsed = FormFieldSchema.safeParse(draft);
    if (!parsed.success) pushSchemaIssues(r, parsed.error, FORM_FIELD_COLUMN, '字段标识', issues);
    const ok = parsed.success && r.failed.size === 0;
    if (typeof seq !== 'number' || !itemCodes.has(itemCode)) continue;
    const list = byItem.get(itemCode) ?? [];
    if (list.some((e) => e.seq === seq)) {
      r.fail('序号', `${itemCode} already has a form field number ${seq}; number each field once`);
      continue;
    }
    list.push({ seq, row, reader: r, field: ok ? parsed.data : null, key: String(draft.key) });
    byItem.set(itemCode, list);
  }

  const out = new Map<string, FormField[]>();
  for (const [itemCode, entries] of byItem) {
    entries.sort((a, b) => a.seq - b.seq);
    const failedKeys = new Set(entries.filter((e) => !e.field).map((e) => e.key));
    const valid = entries.filter((e) => e.field);
    const fields = valid.map((e) => e.field as FormField);
    const parsed = FormFieldsSchema.safeParse(fields);
    if (parsed.success) {
      if (failedKeys.size === 0) out.set(itemCode, parsed.data);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const entry = valid[Number(issue.path[0])];
      if (!entry) continue;
      const prop = String(issue.path[1] ?? 'key');
      // A condition on a field whose own row is bad is reported at that row only.
      if (prop === 'visibleWhen' && failedKeys.has(entry.field?.visibleWhen?.key ?? '')) continue;
      const column =
        prop === 'visibleWhen' && /equals/.test(issue.message)
          ? '显示条件值'
          : (FORM_FIELD_COLUMN[prop] ?? '字段标识');
      entry.reader.fail(column, `${itemCode} form: ${issue.message}`);
    }
  }
  return out;
}

/**
 * Reads the 译文 rows: per item (基本编码, an item of the 事项 sheet) and language one translation,
 * checked with {@link ItemTranslationSchema}; every translated material must name a material of the
 * item (`materialNames`, by item code). Problems go to `issues` with sheet, row and column.
 */
function readTranslationRows(
  rows: readonly RawRow[],
  materialNames: ReadonlyMap<string, ReadonlySet<string>>,
  itemCodes: ReadonlySet<string>,
  issues: FieldIssue[],
): Map<string, Record<string, ItemTranslation>> {
  const out = new Map<string, Record<string, ItemTranslation>>();
  const seen = new Set<string>();
  for (const row of rows) {
    const r = new CellReader(row, issues);
    const itemCode = r.text('基本编码');
    if (!itemCodes.has(itemCode)) {
      r.fail(
        '基本编码',
        `"${itemCode}" is not an item of the ${SHEETS.items} sheet; add the item or correct the code`,
      );
    }
    const lang = r.text('语言');
    const langOk = TranslationLanguageSchema.safeParse(lang);
    if (!langOk.success)
      r.fail(
        '语言',
        `"${lang}" is not a language tag; ${langOk.error.issues[0]?.message ?? 'e.g. bo or ug'}`,
      );
    const draft: Record<string, unknown> = {
      status: r.code(TRANSLATION_STATUSES, '审校状态', '审校状态'),
    };
    for (const [column, prop] of [
      ['审校人', 'reviewer'],
      ['审校日期', 'date'],
      ['事项名称', 'name'],
      ['受理条件', 'conditions'],
    ] as const) {
      const t = r.text(column);
      if (t !== '') draft[prop] = t;
    }
    const lines = r
      .text('材料名称')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length > 0) {
      const names = materialNames.get(itemCode) ?? new Set<string>();
      const materials: Record<string, string> = {};
      for (const line of lines) {
        const parts = line.split(/[|｜]/).map((p) => p.trim());
        if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
          r.fail('材料名称', `"${line}" is not a material translation; write 中文名称|译文, one per line`);
          break;
        }
        const [zh, text] = parts as [string, string];
        if (!names.has(zh)) {
          r.fail(
            '材料名称',
            `"${zh}" is not a material of ${itemCode} in the ${SHEETS.materials} sheet; copy its Chinese name exactly`,
          );
          break;
        }
        materials[zh] = text;
      }
      draft.materials = materials;
    }
    const parsed = ItemTranslationSchema.safeParse(draft);
    if (!parsed.success) pushSchemaIssues(r, parsed.error, TRANSLATION_FIELD_COLUMN, '语言', issues);
    const key = `${itemCode}|${lang}`;
    if (seen.has(key)) r.fail('语言', `${itemCode} already has a ${lang} translation; put it on one row`);
    seen.add(key);
    if (r.failed.size > 0 || !parsed.success) continue;
    const byLang = out.get(itemCode) ?? {};
    byLang[lang] = parsed.data;
    out.set(itemCode, byLang);
  }
  return out;
}

/**
 * Validates the rows of a catalog file and assembles {@link CatalogData}: items with their materials
 * (ordered by 序号) and implementation variances. Cross-row checks: unique 基本编码; materials and
 * variances must name an item of the same file; unique 序号 per item and item + division per variance;
 * a variance's promised limit must not exceed the item's legal limit (行政许可法 art. 42).
 * @throws AppError(validation, `catalog.invalid_file`) listing every problem with sheet, row and column.
 */
export function parseCatalogRows(raw: RawCatalog): CatalogData {
  const issues: FieldIssue[] = [...raw.issues];
  if (!raw.present.has(SHEETS.items)) {
    issues.push({
      field: `sheet ${SHEETS.items}`,
      message: `the file has no ${SHEETS.items} sheet; add it (see data/catalog/README.md)`,
    });
  }
  const items = new Map<string, ServiceItem>();
  for (const row of raw.items) {
    const item = readItemRow(row, issues);
    if (!item) continue;
    if (items.has(item.code)) {
      issues.push({
        field: `sheet ${row.sheet}, row ${row.row}, column 基本编码`,
        message: `${item.code} appears twice; each item has one row`,
      });
      continue;
    }
    items.set(item.code, item);
  }
  const allItemCodes = new Set(raw.items.map((r) => (r.cells.基本编码 ?? '').trim()));

  const materials = new Map<string, { seq: number; material: ServiceItem['materials'][number] }[]>();
  for (const row of raw.materials) {
    const r = new CellReader(row, issues);
    const itemCode = r.text('基本编码');
    if (!allItemCodes.has(itemCode)) {
      r.fail(
        '基本编码',
        `"${itemCode}" is not an item of the ${SHEETS.items} sheet; add the item or correct the code`,
      );
    }
    const seq = r.int('序号', 'error', [1, 100]);
    const draft = {
      name: r.text('材料名称'),
      issuingBody: r.text('出具单位'),
      originalCount: r.int('原件份数', 0, [0, 20]),
      copyCount: r.int('复印件份数', 0, [0, 20]),
      requirement: r.code(MATERIAL_REQUIREMENTS, '必要性', '必要性'),
      form: r.code(MATERIAL_FORMS, '材料形式', '材料形式'),
      source: r.code(MATERIAL_SOURCES, '来源渠道', '来源渠道'),
      notes: r.text('备注'),
    };
    const parsed = MaterialSchema.safeParse(draft);
    if (!parsed.success) pushSchemaIssues(r, parsed.error, MATERIAL_FIELD_COLUMN, '材料名称', issues);
    if (r.failed.size > 0 || !parsed.success || typeof seq !== 'number') continue;
    const list = materials.get(itemCode) ?? [];
    if (list.some((m) => m.seq === seq)) {
      r.fail('序号', `${itemCode} already has a material number ${seq}; number each material once`);
      continue;
    }
    list.push({ seq, material: parsed.data });
    materials.set(itemCode, list);
  }

  const variances: VarianceRow[] = [];
  const seen = new Set<string>();
  for (const row of raw.variances) {
    const r = new CellReader(row, issues);
    const itemCode = r.text('基本编码');
    const item = items.get(itemCode);
    if (!allItemCodes.has(itemCode)) {
      r.fail(
        '基本编码',
        `"${itemCode}" is not an item of the ${SHEETS.items} sheet; a 实施清单 row varies an item of the same file`,
      );
    }
    const divisionCode = r.text('行政区划代码');
    if (!DivisionCodeSchema.safeParse(divisionCode).success) {
      r.fail(
        '行政区划代码',
        `"${divisionCode}" is not a division code; use 2, 4, 6, 9 or 12 digits (GB/T 2260), e.g. 520102`,
      );
    }
    const promised = r.timeLimit('承诺办结时限', '承诺办结时限单位');
    const fees = r.fees('是否收费', '收费项目', 'inherit');
    const notes = r.text('补充说明');
    const halls = r.list('受理大厅编码');
    const draft = {
      ...(promised ? { promisedTimeLimit: promised } : {}),
      ...(fees ? { fees } : {}),
      ...(notes ? { notes } : {}),
      ...(halls.length > 0 ? { acceptingHallCodes: halls } : {}),
    };
    const parsed = VariancesSchema.safeParse(draft);
    if (!parsed.success) pushSchemaIssues(r, parsed.error, VARIANCE_FIELD_COLUMN, '补充说明', issues);
    if (r.failed.size > 0 || !parsed.success) continue;
    if (item) {
      for (const issue of varianceIssues(item, parsed.data)) r.fail('承诺办结时限', issue.message);
    }
    const key = `${itemCode}-${divisionCode}`;
    if (seen.has(key)) {
      r.fail(
        '行政区划代码',
        `${itemCode} already has a row for division ${divisionCode}; put its variances on one row`,
      );
    }
    if (r.failed.size > 0) continue;
    seen.add(key);
    variances.push({ itemCode, divisionCode, variances: parsed.data });
  }

  const forms = readFormRows(raw.forms, allItemCodes, issues);
  const materialNames = new Map(
    [...materials].map(([code, list]) => [code, new Set(list.map((m) => m.material.name))]),
  );
  const translations = readTranslationRows(raw.translations, materialNames, allItemCodes, issues);

  if (issues.length > 0) {
    // One problem per cell: an unreadable cell is not reported again as empty.
    const seenFields = new Set<string>();
    const unique = issues.filter((i) => !seenFields.has(i.field) && seenFields.add(i.field));
    throw invalidMany(
      'catalog.invalid_file',
      `The catalog file has ${unique.length} problem(s); nothing was imported. Correct each listed cell and import again.`,
      unique,
    );
  }
  const out: ServiceItem[] = [];
  for (const item of items.values()) {
    const ms = (materials.get(item.code) ?? []).sort((a, b) => a.seq - b.seq).map((m) => m.material);
    const t = translations.get(item.code);
    out.push({
      ...item,
      materials: ms,
      formFields: forms.get(item.code) ?? [],
      ...(t ? { translations: t } : {}),
    });
  }
  return { items: out, implementations: variances };
}

// ---------------------------------------------------------------------------------------------------
// Writing rows

const joinList = (list: CodeList, ids: readonly string[]) =>
  ids.map((id) => codeListLabel(list, id)).join('、');
const feeLines = (fees: Fees) => fees.items.map((f) => `${f.name}|${f.amountYuan}|${f.basis}`).join('\n');

/** The 事项 row of an item, by column header. */
export function itemToRow(item: ServiceItem): Record<(typeof ITEM_COLUMNS)[number], string | number> {
  return {
    基本编码: item.code,
    事项名称: item.name,
    别名: item.aliases.join('、'),
    事项类型: codeListLabel(ITEM_TYPES, item.itemType),
    所属行业: codeListLabel(INDUSTRIES, item.industry),
    实施部门类别: codeListLabel(DEPARTMENT_KIND_LIST, item.departmentKind),
    行使层级: joinList(EXERCISE_LEVELS, item.exerciseLevels),
    实施主体性质: codeListLabel(IMPLEMENTING_BODY_NATURES, item.implementingBodyNature),
    服务对象: joinList(SERVICE_OBJECTS, item.serviceObjects),
    办理形式: joinList(HANDLING_FORMS, item.handlingForms),
    办件类型: codeListLabel(CASE_TYPES, item.caseType),
    特别程序: joinList(SPECIAL_PROCEDURES, item.specialProcedures),
    设定依据: item.legalBasis,
    受理条件: item.conditions,
    法定办结时限: item.legalTimeLimit?.value ?? '',
    法定办结时限单位: item.legalTimeLimit ? codeListLabel(TIME_LIMIT_UNITS, item.legalTimeLimit.unit) : '',
    承诺办结时限: item.promisedTimeLimit.value,
    承诺办结时限单位: codeListLabel(TIME_LIMIT_UNITS, item.promisedTimeLimit.unit),
    是否收费: item.fees.free ? '否' : '是',
    收费项目: feeLines(item.fees),
    到现场次数: item.requiredVisits,
    通办范围: codeListLabel(UNIVERSAL_SCOPES, item.universalScope),
    送达方式: joinList(DELIVERY_OPTIONS, item.deliveryOptions),
    办理模式: joinList(PROCESSING_MODES, item.processingModes),
    审批地确定依据: codeListLabel(DECIDING_BASES, item.decidingBasis),
    热度: item.popularity,
    样例数据: item.sample ? '是' : '否',
  };
}

/** The 材料 rows of an item, numbered from 1. */
export function materialRows(
  item: ServiceItem,
): Record<(typeof MATERIAL_COLUMNS)[number], string | number>[] {
  return item.materials.map((m, i) => ({
    基本编码: item.code,
    序号: i + 1,
    材料名称: m.name,
    出具单位: m.issuingBody,
    原件份数: m.originalCount,
    复印件份数: m.copyCount,
    必要性: codeListLabel(MATERIAL_REQUIREMENTS, m.requirement),
    材料形式: codeListLabel(MATERIAL_FORMS, m.form),
    来源渠道: codeListLabel(MATERIAL_SOURCES, m.source),
    备注: m.notes,
  }));
}

/** The 表单 rows of an item, numbered from 1 in form order. */
export function formRows(item: ServiceItem): Record<(typeof FORM_COLUMNS)[number], string | number>[] {
  const fields = item.formFields;
  return fields.map((f, i) => {
    const ctl = f.visibleWhen ? fields.find((g) => g.key === f.visibleWhen?.key) : undefined;
    const equals = f.visibleWhen?.equals;
    return {
      基本编码: item.code,
      序号: i + 1,
      字段标识: f.key,
      字段名称: f.label,
      其他语言名称: Object.entries(f.labels ?? {})
        .map(([lang, text]) => `${lang}=${text}`)
        .join(';'),
      字段类型: FORM_FIELD_TYPE_LABELS[f.type],
      必填: f.required ? '是' : '否',
      填写说明: f.help ?? '',
      选项: (f.options ?? []).map((o) => `${o.value}=${o.label}`).join(';'),
      最小值: f.min ?? '',
      最大值: f.max ?? '',
      最大长度: f.maxLength ?? '',
      格式: f.pattern ?? '',
      单位: f.unit ?? '',
      显示条件字段: f.visibleWhen?.key ?? '',
      显示条件值:
        equals === undefined ? '' : ctl?.type === 'boolean' ? (equals ? '是' : '否') : String(equals),
    };
  });
}

/** The 译文 rows of an item, one per language (none when it has no translations). */
export function translationRows(
  item: ServiceItem,
): Record<(typeof TRANSLATION_COLUMNS)[number], string | number>[] {
  return Object.entries(item.translations ?? {}).map(([lang, t]) => ({
    基本编码: item.code,
    语言: lang,
    审校状态: codeListLabel(TRANSLATION_STATUSES, t.status),
    审校人: t.reviewer ?? '',
    审校日期: t.date ?? '',
    事项名称: t.name ?? '',
    受理条件: t.conditions ?? '',
    材料名称: Object.entries(t.materials ?? {})
      .map(([zh, text]) => `${zh}|${text}`)
      .join('\n'),
  }));
}

/** The 实施清单 row of a variance; blank cells inherit. */
export function varianceToRow(v: VarianceRow): Record<(typeof VARIANCE_COLUMNS)[number], string | number> {
  const p = v.variances.promisedTimeLimit;
  const f = v.variances.fees;
  return {
    基本编码: v.itemCode,
    行政区划代码: v.divisionCode,
    承诺办结时限: p?.value ?? '',
    承诺办结时限单位: p ? codeListLabel(TIME_LIMIT_UNITS, p.unit) : '',
    是否收费: f ? (f.free ? '否' : '是') : '',
    收费项目: f ? feeLines(f) : '',
    补充说明: v.variances.notes ?? '',
    受理大厅编码: (v.variances.acceptingHallCodes ?? []).join('、'),
  };
}

/** Text of the 说明 (provenance) sheet, one paragraph per row. */
export const README_LINES = [
  '贵州省政务服务事项目录（样例） — tongban sample service catalog',
  '来源：本文件由 tongban 开源项目编写，作为开发与演示用的样例数据，不是官方发布的政务服务事项目录或实施清单。',
  '事项名称、设定依据所引法律法规名称为真实名称；基本编码、时限、材料、收费等要素为参照公开惯例编写的合理样例，办理前请以当地政务服务网公布的办事指南为准。',
  '数据规范：GB/T 39046-2020《政务服务平台基础数据规范》表4及附录A（事项类型A.1、行使层级A.2、实施主体性质A.3、服务对象A.4、办理形式A.5、办件类型A.6、特别程序A.7）。',
  '工作表：事项（每行一个事项）；材料（每行一份申请材料，按基本编码和序号对应事项）；实施清单（地方差异，空白单元格继承上级行政区划及省级标准）；表单（每行一个申请表单字段，按基本编码和序号对应事项）；译文（每行一个事项的一种语言译文，可选）。',
  '译文填写：语言为语言标签（bo 藏文、ug 维吾尔文、en 英文）；审校状态为机器翻译（未经母语者审校）或已审校；空白的事项名称、受理条件显示中文原文；材料名称每行一项，格式“中文名称|译文”，中文名称须与材料表一致。',
  '表单填写：字段标识为英文标识符；字段类型为单行文本、多行文本、数值、整数、日期、是否、单选、多选、身份证号码、统一社会信用代码、手机号码、行政区划、金额（元）或银行账号；选项格式“值=名称;值=名称”；其他语言名称格式“en=Name”；显示条件字段须为同一事项中序号更小的字段。',
  '填写规则：代码项填写中文名称（也可填写标准代码）；多个取值用“、”分隔；收费项目每行一项，格式“名称|金额（元）|收费依据”；时限单位为工作日、自然日或个月。',
  '样例基本编码结构：事项类型代码2位 + 实施部门类别序号4位 + 主项序号3位 + 子项000，仅供样例使用，不是国家基本目录编码。',
  '生成：scripts/build-sample-catalog.ts 由 data/catalog/sample-catalog.json 生成；导入：tongban catalog import <文件>。',
];

/** Writes a catalog as .xlsx (sheets 事项, 材料, 实施清单, 表单, 译文, 说明). */
export async function writeCatalogXlsx(
  data: CatalogData,
  readme: readonly string[] = README_LINES,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'tongban';
  wb.created = new Date(0);
  wb.modified = new Date(0);
  const addSheet = (
    name: string,
    columns: readonly string[],
    rows: Record<string, string | number>[],
    widths: Record<string, number>,
  ) => {
    const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = columns.map((h) => ({
      header: h,
      key: h,
      width: widths[h] ?? Math.max(10, h.length * 2 + 2),
    }));
    ws.getRow(1).font = { bold: true };
    for (const row of rows) ws.addRow(row);
    ws.eachRow((row, n) => {
      if (n > 1) row.alignment = { vertical: 'top', wrapText: true };
    });
  };
  addSheet(SHEETS.items, ITEM_COLUMNS, data.items.map(itemToRow), {
    事项名称: 30,
    别名: 24,
    设定依据: 50,
    受理条件: 50,
    收费项目: 40,
  });
  addSheet(SHEETS.materials, MATERIAL_COLUMNS, data.items.flatMap(materialRows), {
    材料名称: 40,
    出具单位: 24,
    备注: 40,
  });
  addSheet(SHEETS.variances, VARIANCE_COLUMNS, data.implementations.map(varianceToRow), {
    补充说明: 50,
    受理大厅编码: 24,
  });
  addSheet(SHEETS.forms, FORM_COLUMNS, data.items.flatMap(formRows), {
    字段名称: 24,
    其他语言名称: 30,
    填写说明: 40,
    选项: 40,
    格式: 24,
  });
  addSheet(SHEETS.translations, TRANSLATION_COLUMNS, data.items.flatMap(translationRows), {
    事项名称: 30,
    受理条件: 50,
    材料名称: 50,
  });
  const readmeSheet = wb.addWorksheet(SHEETS.readme);
  readmeSheet.getColumn(1).width = 120;
  for (const line of readme) readmeSheet.addRow([line]).alignment = { wrapText: true };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** RFC 4180 field quoting. */
function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Writes a catalog as one sectioned CSV (`[事项]`, `[材料]`, `[实施清单]`, `[表单]`, `[译文]`), UTF-8 with BOM for Excel. */
export function writeCatalogCsv(data: CatalogData): string {
  const section = (name: string, columns: readonly string[], rows: Record<string, string | number>[]) =>
    [
      `[${name}]`,
      columns.join(','),
      ...rows.map((r) => columns.map((c) => csvField(r[c] ?? '')).join(',')),
    ].join('\r\n');
  return `\uFEFF${[
    section(SHEETS.items, ITEM_COLUMNS, data.items.map(itemToRow)),
    section(SHEETS.materials, MATERIAL_COLUMNS, data.items.flatMap(materialRows)),
    section(SHEETS.variances, VARIANCE_COLUMNS, data.implementations.map(varianceToRow)),
    section(SHEETS.forms, FORM_COLUMNS, data.items.flatMap(formRows)),
    section(SHEETS.translations, TRANSLATION_COLUMNS, data.items.flatMap(translationRows)),
  ].join('\r\n\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------------
// Reading files

/** A cell whose value cannot be read as text: a formula without a computed value, or an error value. */
class UnreadableCell extends Error {}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((t) => t.text).join('');
    if ('text' in value && typeof value.text === 'string') return value.text;
    if ('result' in value && value.result !== undefined) return cellText(value.result as ExcelJS.CellValue);
    if ('formula' in value || 'sharedFormula' in value) {
      throw new UnreadableCell(
        'a formula without a computed value: open the file in a spreadsheet and save it, or paste values',
      );
    }
    if ('error' in value)
      throw new UnreadableCell(`the cell holds the error ${String(value.error)}: enter the value itself`);
    if ('hyperlink' in value && typeof (value as { hyperlink?: unknown }).hyperlink === 'string') {
      return String((value as { hyperlink: string }).hyperlink);
    }
  }
  throw new UnreadableCell('the cell value cannot be read as text: enter plain text or a number');
}

function emptyRaw(): RawCatalog {
  return {
    items: [],
    materials: [],
    variances: [],
    forms: [],
    translations: [],
    present: new Set(),
    issues: [],
  };
}

function sheetKey(name: DataSheet): DataSheetKey {
  const key = (Object.keys(SHEETS) as (keyof typeof SHEETS)[]).find((k) => SHEETS[k] === name);
  return key as DataSheetKey;
}

function checkHeaders(sheet: DataSheet, headers: string[], out: RawCatalog, headerRow: number): void {
  const missing = REQUIRED_COLUMNS[sheet].filter((h) => !headers.includes(h));
  for (const h of missing) {
    out.issues.push({
      field: `sheet ${sheet}, row ${headerRow}, column ${h}`,
      message: `the column ${h} is missing; add it to the header row`,
    });
  }
}

const isDataSheet = (name: string): name is DataSheet =>
  name === SHEETS.items ||
  name === SHEETS.materials ||
  name === SHEETS.variances ||
  name === SHEETS.forms ||
  name === SHEETS.translations;

/** Reads the rows of an .xlsx catalog (sheets 事项, 材料, 实施清单, 表单, 译文; others ignored). */
export async function readCatalogXlsx(buffer: Buffer | ArrayBuffer): Promise<RawCatalog> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(buffer as ArrayBuffer);
  } catch (cause) {
    throw invalid(
      'file',
      `The file is not a readable .xlsx workbook (${(cause as Error).message}). Save it as .xlsx and try again.`,
      'catalog.unreadable_file',
    );
  }
  const out = emptyRaw();
  wb.eachSheet((ws) => {
    const name = ws.name.trim();
    if (!isDataSheet(name)) return;
    out.present.add(name);
    const headers: string[] = [];
    ws.getRow(1).eachCell({ includeEmpty: true }, (cell, col) => {
      try {
        headers[col] = cellText(cell.value).trim();
      } catch (e) {
        if (!(e instanceof UnreadableCell)) throw e;
        out.issues.push({ field: `sheet ${name}, row 1, column ${col}`, message: e.message });
      }
    });
    checkHeaders(name, headers, out, 1);
    ws.eachRow((row, n) => {
      if (n === 1) return;
      const cells: Record<string, string> = {};
      let any = false;
      row.eachCell({ includeEmpty: false }, (cell, col) => {
        const h = headers[col];
        if (!h) return;
        let t: string;
        try {
          t = cellText(cell.value);
        } catch (e) {
          if (!(e instanceof UnreadableCell)) throw e;
          out.issues.push({ field: `sheet ${name}, row ${n}, column ${h}`, message: e.message });
          any = true;
          return;
        }
        if (t.trim() !== '') any = true;
        cells[h] = t;
      });
      if (any) out[sheetKey(name)].push({ sheet: name, row: n, cells });
    });
  });
  return out;
}

/** Reads the rows of a sectioned CSV catalog (see the module doc). */
export function readCatalogCsv(text: string): RawCatalog {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: false,
      info: true,
    }) as never;
  } catch (cause) {
    throw invalid(
      'file',
      `The CSV file cannot be read: ${(cause as Error).message}. Check its quoting and try again.`,
      'catalog.unreadable_file',
    );
  }
  const out = emptyRaw();
  let sheet: DataSheet | null = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('[')
    ? null
    : SHEETS.items;
  let headers: string[] | null = null;
  let headerLine = 0;
  let previousEnd = 0;
  for (const { record, info } of records) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    const first = (record[0] ?? '').trim();
    const blank = record.every((c) => c.trim() === '');
    const marker = /^\[(.+)\]$/.exec(first);
    if (marker && record.slice(1).every((c) => c.trim() === '')) {
      const name = (marker[1] ?? '').trim();
      if (!isDataSheet(name)) {
        out.issues.push({
          field: `sheet ${name}, row ${line}`,
          message: `unknown section [${name}]; use [事项], [材料], [实施清单], [表单] or [译文]`,
        });
        sheet = null;
      } else {
        sheet = name;
        out.present.add(name);
      }
      headers = null;
      continue;
    }
    if (blank || sheet === null) continue;
    if (headers === null) {
      headers = record.map((h) => h.trim());
      headerLine = line;
      out.present.add(sheet);
      checkHeaders(sheet, headers, out, headerLine);
      continue;
    }
    const cells: Record<string, string> = {};
    record.forEach((value, i) => {
      const h = headers?.[i];
      if (h) cells[h] = value;
    });
    out[sheetKey(sheet)].push({ sheet, row: line, cells });
  }
  return out;
}

/** The file formats a catalog can be read from and written to, by extension. */
export type CatalogFileFormat = 'xlsx' | 'csv';

/** @throws AppError(validation, `catalog.unsupported_format`) for any extension but .xlsx and .csv. */
export function formatOf(file: string): CatalogFileFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.xlsx') return 'xlsx';
  if (ext === '.csv') return 'csv';
  throw invalid(
    'file',
    `"${file}" is neither .xlsx nor .csv; save the catalog as one of those.`,
    'catalog.unsupported_format',
  );
}

/**
 * Reads and validates a catalog file (.xlsx or .csv).
 * @throws AppError(validation) `catalog.unsupported_format`, `catalog.file_not_found`, `catalog.unreadable_file`,
 *   or `catalog.invalid_file` with every row/column problem.
 */
export async function readCatalogFile(file: string): Promise<CatalogData> {
  const format = formatOf(file);
  if (!fs.existsSync(file))
    throw invalid('file', `No file at ${file}. Check the path.`, 'catalog.file_not_found');
  return readCatalogBuffer(fs.readFileSync(file), format);
}

/**
 * Reads and validates a catalog held in memory (an HTTP upload), .xlsx or UTF-8 .csv.
 * @throws AppError(validation) `catalog.unreadable_file`, or `catalog.invalid_file` with every
 *   `sheet …, row …, column …` problem.
 */
export async function readCatalogBuffer(buffer: Buffer, format: CatalogFileFormat): Promise<CatalogData> {
  const raw = format === 'xlsx' ? await readCatalogXlsx(buffer) : readCatalogCsv(buffer.toString('utf8'));
  return parseCatalogRows(raw);
}

/**
 * Splits an issue field of the form `sheet 事项, row 12, column 承诺办结时限` into its parts (for screens);
 * other fields (e.g. `implementations.3.divisionCode`) give nulls.
 */
export function issueLocation(field: string): {
  sheet: string | null;
  row: number | null;
  column: string | null;
} {
  const m = /^sheet ([^,]+)(?:, row (\d+))?(?:, column (.+))?$/.exec(field);
  if (!m) return { sheet: null, row: null, column: null };
  return { sheet: m[1] ?? null, row: m[2] ? Number(m[2]) : null, column: m[3] ?? null };
}

/** Writes a catalog file; the format follows the extension (.xlsx or .csv). */
export async function writeCatalogFile(file: string, data: CatalogData): Promise<void> {
  const format = formatOf(file);
  const content = format === 'xlsx' ? await writeCatalogXlsx(data) : writeCatalogCsv(data);
  fs.writeFileSync(file, content);
}
