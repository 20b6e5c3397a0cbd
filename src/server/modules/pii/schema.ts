import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Full reads of personal data (个人信息保护法 art. 51; GB/T 35273-2020 §7.1, 等保 2.0 安全审计): who read
 * which field of whom, when, and for what stated purpose. Append-only. Temporary home until the audit
 * module's hash-chained log takes these records (the `PiiReadAudit` interface stays the same).
 */
export const piiReads = pgTable(
  'pii_reads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** The acting user as `{ kind, id, departmentId?, hallCode? }`. */
    actor: jsonb('actor').$type<Record<string, unknown>>().notNull(),
    /** Whose data, e.g. `case:<case number>`. */
    target: text('target').notNull(),
    /** Which field, e.g. `applicant.idNumber`. */
    field: text('field').notNull(),
    /** The purpose the reader stated (e.g. `核验原件`). */
    purpose: text('purpose').notNull(),
  },
  (t) => [index('pii_reads_target_idx').on(t.target, t.at)],
);
