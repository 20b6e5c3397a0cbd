/**
 * The legal clocks of a case (办件时限), computed from its {@link CaseState}, the time limits of the item
 * it applies for, the working-day calendar and the day to evaluate on. Pure: the server stores the
 * results it needs (e.g. the decision due date for the inbox order) and recomputes them after every
 * command and when the calendar changes.
 *
 * Every day here is an Asia/Shanghai date `YYYY-MM-DD` (convert an instant with `todayInShanghai`).
 * "Working days" exclude weekends and statutory holidays and include adjusted workdays (调休), as
 * {@link WorkingDayCalendar} says; a period never counts its first day (行政许可法 art. 82).
 *
 * The clocks:
 * - **Supplement notice (补正告知)** — due 5 working days after the materials were received
 *   (行政许可法 art. 32). Missed while the case is still `received` → the case counts as accepted on
 *   the day the materials were received (deemed acceptance); see `deemedAcceptance` in case-state.ts,
 *   which the server's timer applies, and which the decision clock below already assumes.
 * - **Decision (办结)** — the promised limit (承诺时限, ≤ the legal limit), counted from acceptance:
 *   working days via the calendar; calendar days (自然日) and months (个月) by the civil rules
 *   (民法典 arts. 201–203: the month's corresponding day, or its last day; a last day that is a rest day
 *   moves to the next working day). Then the working days spent in pauses are added (special procedures,
 *   行政许可法 art. 45, and supplements requested during review) and the one extension (art. 42:
 *   +10 working days, +15 for 多地联办). The result never lies after the legal due date computed the
 *   same way. Legal limit only when there is no promised limit; no clock when neither is given.
 * - **Certificate (颁发、送达证件)** — 10 working days after a decision that grants (art. 44).
 * - **Warnings (红黄牌)** — on open cases only, from the working days left to the decision due date,
 *   with thresholds configured per province; `overdue` (超期) once the due date has passed while open.
 *   While the clock is paused, the warning is evaluated on the day the pause began, so it does not
 *   advance.
 *
 * Every computed date carries the calendar's `provisional` / `unknownYears` (a deadline that reaches a
 * year without a published holiday schedule, e.g. 2027 today, is provisional), and the overall result
 * carries their union.
 */
import { z } from 'zod';
import {
  addCalendarDays,
  isRealDate,
  type Provisional,
  parseIsoDate,
  type WorkingDayCalendar,
} from './calendar.ts';
import { type CaseState, deemedAcceptance, isOpenStatus, supplementNoticeDue } from './case-state.ts';
import { type TimeLimit, TimeLimitSchema } from './catalog.ts';
import { invalid } from './errors.ts';

/** 行政许可法 art. 44: the certificate is issued and delivered within 10 working days of a grant. */
export const CERTIFICATE_WORKING_DAYS = 10;
/**
 * 行政许可法 art. 42: the general decision limit, 20 working days (unless another law sets otherwise) —
 * for the server to pass as the legal limit of a licensing item whose catalog entry has none.
 */
export const DEFAULT_DECISION_WORKING_DAYS = 20;
/**
 * 行政许可法 art. 42: unified, joint or centralised handling (art. 26; tongban's 多地联办) takes at most
 * 45 working days — the server passes it as the legal limit of a `multi_site_joint` case.
 */
export const JOINT_DECISION_WORKING_DAYS = 45;

/** A computed day with the calendar's provisional flags. */
export interface ClockDate extends Provisional {
  /** `YYYY-MM-DD`, Asia/Shanghai. */
  date: string;
}

/** The time limits that apply to a case (from the item, or the implementation's local variance). */
export interface ClockLimits {
  /** 法定办结时限; null: none. */
  legal: TimeLimit | null;
  /** 承诺办结时限 (≤ legal); null: none. */
  promised: TimeLimit | null;
}

/** Warning level (红黄牌): none, yellow 黄牌, red 红牌, overdue 超期. Ordered from least to most severe. */
export type WarningLevel = 'none' | 'yellow' | 'red' | 'overdue';

