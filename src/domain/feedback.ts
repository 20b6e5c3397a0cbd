/**
 * The staff feedback channel (一线反馈): window staff report what gets in their way, from any workbench
 * screen; administrators triage and track each report to closure. Counted in the KPIs (docs/metrics.md,
 * `staff_feedback_reports`) as the front line's "sensors".
 *
 * Pure: no I/O; shared by the server and the staff web app.
 */

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
