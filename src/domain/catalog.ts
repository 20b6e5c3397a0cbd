/**
 * The service catalog (政务服务事项目录) as pure data: the GB/T 39046-2020 (政务服务平台基础数据规范)
 * code lists of annex A, the zod schemas of a service item (基本目录, table 4), its materials (申请材料),
 * an implementation (实施清单) with local variances, and the resolved guide (办事指南) — plus
 * {@link resolveGuide}, which applies implementation variances with fallback to the parent division.
 *
 * Pure and browser-safe: no I/O. Identifiers are English after the standard concept; every code list
 * entry carries the standard's code (`code`) and Chinese label (`label`).
 *
 * Standard codes: the A.1–A.7 codes below follow our reading of GB/T 39046-2020 annex A and of the
 * national platform's 事项目录 exchange format. Where we are not sure of a code's exact value in the
 * published text it is marked `// uncertain` — the English identifier and the Chinese label are what the
 * API and the workbooks use; the numeric code is carried for data exchange only.
 */
import { z } from 'zod';
import { DEPARTMENT_KIND_CODES, type DepartmentKind } from './department.ts';
import { type FieldIssue, invalidMany } from './errors.ts';
import { FormFieldsSchema } from './form.ts';

/** One entry of a code list: the standard's code and its Chinese label. */
export interface CodeListEntry {
  readonly code: string;
  readonly label: string;
}

/** A code list: English identifier → { code, label }. */
export type CodeList = Readonly<Record<string, CodeListEntry>>;

/** GB/T 39046-2020 A.1 事项类型 (item type). */
export const ITEM_TYPES = {
  administrative_licensing: { code: '01', label: '行政许可' },
  administrative_penalty: { code: '02', label: '行政处罚' },
  administrative_coercion: { code: '03', label: '行政强制' },
  administrative_levy: { code: '04', label: '行政征收' },
  administrative_payment: { code: '05', label: '行政给付' },
  administrative_inspection: { code: '06', label: '行政检查' },
  administrative_confirmation: { code: '07', label: '行政确认' },
  administrative_reward: { code: '08', label: '行政奖励' },
  administrative_ruling: { code: '09', label: '行政裁决' },
  other_administrative_power: { code: '10', label: '其他行政权力' },
  public_service: { code: '20', label: '公共服务' },
} as const satisfies CodeList;

/** GB/T 39046-2020 A.2 行使层级 (exercise level). */
export const EXERCISE_LEVELS = {
  national: { code: '1', label: '国家级' },
  province: { code: '2', label: '省级' },
  prefecture: { code: '3', label: '市级' },
  county: { code: '4', label: '县级' },
  township: { code: '5', label: '镇级' },
  village: { code: '6', label: '村级' },
} as const satisfies CodeList;

/** GB/T 39046-2020 A.3 实施主体性质 (nature of the implementing body). */
export const IMPLEMENTING_BODY_NATURES = {
  statutory_authority: { code: '1', label: '法定机关' },
  authorized_organization: { code: '2', label: '授权组织' },
  entrusted_organization: { code: '3', label: '受委托组织' },
} as const satisfies CodeList;

/** GB/T 39046-2020 A.4 服务对象 (service object). Codes 4–7: uncertain. */
export const SERVICE_OBJECTS = {
  natural_person: { code: '1', label: '自然人' },
  enterprise_legal_person: { code: '2', label: '企业法人' },
  public_institution_legal_person: { code: '3', label: '事业法人' },
  social_organization_legal_person: { code: '4', label: '社会组织法人' }, // uncertain
  unincorporated_enterprise: { code: '5', label: '非法人企业' }, // uncertain
  government_agency: { code: '6', label: '行政机关' }, // uncertain
  other_organization: { code: '9', label: '其他组织' }, // uncertain
} as const satisfies CodeList;

/** GB/T 39046-2020 A.5 办理形式 (handling form). Code 4: uncertain. */
export const HANDLING_FORMS = {
  window: { code: '1', label: '窗口办理' },
  online: { code: '2', label: '网上办理' },
  express: { code: '3', label: '快递申请' },
  self_service_terminal: { code: '4', label: '自助终端' }, // uncertain
} as const satisfies CodeList;

