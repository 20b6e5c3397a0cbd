import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** Who a message is for: the applicant (申请人), a staff member, or a whole department's inbox. */
export const RECIPIENT_KINDS = ['applicant', 'staff', 'department'] as const;
/** How a message travels. `inbox` is the in-app inbox (this table itself). */
export const CHANNEL_NAMES = ['inbox', 'web_push', 'sms', 'email'] as const;
/**
 * Message lifecycle: `created → sending → delivered | failed`. A `failed` row with a `next_attempt_at`
 * is retried; without one it has been given up. A `sending` row whose lease (`next_attempt_at`) has
 * passed was lost by a crashed sender and is claimed again.
 */
export const MESSAGE_STATUSES = ['created', 'sending', 'delivered', 'failed'] as const;

/**
 * 消息: one message to one recipient over one channel, rendered from an outbox event with a template
 * in the recipient's language. `(outbox_id, recipient_kind, recipient_id, channel, address)` is unique,
 * so an event handed to the handler twice never makes a second message.
 *
 * Named `notification_messages` (exported as `messages`) so that other modules' "messages" (e.g. the
 * conversation inside a case) do not collide.
 */
export const messages = pgTable(
  'notification_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The outbox event this message was made from (null for messages made otherwise). */
    outboxId: bigint('outbox_id', { mode: 'number' }),
    /** e.g. `case.accepted` */
    topic: text('topic').notNull(),
    caseId: text('case_id'),
    caseNumber: text('case_number'),
    recipientKind: text('recipient_kind', { enum: RECIPIENT_KINDS }).notNull(),
    /** account id / staff id / department id; `case:<caseId>` for an applicant without an account. */
    recipientId: text('recipient_id').notNull(),
    channel: text('channel', { enum: CHANNEL_NAMES }).notNull(),
    /**
     * push endpoint (web_push); '' for the inbox; for sms and email the blind index `bi:<HMAC-SM3 hex>` of
     * the phone / email address (so the unique key still de-duplicates) — the address itself is only in
     * `address_sealed`.
     */
    address: text('address').notNull().default(''),
    /** SM4 envelope of the phone number / email address (sms, email); opened only to send. */
    addressSealed: text('address_sealed'),
    /** BCP 47: `zh-CN` or `en`. */
    locale: text('locale').notNull(),
    /** i18next key of the template, e.g. `case.accepted`. */
    templateKey: text('template_key').notNull(),
    subject: text('subject').notNull(),
    /** The text; for a message carrying a secret (pickup code) the text with the secret redacted (`******`). */
    body: text('body').notNull(),
    /**
     * SM4 envelope of the full text when `body` is redacted: opened to send and to show the recipient's
     * inbox; cleared once an external channel (sms, email, push) delivered it.
     */
    bodySealed: text('body_sealed'),
    /** Key id of the envelopes in this row; `none` when it has none; null: written before encryption. */
    piiKeyId: text('pii_key_id'),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull().default('created'),
    /** Send attempts started so far (incremented when a sender claims the message). */
    attempts: integer('attempts').notNull().default(0),
    /**
     * When a sender may claim the message next: due time for `created`/`failed`, lease expiry for
     * `sending`; null when delivered or given up.
     */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    /** Inbox only: when the recipient read it. */
    readAt: timestamp('read_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('notification_messages_event_recipient_uq').on(
      t.outboxId,
      t.recipientKind,
      t.recipientId,
      t.channel,
      t.address,
    ),
    index('notification_messages_pii_key_idx').on(t.piiKeyId),
    index('notification_messages_due_idx').on(t.nextAttemptAt).where(sql`${t.nextAttemptAt} is not null`),
    index('notification_messages_inbox_idx').on(
      t.recipientKind,
      t.recipientId,
      t.channel,
      t.createdAt.desc(),
      t.id.desc(),
    ),
  ],
);

/** Web Push subscriptions (W3C Push API `PushSubscription`) of an account; one row per endpoint. */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: text('account_id').notNull(),
    /** The push service URL of one browser; unique. */
    endpoint: text('endpoint').notNull(),
    /** The browser's P-256 public key, base64url (65 bytes uncompressed). */
    p256dh: text('p256dh').notNull(),
    /** The 16-byte authentication secret, base64url. */
    auth: text('auth').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('push_subscriptions_endpoint_uq').on(t.endpoint),
    index('push_subscriptions_account_idx').on(t.accountId),
  ],
);
