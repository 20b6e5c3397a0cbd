import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
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
 * The tamper-evident audit log (审计日志; GB/T 39786-2021 §8.1.4.3 / 等保 2.0 安全审计, 网络安全法 art. 21).
 *
 * Append-only. A writer appends a row with ONE plain INSERT inside its own transaction (no lock, no
 * read of the chain): the row exists iff that transaction commits, and has no chain position yet.
 * The chain step (AuditService.chain, run by every node's jobs loop) later takes committed unchained
 * rows in `(at, id)` order under the single `audit_chain` row locked FOR UPDATE SKIP LOCKED, and gives
 * each its position `chain_seq` (1, 2, 3 … without gaps) and
 * `hash = SM3(previous hash ‖ canonical(entry))` (GB/T 32905-2016). Editing, deleting or reordering a
 * chained row breaks the chain, which `tongban audit verify` reports.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    id: uuid('id').primaryKey(),
    /** When it happened (microseconds kept; the canonical form hashes all six decimals). */
    at: timestamp('at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    /** applicant | agent | staff | system | … — the kind of the acting subject. */
    actorKind: text('actor_kind').notNull(),
    actorId: text('actor_id').notNull(),
    /** 帮办代办: the person the actor acted for, when any. */
    onBehalfOf: text('on_behalf_of'),
    /** Stable dotted name, e.g. `case.accept`, `auth.login`, `pii.read_full`. */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    /** Why (required for `pii.read_full`). */
    purpose: text('purpose'),
    outcome: text('outcome').notNull(),
    requestId: text('request_id'),
    clientIp: text('client_ip'),
    /** Extra facts; never full ID numbers, phone numbers, passwords, codes or tokens (guarded). */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    /** Position in the chain, 1-based; null until chained. */
    chainSeq: bigint('chain_seq', { mode: 'number' }),
    /** SM3 of the previous hash and this entry's canonical form, 64 hex digits; null until chained. */
    hash: text('hash'),
  },
  (t) => [
    uniqueIndex('audit_entries_chain_seq_idx').on(t.chainSeq),
    index('audit_entries_unchained_idx').on(t.at, t.id).where(sql`${t.chainSeq} is null`),
    index('audit_entries_at_idx').on(t.at, t.id),
    index('audit_entries_actor_idx').on(t.actorId, t.at, t.id),
    index('audit_entries_target_idx').on(t.targetType, t.targetId, t.at, t.id),
    check('audit_entries_outcome_check', sql`${t.outcome} in ('ok', 'denied')`),
  ],
);

/**
 * The chain's single head row (`id = 1`): the last chained position and hash, and the checkpoint left by
 * pruning (the last pruned entry's position and hash), from which verification starts. Chainers lock it
 * `FOR UPDATE SKIP LOCKED`, so one node chains at a time and the others skip the round.
 */
export const auditChain = pgTable(
  'audit_chain',
  {
    id: integer('id').primaryKey(),
    headSeq: bigint('head_seq', { mode: 'number' }).notNull(),
    headHash: text('head_hash').notNull(),
    /** Last pruned chain position (0: nothing pruned). */
    checkpointSeq: bigint('checkpoint_seq', { mode: 'number' }).notNull(),
    /** Hash of the last pruned entry (the genesis value while nothing is pruned). */
    checkpointHash: text('checkpoint_hash').notNull(),
    /** `at` of the last pruned entry. */
    checkpointAt: timestamp('checkpoint_at', { withTimezone: true, precision: 6 }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('audit_chain_single_row', sql`${t.id} = 1`)],
);