/** The warning levels in order of severity. */
export const WARNING_LEVELS: readonly WarningLevel[] = ['none', 'yellow', 'red', 'overdue'];

/**
 * Warning thresholds, in WORKING days left until the decision due date (0 = due today): yellow when
 * left ≤ `yellowWorkingDaysLeft`, red when left ≤ `redWorkingDaysLeft` (red ≤ yellow). Configured per
 * province.
 */
export const WarningThresholdsSchema = z
  .strictObject({
    yellowWorkingDaysLeft: z
      .number()
      .int()
      .min(0)
      .max(60)
      .describe('yellow (黄牌) at this many working days left or fewer'),
    redWorkingDaysLeft: z
      .number()
      .int()
      .min(0)
      .max(60)
      .describe('red (红牌) at this many working days left or fewer'),
  })
  .refine((t) => t.redWorkingDaysLeft <= t.yellowWorkingDaysLeft, {
    path: ['redWorkingDaysLeft'],
    message: 'the red threshold must not exceed the yellow threshold',
  })
  .describe('红黄牌预警阈值 (working days left)');
export type WarningThresholds = z.infer<typeof WarningThresholdsSchema>;

/** Default thresholds: yellow at 3 working days left or fewer, red at 1 or fewer (due tomorrow/today). */
export const DEFAULT_WARNING_THRESHOLDS: WarningThresholds = {
  yellowWorkingDaysLeft: 3,
  redWorkingDaysLeft: 1,
};

/** Result of {@link computeClocks}. */
export interface CaseClocks extends Provisional {
  /** The day evaluated on. */
  today: string;
  /** Last day for the supplement notice (art. 32); null before receipt. */
  supplementDue: ClockDate | null;
  /**
   * True while the case is `received` and the supplement notice deadline has passed: it counts as accepted
   * on the day the materials were received; the server should apply `accept` (see `deemedAcceptance`).
   */
  deemedAcceptancePending: boolean;
  /** The day the decision clock starts: `acceptedOn`, or the deemed acceptance day; null otherwise. */
  clockStartedOn: string | null;
  /** The limit the decision due date follows: the promised one, else the legal one; null: none. */
  limit: TimeLimit | null;
  /**
   * Decision due (承诺办结日): promised limit + pauses + extension, never after `legalDecisionDue`;
   * null without a started clock or without limits. While paused it moves with `today` (the pause so far
   * is counted in).
   */
  decisionDue: ClockDate | null;
  /** Legal due (法定办结日): legal limit + pauses + extension; null without a legal limit. */
  legalDecisionDue: ClockDate | null;
  /** Certificate due (art. 44): 10 working days after a grant; null otherwise. */
  certificateDue: ClockDate | null;
  /** Working days of pauses counted so far (closed pauses, plus the running one up to `today`). */
  pausedWorkingDays: number;
  /** Whether the decision clock is paused now (special procedure, or supplement during review). */
  paused: boolean;
  /**
   * Working days from `today` (or the pause start, when paused) to `decisionDue`: 0 = due that day;
   * negative = overdue by that many working days. Null unless the case is open and has a decision due.
   */
  workingDaysLeft: number | null;
  /** Warning level; `none` for closed cases and cases without a decision clock. */
  warning: WarningLevel;
  /** For decided cases with a decision due date: decided on or before it; otherwise null. */
  decidedWithinLimit: boolean | null;
}

/**
 * Computes every clock of a case on `today`. See the module comment for the rules and the law.
 *
 * @param state the case.
 * @param limits the item's (or implementation's) legal and promised limits; units working_days,
 *   calendar_days or months.
 * @param calendar the working-day calendar.
 * @param today `YYYY-MM-DD`, Asia/Shanghai.
 * @param thresholds warning thresholds (default {@link DEFAULT_WARNING_THRESHOLDS}).
 * @throws AppError (validation) `calendar.date_invalid` (field `today`), `case.limits_invalid` (field
 *   `limits.legal` / `limits.promised`), `case.thresholds_invalid` (field `thresholds.…`).
 */
