import {
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { OpeningHours } from '../../../domain/opening-hours.ts';

/**
 * Halls: 政务服务中心 (province / prefecture / county), 便民服务中心 (township) and 服务站 (village)
 * — the places where applications are received. Locations of sample halls are approximate (a point
 * inside the county polygon), flagged by `location_approximate`.
 */
export const halls = pgTable(
  'halls',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind', {
      enum: ['government_service_center', 'convenience_service_center', 'service_station'],
    }).notNull(),
    level: text('level', { enum: ['province', 'prefecture', 'county', 'township', 'village'] }).notNull(),
    divisionCode: text('division_code').notNull(),
    countyCode: text('county_code'),
    latitude: doublePrecision('latitude').notNull(),
    longitude: doublePrecision('longitude').notNull(),
    locationApproximate: boolean('location_approximate').notNull().default(true),
    address: text('address').notNull(),
    windows: integer('windows').notNull(),
    openingHours: jsonb('opening_hours').$type<OpeningHours>().notNull(),
    capabilities: jsonb('capabilities').$type<string[]>().notNull(),
    status: text('status', { enum: ['open', 'closed', 'degraded', 'offline'] })
      .notNull()
      .default('open'),
    /** Why the hall is not fully open (required for closed / degraded / offline); null when open. */
    statusReason: text('status_reason'),
    /** When the current status is expected to end (e.g. power restored); null when open or unknown. */
    statusExpectedEndAt: timestamp('status_expected_end_at', { withTimezone: true }),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
    sample: boolean('sample').notNull().default(true),
  },
  (t) => [
    index('halls_division_idx').on(t.divisionCode),
    index('halls_county_idx').on(t.countyCode),
    index('halls_level_idx').on(t.level),
  ],
);

/**
 * 窗口: the service windows of a hall, numbered as on the hall floor. A window serves the listed items
 * (12-digit basic codes) and/or whole industries (所属行业 identifiers); both null = a general window
 * (综合窗口) serving everything. `halls.windows` keeps the count.
 */
export const hallWindows = pgTable(
  'hall_windows',
  {
    hallCode: text('hall_code')
      .notNull()
      .references(() => halls.code, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    name: text('name').notNull(),
    itemCodes: text('item_codes').array(),
    industries: text('industries').array(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.hallCode, t.number] })],
);
