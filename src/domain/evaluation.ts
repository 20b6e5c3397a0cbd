/**
 * 好差评 (政务服务评价, 国办发〔2019〕51号; GB/T 39046-2020 table 9; GB/T 39734/39735-2020): the rating
 * levels and channels, and the life of a bad review — rectification (整改) with a call-back (回访) and
 * the resident's follow-up rating, or an appeal (申诉) decided by a reviewer (复核).
 *
 * Pure: no I/O; shared by the server (validation, OpenAPI) and both web apps. The evaluations module
 * (src/server/modules/evaluations) fills in the input/output schemas beside these.
 */

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