/** GB/T 39046-2020 A.6 办件类型 (case type): 即办件 decided on the spot, 承诺件 within a promised limit. */
export const CASE_TYPES = {
  immediate: { code: '1', label: '即办件' },
  promised: { code: '2', label: '承诺件' },
} as const satisfies CodeList;

/**
 * GB/T 39046-2020 A.7 特别程序 (special procedures: time spent in them does not count towards the
 * limits, 行政许可法 art. 45). Order and codes: uncertain beyond the labels.
 */
export const SPECIAL_PROCEDURES = {
  hearing: { code: '1', label: '听证' },
  tendering: { code: '2', label: '招标' },
  auction: { code: '3', label: '拍卖' },
  inspection: { code: '4', label: '检验' },
  testing: { code: '5', label: '检测' },
  quarantine: { code: '6', label: '检疫' },
  appraisal: { code: '7', label: '鉴定' },
  expert_review: { code: '8', label: '专家评审' },
  public_notice: { code: '9', label: '公示' },
  site_survey: { code: '10', label: '现场勘查' }, // uncertain (a tongban extension if not in A.7)
} as const satisfies CodeList;

/** 时限单位: unit of a time limit. Working days exclude weekends and statutory holidays (调休 counted). */
export const TIME_LIMIT_UNITS = {
  working_days: { code: '1', label: '工作日' },
  calendar_days: { code: '2', label: '自然日' },
  months: { code: '3', label: '个月' },
} as const satisfies CodeList;

/** 办理模式 (tongban processing modes; see docs/glossary.md). Codes are tongban's own. */
export const PROCESSING_MODES = {
  online: { code: '1', label: '全程网办' },
  off_site_intake: { code: '2', label: '异地代收代办' },
  multi_site_joint: { code: '3', label: '多地联办' },
  any_hall: { code: '4', label: '无差别办理' },
} as const satisfies CodeList;

/** 审批地确定依据: which division's authority decides (属地审批机关). Codes are tongban's own. */
export const DECIDING_BASES = {
  household_registration: { code: '1', label: '户籍地' },
  insured_place: { code: '2', label: '参保地' },
  property_location: { code: '3', label: '不动产所在地' },
  business_premises: { code: '4', label: '经营场所所在地' },
  residence: { code: '5', label: '经常居住地' },
  applicant_choice: { code: '6', label: '申请人选择' },
  deposit_place: { code: '7', label: '缴存地' },
  resource_location: { code: '8', label: '项目或资源所在地' },
  workplace: { code: '9', label: '工作单位所在地' },
} as const satisfies CodeList;

/** 通办范围: where an item can be applied for (any hall within this area). */
export const UNIVERSAL_SCOPES = {
  cross_province: { code: '1', label: '跨省通办' },
  province: { code: '2', label: '全省通办' },
  prefecture: { code: '3', label: '全市通办' },
  county: { code: '4', label: '全县通办' },
  none: { code: '9', label: '不通办' },
} as const satisfies CodeList;

/** 送达方式: delivery options of the result. */
export const DELIVERY_OPTIONS = {
  pickup: { code: '1', label: '窗口领取' },
  mail: { code: '2', label: '邮寄' },
  e_licence: { code: '3', label: '电子证照' },
} as const satisfies CodeList;

/** 材料必要性. */
export const MATERIAL_REQUIREMENTS = {
  required: { code: '1', label: '必要' },
  optional: { code: '2', label: '非必要' },
} as const satisfies CodeList;

/** 材料形式. */
export const MATERIAL_FORMS = {
  paper: { code: '1', label: '纸质' },
  electronic: { code: '2', label: '电子' },
  paper_or_electronic: { code: '3', label: '纸质或电子' },
} as const satisfies CodeList;

/** 材料来源渠道: who provides a material. `e_licence`: taken from the e-licence library (电子证照, GB/T 36902). */
export const MATERIAL_SOURCES = {
  applicant: { code: '1', label: '申请人自备' },
  e_licence: { code: '2', label: '电子证照' },
  data_sharing: { code: '3', label: '部门共享' },
  window_form: { code: '4', label: '窗口或网上领取表格' },
} as const satisfies CodeList;

