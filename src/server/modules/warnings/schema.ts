import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * 预警: one row per alert. `dedupe_key` = rule + place + period (e.g. `overdue_spike|division:522601|2026-06-30`,
 * `hall_down|hall:522601-zwfw|ongoing`); the PARTIAL unique index over the rows not yet resolved makes a
 * second raise of the same key — on any node, at the same moment — update the open alert (INSERT … ON
 * CONFLICT): `occurrences` + 1, `last_raised_at`, the latest figures. A resolved alert leaves the index, so
 * the same key firing again later opens a new row. No personal data (figures and codes only).
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    rule: text('rule').notNull(),
    severity: text('severity', { enum: ['warning', 'critical'] }).notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    /** `division:<code>`, `hall:<code>` or `department:<id>`. */
    place: text('place').notNull(),
    /** The day (YYYY-MM-DD, Asia/Shanghai) for the periodic rules; `ongoing` for hall_down and bad_review_cluster. */
    period: text('period').notNull(),
    /** Division the alert is about: admins whose scope covers it see it. */
    divisionCode: text('division_code').notNull(),
    hallCode: text('hall_code'),
    departmentId: text('department_id'),
    title: text('title').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['open', 'acknowledged', 'resolved'] })
      .notNull()
      .default('open'),
    firstRaisedAt: timestamp('first_raised_at', { withTimezone: true }).notNull(),
    lastRaisedAt: timestamp('last_raised_at', { withTimezone: true }).notNull(),
    occurrences: integer('occurrences').notNull().default(1),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    /** Staff account id, or `system`. */
    acknowledgedBy: text('acknowledged_by'),
    acknowledgeNote: text('acknowledge_note'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    /** Staff account id, or `system` (e.g. a hall back open resolves its hall_down alert). */
    resolvedBy: text('resolved_by'),
    resolution: text('resolution'),
  },
  (t) => [
    uniqueIndex('alerts_active_key_idx').on(t.dedupeKey).where(sql`${t.status} <> 'resolved'`),
    index('alerts_division_idx').on(t.divisionCode, t.lastRaisedAt),
    index('alerts_key_idx').on(t.dedupeKey, t.resolvedAt),
  ],
);

/**
 * The periodic sweep's schedule: one row per sweep (`periodic`). A node runs the sweep only when it claims
 * the row (UPDATE … WHERE next_run_at <= now, the row picked FOR UPDATE SKIP LOCKED) and moves
 * `next_run_at` ahead in the same statement — so of several nodes one runs it per interval.
 */
export const warningSweeps = pgTable('warning_sweeps', {
  id: text('id').primaryKey(),
  nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
  lastStartedAt: timestamp('last_started_at', { withTimezone: true }),
  lastRaised: integer('last_raised').notNull().default(0),
});

/**
 * Bad reviews (差评, levels 4–5) as the warning rule counts them: written by the outbox handler from
 * `evaluation.submitted`, removed on `evaluation.excluded` (an upheld appeal: it no longer counts). Ids,
 * codes and the instant only. `caseId`: the rule counts DISTINCT cases (null on rows written before it was
 * kept: each such row counts as its own case).
 */
export const warningBadReviews = pgTable(
  'warning_bad_reviews',
  {
    evaluationId: text('evaluation_id').primaryKey(),
    caseId: text('case_id'),
    hallCode: text('hall_code'),
    departmentId: text('department_id'),
    divisionCode: text('division_code').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('warning_bad_reviews_hall_idx').on(t.hallCode, t.at),
    index('warning_bad_reviews_department_idx').on(t.departmentId, t.at),
  ],
);

/**
 * Halls set `closed`, watched by the sweep: a closure is a fault only while the hall's opening hours say
 * it should be open (a closure at night is not), which the sweep checks outside any transaction. Removed
 * when the hall changes status again.
 */
export const warningClosedHalls = pgTable('warning_closed_halls', {
  hallCode: text('hall_code').primaryKey(),
  divisionCode: text('division_code').notNull(),
  reason: text('reason'),
  since: timestamp('since', { withTimezone: true }).notNull(),
});
