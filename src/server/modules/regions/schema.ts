import { index, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * 行政区划 administrative divisions (GB/T 2260 + statistical area codes): province (2 digits),
 * prefecture (4), county (6), township (9), village (12). `parent_code` links each to its parent;
 * `county_code` is the county a township or village lies in (null above county level).
 */
export const divisions = pgTable(
  'divisions',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    level: text('level', { enum: ['province', 'prefecture', 'county', 'township', 'village'] }).notNull(),
    parentCode: text('parent_code'),
    countyCode: text('county_code'),
  },
  (t) => [
    index('divisions_parent_idx').on(t.parentCode, t.code),
    index('divisions_level_idx').on(t.level, t.code),
  ],
);
