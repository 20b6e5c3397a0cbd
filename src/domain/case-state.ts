/**
 * The case state machine (办件状态机): the ONE place that decides how a case (办件) moves from
 * submission to rating. The server calls {@link applyCommand} inside the transaction that stores the
 * new state, appends the returned timeline event and writes the outbox row; nothing else writes a case's
 * status.
 *
 * Status model (GB/T 39046-2020 tables 5–8 办件信息/过程/结果; 行政许可法 arts. 32, 42, 44, 45):
 *
 * ```
 * 申报 submitted ─receive→ 收件 received ─accept→ 受理 accepted ─start_review→ 审查 under_review ─decide→ 办结 decided
 *                           │  ⇅ request_supplement / resubmit          │ ⇅ start_special_procedure / end_special_procedure
 *                           │  补正 supplement_requested                 │ 特别程序 special_procedure
 *                           └─not_accept→ 不予受理 not_accepted          └─(also ⇅ 补正 from under_review)
 * 办结 decided ─deliver→ 送达 delivered ─rate→ 评价 rated;   撤回 withdrawn from any open status.
 * ```
 *
 * The full table is {@link TRANSITIONS}. Dates in the state are Asia/Shanghai days (`YYYY-MM-DD`),
 * computed from the command's instant with `todayInShanghai`; instants are ISO-8601 strings. The state is
 * plain JSON (see {@link CaseStateSchema}) so the server can store it as columns or JSONB and read it
 * back with the schema.
 *
 * Who may issue which command (applicant, agent, intake staff, competent department, delegated hall) is
 * the server's policy, not this module's.
 *
 * Pure: no I/O; runs in Node and in the browser.
 */
import { z } from 'zod';
import { todayInShanghai, type WorkingDayCalendar, type WorkingDayDate } from './calendar.ts';
import {
  codeListIds,
  DELIVERY_OPTIONS,
  PROCESSING_MODES,
  type ProcessingMode,
  SPECIAL_PROCEDURES,
} from './catalog.ts';
import { conflict, invalid, invalidMany } from './errors.ts';

// ---------------------------------------------------------------------------------------------------
// Statuses

/** Every status a case can be in (GB/T 39046-2020 办件状态; labels in {@link CASE_STATUS_LABELS}). */
export const CASE_STATUSES = [
  'submitted',
  'received',
  'supplement_requested',
  'accepted',
  'not_accepted',
  'under_review',
  'special_procedure',
  'decided',
  'delivered',
  'rated',
  'withdrawn',
] as const;

/** A case status; see {@link CASE_STATUSES}. */
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** 中文 label of each status. */
export const CASE_STATUS_LABELS: Readonly<Record<CaseStatus, string>> = {
  submitted: '申报',
  received: '收件',
  supplement_requested: '补正',
  accepted: '受理',
  not_accepted: '不予受理',
  under_review: '审查',
  special_procedure: '特别程序',
  decided: '办结',
  delivered: '送达',
  rated: '评价',
  withdrawn: '撤回',
};

/**
 * Open statuses (在办): the case has not been decided, refused or withdrawn; it can be withdrawn, and the
 * decision clock (once accepted) counts in these.
 */
export const OPEN_STATUSES = [
  'submitted',
  'received',
  'supplement_requested',
  'accepted',
  'under_review',
  'special_procedure',
] as const satisfies readonly CaseStatus[];

/** Terminal statuses: no command is accepted any more. (`decided` and `delivered` are closed, not terminal.) */
export const TERMINAL_STATUSES = [
  'not_accepted',
  'rated',
  'withdrawn',
] as const satisfies readonly CaseStatus[];

/** Whether `status` is one of {@link OPEN_STATUSES}. */
export function isOpenStatus(status: CaseStatus): boolean {
  return (OPEN_STATUSES as readonly CaseStatus[]).includes(status);
}

/** Whether `status` is one of {@link TERMINAL_STATUSES}. */
export function isTerminalStatus(status: CaseStatus): boolean {
  return (TERMINAL_STATUSES as readonly CaseStatus[]).includes(status);
}

// ---------------------------------------------------------------------------------------------------
// Constants of the law

/** 行政许可法 art. 32: the supplement notice (补正告知) is due within 5 working days of receipt. */
export const SUPPLEMENT_NOTICE_WORKING_DAYS = 5;
/** 行政许可法 art. 42: one extension of 10 working days, approved by the head of the authority. */
export const EXTENSION_WORKING_DAYS = 10;
/** 行政许可法 art. 42 (unified/joint/centralised handling, art. 26): one extension of 15 working days. */
export const JOINT_EXTENSION_WORKING_DAYS = 15;

// ---------------------------------------------------------------------------------------------------
// State

/** Special procedure kinds (GB/T 39046-2020 A.7 特别程序; 行政许可法 art. 45), from the catalog. */
export const SpecialProcedureKindSchema = z
  .enum(codeListIds(SPECIAL_PROCEDURES))
  .describe(`特别程序 kind: one of ${Object.keys(SPECIAL_PROCEDURES).join(', ')}`);
export type SpecialProcedureKind = z.infer<typeof SpecialProcedureKindSchema>;

