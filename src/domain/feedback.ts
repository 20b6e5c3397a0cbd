/**
 * The staff feedback channel (一线反馈): window staff report what gets in their way, from any workbench
 * screen; administrators triage and track each report to closure. Counted in the KPIs (docs/metrics.md,
 * `staff_feedback_reports`) as the front line's "sensors".
 *
 * Pure: no I/O; shared by the server and the staff web app. The zod schemas below are the single source
 * of the HTTP bodies (src/server/modules/feedback/routes.ts), their OpenAPI and the staff web forms.
 */
import { z } from 'zod';

/** What the problem is about. */
export const FEEDBACK_CATEGORIES = ['system', 'process', 'permission', 'coordination'] as const;
export type FeedbackCategory = (typeof FEEDBACK_CATEGORIES)[number];

export const FEEDBACK_CATEGORY_NAMES: Readonly<Record<FeedbackCategory, string>> = {
  system: '系统问题',
  process: '流程问题',
  permission: '权限问题',
  coordination: '跨部门协调',
};

/** A report's life: new → triaged (owner and priority set) → in_progress → closed (with the resolution). */
export const FEEDBACK_STATUSES = ['new', 'triaged', 'in_progress', 'closed'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

/** Triage priority (低 / 普通 / 高 / 紧急). */
export const FEEDBACK_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type FeedbackPriority = (typeof FEEDBACK_PRIORITIES)[number];

/** Who owns a triaged report: one staff account, or a department (部门) as a whole. */
export const FEEDBACK_OWNER_KINDS = ['staff', 'department'] as const;
export type FeedbackOwnerKind = (typeof FEEDBACK_OWNER_KINDS)[number];

/** Limits of the free texts, in characters (UTF-16 code units, as the browser's maxlength counts). */
export const FEEDBACK_LIMITS = {
  summary: 200,
  details: 4000,
  screen: 300,
  comment: 2000,
  resolution: 2000,
} as const;

const text = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is empty: write 1–${max} characters`)
    .max(max, `${what} is longer than ${max} characters`);

/**
 * `POST /api/v1/feedback`: a report from a workbench screen. `screen` is the workbench route it came from
 * (e.g. `/inbox`); `caseNumber` (21 digits) must be a case the reporter can see, else the report is
 * refused as `feedback.case_unknown` without saying whether the case exists.
 */
export const FeedbackReportInputSchema = z.strictObject({
  category: z.enum(FEEDBACK_CATEGORIES),
  summary: text(FEEDBACK_LIMITS.summary, 'summary'),
  details: z
    .string()
    .trim()
    .max(FEEDBACK_LIMITS.details, 'details is longer than 4000 characters')
    .default(''),
  screen: z
    .string()
    .trim()
    .min(1, 'screen is the workbench route the report comes from, e.g. /inbox')
    .max(FEEDBACK_LIMITS.screen, 'screen is longer than 300 characters')
    .regex(/^\//, 'screen is a workbench route starting with "/", e.g. /inbox'),
  caseNumber: z
    .string()
    .regex(
      /^\d{21}$/,
      'caseNumber is a 21-digit case number; leave it out when the problem is not about a case',
    )
    .nullish(),
});
export type FeedbackReportInput = z.infer<typeof FeedbackReportInputSchema>;

/**
 * `POST /api/v1/feedback/{id}/triage`: owner, priority, and `triaged` (default) or `in_progress`.
 * Re-triage of an open report is allowed (a new owner, another priority); a closed report is final.
 */
export const FeedbackTriageInputSchema = z.strictObject({
  owner: z.strictObject({
    kind: z.enum(FEEDBACK_OWNER_KINDS),
    id: z.string().trim().min(1, 'owner.id is the staff account id or department id').max(64),
  }),
  priority: z.enum(FEEDBACK_PRIORITIES),
  status: z.enum(['triaged', 'in_progress']).default('triaged'),
  note: z.string().trim().max(FEEDBACK_LIMITS.comment, 'note is longer than 2000 characters').optional(),
});
export type FeedbackTriageInput = z.infer<typeof FeedbackTriageInputSchema>;

/** `POST /api/v1/feedback/{id}/comments`: reporter ↔ triager (and the owner). */
export const FeedbackCommentInputSchema = z.strictObject({
  text: text(FEEDBACK_LIMITS.comment, 'text'),
});

/** `POST /api/v1/feedback/{id}/close`: the resolution the reporter reads. */
export const FeedbackCloseInputSchema = z.strictObject({
  resolution: text(FEEDBACK_LIMITS.resolution, 'resolution'),
});

/** The report number shown to staff: `FK` + six digits of the running number (e.g. FK000042). */
export function feedbackNumber(no: number): string {
  return `FK${String(no).padStart(6, '0')}`;
}

/** A staff member or department as the feedback API names it. */
export interface Named {
  id: string;
  name: string | null;
}

/** A report as the API shows it (instants ISO 8601). */
export interface FeedbackView {
  id: string;
  /** FK + six digits (see `feedbackNumber`). */
  number: string;
  category: FeedbackCategory;
  summary: string;
  details: string;
  /** The workbench route it came from. */
  screen: string;
  caseNumber: string | null;
  reporter: Named;
  hallCode: string | null;
  departmentId: string | null;
  divisionCode: string;
  status: FeedbackStatus;
  priority: FeedbackPriority | null;
  owner: (Named & { kind: FeedbackOwnerKind }) | null;
  resolution: string | null;
  commentCount: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  triagedAt: string | null;
  closedAt: string | null;
  /** Whether the caller may triage and close it. */
  mayTriage: boolean;
}
