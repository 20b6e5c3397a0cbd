/**
 * The working-day calendar (工作日历) used for every legal clock in tongban.
 *
 * Dates are `YYYY-MM-DD` strings in Asia/Shanghai; arithmetic is on whole days (days since
 * 1970-01-01 computed from the year/month/day numbers), never JS `Date` arithmetic, so the host's time
 * zone cannot shift a day.
 *
 * A day is a working day (工作日) unless it is a statutory holiday (法定节假日, including the weekend
 * days inside a holiday period) or an ordinary Saturday/Sunday; an adjusted workday (调休上班日) on a
 * weekend is a working day. Sources, highest precedence first:
 * 1. corrections — single-day {@link CalendarOverride}s given in the constructor's `overrides` or
 *    with {@link WorkingDayCalendar.addOverrides};
 * 2. published years — a year's schedule registered with {@link WorkingDayCalendar.addYear} (or the
 *    constructor's `publishedYears`), e.g. 2027 once the State Council (国务院办公厅) publishes it;
 * 3. the `chinese-days` package data ({@link CHINESE_DAYS_YEARS}: 2004–2026 in v1.5.7);
 * 4. the weekly rule: Monday–Friday work, Saturday/Sunday rest.
 *
 * A year is KNOWN when chinese-days covers it or it was registered with `addYear`. Single-day
 * corrections never make a year known. Any result that looked at a day of an unknown year carries
 * `provisional: true` and `unknownYears`; with `{ strict: true }` such a call throws
 * `calendar.year_unknown` instead. A day of an unknown year is never silently treated as a plain weekday.
 *
 * Why the package's data and not its functions: chinese-days' `isWorkday`/`getDayDetail` parse dates
 * in the host time zone (in America/Los_Angeles `getDayDetail('2026-09-20')` answers for 2026-09-19)
 * and answer for any year, known or not. Its shipped JSON (`dist/chinese-days.json`) is the same data.
 *
 * Pure: no I/O except the package's JSON at module load; runs in Node and in the browser.
 */
import chineseDays from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { z } from 'zod';
import { AppError, type FieldIssue, invalid, invalidMany } from './errors.ts';

// ---------------------------------------------------------------------------------------------------
// Dates

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `date` is `YYYY-MM-DD` naming a day that exists (proleptic Gregorian calendar). */
export function isRealDate(date: string): boolean {
  const m = ISO_DATE.exec(date);
  if (m === null) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(m[1]), month);
}

/** Years the working-day calendar answers for (the People's Republic's statutory calendar; far enough ahead). */
export const CALENDAR_MIN_YEAR = 1949;
export const CALENDAR_MAX_YEAR = 2199;

/** Longest span `workingDaysBetween` counts over: 40 years of calendar days (bounds the work per request). */
export const MAX_SPAN_DAYS = 40 * 366;

/**
 * Validates a `YYYY-MM-DD` date string (trimmed) in the years {@link CALENDAR_MIN_YEAR}–{@link CALENDAR_MAX_YEAR}
 * and returns it.
 * @throws AppError `calendar.date_invalid` naming `field` when it is not in that form, not a real date, or
 *   outside those years.
 */
export function parseIsoDate(input: unknown, field = 'date'): string {
  const value = typeof input === 'string' ? input.trim() : '';
  if (!ISO_DATE.test(value)) {
    throw invalid(
      field,
      `Give the date as YYYY-MM-DD, e.g. 2026-02-14; got ${JSON.stringify(input)}.`,
      'calendar.date_invalid',
    );
  }
  if (!isRealDate(value)) {
    throw invalid(
      field,
      `${value} is not a real calendar date; check the month and day.`,
      'calendar.date_invalid',
    );
  }
  const year = Number(value.slice(0, 4));
  if (year < CALENDAR_MIN_YEAR || year > CALENDAR_MAX_YEAR) {
    throw invalid(
      field,
      `${value} is outside the years the calendar covers (${CALENDAR_MIN_YEAR}–${CALENDAR_MAX_YEAR}).`,
      'calendar.date_invalid',
    );
  }
  return value;
}