/** 办结结果: 准予 granted / 不予 denied. */
export const CaseOutcomeSchema = z
  .enum(['granted', 'denied'], { error: 'outcome must be "granted" (准予) or "denied" (不予)' })
  .describe('办结结果: granted 准予 / denied 不予');
export type CaseOutcome = z.infer<typeof CaseOutcomeSchema>;

/** 送达方式: pickup 窗口领取 / mail 邮寄 / e_licence 电子证照 (catalog DELIVERY_OPTIONS). */
export const DeliveryMethodSchema = z
  .enum(codeListIds(DELIVERY_OPTIONS), { error: 'method must be "pickup", "mail" or "e_licence"' })
  .describe('送达方式: pickup 窗口领取 / mail 邮寄 / e_licence 电子证照');
export type DeliveryMethod = z.infer<typeof DeliveryMethodSchema>;

const DateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const InstantSchema = z.iso.datetime({ offset: true });
const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .min(1, `${what} cannot be empty`)
    .max(max, `${what} is at most ${max} characters`);

/** One gap of a supplement notice (补正内容): a missing or defective material and what is wrong with it. */
export const SupplementGapSchema = z
  .strictObject({
    material: text(200, 'material').describe('material name as in the guide (申请材料名称)'),
    reason: text(1000, 'reason').describe('what is missing or wrong, and what to bring'),
  })
  .describe('补正内容');
export type SupplementGap = z.infer<typeof SupplementGapSchema>;

/**
 * A stretch of time that does not count towards the decision limit: a special procedure (行政许可法
 * art. 45) or a supplement requested during review (the applicant's time; tongban rule following common
 * provincial practice). `endedOn` null while it lasts. Dates Asia/Shanghai.
 */
export const CasePauseSchema = z.strictObject({
  kind: z.enum(['special_procedure', 'supplement']),
  procedure: SpecialProcedureKindSchema.nullable().describe('set when kind is special_procedure'),
  startedOn: DateSchema,
  endedOn: DateSchema.nullable(),
});
export type CasePause = z.infer<typeof CasePauseSchema>;

/**
 * The state of one case: its status plus everything the clocks need. Dates are Asia/Shanghai days
 * (`YYYY-MM-DD`), instants ISO-8601 strings. Produced only by {@link initialCaseState} and
 * {@link applyCommand}.
 */
export const CaseStateSchema = z
  .strictObject({
    status: z.enum(CASE_STATUSES),
    /** 办理模式: decides whether `accept` needs a forward first and how long the extension is. */
    processingMode: z.enum(codeListIds(PROCESSING_MODES)),
    /** 受理/审批部门: the competent department's id. */
    competentDepartmentId: z.string().min(1),
    /** 收件大厅: the intake hall's code (null for online submissions until a hall receives). */
    intakeHallCode: z.string().min(1).nullable(),
    /** Day of submission (申报). */
    submittedOn: DateSchema,
    /** Day of receipt (收件): the day the materials reached the hall/authority; art. 32's clock starts. */
    receivedOn: DateSchema.nullable(),
    /**
     * Day the materials the authority is deciding on were last received before acceptance: `receivedOn`,
     * or the day of a resubmission after a supplement notice from `received`. The 5-working-day notice
     * window (and deemed acceptance) run from it.
     */
    materialsReceivedOn: DateSchema.nullable(),
    /** When the intake hall forwarded the case to the competent department; reset by `reassign`. */
    forwardedAt: InstantSchema.nullable(),
    /** Supplement notices issued so far (a second one needs a reason; KPI). */
    supplementNotices: z.number().int().min(0),
    /** The open supplement notice while `supplement_requested`: where it was requested from, when, gaps. */
    supplement: z
      .strictObject({
        from: z.enum(['received', 'under_review']),
        requestedOn: DateSchema,
        gaps: z.array(SupplementGapSchema).min(1),
      })
      .nullable(),
    /** Day of acceptance (受理); for a deemed acceptance, the day the materials were received. */
    acceptedOn: DateSchema.nullable(),
    /** Accepted because no supplement notice came within 5 working days (行政许可法 art. 32). */
    deemedAccepted: z.boolean(),
    /** Name of the current review step (审查环节), e.g. 初审, 复审, 审批. */
    reviewStep: z.string().nullable(),
    /** The running special procedure while `special_procedure`: kind, status to return to, start day. */
    specialProcedure: z
      .strictObject({
        kind: SpecialProcedureKindSchema,
        from: z.enum(['accepted', 'under_review']),
        startedOn: DateSchema,
      })
      .nullable(),
    /** Every pause of the decision clock, in order; the last one may still be running. */
    pauses: z.array(CasePauseSchema),
    /** The one extension (延期) of the decision limit, in working days (10, or 15 for 多地联办). */
    extension: z
      .strictObject({
        workingDays: z.number().int().min(1),
        reason: z.string().min(1),
        approvedBy: z.string().nullable(),
        grantedOn: DateSchema,
      })
      .nullable(),
    /** Day of the decision (办结). */
    decidedOn: DateSchema.nullable(),
    outcome: CaseOutcomeSchema.nullable(),
    delivery: z
      .strictObject({
        method: DeliveryMethodSchema,
        reference: z.string().nullable(),
        deliveredOn: DateSchema,
      })
      .nullable(),
    /** 好差评 level 1 (非常满意) … 5 (非常不满意), GB/T 39046 A.8. */
    rating: z.strictObject({ level: z.number().int().min(1).max(5), ratedOn: DateSchema }).nullable(),
    /** Day the case left the open statuses (decided, not accepted, withdrawn). */
    closedOn: DateSchema.nullable(),
    /** Day of the latest command; later commands never count from an earlier day (clock skew guard). */
    lastEventOn: DateSchema,
  })
  .describe('办件状态 case state');
