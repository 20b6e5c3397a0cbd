import { boolean, doublePrecision, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
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
    sample: boolean('sample').notNull().default(true),
  },
  (t) => [
    index('halls_division_idx').on(t.divisionCode),
    index('halls_county_idx').on(t.countyCode),
    index('halls_level_idx').on(t.level),
  ],
);