/**
 * 所属行业 (industry / service theme). tongban's own list for browsing and search filters; not a
 * GB/T 39046 code list.
 */
export const INDUSTRIES = {
  household_registration: { code: 'HJ', label: '户籍管理' },
  identity_documents: { code: 'SF', label: '身份证件' },
  traffic_management: { code: 'JG', label: '交通管理' },
  exit_entry: { code: 'CR', label: '出入境' },
  social_insurance: { code: 'SB', label: '社会保险' },
  employment: { code: 'JY', label: '就业创业' },
  medical_insurance: { code: 'YB', label: '医疗保障' },
  housing_provident_fund: { code: 'GJ', label: '住房公积金' },
  marriage_registration: { code: 'HY', label: '婚姻登记' },
  social_assistance: { code: 'JZ', label: '社会救助' },
  disability: { code: 'CJ', label: '残疾人服务' },
  veterans: { code: 'TY', label: '退役军人服务' },
  market_entity: { code: 'SC', label: '市场主体登记' },
  food_safety: { code: 'SP', label: '食品药品' },
  real_estate: { code: 'BD', label: '不动产登记' },
  health: { code: 'WJ', label: '卫生健康' },
  transport: { code: 'JT', label: '交通运输' },
  taxation: { code: 'SW', label: '税务' },
  agriculture_rural: { code: 'NY', label: '农业农村' },
  water: { code: 'SL', label: '水利' },
  forestry: { code: 'LY', label: '林业' },
  education: { code: 'JX', label: '教育' },
  legal_services: { code: 'FL', label: '法律服务' },
  culture_tourism: { code: 'WL', label: '文化旅游' },
  work_safety: { code: 'AQ', label: '安全生产' },
  environment: { code: 'HB', label: '生态环境' },
  construction: { code: 'JS', label: '住房城乡建设' },
} as const satisfies CodeList;

export type ItemType = keyof typeof ITEM_TYPES;
export type ExerciseLevel = keyof typeof EXERCISE_LEVELS;
export type ImplementingBodyNature = keyof typeof IMPLEMENTING_BODY_NATURES;
export type ServiceObject = keyof typeof SERVICE_OBJECTS;
export type HandlingForm = keyof typeof HANDLING_FORMS;
export type CaseType = keyof typeof CASE_TYPES;
export type SpecialProcedure = keyof typeof SPECIAL_PROCEDURES;
export type TimeLimitUnit = keyof typeof TIME_LIMIT_UNITS;
export type ProcessingMode = keyof typeof PROCESSING_MODES;
export type DecidingBasis = keyof typeof DECIDING_BASES;
export type UniversalScope = keyof typeof UNIVERSAL_SCOPES;
export type DeliveryOption = keyof typeof DELIVERY_OPTIONS;
export type Industry = keyof typeof INDUSTRIES;

/** The identifiers of a code list, as a tuple for `z.enum`. */
export function codeListIds<L extends CodeList>(list: L): [keyof L & string, ...(keyof L & string)[]] {
  return Object.keys(list) as [keyof L & string, ...(keyof L & string)[]];
}

/**
 * Reads a code list value written as its identifier (`public_service`), its standard code (`20`) or its
 * Chinese label (`公共服务`). Returns the identifier, or null when nothing matches.
 */
export function parseCodeListValue<L extends CodeList>(list: L, text: string): (keyof L & string) | null {
  const t = text.trim();
  if (Object.hasOwn(list, t)) return t as keyof L & string;
  for (const [id, entry] of Object.entries(list)) {
    if (entry.label === t || entry.code === t) return id as keyof L & string;
  }
  return null;
}

/** Chinese label of a code list identifier (the identifier itself when unknown). */
export function codeListLabel<L extends CodeList>(list: L, id: string): string {
  return Object.hasOwn(list, id) ? (list[id] as CodeListEntry).label : id;
}

