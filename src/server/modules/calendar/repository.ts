import { asc, sql } from 'drizzle-orm';
import type { CalendarOverride } from '../../../domain/calendar.ts';
import type { Db, Tx } from '../../db/index.ts';
import { calendarOverrides, calendarYears } from './schema.ts';

/** PostgreSQL channel announcing a committed calendar change: every node drops its cached calendar. */
export const CALENDAR_CHANGES_CHANNEL = 'tongban_calendar';

/** SQL for the calendar module. */
export class CalendarRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  listYears(tx?: Tx) {
    return (tx ?? this.db).select().from(calendarYears).orderBy(asc(calendarYears.year));
  }

  listOverrides(tx?: Tx) {
    return (tx ?? this.db).select().from(calendarOverrides).orderBy(asc(calendarOverrides.date));
  }

  /** Inserts or replaces a year's schedule (one statement, so atomic). */
  async upsertYear(year: number, entries: CalendarOverride[], source: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .insert(calendarYears)
        .values({ year, entries, source })
        .onConflictDoUpdate({ target: calendarYears.year, set: { entries, source, createdAt: new Date() } });
      await tx.execute(sql`select pg_notify(${CALENDAR_CHANGES_CHANNEL}, ${String(year)})`);
    });
  }

  /** Inserts or replaces single-day corrections in one transaction. */
  async upsertOverrides(entries: CalendarOverride[], reason: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const e of entries) {
        const row = { date: e.date, kind: e.kind, name: e.name ?? null, reason };
        await tx
          .insert(calendarOverrides)
          .values(row)
          .onConflictDoUpdate({ target: calendarOverrides.date, set: { ...row, createdAt: new Date() } });
      }
      await tx.execute(sql`select pg_notify(${CALENDAR_CHANGES_CHANNEL}, 'overrides')`);
    });
  }
}