export type CaseState = z.infer<typeof CaseStateSchema>;

/** Input of {@link initialCaseState}. */
export interface InitialCaseInput {
  /** 办理模式 of the case. */
  processingMode: ProcessingMode;
  /** Id of the competent department (受理/审批部门) from routing. */
  competentDepartmentId: string;
  /** Code of the intake hall (收件地), or null/absent for an online submission. */
  intakeHallCode?: string | null;
  /** Instant of submission (申报); its Asia/Shanghai day becomes `submittedOn`. */
  submittedAt: Date;
}

/**
 * A new case in status `submitted` (申报). A case created at a hall window is then `receive`d at once.
 * @throws AppError (validation) `case.input_invalid` naming the field for an unknown processing mode, an
 *   empty department id, an empty hall code or an invalid instant.
 */
export function initialCaseState(input: InitialCaseInput): CaseState {
  if (!Object.hasOwn(PROCESSING_MODES, input.processingMode)) {
    throw invalid(
      'processingMode',
      `processingMode must be one of ${Object.keys(PROCESSING_MODES).join(', ')}; got ${JSON.stringify(input.processingMode)}.`,
      'case.input_invalid',
    );
  }
  if (typeof input.competentDepartmentId !== 'string' || input.competentDepartmentId.trim() === '') {
    throw invalid(
      'competentDepartmentId',
      'Give the id of the competent department (受理部门) the case is routed to.',
      'case.input_invalid',
    );
  }
  const hall = input.intakeHallCode ?? null;
  if (hall !== null && (typeof hall !== 'string' || hall.trim() === '')) {
    throw invalid(
      'intakeHallCode',
      'Give the intake hall code, or null for an online submission.',
      'case.input_invalid',
    );
  }
  const day = dayOfInstant(input.submittedAt, 'submittedAt');
  return {
    status: 'submitted',
    processingMode: input.processingMode,
    competentDepartmentId: input.competentDepartmentId.trim(),
    intakeHallCode: hall === null ? null : hall.trim(),
    submittedOn: day,
    receivedOn: null,
    materialsReceivedOn: null,
    forwardedAt: null,
    supplementNotices: 0,
    supplement: null,
    acceptedOn: null,
    deemedAccepted: false,
    reviewStep: null,
    specialProcedure: null,
    pauses: [],
    extension: null,
    decidedOn: null,
    outcome: null,
    delivery: null,
    rating: null,
    closedOn: null,
    lastEventOn: day,
  };
}

// ---------------------------------------------------------------------------------------------------
// Commands

const reason = () => text(2000, 'reason');
const optionalReason = () => reason().optional().describe('free-text note kept in the timeline');
const id = (what: string) => text(64, what);

/** `receive` 收件: the intake hall (or the authority, online) has checked format and identity. */
export const ReceiveCommandSchema = z.strictObject({
  type: z.literal('receive'),
  /** Code of the hall that received it, when not already set (online submissions received by a hall). */
  hallCode: id('hallCode').optional(),
  reason: optionalReason(),
});
/** `forward` 转交: the intake hall forwards the case to the competent department (once per assignment). */
export const ForwardCommandSchema = z.strictObject({ type: z.literal('forward'), reason: optionalReason() });
/** `request_supplement` 补正告知: every gap at once (一次性告知); a second notice needs `secondNoticeReason`. */
export const RequestSupplementCommandSchema = z
  .strictObject({
    type: z.literal('request_supplement'),
    gaps: z
      .array(SupplementGapSchema, { error: 'gaps must be a list of { material, reason }' })
      .min(1, 'list every missing or defective material at once (一次性告知): at least one gap')
      .max(100),
    secondNoticeReason: reason()
      .optional()
      .describe('required for the second and later notices on the same case'),
    reason: optionalReason(),
  })
  .superRefine((command, ctx) => {
    const seen = new Set<string>();
    command.gaps.forEach((gap, i) => {
      if (seen.has(gap.material)) {
        ctx.addIssue({
          code: 'custom',
          path: ['gaps', i, 'material'],
          message: `${gap.material} is listed twice; list each material once with all its defects in one reason`,
        });
      }
      seen.add(gap.material);
    });
  });