export function computeClocks(
  state: CaseState,
  limits: ClockLimits,
  calendar: WorkingDayCalendar,
  today: string,
  thresholds: WarningThresholds = DEFAULT_WARNING_THRESHOLDS,
): CaseClocks {
  const day = parseIsoDate(today, 'today');
  const legal = checkLimit(limits.legal, 'limits.legal');
  const promised = checkLimit(limits.promised, 'limits.promised');
  const levels = checkThresholds(thresholds);
  const flags: Provisional[] = [];
  const track = <T extends Provisional | null>(value: T): T => {
    if (value !== null) flags.push(value);
    return value;
  };

  const supplementDue = track(supplementNoticeDue(state, calendar));
  const deemed = deemedAcceptance(state, day, calendar);
  const clockStartedOn = state.acceptedOn ?? deemed?.acceptedOn ?? null;

  // Pauses: closed ones in full, a running one up to today.
  const running = state.pauses.at(-1)?.endedOn === null ? state.pauses.at(-1)! : null;
  const paused = running !== null && isOpenStatus(state.status);
  let closedPaused = 0;
  for (const pause of state.pauses) {
    if (pause.endedOn === null) continue;
    closedPaused += track(calendar.workingDaysBetween(pause.startedOn, pause.endedOn)).days;
  }
  const runningPaused =
    running === null ? 0 : Math.max(0, track(calendar.workingDaysBetween(running.startedOn, day)).days);
  const extension = state.extension?.workingDays ?? 0;

  const limit = promised ?? legal;
  let decisionDue: ClockDate | null = null;
  let legalDecisionDue: ClockDate | null = null;
  let frozenDue: ClockDate | null = null; // the due date as of the pause start (warnings while paused)
  if (clockStartedOn !== null) {
    const due = (l: TimeLimit | null, pausedDays: number): ClockDate | null =>
      l === null ? null : track(decisionDueFor(clockStartedOn, l, pausedDays + extension, calendar));
    legalDecisionDue = due(legal, closedPaused + runningPaused);
    decisionDue = earlier(due(promised, closedPaused + runningPaused), legalDecisionDue);
    frozenDue = paused ? earlier(due(promised, closedPaused), due(legal, closedPaused)) : decisionDue;
  }

  let workingDaysLeft: number | null = null;
  let warning: WarningLevel = 'none';
  if (isOpenStatus(state.status) && frozenDue !== null) {
    const evaluatedOn = paused ? running!.startedOn : day;
    workingDaysLeft = track(calendar.workingDaysBetween(evaluatedOn, frozenDue.date)).days;
    warning = classifyWarning(workingDaysLeft, evaluatedOn > frozenDue.date, levels);
  }

  const certificateDue =
    state.decidedOn !== null && state.outcome === 'granted'
      ? track(calendar.addWorkingDays(state.decidedOn, CERTIFICATE_WORKING_DAYS))
      : null;
  const decidedWithinLimit =
    state.decidedOn !== null && decisionDue !== null ? state.decidedOn <= decisionDue.date : null;

  const unknownYears = [...new Set(flags.flatMap((f) => f.unknownYears))].sort((a, b) => a - b);
  return {
    today: day,
    supplementDue,
    deemedAcceptancePending: deemed !== null,
    clockStartedOn,
    limit,
    decisionDue,
    legalDecisionDue,
    certificateDue,
    pausedWorkingDays: closedPaused + runningPaused,
    paused,
    workingDaysLeft,
    warning,
    decidedWithinLimit,
    provisional: unknownYears.length > 0,
    unknownYears,
  };
}

/**
 * The warning level of a case on `today` (shortcut for `computeClocks(…).warning`): `none` for closed
 * cases and cases without a decision clock; else from the working days left (see
 * {@link classifyWarning}).
 * @throws AppError as {@link computeClocks}.
 */
