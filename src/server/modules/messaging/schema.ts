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

/** Thread kinds: the one general thread of a case (办件沟通) and topic threads (专题会商). */
export const THREAD_KINDS = ['general', 'topic'] as const;
/** What a mention (@) names: a staff account, a department (部门), or a hall (大厅). */
export const MENTION_KINDS = ['staff', 'department', 'hall'] as const;

/** One mention, stored structurally (never re-parsed from the text). */
export interface StoredMention {
  kind: (typeof MENTION_KINDS)[number];
  id: string;
}

/**
 * 办件沟通线程 — a conversation inside a case between staff: the intake hall, the competent department and
 * any consulted department. A case has one `general` thread — its id IS the case id, so it exists for
 * clients before its first message (the row is written with the first message or consultation) — and any
 * number of `topic` threads. `case_id` refers to the cases module's case by id only (no foreign key
 * across modules). `last_seq` is the number of messages (their `seq` runs 1…last_seq).
 */
export const caseThreads = pgTable(
  'case_threads',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    caseNumber: text('case_number').notNull(),
    kind: text('kind', { enum: THREAD_KINDS }).notNull(),
    /** Topic threads: the subject (1–100 characters). General thread: ''. */
    subject: text('subject').notNull().default(''),
    createdByAccountId: text('created_by_account_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeq: integer('last_seq').notNull().default(0),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
  },
  (t) => [index('case_threads_case_idx').on(t.caseId)],
);

/**
 * 办件沟通消息 — append-only: never edited or deleted (a correction is a new message). `seq` numbers the
 * messages of a thread from 1 (keyset pagination and read cursors use it). Author fields are a snapshot
 * of the staff account at posting time. `mentions` is `[{ kind, id }]`, as posted.
 */
export const caseMessages = pgTable(
  'case_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    threadId: uuid('thread_id').notNull(),
    caseId: uuid('case_id').notNull(),
    seq: integer('seq').notNull(),
    authorAccountId: text('author_account_id').notNull(),
    authorName: text('author_name').notNull(),
    authorDepartmentId: text('author_department_id'),
    authorHallCode: text('author_hall_code'),
    /** The text: trimmed, 1–2,000 characters, full ID and mobile numbers masked. */
    body: text('body').notNull(),
    mentions: jsonb('mentions').$type<StoredMention[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('case_messages_thread_seq_uq').on(t.threadId, t.seq)],
);

/**
 * One row per (message, mention): finds "messages that mention me, my department or my hall" for the
 * unread counts without scanning message bodies. `seq` copies the message's.
 */
export const caseMessageMentions = pgTable(
  'case_message_mentions',
  {
    messageId: uuid('message_id').notNull(),
    threadId: uuid('thread_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: MENTION_KINDS }).notNull(),
    targetId: text('target_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.kind, t.targetId] }),
    index('case_message_mentions_target_idx').on(t.kind, t.targetId, t.threadId, t.seq),
  ],
);

/**
 * 会商部门 — a department consulted on one thread (added by the intake hall or the competent department).
 * Its staff read and post in THAT thread only; the case itself stays as the case policy decides.
 */
export const caseThreadDepartments = pgTable(
  'case_thread_departments',
  {
    threadId: uuid('thread_id').notNull(),
    departmentId: text('department_id').notNull(),
    caseId: uuid('case_id').notNull(),
    addedByAccountId: text('added_by_account_id').notNull(),
    reason: text('reason').notNull(),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.threadId, t.departmentId] }),
    index('case_thread_departments_department_idx').on(t.departmentId),
  ],
);

/**
 * 关注与已读 — who follows a thread (for the unread summary across cases) and how far they have read.
 * `follower_kind` is `staff` (an account: its read cursor), `department` or `hall` (a place whose staff
 * see the thread in their summary; `last_read_seq` unused, 0). Written when someone posts (the author,
 * the case's intake hall and competent department), is mentioned, is consulted, or marks read.
 */
export const caseThreadFollowers = pgTable(
  'case_thread_followers',
  {
    threadId: uuid('thread_id').notNull(),
    followerKind: text('follower_kind', { enum: MENTION_KINDS }).notNull(),
    followerId: text('follower_id').notNull(),
    caseId: uuid('case_id').notNull(),
    /** staff: messages with seq ≤ this have been read. */
    lastReadSeq: integer('last_read_seq').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.threadId, t.followerKind, t.followerId] }),
    index('case_thread_followers_follower_idx').on(t.followerKind, t.followerId),
  ],
);