/** `resubmit` 补正提交: the applicant brings what the notice asked for; the case resumes where it was. */
export const ResubmitCommandSchema = z.strictObject({
  type: z.literal('resubmit'),
  reason: optionalReason(),
});
/** `accept` 受理. */
export const AcceptCommandSchema = z.strictObject({ type: z.literal('accept'), reason: optionalReason() });
/** `not_accept` 不予受理 (行政许可法 art. 32: in writing, with the reason). */
export const NotAcceptCommandSchema = z.strictObject({ type: z.literal('not_accept'), reason: reason() });
/** `start_review` 开始审查: names the first review step. */
export const StartReviewCommandSchema = z.strictObject({
  type: z.literal('start_review'),
  step: text(100, 'step').describe('审查环节, e.g. 初审'),
  reason: optionalReason(),
});
/** `review_step` 审查环节流转: the case moves to the named step. */
export const ReviewStepCommandSchema = z.strictObject({
  type: z.literal('review_step'),
  step: text(100, 'step').describe('审查环节, e.g. 复审, 审批'),
  reason: optionalReason(),
});
/** `start_special_procedure` 特别程序开始 (行政许可法 art. 45): the decision clock pauses. */
export const StartSpecialProcedureCommandSchema = z.strictObject({
  type: z.literal('start_special_procedure'),
  kind: SpecialProcedureKindSchema,
  reason: optionalReason(),
});
/** `end_special_procedure` 特别程序结束: the clock resumes; back to the status it came from. */
export const EndSpecialProcedureCommandSchema = z.strictObject({
  type: z.literal('end_special_procedure'),
  reason: optionalReason(),
});
/** `extend` 延期 (行政许可法 art. 42): once; the reason is told to the applicant. */
export const ExtendCommandSchema = z.strictObject({
  type: z.literal('extend'),
  reason: reason().describe('the reason told to the applicant'),
  approvedBy: text(100, 'approvedBy').optional().describe('the head of the authority who approved (负责人)'),
});
/** `decide` 办结: granted 准予 or denied 不予 (a denial needs the reason, 行政许可法 art. 38). */
export const DecideCommandSchema = z
  .strictObject({ type: z.literal('decide'), outcome: CaseOutcomeSchema, reason: optionalReason() })
  .superRefine((command, ctx) => {
    if (command.outcome === 'denied' && command.reason === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['reason'],
        message: 'a denial (不予) must give the reason told to the applicant (行政许可法 art. 38)',
      });
    }
  });
/** `deliver` 送达: pickup / mail / e-licence; `reference` = pickup hall, tracking number or licence id. */
export const DeliverCommandSchema = z.strictObject({
  type: z.literal('deliver'),
  method: DeliveryMethodSchema,
  reference: text(200, 'reference').optional().describe('pickup hall, mail tracking number or licence id'),
  reason: optionalReason(),
});
/** `rate` 评价 (好差评): level 1 非常满意 … 5 非常不满意 (GB/T 39046 A.8). */
export const RateCommandSchema = z.strictObject({
  type: z.literal('rate'),
  level: z
    .number({ error: 'level must be a whole number from 1 (非常满意) to 5 (非常不满意)' })
    .int('level must be a whole number from 1 (非常满意) to 5 (非常不满意)')
    .min(1, 'level must be a whole number from 1 (非常满意) to 5 (非常不满意)')
    .max(5, 'level must be a whole number from 1 (非常满意) to 5 (非常不满意)'),
  reason: optionalReason().describe('the applicant comment'),
});
/** `withdraw` 撤回: from any open status, with the reason. */
export const WithdrawCommandSchema = z.strictObject({ type: z.literal('withdraw'), reason: reason() });
/** `reassign` 改派: a new competent department (across a boundary too), with the reason. */
export const ReassignCommandSchema = z.strictObject({
  type: z.literal('reassign'),
  departmentId: z
    .uuid({ error: 'departmentId must be the id (UUID) of a department' })
    .describe('the new competent department id'),
  reason: reason(),
});

/**
 * Every command, discriminated by `type` — the server validates request bodies with it (or with the
 * per-command schemas in {@link CASE_COMMAND_SCHEMAS}).
 */
export const CaseCommandSchema = z
  .discriminatedUnion(
    'type',
    [
      ReceiveCommandSchema,
      ForwardCommandSchema,
      RequestSupplementCommandSchema,
      ResubmitCommandSchema,
      AcceptCommandSchema,
      NotAcceptCommandSchema,
      StartReviewCommandSchema,
      ReviewStepCommandSchema,
      StartSpecialProcedureCommandSchema,
      EndSpecialProcedureCommandSchema,
      ExtendCommandSchema,
      DecideCommandSchema,
      DeliverCommandSchema,
      RateCommandSchema,
      WithdrawCommandSchema,
      ReassignCommandSchema,
    ],
    { error: 'type must name a case command, e.g. "accept"' },
  )
  .describe('办件操作 case command');
/** A validated command. */
export type CaseCommand = z.infer<typeof CaseCommandSchema>;
/** A command as a client writes it (before trimming). */
export type CaseCommandInput = z.input<typeof CaseCommandSchema>;
/** The command types. */
export type CaseCommandType = CaseCommand['type'];
/** A command of one type. */
export type CaseCommandOf<T extends CaseCommandType> = Extract<CaseCommand, { type: T }>;