const enumOf = <L extends CodeList>(list: L, what: string) =>
  z.enum(codeListIds(list)).describe(`${what}: one of ${Object.keys(list).join(', ')}`);

/** 基本编码 / 实施编码 form: letters, digits and hyphens, 4–64 characters. */
export const BASIC_CODE_PATTERN = /^[0-9A-Za-z][0-9A-Za-z-]{3,63}$/;

/** GB/T 2260 division code as used in tongban: 2 (province), 4, 6, 9 or 12 digits. */
export const DIVISION_CODE_PATTERN = /^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/;

export const BasicCodeSchema = z
  .string()
  .regex(BASIC_CODE_PATTERN, 'use 4–64 letters, digits or hyphens, e.g. 200001001000')
  .describe('基本编码 basic code of a service item');

export const DivisionCodeSchema = z
  .string()
  .regex(DIVISION_CODE_PATTERN, 'use a GB/T 2260 division code of 2, 4, 6, 9 or 12 digits, e.g. 520102')
  .describe('行政区划代码 GB/T 2260');

/** A time limit: `value` in `unit` (working days exclude weekends and statutory holidays). 0 = on the spot. */
export const TimeLimitSchema = z
  .object({
    value: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .describe('number of units; 0 means decided on the spot (当场办结)'),
    unit: enumOf(TIME_LIMIT_UNITS, 'unit'),
  })
  .meta({ id: 'TimeLimit' });
export type TimeLimit = z.infer<typeof TimeLimitSchema>;

/** 收费项目: one fee, amount in yuan (元) with up to 2 decimals, and the document that sets it. */
export const FeeItemSchema = z
  .object({
    name: z.string().min(1).max(200),
    amountYuan: z
      .number()
      .min(0)
      .max(1_000_000)
      .refine((n) => Math.round(n * 100) === Math.round(n * 100 * 1e6) / 1e6, 'at most 2 decimals (fen)')
      .describe('amount in yuan (元)'),
    basis: z.string().min(1).max(500).describe('收费依据: the document that sets the fee'),
  })
  .meta({ id: 'FeeItem' });

/** 是否收费 + 收费项目: `free: true` with no items, or `free: false` with at least one item. */
export const FeesSchema = z
  .object({ free: z.boolean(), items: z.array(FeeItemSchema).max(20) })
  .refine((f) => (f.free ? f.items.length === 0 : f.items.length > 0), {
    message: 'a free item lists no fees; a charged item lists at least one fee',
  })
  .meta({ id: 'Fees' });
export type Fees = z.infer<typeof FeesSchema>;

/** 申请材料 (GB/T 39046 table 4, materials): one document the applicant provides. */
export const MaterialSchema = z
  .object({
    name: z.string().min(1).max(200).describe('材料名称'),
    issuingBody: z.string().min(1).max(200).describe('出具单位, e.g. 公安机关, or 申请人'),
    originalCount: z.number().int().min(0).max(20).describe('原件份数'),
    copyCount: z.number().int().min(0).max(20).describe('复印件份数'),
    requirement: enumOf(MATERIAL_REQUIREMENTS, '必要性'),
    form: enumOf(MATERIAL_FORMS, '材料形式'),
    source: enumOf(MATERIAL_SOURCES, '来源渠道'),
    notes: z.string().max(1000).default('').describe('备注 / 填报须知'),
  })
  .meta({ id: 'Material' });
export type Material = z.infer<typeof MaterialSchema>;

const unique = <T>(xs: readonly T[]) => new Set(xs).size === xs.length;

/**
 * Whether a translation was checked by a native speaker: `machine` (written by machine or by a
 * non-native speaker, not yet reviewed) or `reviewed`. Residents see a notice for unreviewed text.
 */
export const TRANSLATION_STATUSES = {
  machine: { code: 'machine', label: '机器翻译' },
  reviewed: { code: 'reviewed', label: '已审校' },
} as const satisfies CodeList;
export type TranslationStatus = keyof typeof TRANSLATION_STATUSES;

