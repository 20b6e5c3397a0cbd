import { sql } from 'drizzle-orm';
import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * 文书: the notices issued for a case (收件凭证, 受理通知书, 补正材料一次性告知书 …), one per (case event,
 * kind) — the unique index makes concurrent generation produce one row. `content` is what is printed
 * (masked identifiers), fixed when the number is allocated, so the PDF can be rendered again to the same
 * bytes; `sm3`, `byte_size` and `storage_key` are set once the PDF is in the file store (null: allocated,
 * not yet rendered — the next request or jobs round completes it).
 */
export const caseDocuments = pgTable(
  'case_documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    caseId: uuid('case_id').notNull(),
    /** `case_events.seq` of the timeline event the document belongs to. */
    eventSeq: integer('event_seq').notNull(),
    kind: text('kind').notNull(),
    /** `hall:<code>` or `department:<uuid>`: whose number sequence the document uses. */
    issuerKey: text('issuer_key').notNull(),
    /** Year of the 文号 (Asia/Shanghai year of the event). */
    year: integer('year').notNull(),
    /** Sequence of the 文号, per issuer per kind per year, from 1, without gaps. */
    sequence: integer('sequence').notNull(),
    /** 文号, e.g. 威宁县民政局受字〔2026〕第000001号. */
    number: text('number').notNull(),
    content: jsonb('content').$type<Record<string, unknown>>().notNull(),
    /** SM3 (GB/T 32905-2016) of the PDF, 64 hex digits. */
    sm3: text('sm3'),
    byteSize: integer('byte_size'),
    storageKey: text('storage_key'),
    /** The instant of the case event (the document's date). */
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    renderedAt: timestamp('rendered_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('case_documents_event_kind_idx').on(t.caseId, t.eventSeq, t.kind),
    uniqueIndex('case_documents_number_idx').on(t.issuerKey, t.kind, t.year, t.sequence),
    index('case_documents_pending_idx').on(t.createdAt).where(sql`${t.storageKey} is null`),
  ],
);

/** The last 文号 sequence used per issuing authority, kind and year (locked FOR UPDATE to allocate). */
export const documentSequences = pgTable(
  'document_sequences',
  {
    issuerKey: text('issuer_key').notNull(),
    kind: text('kind').notNull(),
    year: integer('year').notNull(),
    last: integer('last').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.issuerKey, t.kind, t.year] })],
);

/**
 * Cases with documents possibly still to issue: written by the outbox handler in the dispatch transaction
 * (cheap), worked off by the jobs loop OUTSIDE any transaction (rendering takes tens of ms). A lease
 * (`not_before`) keeps two nodes from rendering the same case at once; a failure is retried later.
 */
export const documentJobs = pgTable('document_jobs', {
  caseId: uuid('case_id').primaryKey(),
  notBefore: timestamp('not_before', { withTimezone: true }).notNull().defaultNow(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
});
