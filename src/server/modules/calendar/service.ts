import {
  type CalendarDay,
  type CalendarOverride,
  CalendarOverrideSchema,
  PublishedYearSchema,
  WorkingDayCalendar,
  type WorkingDayCount,
  type WorkingDayDate,
} from '../../../domain/calendar.ts';
import { invalid, invalidMany } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import { CalendarRepository } from './repository.ts';

export { CALENDAR_CHANGES_CHANNEL } from './repository.ts';

/**
 * The calendar module's public face: the working-day calendar of Asia/Shanghai (chinese-days data plus
 * the published years and corrections an administrator stored), used for every legal clock.
 * Deadlines reaching a year without a published schedule come back `provisional: true` with
 * `unknownYears`; they are never silently treated as plain weekdays.
 */
export class CalendarService {
  private readonly repo: CalendarRepository;
  private cached: WorkingDayCalendar | undefined;

  constructor(db: Db) {
    this.repo = new CalendarRepository(db);
  }

  /**
   * The calendar with everything stored applied (cached; rebuilt after each change through this service).
   * @param tx read through this transaction when the cache is cold — for callers inside a transaction
   *   (e.g. an outbox handler): embedded PGlite has one connection, a read outside it would wait forever.
   */
  async calendar(tx?: Tx): Promise<WorkingDayCalendar> {
    if (this.cached) return this.cached;
    const years = await this.repo.listYears(tx);
    const overrides = await this.repo.listOverrides(tx);
    const cal = new WorkingDayCalendar({
      publishedYears: years.map((y) => ({ year: y.year, entries: y.entries })),
      overrides: overrides.map((o) => ({ date: o.date, kind: o.kind, ...(o.name ? { name: o.name } : {}) })),
    });
    this.cached = cal;
    return cal;
  }

  /**
   * Registers (or replaces) a year's published schedule, e.g. 2027 once the State Council publishes it.
   * @param input `{ year, entries: [{ date: 'YYYY-MM-DD', kind: 'holiday'|'workday', name? }] }`
   * @param source where it comes from (the notice's number), required.
   * @throws AppError(validation, `calendar.year_invalid`) listing every bad field; nothing is stored then.
   */
  async publishYear(input: unknown, source: string): Promise<{ year: number; entries: number }> {
    if (!source.trim())
      throw invalid(
        'source',
        'Say where the schedule comes from (the notice number).',
        'calendar.source_required',
      );
    const parsed = PublishedYearSchema.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path.join('.') || 'year',
        message: i.message,
      }));
      throw invalidMany(
        'calendar.year_invalid',
        issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        issues,
      );
    }
    // Validate against the domain rules too (addYear is all-or-nothing), before anything is written.
    new WorkingDayCalendar().addYear(parsed.data.year, parsed.data.entries);
    await this.repo.upsertYear(parsed.data.year, parsed.data.entries, source.trim());
    this.cached = undefined;
    return { year: parsed.data.year, entries: parsed.data.entries.length };
  }

  /**
   * Stores single-day corrections (all or nothing).
   * @throws AppError(validation, `calendar.override_invalid`) naming each bad entry.
   */
  async addOverrides(input: unknown, reason: string): Promise<CalendarOverride[]> {
    if (!reason.trim())
      throw invalid('reason', 'Give a reason for the correction.', 'calendar.reason_required');
    const parsed = CalendarOverrideSchema.array().safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: `entries.${i.path.join('.')}`,
        message: i.message,
      }));
      throw invalidMany(
        'calendar.override_invalid',
        issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        issues,
      );
    }
    await this.repo.upsertOverrides(parsed.data, reason.trim());
    this.cached = undefined;
    return parsed.data;
  }

  /** Forgets the cached calendar (another node or the CLI changed it); the next use reloads it. */
  invalidate(): void {
    this.cached = undefined;
  }

  /** Years with a known schedule (chinese-days plus stored), ascending. */
  async knownYears(): Promise<number[]> {
    return [...(await this.calendar()).knownYears].sort((a, b) => a - b);
  }

  async day(date: string): Promise<CalendarDay> {
    return (await this.calendar()).isWorkingDay(date);
  }

  /** The n-th working day after `start` (start not counted, 行政许可法 art. 82). */
  async addWorkingDays(start: string, n: number): Promise<WorkingDayDate> {
    return (await this.calendar()).addWorkingDays(start, n);
  }

  /** Working days after `from` up to and including `to` (negative when `to` is earlier). */
  async workingDaysBetween(from: string, to: string): Promise<WorkingDayCount> {
    return (await this.calendar()).workingDaysBetween(from, to);
  }
}
