/**
 * Early warnings (预警): the rules the warnings module evaluates over the KPI rollups, hall statuses and
 * reviews, and the shape of an alert. An alert is de-duplicated by its key (rule + place + period): a rule
 * that keeps firing raises `occurrences` on the open alert instead of a new one. Admins whose scope covers
 * the alert's division (or hall) see it, acknowledge it and resolve it.
 *
 * Pure: no I/O; shared by the server and the staff web app.
 */
import { z } from 'zod';

export const ALERT_RULES = [
  'overdue_spike',
  'backlog_growth',
  'hall_down',
  'response_time_breach',
  'bad_review_cluster',
  'offline_share_drop_65_plus',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export const ALERT_RULE_NAMES: Readonly<Record<AlertRule, string>> = {
  overdue_spike: '超期激增',
  backlog_growth: '积压增长',
  hall_down: '大厅停摆或降级',
  response_time_breach: '跨层级响应超时',
  bad_review_cluster: '差评集中',
  offline_share_drop_65_plus: '老年人线下办理占比骤降',
};

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const AlertSchema = z.object({
  id: z.string(),
  rule: z.enum(ALERT_RULES),
  severity: z.enum(['warning', 'critical']),
  /** Division the alert is about (GB/T 2260 / township codes); admins whose scope covers it see it. */
  divisionCode: z.string(),
  hallCode: z.string().nullable(),
  /** One line in Chinese, e.g. "凯里市 超期率 12%（前7日 3%）". */
  title: z.string(),
  /** The figures that fired the rule (rule-specific, no personal data). */
  details: z.record(z.string(), z.unknown()),
  status: z.enum(ALERT_STATUSES),
  firstRaisedAt: z.string(),
  lastRaisedAt: z.string(),
  occurrences: z.number().int(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolution: z.string().nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;
