import { integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * `tongban simulate` runs (模拟运行): what each run asked for and how many cases it filed so far. The CLI
 * refuses to simulate on a database holding cases that no run filed (real ones) unless `--force`.
 */
export const simulationRuns = pgTable('simulation_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  seed: text('seed').notNull(),
  /** First simulated day (YYYY-MM-DD, Asia/Shanghai) and the number of days. */
  startDay: text('start_day').notNull(),
  days: integer('days').notNull(),
  /** Volume multiplier (`--scale`), stored as text to keep fractions exact. */
  scale: text('scale').notNull(),
  /** Cases filed by this run so far (updated after every simulated day). */
  cases: integer('cases').notNull().default(0),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});
