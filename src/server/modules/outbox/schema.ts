import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The transactional outbox: every state change that others must hear about (a case transition, a
 * warning) appends a row IN THE SAME TRANSACTION as the change, so an event exists if and only if the
 * change committed. A dispatcher claims undispatched rows with `FOR UPDATE SKIP LOCKED` (several nodes
 * share the work), hands each to the registered handlers inside its own transaction and marks it
 * dispatched there — so each handler sees each event exactly once, and rows that commit out of id order
 * are never skipped (no cursor).
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** e.g. `case.received`, `case.decided`, `case.warning` */
    topic: text('topic').notNull(),
    /** e.g. `case` */
    aggregateType: text('aggregate_type').notNull(),
    /** e.g. the case id */
    aggregateId: text('aggregate_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_pending_idx').on(t.id).where(sql`${t.dispatchedAt} is null`),
    index('outbox_aggregate_idx').on(t.aggregateType, t.aggregateId),
  ],
);