export function warningLevel(
  state: CaseState,
  limits: ClockLimits,
  calendar: WorkingDayCalendar,
  today: string,
  thresholds: WarningThresholds = DEFAULT_WARNING_THRESHOLDS,
): WarningLevel {
  return computeClocks(state, limits, calendar, today, thresholds).warning;
}

/**
 * The warning level for a number of working days left (0 = due today): `overdue` when `overdue`
 * (the due date has passed) or left < 0; `red` when left ≤ red; `yellow` when left ≤ yellow; else `none`.
 */
export function classifyWarning(
  workingDaysLeft: number,
  overdue: boolean,
  thresholds: WarningThresholds = DEFAULT_WARNING_THRESHOLDS,
): WarningLevel {
  if (overdue || workingDaysLeft < 0) return 'overdue';
  if (workingDaysLeft <= thresholds.redWorkingDaysLeft) return 'red';
  if (workingDaysLeft <= thresholds.yellowWorkingDaysLeft) return 'yellow';
  return 'none';
}

/** Result of {@link warningSchedule}: the first day on which each level applies (Asia/Shanghai). */
export interface WarningSchedule extends Provisional {
  /** First day with ≤ yellow working days left; may lie before `today` (then it applies already). */
  yellow: string | null;
  /** First day with ≤ red working days left. */
  red: string | null;
  /** The calendar day after the decision due date (超期 from then on). */
  overdue: string | null;
}

/**
 * When the warnings of a case begin — for the server's timers (one per level, each fired once): the first
 * day on which `computeClocks(…).warning` reaches yellow, red and overdue, assuming nothing else happens
 * to the case (a `received` case counting as accepted once its notice deadline passes). All null when
 * the case has no warning to come: closed, no decision clock, or PAUSED (a
 * paused clock raises nothing; recompute when it resumes). Recompute after every command and when the
 * calendar changes. A day is a timer's due instant at 00:00 Asia/Shanghai: `new Date(day + 'T00:00:00+08:00')`.
 * @throws AppError as {@link computeClocks}.
 */
export function warningSchedule(
  state: CaseState,
  limits: ClockLimits,
  calendar: WorkingDayCalendar,
  today: string,
  thresholds: WarningThresholds = DEFAULT_WARNING_THRESHOLDS,
): WarningSchedule {
  // A received case not yet past its notice deadline starts its clock (deemed acceptance) the day after
  // the deadline: nothing can fire before then.
  const noticeDue = state.status === 'received' ? supplementNoticeDue(state, calendar) : null;
  const from = noticeDue !== null && today <= noticeDue.date ? addCalendarDays(noticeDue.date, 1) : null;
  const clocks = computeClocks(state, limits, calendar, from ?? today, thresholds);
  const flags = { provisional: clocks.provisional, unknownYears: clocks.unknownYears };
  if (clocks.paused || clocks.workingDaysLeft === null || clocks.decisionDue === null) {
    return { yellow: null, red: null, overdue: null, ...flags };
  }
  const due = clocks.decisionDue.date;
  const levels = checkThresholds(thresholds);
  const notBefore = (day: string): string => (from !== null && from.localeCompare(day) > 0 ? from : day);
  return {
    yellow: notBefore(firstDayWithAtMost(due, levels.yellowWorkingDaysLeft, calendar)),
    red: notBefore(firstDayWithAtMost(due, levels.redWorkingDaysLeft, calendar)),
    overdue: notBefore(addCalendarDays(due, 1)),
    ...flags,
  };
}

/**
 * Fields of a {@link CaseState} that no clock reads ({@link computeClocks}, {@link warningSchedule}): the
 * name of the current review step (审查环节) and the day of the last event. Every other field counts as a
 * clock input (a field added later is one until listed here); a property test checks the list.
 */
const CLOCK_NEUTRAL_FIELDS: ReadonlySet<string> = new Set(['reviewStep', 'lastEventOn']);

/**
 * Whether two states give the same clocks and warning timers on the same calendar: they differ at most
 * in {@link CLOCK_NEUTRAL_FIELDS} (e.g. a `review_step` command, which moves no deadline). The server
 * uses it to leave a case's timers alone when a command cannot have moved them.
 */