/** A UI/content language tag (BCP 47, e.g. en, bo, ug); zh-CN is the source language and never a translation. */
export const TranslationLanguageSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'use a language tag such as en, bo or ug')
  .refine(
    (tag) => tag !== 'zh-CN' && tag !== 'zh',
    'zh-CN is the source language; translate into another one',
  )
  .describe('language tag (BCP 47), e.g. bo (Tibetan), ug (Uyghur), en');

/**
 * 译文: one language's translation of an item's resident-facing text (tongban extension). Every text
 * field is optional — an absent one falls back to the Chinese original. `materials` maps a material's
 * Chinese name (as in `materials[].name`) to its translated name, so a renamed material falls back to
 * Chinese instead of showing a stale translation.
 */
export const ItemTranslationSchema = z
  .object({
    status: enumOf(TRANSLATION_STATUSES, '审校状态'),
    reviewer: z.string().trim().min(1).max(100).optional().describe('who reviewed it (when reviewed)'),
    date: z.iso
      .date({ error: 'write the date as YYYY-MM-DD, e.g. 2025-03-01' })
      .optional()
      .describe('when it was reviewed, YYYY-MM-DD'),
    name: z.string().trim().min(1).max(200).optional().describe('事项名称'),
    conditions: z.string().trim().min(1).max(4000).optional().describe('受理条件'),
    materials: z
      .record(z.string().min(1).max(200), z.string().trim().min(1).max(200))
      .optional()
      .describe('材料名称: Chinese material name → translated name'),
  })
  .strict()
  .meta({ id: 'ItemTranslation' });
export type ItemTranslation = z.infer<typeof ItemTranslationSchema>;
/** The item fields that can carry a translation. */
export type TranslatableItemField = 'name' | 'conditions';

/** 译文 of an item by language tag, e.g. `{ bo: { status: 'machine', name: '…' } }`. */
export const ItemTranslationsSchema = z
  .record(TranslationLanguageSchema, ItemTranslationSchema)
  .describe('translations by language tag (tongban extension); absent fields fall back to zh-CN');
export type ItemTranslations = z.infer<typeof ItemTranslationsSchema>;

/**
 * Why a promised limit is not allowed against a legal limit, or null when it is. Compared only when
 * both use the same unit (a working day and a calendar day are not convertible without a calendar).
 * Law: 行政许可法 art. 42 — the legal limit is the maximum; the promised limit (承诺时限) may only be shorter.
 */
export function promisedLimitProblem(promised: TimeLimit, legal: TimeLimit | null): string | null {
  if (legal === null) return null;
  if (promised.unit !== legal.unit) {
    // Different units: compare the calendar-day spans they can cover. n working days span at least n and
    // at most n + 2·⌈n/5⌉ + 2 weekend days + 9 holiday days; months 28–31 days each. Only a promise that
    // certainly exceeds the legal limit is refused; otherwise the case clock caps the due date at the legal
    // one (src/domain/case-clock.ts).
    const span = (l: TimeLimit): [number, number] =>
      l.unit === 'working_days'
        ? [l.value, l.value === 0 ? 0 : l.value + 2 * Math.ceil(l.value / 5) + 2 + 9]
        : l.unit === 'months'
          ? [l.value * 28, l.value * 31]
          : [l.value, l.value];
    const [promisedMin] = span(promised);
    const [, legalMax] = span(legal);
    if (promisedMin <= legalMax) return null;
    const p = TIME_LIMIT_UNITS[promised.unit].label;
    const l = TIME_LIMIT_UNITS[legal.unit].label;
    return `the promised limit ${promised.value} ${p} exceeds the legal limit ${legal.value} ${l}; make it shorter`;
  }
  if (promised.value > legal.value) {
    const unit = TIME_LIMIT_UNITS[legal.unit].label;
    return `the promised limit ${promised.value} ${unit} exceeds the legal limit ${legal.value} ${unit}; make it ${legal.value} or less`;
  }
  return null;
}