/** Per-command schemas, keyed by `type` (e.g. for one endpoint per command). */
export const CASE_COMMAND_SCHEMAS = {
  receive: ReceiveCommandSchema,
  forward: ForwardCommandSchema,
  request_supplement: RequestSupplementCommandSchema,
  resubmit: ResubmitCommandSchema,
  accept: AcceptCommandSchema,
  not_accept: NotAcceptCommandSchema,
  start_review: StartReviewCommandSchema,
  review_step: ReviewStepCommandSchema,
  start_special_procedure: StartSpecialProcedureCommandSchema,
  end_special_procedure: EndSpecialProcedureCommandSchema,
  extend: ExtendCommandSchema,
  decide: DecideCommandSchema,
  deliver: DeliverCommandSchema,
  rate: RateCommandSchema,
  withdraw: WithdrawCommandSchema,
  reassign: ReassignCommandSchema,
} as const satisfies Record<CaseCommandType, z.ZodType>;

/** Every command type, in the order of the case's life. */
export const CASE_COMMAND_TYPES = Object.keys(CASE_COMMAND_SCHEMAS) as CaseCommandType[];

/** 中文 label of each command. */
export const CASE_COMMAND_LABELS: Readonly<Record<CaseCommandType, string>> = {
  receive: '收件',
  forward: '转交',
  request_supplement: '补正告知',
  resubmit: '补正提交',
  accept: '受理',
  not_accept: '不予受理',
  start_review: '开始审查',
  review_step: '审查环节',
  start_special_procedure: '特别程序开始',
  end_special_procedure: '特别程序结束',
  extend: '延期',
  decide: '办结',
  deliver: '送达',
  rate: '评价',
  withdraw: '撤回',
  reassign: '改派',
};

// ---------------------------------------------------------------------------------------------------
// Transitions

/**
 * Target of a transition: a status, `same` (status unchanged) or `previous` (back to the status the
 * supplement notice or special procedure was started from).
 */
export type TransitionTarget = CaseStatus | 'same' | 'previous';

/** The transition table: for each command, the statuses that allow it and where it leads. */
export const TRANSITIONS: Readonly<
  Record<CaseCommandType, { readonly from: readonly CaseStatus[]; readonly to: TransitionTarget }>
> = {
  receive: { from: ['submitted'], to: 'received' },
  forward: { from: ['received'], to: 'same' },
  request_supplement: { from: ['received', 'under_review'], to: 'supplement_requested' },
  resubmit: { from: ['supplement_requested'], to: 'previous' },
  accept: { from: ['received'], to: 'accepted' },
  not_accept: { from: ['received'], to: 'not_accepted' },
  start_review: { from: ['accepted', 'under_review'], to: 'under_review' },
  review_step: { from: ['accepted', 'under_review'], to: 'under_review' },
  start_special_procedure: { from: ['accepted', 'under_review'], to: 'special_procedure' },
  end_special_procedure: { from: ['special_procedure'], to: 'previous' },
  extend: { from: ['accepted', 'under_review', 'special_procedure'], to: 'same' },
  decide: { from: ['accepted', 'under_review'], to: 'decided' },
  deliver: { from: ['decided'], to: 'delivered' },
  rate: { from: ['delivered'], to: 'rated' },
  withdraw: { from: OPEN_STATUSES, to: 'withdrawn' },
  reassign: { from: ['submitted', 'received', 'accepted', 'under_review'], to: 'same' },
};

/**
 * The statuses from which `commandType` is allowed (see {@link TRANSITIONS}).
 * @throws AppError `case.command_invalid` (field `type`) for an unknown command type.
 */
export function allowedFrom(commandType: CaseCommandType): readonly CaseStatus[] {
  if (!Object.hasOwn(TRANSITIONS, commandType)) {
    throw invalid(
      'type',
      `Unknown case command ${JSON.stringify(commandType)}; use one of ${CASE_COMMAND_TYPES.join(', ')}.`,
      'case.command_invalid',
    );
  }
  return TRANSITIONS[commandType].from;
}

/** Whether `commandType` is allowed in `status` by the table (further rules may still refuse it). */
export function canApply(status: CaseStatus, commandType: CaseCommandType): boolean {
  return allowedFrom(commandType).includes(status);
}

// ---------------------------------------------------------------------------------------------------
// Applying a command

/** Who issued a command (the server fills it from the authenticated user). */
export interface CaseActor {
  /** applicant 申请人, agent 代办员/帮办员, staff 工作人员, system (timers, e.g. deemed acceptance). */
  kind: 'applicant' | 'agent' | 'staff' | 'system';
  /** The user's (or job's) id. */
  id: string;
  /** The department the staff member acts for, when staff. */
  departmentId?: string;
  /** Code of the hall the staff member or agent works at, when any. */
  hallCode?: string;
  /** 帮办代办: the resident account the actor acts for, under an active agent authorization. */
  onBehalfOf?: string;
}

/** Context of {@link applyCommand}. */
export interface CaseCommandContext {
  /** The instant the command is applied (server time). Its Asia/Shanghai day is the command's day. */
  at: Date;
  actor: CaseActor;
  /** The working-day calendar (for the 5-working-day supplement window). */
  calendar: WorkingDayCalendar;
}

