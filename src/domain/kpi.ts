/**
 * 循数治理: the key performance indicators (KPIs) of 全省通办 — their identifiers, names, units and the
 * shapes the dashboard API answers with. The formulas are in docs/metrics.md and computed by the kpi
 * module (src/server/modules/kpi) from rollup tables kept current by the outbox, never by scanning cases.
 *
 * Pure: no I/O; shared by the server (response schemas, OpenAPI) and the staff web app.
 */
import { z } from 'zod';

/** Age bands the offline-availability KPIs need (适老化: 65+ per 国办发〔2020〕45号). */
export const AGE_BANDS = ['under_65', '65_plus', 'not_applicable'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

/**
 * Statistics facts of a case fixed at submission (cases.facts), free of personal data: the applicant's
 * home county (GB/T 2260, 6 digits; from the ID number's area code or the credit code's registration
 * division — a proxy for where the applicant lives), the age band on the submission day (natural persons;
 * `not_applicable` for legal persons) and the visits the traditional process needed (到现场次数 of the item).
 */
export interface CaseFacts {
  applicantCountyCode: string | null;
  applicantAgeBand: AgeBand;
  /** 到现场次数 of the item in the catalog: the trips the traditional process needed. */
  traditionalVisits: number;
}

/**
 * What every case outbox event (`case.<type>`) carries in `payload.facts` for the KPI rollups: the
 * {@link CaseFacts} plus the case's situation after the event. Days are `YYYY-MM-DD` in Asia/Shanghai,
 * instants ISO 8601. No personal data.
 */
export interface CaseEventFacts extends CaseFacts {
  /** Instant of the event (the engine's clock: simulated time in `tongban simulate`). */
  at: string;
  /** Asia/Shanghai day the event counts on. */
  on: string;
  type: string;
  from: string | null;
  to: string;
  itemCode: string;
  /** pc | mobile | hall_window | village_agent | post */
  channel: string;
  processingMode: string;
  /** Intake hall (收件地) code; null for an online submission. */
  intakeHallCode: string | null;
  /** County (GB/T 2260, 6 digits) where the case was received (the hall's county, or the deciding county online). */
  intakeCountyCode: string;
  /** County (6 digits) of the deciding (属地审批) division. */
  decidingCountyCode: string;
  competentDepartmentId: string | null;
  /** Filed by a village agent or hall helper (帮办代办). */
  agent: boolean;
  /** Applicant visits so far (一次办成). */
  visits: number;
  submittedOn: string;
  forwardedAt: string | null;
  acceptedOn: string | null;
  decidedOn: string | null;
  /** Supplement notices (一次性告知) so far. */
  supplementNotices: number;
  /** 法定办结时限 in working days; null when the item has none. */
  legalWorkingDays: number | null;
  /** For a decided case with a decision due date: decided on or before it; otherwise null. */
  decidedWithinLimit: boolean | null;
  /** Warning level after the event: none | yellow | red | overdue. */
  warning: string;
  outcome: string | null;
}

/** The KPIs, in the order the dashboard shows them. Formulas: docs/metrics.md (one section per id). */
export const KPI_IDS = [
  'cross_level_response_hours',
  'remote_success_rate',
  'nearby_rate',
  'one_visit_rate',
  'trips_saved',
  'time_compression',
  'satisfaction_rate',
  'overdue_rate',
  'second_supplement_rate',
  'online_share',
  'halls_open_rate',
  'offline_share_65_plus',
  'staff_feedback_reports',
] as const;
export type KpiId = (typeof KPI_IDS)[number];

/** How a KPI's value reads: a share 0…1, a count, hours, or working days. */
export type KpiUnit = 'ratio' | 'count' | 'working_hours' | 'working_days';

/** Name, unit and whether higher is better (the dashboard's trend arrows and the warnings use it). */
export const KPI_DEFINITIONS: Readonly<
  Record<KpiId, { name: string; nameEn: string; unit: KpiUnit; higherIsBetter: boolean }>
> = {
  cross_level_response_hours: {
    name: '跨层级响应时长',
    nameEn: 'Cross-level response time',
    unit: 'working_hours',
    higherIsBetter: false,
  },
  remote_success_rate: {
    name: '异地办理成功率',
    nameEn: 'Remote-processing success rate',
    unit: 'ratio',
    higherIsBetter: true,
  },
  nearby_rate: { name: '就近办理率', nameEn: 'Nearby-processing rate', unit: 'ratio', higherIsBetter: true },
  one_visit_rate: { name: '一次办成率', nameEn: 'One-visit rate', unit: 'ratio', higherIsBetter: true },
  trips_saved: { name: '减少跑动次数', nameEn: 'Trips saved', unit: 'count', higherIsBetter: true },
  time_compression: { name: '时限压缩率', nameEn: 'Time compression', unit: 'ratio', higherIsBetter: true },
  satisfaction_rate: { name: '好评率', nameEn: 'Satisfaction', unit: 'ratio', higherIsBetter: true },
  overdue_rate: { name: '超期率', nameEn: 'Overdue rate', unit: 'ratio', higherIsBetter: false },
  second_supplement_rate: {
    name: '二次补正率',
    nameEn: 'Second-supplement rate',
    unit: 'ratio',
    higherIsBetter: false,
  },
  online_share: { name: '网办占比', nameEn: 'Online share', unit: 'ratio', higherIsBetter: true },
  halls_open_rate: {
    name: '大厅在岗率',
    nameEn: 'Halls open in opening hours',
    unit: 'ratio',
    higherIsBetter: true,
  },
  offline_share_65_plus: {
    name: '65岁以上线下办理占比',
    nameEn: 'Offline-channel share, residents 65+',
    unit: 'ratio',
    // A fall means older residents are being pushed online ("被网办"): the warning rule watches drops.
    higherIsBetter: true,
  },
  staff_feedback_reports: {
    name: '一线反馈问题数',
    nameEn: 'Staff feedback reports',
    unit: 'count',
    higherIsBetter: false,
  },
};

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD');
const KpiValues = z.record(z.enum(KPI_IDS), z.number().nullable());

/** One KPI over the period: value (null when the denominator is 0), its parts, and the previous period's value. */
export const KpiFigureSchema = z.object({
  id: z.enum(KPI_IDS),
  value: z.number().nullable(),
  numerator: z.number(),
  denominator: z.number(),
  /** The same KPI over the period of equal length just before `from`; null when it had no data. */
  previous: z.number().nullable(),
});
export type KpiFigure = z.infer<typeof KpiFigureSchema>;

/** GET /api/v1/kpi/dashboard: a scope's KPIs, their daily trend, and the same per child unit (drill-down). */
export const KpiDashboardSchema = z.object({
  scope: z.object({
    kind: z.enum(['division', 'hall']),
    code: z.string(),
    name: z.string(),
    /** province | prefecture | county for a division; hall for a hall. */
    level: z.string(),
  }),
  from: Day,
  to: Day,
  kpis: z.array(KpiFigureSchema),
  daily: z.array(z.object({ day: Day, values: KpiValues })),
  /** Province → prefectures, prefecture → counties, county → halls; a hall has none. */
  children: z.array(
    z.object({
      kind: z.enum(['division', 'hall']),
      code: z.string(),
      name: z.string(),
      /** Cases received in the period (size of the unit, for sorting). */
      received: z.number(),
      values: KpiValues,
    }),
  ),
});
export type KpiDashboard = z.infer<typeof KpiDashboardSchema>;

/**
 * The {@link CaseFacts} of a new case: home county from the first 6 characters of the ID number
 * (地址码, GB 11643) or characters 3–8 of the credit code (登记管理机关行政区划码, GB 32100); age on
 * `today` (YYYY-MM-DD, Asia/Shanghai) from the ID number's birth date. Nothing else of the applicant is kept.
 */
export function caseFactsOf(
  applicant: { kind: 'natural_person'; idNumber: string } | { kind: 'legal_person'; creditCode: string },
  traditionalVisits: number,
  today: string,
): CaseFacts {
  if (applicant.kind === 'legal_person') {
    const code = applicant.creditCode.trim().slice(2, 8);
    return {
      applicantCountyCode: /^\d{6}$/.test(code) ? code : null,
      applicantAgeBand: 'not_applicable',
      traditionalVisits,
    };
  }
  const id = applicant.idNumber.trim();
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  return {
    applicantCountyCode: /^\d{6}$/.test(id.slice(0, 6)) ? id.slice(0, 6) : null,
    applicantAgeBand: ageOn(birth, today) >= 65 ? '65_plus' : 'under_65',
    traditionalVisits,
  };
}

/** Whole years from `birth` to `today` (both YYYY-MM-DD). */
export function ageOn(birth: string, today: string): number {
  const years = Number(today.slice(0, 4)) - Number(birth.slice(0, 4));
  return today.slice(5) >= birth.slice(5) ? years : years - 1;
}

/** One day of a scope's KPIs (KpiService.daily): the values and the raw counts the warning rules read. */
export interface KpiDaily {
  day: string;
  values: Record<KpiId, number | null>;
  counts: {
    /** Cases received (收件) that day. */
    received: number;
    /** Cases open at the end of the day (backlog). */
    open: number;
    /** Open cases overdue at the end of the day. */
    overdue: number;
    ratings: number;
    badReviews: number;
  };
}