/**
 * 政务服务事项 (基本目录) — the province-standard definition of a service item, after GB/T 39046-2020
 * table 4. Time limits carry their unit; `legalTimeLimit` null means no statutory limit (法律法规未规定).
 * `popularity` (0–100, relative yearly volume) is a tongban extension used to rank search results;
 * `formFields` (申请表单, tongban extension) defines the form an application fills in (src/domain/form.ts);
 * `translations` (译文, tongban extension) carries the resident-facing text in other languages.
 */
const ServiceItemObject = z.object({
  code: BasicCodeSchema,
  name: z.string().min(2).max(200).describe('事项名称'),
  aliases: z.array(z.string().min(1).max(100)).max(20).default([]).describe('别名 / 俗称'),
  itemType: enumOf(ITEM_TYPES, '事项类型 (A.1)'),
  industry: enumOf(INDUSTRIES, '所属行业'),
  departmentKind: z
    .enum(DEPARTMENT_KIND_CODES as [DepartmentKind, ...DepartmentKind[]])
    .describe('the kind of department that implements the item (实施部门)'),
  exerciseLevels: z
    .array(enumOf(EXERCISE_LEVELS, '行使层级 (A.2)'))
    .min(1)
    .refine(unique, 'list each level once'),
  implementingBodyNature: enumOf(IMPLEMENTING_BODY_NATURES, '实施主体性质 (A.3)'),
  serviceObjects: z
    .array(enumOf(SERVICE_OBJECTS, '服务对象 (A.4)'))
    .min(1)
    .refine(unique, 'list each object once'),
  handlingForms: z
    .array(enumOf(HANDLING_FORMS, '办理形式 (A.5)'))
    .min(1)
    .refine(unique, 'list each form once'),
  caseType: enumOf(CASE_TYPES, '办件类型 (A.6)'),
  specialProcedures: z
    .array(enumOf(SPECIAL_PROCEDURES, '特别程序 (A.7)'))
    .default([])
    .refine(unique, 'list each once'),
  legalBasis: z.string().min(1).max(4000).describe('设定依据: laws and regulations'),
  conditions: z.string().min(1).max(4000).describe('受理条件'),
  legalTimeLimit: TimeLimitSchema.nullable().describe('法定办结时限; null: no statutory limit'),
  promisedTimeLimit: TimeLimitSchema.describe('承诺办结时限 (≤ legal when the units match)'),
  fees: FeesSchema.describe('是否收费 / 收费项目'),
  requiredVisits: z.number().int().min(0).max(10).describe('到现场次数 (0 = 零跑动)'),
  universalScope: enumOf(UNIVERSAL_SCOPES, '通办范围'),
  deliveryOptions: z.array(enumOf(DELIVERY_OPTIONS, '送达方式')).min(1).refine(unique, 'list each once'),
  processingModes: z.array(enumOf(PROCESSING_MODES, '办理模式')).default([]).refine(unique, 'list each once'),
  decidingBasis: enumOf(DECIDING_BASES, '审批地确定依据'),
  popularity: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(0)
    .describe('热度 0–100 (tongban extension, search ranking)'),
  materials: z.array(MaterialSchema).max(100).default([]).describe('申请材料'),
  formFields: FormFieldsSchema.default([]).describe(
    '申请表单: the fields an application fills in (src/domain/form.ts); formData is validated against them',
  ),
  sample: z.boolean().describe('true: sample data written by the project, not an official catalog entry'),
  translations: ItemTranslationsSchema.optional(),
});

export const ServiceItemSchema = ServiceItemObject.superRefine((item, ctx) => {
  const problem = promisedLimitProblem(item.promisedTimeLimit, item.legalTimeLimit);
  if (problem) ctx.addIssue({ code: 'custom', path: ['promisedTimeLimit'], message: problem });
  if (item.caseType === 'immediate' && item.promisedTimeLimit.value !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['promisedTimeLimit'],
      message: 'an immediate case (即办件) is decided on the spot: its promised limit is 0',
    });
  }
}).meta({ id: 'ServiceItem' });
export type ServiceItem = z.infer<typeof ServiceItemSchema>;
/** A service item as written before defaults are applied (e.g. JSON input without `aliases`). */
export type ServiceItemInput = z.input<typeof ServiceItemSchema>;

