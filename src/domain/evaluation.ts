/**
 * 好差评 (政务服务评价, 国办发〔2019〕51号; GB/T 39046-2020 table 9; GB/T 39734/39735-2020): the rating
 * levels and channels, and the life of a bad review — rectification (整改) with a call-back (回访) and
 * the resident's follow-up rating, or an appeal (申诉) decided by a reviewer (复核).
 *
 * Pure: no I/O; shared by the server (validation, OpenAPI) and both web apps. The evaluations module
 * (src/server/modules/evaluations) fills in the input/output schemas beside these.
 */

import { z } from 'zod';

/** 评价渠道: where the rating was given (GB/T 39735 §5: PC, mobile, QR code, hall tablet, phone, SMS). */
export const EVALUATION_CHANNELS = ['pc', 'mobile', 'qr_code', 'hall_tablet', 'phone', 'sms'] as const;
export type EvaluationChannel = (typeof EVALUATION_CHANNELS)[number];

/** 评价等级 1 非常满意 … 5 非常不满意 (国办发〔2019〕51号 “五级评价”). */
export const EVALUATION_LEVELS = [1, 2, 3, 4, 5] as const;
export type EvaluationLevel = (typeof EVALUATION_LEVELS)[number];

export const EVALUATION_LEVEL_NAMES: Readonly<Record<EvaluationLevel, string>> = {
  1: '非常满意',
  2: '满意',
  3: '基本满意',
  4: '不满意',
  5: '非常不满意',
};

/** 差评: levels 4 and 5 open a rectification for the responsible department. */
export function isBadReview(level: number): boolean {
  return level >= 4;
}

/** 好评: levels 1 and 2 count as satisfied in the satisfaction rate (docs/metrics.md). */
export function isGoodReview(level: number): boolean {
  return level <= 2;
}

/** Default rectification limits, in WORKING days from the bad review (configurable; 国办发〔2019〕51号). */
export const DEFAULT_RECTIFICATION_LIMITS = { callBackWorkingDays: 1, rectifyWorkingDays: 15 } as const;

// ---------------------------------------------------------------------------------------------------
// Schemas of the evaluations API (shared by the server's validation and OpenAPI, and the web apps)

const levelMessage = 'level must be a whole number from 1 (非常满意) to 5 (非常不满意)';
/** A rating level 1–5 with the message the API and the forms show. */
export const EvaluationLevelSchema = z
  .number({ error: levelMessage })
  .int(levelMessage)
  .min(1, levelMessage)
  .max(5, levelMessage)
  .describe('1 非常满意 … 5 非常不满意');

/** 评价内容: optional free text, at most 500 characters. */
export const EvaluationCommentSchema = z
  .string()
  .trim()
  .max(500, 'comment must be at most 500 characters')
  .describe('optional text, ≤ 500 characters');

/** POST /api/v1/evaluations: a rating of a case (好差评). */
export const SubmitEvaluationSchema = z.strictObject({
  caseNumber: z.string().regex(/^\d{21}$/, 'caseNumber must be the 21-digit case number'),
  channel: z.enum(EVALUATION_CHANNELS),
  level: EvaluationLevelSchema,
  comment: EvaluationCommentSchema.optional(),
  /** `hall`: the complaint is about the hall that received the case (its rectification goes to the hall). */
  subject: z.enum(['service', 'hall']).optional(),
  /** The token of the notification link or QR code (`/rate/<number>?t=<token>`), when not signed in. */
  token: z.string().max(64).optional(),
});
export type SubmitEvaluation = z.infer<typeof SubmitEvaluationSchema>;

/** 追评: the resident's follow-up rating after the rectification, which closes it. */
export const FollowUpSchema = z.strictObject({
  level: EvaluationLevelSchema,
  comment: EvaluationCommentSchema.optional(),
  token: z.string().max(64).optional(),
});

const reasonText = (field: string) =>
  z
    .string()
    .trim()
    .min(2, `${field} must say what was done or why (2–1000 characters)`)
    .max(1000, `${field} must be at most 1000 characters`);

/** 回访记录: who called the resident back is the caller; `summary` says what was said. */
export const CallBackSchema = z.strictObject({ summary: reasonText('summary') });
/** 整改结果. */
export const OutcomeSchema = z.strictObject({ outcome: reasonText('outcome') });
/** 申诉: a review appealed as malicious or mistaken, with the reason. */
export const AppealSchema = z.strictObject({
  ground: z.enum(['malicious', 'mistaken']),
  reason: reasonText('reason'),
});
/** 复核: uphold (the review is excluded) or reject (the review stands), with the reason. */
export const AppealDecisionSchema = z.strictObject({
  decision: z.enum(['uphold', 'reject']),
  reason: reasonText('reason'),
});