export function sameClockInputs(a: CaseState, b: CaseState): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (CLOCK_NEUTRAL_FIELDS.has(key)) continue;
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Structural equality of JSON values (objects compared by key, whatever the key order). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** The earliest day D with `workingDaysBetween(D, due) ≤ n` (walks back from `due`). */
function firstDayWithAtMost(due: string, n: number, calendar: WorkingDayCalendar): string {
  let day = due;
  let left = 0; // working days after `day` up to and including `due`
  for (;;) {
    const more = left + (calendar.isWorkingDay(day).working ? 1 : 0);
    if (more > n) return day;
    day = addCalendarDays(day, -1);
    left = more;
  }
}

/**
 * The due date of a limit counted from `start` (the start day not counted), plus `extraWorkingDays`
 * (pauses and extension) added in working days after it:
 * - `working_days`: `addWorkingDays(start, value + extra)` (行政许可法 art. 82);
 * - `calendar_days`: `start + value` calendar days, moved to the next working day when that is a rest day
 *   (民法典 art. 203), then + extra working days;
 * - `months`: the corresponding day `value` months later, or that month's last day when it has no such
 *   day (民法典 art. 202), moved to the next working day when a rest day, then + extra working days.
 * A value of 0 (当场办结) gives `start` itself (+ extra).
 */
export function decisionDueFor(
  start: string,
  limit: TimeLimit,
  extraWorkingDays: number,
  calendar: WorkingDayCalendar,
): ClockDate {
  if (limit.unit === 'working_days' || limit.value === 0) {
    return calendar.addWorkingDays(
      start,
      (limit.unit === 'working_days' ? limit.value : 0) + extraWorkingDays,
    );
  }
  const raw =
    limit.unit === 'calendar_days' ? addCalendarDays(start, limit.value) : addMonths(start, limit.value);
  const day = calendar.isWorkingDay(raw);
  const last = day.working
    ? { date: raw, provisional: false, unknownYears: [] }
    : calendar.addWorkingDays(raw, 1);
  const result = calendar.addWorkingDays(last.date, extraWorkingDays);
  const unknownYears = [...new Set([...day.unknownYears, ...last.unknownYears, ...result.unknownYears])].sort(
    (a, b) => a - b,
  );
  return { date: result.date, provisional: unknownYears.length > 0, unknownYears };
}

/** `date` plus `months` calendar months, clamped to the target month's last day (民法典 art. 202). */
export function addMonths(date: string, months: number): string {
  const d = parseIsoDate(date);
  const total = Number(d.slice(0, 4)) * 12 + (Number(d.slice(5, 7)) - 1) + months;
  const year = String(Math.floor(total / 12)).padStart(4, '0');
  const month = String((total % 12) + 1).padStart(2, '0');
  for (let dayOfMonth = Number(d.slice(8, 10)); ; dayOfMonth--) {
    const candidate = `${year}-${month}-${String(dayOfMonth).padStart(2, '0')}`;
    if (isRealDate(candidate)) return candidate;
  }
}

function earlier(a: ClockDate | null, b: ClockDate | null): ClockDate | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.date <= b.date ? a : b;
}

function checkLimit(limit: TimeLimit | null, field: string): TimeLimit | null {
  if (limit === null) return null;
  const result = TimeLimitSchema.safeParse(limit);
  if (!result.success) {
    throw invalid(
      field,
      `${field} must be null or { value: whole number 0–3650, unit: working_days | calendar_days | months }; ` +
        `got ${JSON.stringify(limit)}.`,
      'case.limits_invalid',
    );
  }
  return result.data;
}

function checkThresholds(thresholds: WarningThresholds): WarningThresholds {
  const result = WarningThresholdsSchema.safeParse(thresholds);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = ['thresholds', ...issue.path.map(String)].join('.');
  throw invalid(
    field,
    `Warning thresholds are whole numbers of working days left, 0–60, red ≤ yellow: ${issue.message}.`,
    'case.thresholds_invalid',
  );
}