/** A service item in lists: what a search result or a catalog page shows without opening the item. */
export const ServiceItemSummarySchema = ServiceItemObject.pick({
  code: true,
  name: true,
  aliases: true,
  itemType: true,
  industry: true,
  departmentKind: true,
  exerciseLevels: true,
  serviceObjects: true,
  caseType: true,
  promisedTimeLimit: true,
  requiredVisits: true,
  universalScope: true,
  processingModes: true,
  popularity: true,
  sample: true,
}).meta({ id: 'ServiceItemSummary' });
export type ServiceItemSummary = z.infer<typeof ServiceItemSummarySchema>;

/**
 * 实施清单的地方差异 (local variances of an implementation). Every field is optional: an absent field
 * inherits from the parent division's implementation, and ultimately from the provincial standard.
 */
export const VariancesSchema = z
  .object({
    promisedTimeLimit: TimeLimitSchema.optional().describe(
      'shorter local promised limit (≤ the legal limit)',
    ),
    fees: FeesSchema.optional().describe('local fee override'),
    notes: z.string().min(1).max(2000).optional().describe('补充说明 shown in the guide'),
    acceptingHallCodes: z.array(z.string().min(1).max(64)).max(200).optional().describe('受理大厅编码'),
  })
  .strict()
  .meta({ id: 'Variances' });
export type Variances = z.infer<typeof VariancesSchema>;
export type VarianceField = keyof Variances;
export const VARIANCE_FIELDS: readonly VarianceField[] = [
  'promisedTimeLimit',
  'fees',
  'notes',
  'acceptingHallCodes',
];

/**
 * 实施清单 (implementation): a service item as one department at one division implements it.
 * `code` is the 实施编码: `<item basic code>-<division code>` (one implementing department of the item's
 * kind per division). `departmentId` is null until the department is bound (see the catalog service).
 */
export const ImplementationSchema = z
  .object({
    code: z.string().min(1).max(100).describe('实施编码: <basic code>-<division code>'),
    itemCode: BasicCodeSchema,
    departmentId: z.uuid().nullable().describe('the implementing department (uuid), null when not bound yet'),
    divisionCode: DivisionCodeSchema,
    variances: VariancesSchema,
  })
  .meta({ id: 'Implementation' });
export type Implementation = z.infer<typeof ImplementationSchema>;

/** 实施编码 of an item at a division: `<basic code>-<division code>`, e.g. `200001001000-520102`. */
export function implementationCode(itemCode: string, divisionCode: string): string {
  return `${itemCode}-${divisionCode}`;
}

/** Where a guide value came from: the provincial standard (基本目录) or a local variance (实施清单). */
export const ValueSourceSchema = z
  .object({
    from: z.enum(['standard', 'variance']),
    divisionCode: DivisionCodeSchema.nullable().describe(
      'division of the implementation that set it; null for the standard',
    ),
    implementationCode: z.string().nullable(),
  })
  .meta({ id: 'ValueSource' });
export type ValueSource = z.infer<typeof ValueSourceSchema>;

/**
 * 办事指南 — the guide a resident reads for one division: the item with local variances applied, the
 * implementation used (the nearest one along the division's ancestry), and for each variable field
 * where its value came from.
 */
export const GuideSchema = z
  .object({
    divisionCode: DivisionCodeSchema,
    item: ServiceItemSchema.describe('the item with the local variances applied'),
    implementation: ImplementationSchema.nullable().describe(
      'the nearest implementation; null when none exists',
    ),
    notes: z.string().nullable().describe('补充说明 from the nearest variance that has one'),
    department: z
      .object({ id: z.string(), name: z.string(), creditCode: z.string(), divisionCode: z.string() })
      .nullable()
      .optional()
      .describe('实施主体: the department that implements the item for this division'),
    acceptingHallCodes: z.array(z.string()),
    sources: z.object({
      promisedTimeLimit: ValueSourceSchema,
      fees: ValueSourceSchema,
      notes: ValueSourceSchema,
      acceptingHallCodes: ValueSourceSchema,
    }),
  })
  .meta({ id: 'Guide' });
