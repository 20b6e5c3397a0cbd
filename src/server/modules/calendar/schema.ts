import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { CalendarOverride } from '../../../domain/calendar.ts';

/**
 * 放假调休安排: a year's statutory holiday schedule as published by the State Council (国务院办公厅),
 * for years the chinese-days package does not cover (e.g. 2027). Registering a year makes it KNOWN,
 * so deadlines reaching into it are no longer provisional.
 */
export const calendarYears = pgTable('calendar_years', {
  year: integer('year').primaryKey(),
  entries: jsonb('entries').$type<CalendarOverride[]>().notNull(),
  /** Where the schedule comes from, e.g. 国办发明电〔2026〕N号. */
  source: text('source').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** 工作日历调整: single-day corrections (a local holiday, an extra workday). They never make a year known. */
export const calendarOverrides = pgTable('calendar_overrides', {
  date: text('date').primaryKey(),
  kind: text('kind', { enum: ['holiday', 'workday'] }).notNull(),
  name: text('name'),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
