import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import {
  FEEDBACK_CATEGORIES,
  FEEDBACK_OWNER_KINDS,
  FEEDBACK_PRIORITIES,
  FEEDBACK_STATUSES,
} from '../../../domain/feedback.ts';

/**
 * 一线反馈 — a problem reported by a staff member from a workbench screen. The place (hall, department,
 * division) is the reporter's, taken from their account and grants when they report; triagers
 * (`feedback.triage`) whose scope covers it see and handle it. `case_number` / `case_id` refer to the
 * cases module's case by value only (no foreign key across modules); `owner_id` is a staff account id or a
 * department id after `owner_kind`. `no` is the running number shown as FK000042 (`feedbackNumber`).
 */
export const feedbackReports = pgTable(
  'feedback_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    no: integer('no').notNull().generatedAlwaysAsIdentity(),
    category: text('category', { enum: FEEDBACK_CATEGORIES }).notNull(),
    summary: text('summary').notNull(),
    details: text('details').notNull().default(''),
    /** The workbench route the report came from, e.g. `/inbox`. */
    screen: text('screen').notNull(),
    caseNumber: text('case_number'),
    caseId: uuid('case_id'),
    reporterAccountId: text('reporter_account_id').notNull(),
    hallCode: text('hall_code'),
    departmentId: text('department_id'),
    /** GB/T 2260 code of the reporter's place (hall's or department's division, or their grant's). */
    divisionCode: text('division_code').notNull(),
    status: text('status', { enum: FEEDBACK_STATUSES }).notNull().default('new'),
    priority: text('priority', { enum: FEEDBACK_PRIORITIES }),
    ownerKind: text('owner_kind', { enum: FEEDBACK_OWNER_KINDS }),
    ownerId: text('owner_id'),
    triagedByAccountId: text('triaged_by_account_id'),
    triagedAt: timestamp('triaged_at', { withTimezone: true }),
    resolution: text('resolution'),
    closedByAccountId: text('closed_by_account_id'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /** Number of comments (their `seq` runs 1…comment_count). */
    commentCount: integer('comment_count').notNull().default(0),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('feedback_reports_no_idx').on(t.no),
    index('feedback_reports_reporter_idx').on(t.reporterAccountId, t.no),
    index('feedback_reports_division_idx').on(t.divisionCode, t.status, t.no),
  ],
);

/** A comment on a report (reporter ↔ triager ↔ owner); append-only. */
export const feedbackComments = pgTable(
  'feedback_comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reportId: uuid('report_id').notNull(),
    seq: integer('seq').notNull(),
    authorAccountId: text('author_account_id').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('feedback_comments_report_seq_idx').on(t.reportId, t.seq)],
);