/** Days since 1970-01-01 of a valid `YYYY-MM-DD` date (negative before). Calendar days. */
export function toEpochDay(date: string): number {
  const y0 = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  // Howard Hinnant's days_from_civil.
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `YYYY-MM-DD` of a day number from {@link toEpochDay}. */
export function fromEpochDay(epochDay: number): string {
  const z0 = epochDay + 719468;
  const era = Math.floor(z0 / 146097);
  const doe = z0 - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * Adds `days` CALENDAR days (自然日) to a `YYYY-MM-DD` date (negative to go back).
 * @throws AppError `calendar.date_invalid` (field `date`) for a bad date.
 */
export function addCalendarDays(date: string, days: number): string {
  return fromEpochDay(toEpochDay(parseIsoDate(date)) + days);
}

/** Day of the week of a `YYYY-MM-DD` date: 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(date: string): number {
  return (((toEpochDay(parseIsoDate(date)) + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** Today's date in Asia/Shanghai (UTC+8, no daylight saving) as `YYYY-MM-DD`, for the instant `now`. */
export function todayInShanghai(now: Date = new Date()): string {
  return fromEpochDay(Math.floor((now.getTime() + 8 * 3_600_000) / 86_400_000));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// ---------------------------------------------------------------------------------------------------
// Override input

/** A `YYYY-MM-DD` string naming a real day. */
export const IsoDateSchema = z
  .string()
  .regex(ISO_DATE, { error: 'give the date as YYYY-MM-DD, e.g. 2027-02-06', abort: true })
  .refine(isRealDate, 'not a real calendar date: check the month and day')
  .describe('date, YYYY-MM-DD (Asia/Shanghai)');

/**
 * One day of the calendar set by an administrator: `holiday` = not a working day (法定节假日 / 放假),
 * `workday` = a working day (调休上班 on a weekend, or a correction). `name` e.g. `春节`.
 */
export const CalendarOverrideSchema = z
  .strictObject({
    date: IsoDateSchema,
    kind: z.enum(['holiday', 'workday'], {
      error: 'kind must be "holiday" (no work that day) or "workday" (a working day, e.g. 调休上班)',
    }),
    name: z.string().trim().min(1, 'name cannot be empty; leave it out instead').max(64).optional(),
  })
  .describe('工作日历调整 calendar override');

/** One day set by an administrator; see {@link CalendarOverrideSchema}. */
export type CalendarOverride = z.infer<typeof CalendarOverrideSchema>;

/** A published year's schedule: its statutory holidays and adjusted workdays. */
export interface PublishedYear {
  /** Calendar year, e.g. 2027. */
  year: number;
  /**
   * The days the State Council's notice lists for that year (holidays, including weekend days inside a
   * holiday period, and make-up workdays). Dates may reach into the neighbouring December/January (the
   * 2023 New Year holiday ran 2022-12-31 – 2023-01-02). Other days follow the weekly rule.
   */
  entries: CalendarOverride[];
}

/** Zod schema of {@link PublishedYear} for admin input (the same checks as `addYear`). */
export const PublishedYearSchema = z
  .strictObject({
    year: z.number().int().min(1949).max(2199),
    entries: z.array(CalendarOverrideSchema).min(1, 'list at least the statutory holidays of the year'),
  })
  .superRefine((value, ctx) => {
    for (const issue of publishedYearIssues(value.year, value.entries, 'entries')) {
      ctx.addIssue({
        code: 'custom',
        message: issue.message,
        path: issue.field.split('.').map(toPathPart),
      });
    }
  })
  .describe('一年的放假调休安排 published holiday schedule of one year');

function toPathPart(part: string): string | number {
  return /^\d+$/.test(part) ? Number(part) : part;
}

/** Range and duplicate checks of a year's entries (the per-entry shape is checked by the schema). */
function publishedYearIssues(year: number, entries: CalendarOverride[], prefix: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const first = `${year - 1}-12-01`;
  const last = `${year + 1}-01-31`;
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (entry.date < first || entry.date > last) {
      issues.push({
        field: `${prefix}.${i}.date`,
        message: `${entry.date} is outside the ${year} schedule (allowed ${first} to ${last}); put it in its own year.`,
      });
    }
    const previous = seen.get(entry.date);
    if (previous !== undefined) {
      issues.push({
        field: `${prefix}.${i}.date`,
        message: `${entry.date} is listed twice (also at ${prefix}.${previous}); keep one entry per day.`,
      });
    } else {
      seen.set(entry.date, i);
    }
  });
  return issues;
}

/** Validates override entries, reporting every bad field as `<prefix>.<index>.<field>`. */
function validateEntries(entries: unknown, prefix: string): CalendarOverride[] {
  if (!Array.isArray(entries)) {
    throw invalid(
      prefix,
      `${prefix} must be a list of { date, kind, name? } entries.`,
      'calendar.override_invalid',
    );
  }
  const result = z.array(CalendarOverrideSchema).safeParse(entries);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw invalidMany('calendar.override_invalid', describeIssues(issues), issues);
}

function describeIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

// ---------------------------------------------------------------------------------------------------
// chinese-days data

interface BaseDay {
  working: boolean;
  name: string;
}

const BASE_DAYS = new Map<string, BaseDay>();
/** `"Spring Festival,春节,4"` → `春节`. */
const chineseName = (label: string): string => label.split(',')[1] ?? label;
for (const [date, label] of Object.entries(chineseDays.holidays as Record<string, string>)) {
  BASE_DAYS.set(date, { working: false, name: chineseName(label) });
}
for (const [date, label] of Object.entries(chineseDays.workdays as Record<string, string>)) {
  BASE_DAYS.set(date, { working: true, name: chineseName(label) });
}

/** Years for which chinese-days ships the State Council's schedule (2004–2026 in v1.5.7), ascending. */
export const CHINESE_DAYS_YEARS: readonly number[] = [
  ...new Set([...BASE_DAYS.keys()].map((d) => Number(d.slice(0, 4)))),
].sort((a, b) => a - b);

// ---------------------------------------------------------------------------------------------------
// The calendar

/** Why a day is or is not a working day. */
export type DayType =
  /** Monday–Friday, no holiday: a working day. */
  | 'weekday'
  /** Saturday/Sunday, no adjustment: a rest day. */
  | 'weekend'
  /** 法定节假日 (or an admin holiday): a rest day. */
  | 'holiday'
  /** 调休上班: a Saturday/Sunday made a working day. */
  | 'adjusted_workday';

/** Where the answer for a day came from. */
export type DaySource = 'override' | 'published_year' | 'chinese-days' | 'weekly_rule';

/** Flags every result carries. */
export interface Provisional {
  /** `true` when a day of a year without a published schedule was looked at: the answer may change. */
  provisional: boolean;
  /** Those years, ascending; `[]` when not provisional. */
  unknownYears: number[];
}

/** One day of the calendar. */
export interface CalendarDay extends Provisional {
  date: string;
  working: boolean;
  dayType: DayType;
  /** Holiday name, e.g. `春节`, when a holiday or adjusted workday has one. */
  name?: string;
  source: DaySource;
}

/** Result of {@link WorkingDayCalendar.addWorkingDays}. */
export interface WorkingDayDate extends Provisional {
  /** `YYYY-MM-DD`, the n-th working day after the start. */
  date: string;
}

/** Result of {@link WorkingDayCalendar.workingDaysBetween}. */
export interface WorkingDayCount extends Provisional {
  /** Working days (negative when `to` is before `from`). */
  days: number;
}

/** Per-call options. */
export interface CalendarCallOptions {
  /**
   * Throw `AppError('validation', 'calendar.year_unknown')` instead of returning a provisional result
   * when a day of an unknown year is needed.
   */
  strict?: boolean;
}

/** Constructor options of {@link WorkingDayCalendar}. */
export interface WorkingDayCalendarOptions {
  /** Published schedules of years chinese-days does not cover (or replacements); see `addYear`. */
  publishedYears?: PublishedYear[];
  /** Single-day corrections; see `addOverrides`. */
  overrides?: CalendarOverride[];
}

/** Largest `n` accepted by `addWorkingDays` (about 40 years of working days). */
export const MAX_WORKING_DAYS = 10_000;

/**
 * The working-day calendar: chinese-days data + published years + single-day corrections (see the
 * module comment for precedence and for when a year is known). Mutable: `addYear` and `addOverrides`
 * change the answers of later calls.
 */
export class WorkingDayCalendar {
  readonly #corrections = new Map<string, CalendarOverride>();
  readonly #years = new Map<number, CalendarOverride[]>();
  #published = new Map<string, CalendarOverride>();

  /**
   * @throws AppError `calendar.override_invalid` / `calendar.year_invalid` for bad options (nothing is
   *   applied then).
   */
  constructor(options: WorkingDayCalendarOptions = {}) {
    const years = (options.publishedYears ?? []).map((py, i) => ({
      year: checkYear(py.year, `publishedYears.${i}.year`),
      entries: validateYearEntries(py.year, py.entries, `publishedYears.${i}.entries`),
    }));
    const corrections = validateEntries(options.overrides ?? [], 'overrides');
    for (const { year, entries } of years) this.#years.set(year, entries);
    this.#rebuildPublished();
    for (const entry of corrections) this.#corrections.set(entry.date, entry);
  }

  /** Years with a published schedule (chinese-days ∪ added), ascending. */
  get knownYears(): number[] {
    return [...new Set([...CHINESE_DAYS_YEARS, ...this.#years.keys()])].sort((a, b) => a - b);
  }

  /** Whether `year` has a published schedule. */
  isKnownYear(year: number): boolean {
    return this.#years.has(year) || CHINESE_DAYS_YEARS.includes(year);
  }

  /**
   * Registers the published schedule of `year` (e.g. the State Council's 2027 notice): from now on the
   * year is known, its listed days are holidays/workdays as given, and its other days follow the weekly
   * rule. Replaces any schedule earlier registered for the same year; for a year chinese-days covers,
   * the entries win over the package's data on their days. Single-day corrections still win over it.
   * All-or-nothing: on any error nothing changes.
   *
   * @param year calendar year, 1949–2199.
   * @param entries at least one; each `{ date, kind, name? }`, dates within `year` or the neighbouring
   *   December/January, no date twice.
   * @throws AppError (kind `validation`) `calendar.year_invalid` (field `year`) or
   *   `calendar.override_invalid` with every bad field as `entries.<i>.<field>`.
   */
  addYear(year: number, entries: CalendarOverride[]): void {
    const checked = validateYearEntries(checkYear(year, 'year'), entries, 'entries');
    this.#years.set(year, checked);
    this.#rebuildPublished();
  }

  /**
   * Adds single-day corrections (e.g. a day the package has wrong, or a locally announced change).
   * They win over everything else, but do not make their year known. A later correction of the same day
   * replaces the earlier one. All-or-nothing.
   * @throws AppError `calendar.override_invalid` with every bad field as `overrides.<i>.<field>`.
   */
  addOverrides(entries: CalendarOverride[]): void {
    for (const entry of validateEntries(entries, 'overrides')) this.#corrections.set(entry.date, entry);
  }

  /**
   * Whether `date` is a working day, why, and whether the answer is provisional (its year unknown).
   * @throws AppError `calendar.date_invalid` (field `date`); `calendar.year_unknown` in strict mode.
   */
  isWorkingDay(date: string, options: CalendarCallOptions = {}): CalendarDay {
    const d = parseIsoDate(date, 'date');
    const day = this.#day(d, toEpochDay(d));
    if (options.strict === true && day.provisional) throw yearUnknown(day.unknownYears, 'date');
    return day;
  }

  /**
   * The date `n` working days after `start` (行政许可法 art. 82: 期限开始之日不计算在内 — the start
   * day is not counted; the result is always a working day when n ≥ 1). `n = 0` returns `start` and
   * looks at no day. Provisional when any day after `start` up to the result lies in an unknown year.
   *
   * @param start `YYYY-MM-DD`, the day the period starts (e.g. the day an application was accepted).
   * @param n working days, an integer 0 … {@link MAX_WORKING_DAYS}.
   * @throws AppError `calendar.date_invalid` (field `start`), `calendar.working_days_invalid` (field
   *   `n`); `calendar.year_unknown` in strict mode.
   */
  addWorkingDays(start: string, n: number, options: CalendarCallOptions = {}): WorkingDayDate {
    const s = parseIsoDate(start, 'start');
    if (!Number.isInteger(n) || n < 0 || n > MAX_WORKING_DAYS) {
      throw invalid(
        'n',
        `The number of working days must be a whole number from 0 to ${MAX_WORKING_DAYS}; got ${n}.`,
        'calendar.working_days_invalid',
      );
    }
    const unknown = new Set<number>();
    let epochDay = toEpochDay(s);
    let date = s;
    for (let counted = 0; counted < n; ) {
      epochDay += 1;
      date = fromEpochDay(epochDay);
      const day = this.#day(date, epochDay);
      if (day.provisional) {
        if (options.strict === true) throw yearUnknown(day.unknownYears, 'start');
        unknown.add(Number(date.slice(0, 4)));
      }
      if (day.working) counted += 1;
    }
    return { date, ...provisional(unknown) };
  }

  /**
   * Working days after `from` up to and including `to` — the days that {@link addWorkingDays} counts,
   * so `workingDaysBetween(s, addWorkingDays(s, n).date).days === n`. `from === to` → 0. When `to` is
   * before `from` the count is negative: −(working days after `to` up to and including `from`), e.g.
   * how many working days a deadline is overdue. Provisional when any day counted over lies in an
   * unknown year.
   *
   * @throws AppError `calendar.date_invalid` (field `from` or `to`), `calendar.span_too_long` (over
   *   {@link MAX_SPAN_DAYS} calendar days); `calendar.year_unknown` in strict mode.
   */
  workingDaysBetween(from: string, to: string, options: CalendarCallOptions = {}): WorkingDayCount {
    const f = toEpochDay(parseIsoDate(from, 'from'));
    const t = toEpochDay(parseIsoDate(to, 'to'));
    const [low, high, sign] = t >= f ? [f, t, 1] : [t, f, -1];
    if (high - low > MAX_SPAN_DAYS) {
      throw invalid(
        'to',
        `from and to are more than 40 years apart; count over a shorter span.`,
        'calendar.span_too_long',
      );
    }
    const unknown = new Set<number>();
    let days = 0;
    for (let e = low + 1; e <= high; e++) {
      const date = fromEpochDay(e);
      const day = this.#day(date, e);
      if (day.provisional) {
        if (options.strict === true) throw yearUnknown(day.unknownYears, 'to');
        unknown.add(Number(date.slice(0, 4)));
      }
      if (day.working) days += 1;
    }
    return { days: sign * days, ...provisional(unknown) };
  }

  #day(date: string, epochDay: number): CalendarDay {
    const year = Number(date.slice(0, 4));
    const flags: Provisional = this.isKnownYear(year)
      ? { provisional: false, unknownYears: [] }
      : { provisional: true, unknownYears: [year] };
    const weekday = (((epochDay + 4) % 7) + 7) % 7; // 0 = Sunday … 6 = Saturday
    const weekend = weekday === 0 || weekday === 6;
    /** Type of a day that a listed entry (holiday or workday) decides. */
    const typed = (working: boolean): DayType =>
      working ? (weekend ? 'adjusted_workday' : 'weekday') : 'holiday';

    const entry = this.#corrections.get(date) ?? this.#published.get(date);
    if (entry !== undefined) {
      const working = entry.kind === 'workday';
      return {
        date,
        working,
        dayType: typed(working),
        ...(entry.name === undefined ? {} : { name: entry.name }),
        source: this.#corrections.has(date) ? 'override' : 'published_year',
        ...flags,
      };
    }
    const base = BASE_DAYS.get(date);
    if (base !== undefined) {
      return {
        date,
        working: base.working,
        dayType: typed(base.working),
        name: base.name,
        source: 'chinese-days',
        ...flags,
      };
    }
    return {
      date,
      working: !weekend,
      dayType: weekend ? 'weekend' : 'weekday',
      source: 'weekly_rule',
      ...flags,
    };
  }

  #rebuildPublished(): void {
    const published = new Map<string, CalendarOverride>();
    for (const year of [...this.#years.keys()].sort((a, b) => a - b)) {
      for (const entry of this.#years.get(year)!) published.set(entry.date, entry);
    }
    this.#published = published;
  }
}

function checkYear(year: unknown, field: string): number {
  if (typeof year !== 'number' || !Number.isInteger(year) || year < 1949 || year > 2199) {
    throw invalid(
      field,
      `The year must be a whole number from 1949 to 2199; got ${String(year)}.`,
      'calendar.year_invalid',
    );
  }
  return year;
}

function validateYearEntries(year: number, entries: unknown, prefix: string): CalendarOverride[] {
  const checked = validateEntries(entries, prefix);
  if (checked.length === 0) {
    throw invalid(
      prefix,
      `A published schedule lists at least the statutory holidays of ${year}; ${prefix} is empty.`,
      'calendar.override_invalid',
    );
  }
  const issues = publishedYearIssues(year, checked, prefix);
  if (issues.length > 0) throw invalidMany('calendar.override_invalid', describeIssues(issues), issues);
  return checked;
}

function provisional(unknown: Set<number>): Provisional {
  const years = [...unknown].sort((a, b) => a - b);
  return { provisional: years.length > 0, unknownYears: years };
}

function yearUnknown(years: number[], field: string): AppError {
  const list = years.join(', ');
  return new AppError(
    'validation',
    'calendar.year_unknown',
    `The holiday schedule for ${list} has not been published in tongban, so working days there cannot be ` +
      `counted exactly. An administrator must add the State Council's ${list} schedule (its holidays and ` +
      'make-up workdays) to the working-day calendar, then retry.',
    { field, issues: [{ field, message: `no published holiday schedule for ${list}` }] },
  );
}