export type Guide = z.infer<typeof GuideSchema>;

/**
 * Problems of an implementation's variances against its item: the promised limit must not exceed the
 * item's legal limit (行政许可法 art. 42; compared when units match), nor be non-zero for a 即办件.
 * @returns issues with `field` prefixed by `prefix` (empty when valid).
 */
export function varianceIssues(item: ServiceItem, variances: Variances, prefix = 'variances'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (variances.promisedTimeLimit) {
    const problem = promisedLimitProblem(variances.promisedTimeLimit, item.legalTimeLimit);
    if (problem)
      issues.push({ field: `${prefix}.promisedTimeLimit`, message: `${item.code} ${item.name}: ${problem}` });
    if (item.caseType === 'immediate' && variances.promisedTimeLimit.value !== 0) {
      issues.push({
        field: `${prefix}.promisedTimeLimit`,
        message: `${item.code} ${item.name} is an immediate case (即办件): a local promised limit must be 0`,
      });
    }
  }
  return issues;
}

/**
 * Resolves the guide of `item` for a division, like inheritance with fallback to the parent (as DIGIT's
 * MDMS does): `ancestryCodes` is the division and its ancestors, self first, up to the province
 * (e.g. ['520102', '5201', '52']). For each variable field, the nearest implementation along that list
 * that sets it wins; a field nobody varies keeps the provincial standard. The implementation presented
 * is the nearest one that exists (a county without its own falls back to its prefecture, then the province).
 * Implementations of other items or off the ancestry are ignored.
 *
 * @throws AppError(validation, `catalog.invalid_variance`) when an applicable variance breaks the
 *   item's limits (promised > legal, 行政许可法 art. 42), listing every such variance.
 * @throws AppError(validation, `catalog.invalid_ancestry`) when `ancestryCodes` is empty.
 */
export function resolveGuide(
  item: ServiceItem,
  implementations: readonly Implementation[],
  ancestryCodes: readonly string[],
): Guide {
  const divisionCode = ancestryCodes[0];
  if (divisionCode === undefined) {
    throw invalidMany(
      'catalog.invalid_ancestry',
      'The division ancestry is empty: give the division code first, then its parents.',
      [{ field: 'division', message: 'ancestry must list at least the division itself' }],
    );
  }
  const rank = new Map(ancestryCodes.map((c, i) => [c, i]));
  const chain = implementations
    .filter((impl) => impl.itemCode === item.code && rank.has(impl.divisionCode))
    .sort((a, b) => (rank.get(a.divisionCode) ?? 0) - (rank.get(b.divisionCode) ?? 0));

  const issues = chain.flatMap((impl) => varianceIssues(item, impl.variances, `implementation ${impl.code}`));
  if (issues.length > 0) {
    throw invalidMany(
      'catalog.invalid_variance',
      `The implementation list of ${item.code} ${item.name} has variances that break the item's limits; correct them in the 实施清单.`,
      issues,
    );
  }

  const standard: ValueSource = { from: 'standard', divisionCode: null, implementationCode: null };
  const pick = <F extends VarianceField>(field: F): { value: Variances[F]; source: ValueSource } => {
    for (const impl of chain) {
      const value = impl.variances[field];
      if (value !== undefined) {
        return {
          value,
          source: { from: 'variance', divisionCode: impl.divisionCode, implementationCode: impl.code },
        };
      }
    }
    return { value: undefined, source: standard };
  };

  const promised = pick('promisedTimeLimit');
  const fees = pick('fees');
  const notes = pick('notes');
  const halls = pick('acceptingHallCodes');
  return {
    divisionCode,
    item: {
      ...item,
      promisedTimeLimit: promised.value ?? item.promisedTimeLimit,
      fees: fees.value ?? item.fees,
    },
    implementation: chain[0] ?? null,
    notes: notes.value ?? null,
    acceptingHallCodes: halls.value ?? [],
    sources: {
      promisedTimeLimit: promised.source,
      fees: fees.source,
      notes: notes.source,
      acceptingHallCodes: halls.source,
    },
  };
}
