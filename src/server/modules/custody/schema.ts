import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * 材料流转 — the custody of each case material, as an append-only list of events per (case, material):
 * received, verified_against_original (核验原件), scanned (file key, SM3 digest, size), forwarded
 * electronically, shipped (carrier, tracking number), shipment_received, returned. Rows are never updated
 * or deleted; a material's current location and condition are derived from its events.
 * `case_id` and `material_seq` refer to the cases module's case and its material checklist by id only
 * (no foreign key across modules).
 */
export const custodyEvents = pgTable(
  'custody_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: uuid('case_id').notNull(),
    materialSeq: integer('material_seq').notNull(),
    /** 1, 2, … per (case, material): the order of events, and a guard against concurrent appends. */
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** `{ kind, id, departmentId?, hallCode? }` of the staff member who acted. */
    actor: jsonb('actor').$type<Record<string, unknown>>().notNull(),
    /** Details by type (see CustodyEventInputSchema in service.ts). */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    /** For `scanned`: the stored file's key within the case material (also in `data`), for lookups. */
    fileKey: text('file_key'),
  },
  (t) => [
    uniqueIndex('custody_events_material_seq_idx').on(t.caseId, t.materialSeq, t.seq),
    index('custody_events_file_idx').on(t.caseId, t.fileKey),
  ],
);
