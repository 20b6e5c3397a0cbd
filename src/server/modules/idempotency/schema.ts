import { integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Idempotency keys of retryable mutations (offline queues, flaky networks): the first request with a
 * key stores its response in the same transaction as its effect; a replay with the same key and the same
 * request returns that response and changes nothing.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** Who and what: e.g. `POST /api/v1/cases` + the actor, so two clients' keys never collide. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of the request body: the same key with a different request is refused. */
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);
