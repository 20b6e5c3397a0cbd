import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { EVALUATION_CHANNELS } from '../../../domain/evaluation.ts';

/** Who gave a rating: a signed-in resident, the holder of the notification link's token, a hall tablet. */
export const RATER_KINDS = ['resident', 'link', 'hall_tablet'] as const;
/** What a bad review is about: the service (the competent department) or the hall that received it. */
export const EVALUATION_SUBJECTS = ['service', 'hall'] as const;
/** 整改 status: open → called_back (回访) → rectified (整改结果) → closed (追评); cancelled by an upheld appeal. */
export const RECTIFICATION_STATUSES = ['open', 'called_back', 'rectified', 'closed', 'cancelled'] as const;
/** 申诉 grounds: a malicious review (恶意差评) or a mistaken one (误评, e.g. the wrong case or window). */
export const APPEAL_GROUNDS = ['malicious', 'mistaken'] as const;
export const APPEAL_STATUSES = ['pending', 'upheld', 'rejected'] as const;

/**
 * 好差评 — one rating of one service event (a case) by one rater (GB/T 39046-2020 table 9 评价信息: level,
 * text, channel, time, division), with the hall and the staff member who served when known. The rater is
 * an account id (resident) or `link` / `hall_tablet:<hall>` (anonymous): never a name or phone number.
 * `(case_id, subject)` is unique: ONE counted rating per case (per subject), whatever the channel or the
 * way in (app, link, tablet) — a resident holding both an account and the link rates once. `excluded`: an appeal was upheld, the
 * review no longer counts in satisfaction figures. References to other modules are ids only.
 */
export const evaluations = pgTable(
  'evaluations',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    caseNumber: text('case_number').notNull(),
    itemCode: text('item_code').notNull(),
    /** 1 非常满意 … 5 非常不满意. */
    level: integer('level').notNull(),
    comment: text('comment'),
    channel: text('channel', { enum: EVALUATION_CHANNELS }).notNull(),
    subject: text('subject', { enum: EVALUATION_SUBJECTS }).notNull().default('service'),
    raterKind: text('rater_kind', { enum: RATER_KINDS }).notNull(),
    raterKey: text('rater_key').notNull(),
    hallCode: text('hall_code'),
    departmentId: text('department_id'),
    staffAccountId: text('staff_account_id'),
    intakeCountyCode: text('intake_county_code').notNull(),
    decidingCountyCode: text('deciding_county_code').notNull(),
    /** Asia/Shanghai day of the rating (YYYY-MM-DD). */
    ratedOn: text('rated_on').notNull(),
    excluded: boolean('excluded').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('evaluations_case_subject_uq').on(t.caseId, t.subject),
    index('evaluations_hall_idx').on(t.hallCode),
    index('evaluations_item_idx').on(t.itemCode),
    index('evaluations_case_number_idx').on(t.caseNumber),
  ],
);

/**
 * 整改 — opened by a bad review (level 4–5) in the rating's transaction, for the responsible department
 * (or the intake hall for hall complaints). Due dates are Asia/Shanghai days computed in WORKING days
 * from the review (`callBackDue`, `rectifyDue`; 国办发〔2019〕51号). Records the call-back (回访), the
 * outcome (整改结果) and the resident's follow-up rating (追评) that closes it. `overdueFlaggedAt`:
 * `rectification.overdue` was emitted (once).
 */
export const rectifications = pgTable(
  'rectifications',
  {
    id: uuid('id').primaryKey(),
    evaluationId: uuid('evaluation_id').notNull(),
    caseNumber: text('case_number').notNull(),
    itemCode: text('item_code').notNull(),
    departmentId: text('department_id'),
    hallCode: text('hall_code'),
    countyCode: text('county_code').notNull(),
    status: text('status', { enum: RECTIFICATION_STATUSES }).notNull().default('open'),
    openedOn: text('opened_on').notNull(),
    callBackDue: text('call_back_due').notNull(),
    rectifyDue: text('rectify_due').notNull(),
    /** The calendar did not know a year the due dates fell in (provisional dates). */
    provisional: boolean('provisional').notNull().default(false),
    calledBackAt: timestamp('called_back_at', { withTimezone: true }),
    calledBackBy: text('called_back_by'),
    callBackSummary: text('call_back_summary'),
    rectifiedAt: timestamp('rectified_at', { withTimezone: true }),
    rectifiedBy: text('rectified_by'),
    outcome: text('outcome'),
    followUpLevel: integer('follow_up_level'),
    followUpComment: text('follow_up_comment'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    overdueFlaggedAt: timestamp('overdue_flagged_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('rectifications_evaluation_uq').on(t.evaluationId),
    index('rectifications_department_idx').on(t.departmentId, t.status),
    index('rectifications_hall_idx').on(t.hallCode, t.status),
    index('rectifications_status_idx').on(t.status, t.rectifyDue),
  ],
);

/**
 * 申诉 and 复核 — staff appeal a review as malicious or mistaken (once per review); a reviewer whose scope
 * covers the case, never the appellant, upholds (the review is excluded) or rejects it. Both with who,
 * when and why.
 */
export const evaluationAppeals = pgTable(
  'evaluation_appeals',
  {
    id: uuid('id').primaryKey(),
    evaluationId: uuid('evaluation_id').notNull(),
    caseNumber: text('case_number').notNull(),
    ground: text('ground', { enum: APPEAL_GROUNDS }).notNull(),
    reason: text('reason').notNull(),
    appellantAccountId: text('appellant_account_id').notNull(),
    appealedAt: timestamp('appealed_at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status', { enum: APPEAL_STATUSES }).notNull().default('pending'),
    reviewerAccountId: text('reviewer_account_id'),
    decisionReason: text('decision_reason'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('evaluation_appeals_evaluation_uq').on(t.evaluationId),
    index('evaluation_appeals_status_idx').on(t.status),
  ],
);