/** Statuses of a rectification (整改). */
export const RECTIFICATION_STATUS_LIST = ['open', 'called_back', 'rectified', 'closed', 'cancelled'] as const;
export type RectificationStatus = (typeof RECTIFICATION_STATUS_LIST)[number];

export const AppealViewSchema = z
  .object({
    id: z.string(),
    evaluationId: z.string(),
    caseNumber: z.string(),
    ground: z.enum(['malicious', 'mistaken']),
    reason: z.string(),
    appellantAccountId: z.string(),
    appealedAt: z.string(),
    status: z.enum(['pending', 'upheld', 'rejected']),
    reviewerAccountId: z.string().nullable(),
    decisionReason: z.string().nullable(),
    decidedAt: z.string().nullable(),
    evaluation: z.object({ level: z.number().int(), comment: z.string().nullable(), ratedOn: z.string() }),
    /** The caller may decide it (evaluation.review over the case, and not the appellant). */
    canDecide: z.boolean(),
  })
  .meta({ id: 'EvaluationAppeal' });
export type AppealView = z.infer<typeof AppealViewSchema>;

export const RectificationViewSchema = z
  .object({
    id: z.string(),
    evaluationId: z.string(),
    caseNumber: z.string(),
    itemCode: z.string(),
    /** The responsible department; null when the intake hall is responsible (a hall complaint). */
    departmentId: z.string().nullable(),
    hallCode: z.string().nullable(),
    countyCode: z.string(),
    status: z.enum(RECTIFICATION_STATUS_LIST),
    openedOn: z.string().describe('YYYY-MM-DD (Asia/Shanghai)'),
    callBackDue: z.string().describe('YYYY-MM-DD: call back by the end of this working day'),
    rectifyDue: z.string().describe('YYYY-MM-DD: rectify by the end of this working day'),
    /** Working days from today to the due date of the step now due (negative: overdue); null when closed. */
    workingDaysLeft: z.number().int().nullable(),
    /** The step that is past its due date, if any. */
    overdue: z.enum(['call_back', 'rectify']).nullable(),
    provisional: z.boolean().describe('a due date lies in a year the calendar does not know'),
    callBack: z.object({ at: z.string(), by: z.string(), summary: z.string() }).nullable(),
    outcome: z.object({ at: z.string(), by: z.string(), text: z.string() }).nullable(),
    followUp: z.object({ level: z.number().int(), comment: z.string().nullable() }).nullable(),
    evaluation: z.object({
      level: z.number().int(),
      comment: z.string().nullable(),
      channel: z.enum(EVALUATION_CHANNELS),
      ratedOn: z.string(),
      excluded: z.boolean(),
    }),
    appeal: z
      .object({ id: z.string(), status: z.enum(['pending', 'upheld', 'rejected']), ground: z.string() })
      .nullable(),
    can: z.object({ rectify: z.boolean(), appeal: z.boolean() }),
  })
  .meta({ id: 'Rectification' });
export type RectificationView = z.infer<typeof RectificationViewSchema>;

/** Public satisfaction figures of a hall or an item (excluded reviews not counted). */
export const SatisfactionSchema = z
  .object({
    kind: z.enum(['hall', 'item']),
    code: z.string(),
    count: z.number().int(),
    perLevel: z.object({
      1: z.number().int(),
      2: z.number().int(),
      3: z.number().int(),
      4: z.number().int(),
      5: z.number().int(),
    }),
    /** levels 1–2 / counted ratings; null when nothing was rated. */
    satisfactionRate: z.number().nullable(),
  })
  .meta({ id: 'Satisfaction' });
export type Satisfaction = z.infer<typeof SatisfactionSchema>;

/** What the rating page needs to know about a case (no personal data). */
export const RatingStatusSchema = z
  .object({
    caseNumber: z.string(),
    itemName: z.string(),
    status: z.string(),
    ratable: z.boolean(),
    /** The caller's rating of this case, when given. */
    mine: z.object({ level: z.number().int(), ratedOn: z.string() }).nullable(),
    /** A rectification of the caller's bad review that awaits their follow-up rating (追评). */
    followUp: z
      .object({
        rectificationId: z.string(),
        status: z.enum(RECTIFICATION_STATUS_LIST),
        outcome: z.string().nullable(),
      })
      .nullable(),
  })
  .meta({ id: 'RatingStatus' });
export type RatingStatus = z.infer<typeof RatingStatusSchema>;

/** Statuses in which a case can be rated: it has a result (办结, 送达, 评价) or was not accepted. */
export const RATABLE_STATUSES = ['decided', 'delivered', 'rated', 'not_accepted'] as const;
