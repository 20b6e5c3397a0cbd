import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Installation-wide settings generated on first start and shared by every node (e.g. the fallback key of
 * the keyed hash used to look applicants up when PII_HASH_KEY is not configured).
 */
export const systemSettings = pgTable('system_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