/**
 * One timeline entry (办件过程, GB/T 39046-2020 table 7) — what the server appends in the same
 * transaction. `data` is JSON and depends on `type`:
 * - receive `{ receivedOn, intakeHallCode }`; forward `{ forwardedAt, competentDepartmentId }`;
 * - request_supplement `{ gaps, notice (1, 2, …), secondNoticeReason?, supplementDue, from }`;
 * - resubmit `{ to, pausedFrom? }`; accept `{ acceptedOn, deemed, supplementDue }`;
 * - start_review / review_step `{ step }`; start_special_procedure `{ kind }`;
 * - end_special_procedure `{ kind, startedOn }`; extend `{ workingDays, approvedBy }`;
 * - decide `{ outcome, decidedOn }`; deliver `{ method, reference }`; rate `{ level }`;
 * - withdraw `{ from }`; not_accept `{}`; reassign `{ fromDepartmentId, toDepartmentId }`.
 */
export interface CaseEvent {
  type: CaseCommandType;
  /** ISO-8601 instant of the command. */
  at: string;
  /** Asia/Shanghai day the clocks used for it (the later of `at`'s day and the case's last event day). */
  on: string;
  actor: CaseActor;
  from: CaseStatus;
  to: CaseStatus;
  reason?: string;
  data: Record<string, unknown>;
}

/** Result of {@link applyCommand}. */
export interface CaseTransition {
  state: CaseState;
  event: CaseEvent;
}

/**
 * Applies one command to a case: the only way a case's status changes. Pure: `state` is not modified.
 *
 * Rules beyond the table {@link TRANSITIONS}:
 * - `receive` sets `receivedOn` (and `intakeHallCode` from `hallCode` when not set yet).
 * - `forward` at most once per assignment: again only after `reassign` (`case.already_forwarded`).
 * - `request_supplement` from `received` must come within 5 working days of the materials' receipt
 *   (行政许可法 art. 32); later the case already counts as accepted (`case.supplement_notice_late`:
 *   accept it, then request the supplement during review). A second or later notice needs
 *   `secondNoticeReason` (`case.second_notice_reason_required`). From `under_review` it pauses the
 *   decision clock until `resubmit`.
 * - `resubmit` returns to `received` (the 5-day window restarts from the resubmission day) or
 *   `under_review` (the pause ends).
 * - `accept` of a 异地代收代办 (off_site_intake) case needs a `forward` first (`case.not_forwarded`).
 *   When the 5-working-day window has passed without a notice, `acceptedOn` is the day the materials
 *   were received and `deemedAccepted` is true (art. 32), whoever accepts.
 * - `start_special_procedure` pauses the decision clock (art. 45); `end_special_procedure` resumes it and
 *   returns to the status it came from.
 * - `extend` at most once (`case.already_extended`): 10 working days, 15 for 多地联办 (art. 42).
 * - `withdraw` ends a running pause. `reassign` needs a different department (`case.same_department`) and
 *   clears `forwardedAt`; the clocks keep running.
 *
 * @param state the current state (from {@link initialCaseState} or an earlier call).
 * @param command a command; validated with {@link CaseCommandSchema} here too.
 * @param ctx instant, actor and calendar.
 * @returns the new state and the timeline event.
 * @throws AppError (kind `validation`) `case.command_invalid` naming the field for a bad payload (all
 *   bad fields in `issues`), `case.second_notice_reason_required` (field `secondNoticeReason`),
 *   `case.context_invalid` for an invalid instant or actor.
 * @throws AppError (kind `conflict`) `case.illegal_transition` — "cannot <cmd> a case that is <status>;
 *   allowed from: a, b, c" — when the status does not allow the command; or `case.already_forwarded`,
 *   `case.not_forwarded`, `case.supplement_notice_late`, `case.already_extended`,
 *   `case.same_department`. The state is unchanged in every case.
 */
export function applyCommand(
  state: CaseState,
  command: CaseCommand,
  ctx: CaseCommandContext,
): CaseTransition {
  const cmd = parseCommand(command);
  const atDay = dayOfInstant(ctx.at, 'at');
  checkActor(ctx.actor);
  const from = state.status;
  const allowed = allowedFrom(cmd.type);
  if (!allowed.includes(from)) {
    throw conflict(
      'case.illegal_transition',
      `cannot ${cmd.type} a case that is ${from}; allowed from: ${allowed.join(', ')}`,
    );
  }
  // Dates compare as strings (YYYY-MM-DD); never Math.max.
  const today = atDay.localeCompare(state.lastEventOn) > 0 ? atDay : state.lastEventOn;
  const { next, data } = transition(state, cmd, today, ctx);
  const newState: CaseState = { ...next, lastEventOn: today };
  const event: CaseEvent = {
    type: cmd.type,
    at: ctx.at.toISOString(),
    on: today,
    actor: { ...ctx.actor },
    from,
    to: newState.status,
    ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
    data,
  };
  return { state: newState, event };
}

interface Step {
  next: CaseState;
  data: Record<string, unknown>;
}

function transition(state: CaseState, cmd: CaseCommand, today: string, ctx: CaseCommandContext): Step {
  switch (cmd.type) {
    case 'receive': {
      const intakeHallCode = state.intakeHallCode ?? cmd.hallCode ?? null;
      return {
        next: { ...state, status: 'received', receivedOn: today, materialsReceivedOn: today, intakeHallCode },
        data: { receivedOn: today, intakeHallCode },
      };
    }
    case 'forward': {
      if (state.forwardedAt !== null) {
        throw conflict(
          'case.already_forwarded',
          `This case was already forwarded to the competent department at ${state.forwardedAt}; ` +
            'it can be forwarded again only after it is reassigned to another department.',
        );
      }
      const forwardedAt = ctx.at.toISOString();
      return {
        next: { ...state, forwardedAt },
        data: { forwardedAt, competentDepartmentId: state.competentDepartmentId },
      };
    }
    case 'request_supplement': {
      const from = state.status as 'received' | 'under_review';
      let supplementDue: WorkingDayDate | null = null;
      if (from === 'received') {
        supplementDue = supplementNoticeDue(state, ctx.calendar);
        if (supplementDue !== null && today > supplementDue.date) {
          throw conflict(
            'case.supplement_notice_late',
            `The supplement notice for this case was due by ${supplementDue.date} (5 working days after the ` +
              `materials were received on ${state.materialsReceivedOn}); since none was given, the case ` +
              'counts as accepted on that day (行政许可法 art. 32). Accept it, then request the supplement ' +
              'during review.',
          );
        }
      }
      if (state.supplementNotices >= 1 && cmd.secondNoticeReason === undefined) {
        throw invalid(
          'secondNoticeReason',
          `This case already had ${state.supplementNotices} supplement notice(s); every gap should be listed ` +
            'at once (一次性告知). To send another, give secondNoticeReason (why these gaps were not in the ' +
            'first notice); it is counted.',
          'case.second_notice_reason_required',
        );
      }
      const pauses: CasePause[] =
        from === 'under_review'
          ? [...state.pauses, { kind: 'supplement', procedure: null, startedOn: today, endedOn: null }]
          : state.pauses;
      const notice = state.supplementNotices + 1;
      return {
        next: {
          ...state,
          status: 'supplement_requested',
          supplementNotices: notice,
          supplement: { from, requestedOn: today, gaps: cmd.gaps.map((g) => ({ ...g })) },
          pauses,
        },
        data: {
          gaps: cmd.gaps.map((g) => ({ ...g })),
          notice,
          from,
          supplementDue: supplementDue?.date ?? null,
          ...(cmd.secondNoticeReason === undefined ? {} : { secondNoticeReason: cmd.secondNoticeReason }),
        },
      };
    }
    case 'resubmit': {
      const back = state.supplement?.from ?? 'received';
      if (back === 'received') {
        return {
          next: { ...state, status: 'received', supplement: null, materialsReceivedOn: today },
          data: { to: back },
        };
      }
      return {
        next: { ...state, status: back, supplement: null, pauses: endPause(state.pauses, today) },
        data: { to: back, pausedFrom: openPause(state.pauses)?.startedOn ?? null },
      };
    }
    case 'accept': {
      if (state.processingMode === 'off_site_intake' && state.forwardedAt === null) {
        throw conflict(
          'case.not_forwarded',
          'This 异地代收代办 (off_site_intake) case has not been forwarded by the intake hall to the competent ' +
            'department yet; forward it first, then accept.',
        );
      }
      const deemed = deemedAcceptance(state, today, ctx.calendar);
      const acceptedOn = deemed?.acceptedOn ?? today;
      const due = supplementNoticeDue(state, ctx.calendar);
      return {
        next: { ...state, status: 'accepted', acceptedOn, deemedAccepted: deemed !== null },
        data: { acceptedOn, deemed: deemed !== null, supplementDue: due?.date ?? null },
      };
    }
    case 'not_accept':
      return { next: { ...state, status: 'not_accepted', closedOn: today }, data: {} };
    case 'start_review':
    case 'review_step':
      return { next: { ...state, status: 'under_review', reviewStep: cmd.step }, data: { step: cmd.step } };
    case 'start_special_procedure': {
      const from = state.status as 'accepted' | 'under_review';
      return {
        next: {
          ...state,
          status: 'special_procedure',
          specialProcedure: { kind: cmd.kind, from, startedOn: today },
          pauses: [
            ...state.pauses,
            { kind: 'special_procedure', procedure: cmd.kind, startedOn: today, endedOn: null },
          ],
        },
        data: { kind: cmd.kind },
      };
    }
    case 'end_special_procedure': {
      const sp = state.specialProcedure;
      const back = sp?.from ?? 'under_review';
      return {
        next: { ...state, status: back, specialProcedure: null, pauses: endPause(state.pauses, today) },
        data: { kind: sp?.kind ?? null, startedOn: sp?.startedOn ?? null, to: back },
      };
    }
    case 'extend': {
      if (state.extension !== null) {
        throw conflict(
          'case.already_extended',
          `The decision limit of this case was already extended on ${state.extension.grantedOn} ` +
            `(+${state.extension.workingDays} working days); the law allows one extension only (行政许可法 art. 42).`,
        );
      }
      const workingDays =
        state.processingMode === 'multi_site_joint' ? JOINT_EXTENSION_WORKING_DAYS : EXTENSION_WORKING_DAYS;
      const approvedBy = cmd.approvedBy ?? null;
      return {
        next: { ...state, extension: { workingDays, reason: cmd.reason, approvedBy, grantedOn: today } },
        data: { workingDays, approvedBy },
      };
    }
    case 'decide':
      return {
        next: { ...state, status: 'decided', outcome: cmd.outcome, decidedOn: today, closedOn: today },
        data: { outcome: cmd.outcome, decidedOn: today },
      };
    case 'deliver': {
      const reference = cmd.reference ?? null;
      return {
        next: {
          ...state,
          status: 'delivered',
          delivery: { method: cmd.method, reference, deliveredOn: today },
        },
        data: { method: cmd.method, reference },
      };
    }
    case 'rate':
      return {
        next: { ...state, status: 'rated', rating: { level: cmd.level, ratedOn: today } },
        data: { level: cmd.level },
      };
    case 'withdraw':
      return {
        next: {
          ...state,
          status: 'withdrawn',
          closedOn: today,
          supplement: null,
          specialProcedure: null,
          pauses: endPause(state.pauses, today),
        },
        data: { from: state.status },
      };
    case 'reassign': {
      if (cmd.departmentId === state.competentDepartmentId) {
        throw conflict(
          'case.same_department',
          `The case is already assigned to department ${cmd.departmentId}; choose another department.`,
        );
      }
      return {
        next: { ...state, competentDepartmentId: cmd.departmentId, forwardedAt: null },
        data: { fromDepartmentId: state.competentDepartmentId, toDepartmentId: cmd.departmentId },
      };
    }
  }
}

function openPause(pauses: readonly CasePause[]): CasePause | undefined {
  const last = pauses.at(-1);
  return last !== undefined && last.endedOn === null ? last : undefined;
}

function endPause(pauses: readonly CasePause[], today: string): CasePause[] {
  const last = openPause(pauses);
  if (last === undefined) return [...pauses];
  return [...pauses.slice(0, -1), { ...last, endedOn: today }];
}

// ---------------------------------------------------------------------------------------------------
// Supplement window and deemed acceptance (行政许可法 art. 32)

/**
 * The last day for a supplement notice: 5 working days after the materials were received
 * (`materialsReceivedOn`; the receipt day itself not counted, art. 82). `null` before receipt.
 * Carries the calendar's `provisional`/`unknownYears`.
 */
export function supplementNoticeDue(state: CaseState, calendar: WorkingDayCalendar): WorkingDayDate | null {
  if (state.materialsReceivedOn === null) return null;
  return calendar.addWorkingDays(state.materialsReceivedOn, SUPPLEMENT_NOTICE_WORKING_DAYS);
}

/** Result of {@link deemedAcceptance}. */
export interface DeemedAcceptance {
  /** The day the case counts as accepted: the day the materials were received. */
  acceptedOn: string;
  /** The missed supplement-notice deadline. */
  supplementDue: WorkingDayDate;
}

/**
 * Deemed acceptance (视为受理, 行政许可法 art. 32: 逾期不告知的，自收到申请材料之日起即为受理): when a
 * case is still `received` and `today` (Asia/Shanghai `YYYY-MM-DD`) is after the 5-working-day notice
 * deadline, returns the acceptance day to apply (the server's timer then applies an `accept` command as
 * actor `system`; {@link applyCommand} dates it back by itself). `null` otherwise.
 */
export function deemedAcceptance(
  state: CaseState,
  today: string,
  calendar: WorkingDayCalendar,
): DeemedAcceptance | null {
  if (state.status !== 'received' || state.materialsReceivedOn === null) return null;
  const due = supplementNoticeDue(state, calendar);
  if (due === null || today <= due.date) return null;
  return { acceptedOn: state.materialsReceivedOn, supplementDue: due };
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function parseCommand(command: unknown): CaseCommand {
  const result = CaseCommandSchema.safeParse(command);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.length === 0 ? 'command' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const message = `The case command is not valid: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}.`;
  if (issues.length === 1) return throwOne(issues[0]!.field, message);
  throw invalidMany('case.command_invalid', message, issues);
}

function throwOne(field: string, message: string): never {
  throw invalid(field, message, 'case.command_invalid');
}

function checkActor(actor: CaseActor): void {
  const kinds = ['applicant', 'agent', 'staff', 'system'];
  if (
    typeof actor !== 'object' ||
    actor === null ||
    !kinds.includes(actor.kind) ||
    typeof actor.id !== 'string' ||
    actor.id.trim() === ''
  ) {
    throw invalid(
      'actor',
      `The actor must be { kind: ${kinds.join(' | ')}, id } with a non-empty id.`,
      'case.context_invalid',
    );
  }
}

function dayOfInstant(at: Date, field: string): string {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw invalid(field, `${field} must be a valid instant (a Date).`, 'case.context_invalid');
  }
  return todayInShanghai(at);
}
