import { and, asc, desc, eq, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { countAll } from '../../db/sql.ts';
import { messages, pushSubscriptions } from './schema.ts';

export type MessageRow = typeof messages.$inferSelect;
export type NewMessageRow = typeof messages.$inferInsert;
export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect;
export type RecipientKind = MessageRow['recipientKind'];

/** SQL for the notifications module (no business rules). */
export class NotificationsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Inserts messages, skipping any that already exist for the same event/recipient/channel/address. */
  async insertMessages(tx: Tx | Db, rows: NewMessageRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted = await tx
      .insert(messages)
      .values(rows)
      .onConflictDoNothing({
        target: [
          messages.outboxId,
          messages.recipientKind,
          messages.recipientId,
          messages.channel,
          messages.address,
        ],
      })
      .returning({ id: messages.id });
    return inserted.length;
  }

  /** Sending messages whose lease expired after their last allowed attempt → failed for good. */
  async expireLost(now: Date, maxAttempts: number, reason: string): Promise<number> {
    const rows = await this.db
      .update(messages)
      .set({ status: 'failed', nextAttemptAt: null, lastError: reason, updatedAt: now })
      .where(
        and(
          eq(messages.status, 'sending'),
          lte(messages.nextAttemptAt, now),
          sql`${messages.attempts} >= ${maxAttempts}`,
        ),
      )
      .returning({ id: messages.id });
    return rows.length;
  }

  /**
   * Claims up to `limit` due messages (`next_attempt_at <= now`, fewer than `maxAttempts` attempts; oldest
   * due first) with FOR UPDATE SKIP LOCKED, and in the same statement marks them `sending`, counts the
   * attempt and sets the lease (`next_attempt_at = leaseUntil`). Rows another sender holds are skipped.
   */
  async claimDue(p: {
    now: Date;
    limit: number;
    leaseUntil: Date;
    maxAttempts: number;
  }): Promise<MessageRow[]> {
    return this.db.transaction(async (tx) => {
      const due = tx
        .select({ id: messages.id })
        .from(messages)
        .where(
          and(
            inArray(messages.status, ['created', 'failed', 'sending']),
            lte(messages.nextAttemptAt, p.now),
            sql`${messages.attempts} < ${p.maxAttempts}`,
          ),
        )
        .orderBy(asc(messages.nextAttemptAt))
        .limit(p.limit)
        .for('update', { skipLocked: true });
      return tx
        .update(messages)
        .set({
          status: 'sending',
          attempts: sql`${messages.attempts} + 1`,
          nextAttemptAt: p.leaseUntil,
          updatedAt: p.now,
        })
        .where(inArray(messages.id, due))
        .returning();
    });
  }

  /**
   * Records the outcome of the attempt `attempts` of message `id` — only if that claim still holds (the
   * row is `sending` with the same attempt count), so a sender whose lease expired cannot overwrite a
   * newer attempt. @returns whether the row was updated.
   */
  async recordOutcome(
    id: string,
    attempts: number,
    outcome:
      | { status: 'delivered'; at: Date }
      | { status: 'failed'; at: Date; error: string; nextAttemptAt: Date | null },
  ): Promise<boolean> {
    const set =
      outcome.status === 'delivered'
        ? {
            status: 'delivered' as const,
            // Delivered over an external channel: the full text (e.g. with the pickup code) is no longer kept.
            bodySealed: null,
            deliveredAt: outcome.at,
            nextAttemptAt: null,
            lastError: null,
            updatedAt: outcome.at,
          }
        : {
            status: 'failed' as const,
            nextAttemptAt: outcome.nextAttemptAt,
            lastError: outcome.error,
            updatedAt: outcome.at,
          };
    const rows = await this.db
      .update(messages)
      .set(set)
      .where(and(eq(messages.id, id), eq(messages.status, 'sending'), eq(messages.attempts, attempts)))
      .returning({ id: messages.id });
    return rows.length === 1;
  }

  /**
   * Locks up to `limit` messages written before encryption (`pii_key_id` null) or sealed under one of
   * `staleKeyIds`, skipping rows another transaction holds (FOR UPDATE SKIP LOCKED).
   */
  lockPiiStale(tx: Tx, staleKeyIds: string[], limit: number): Promise<MessageRow[]> {
    const stale = staleKeyIds.length > 0 ? inArray(messages.piiKeyId, staleKeyIds) : undefined;
    return tx
      .select()
      .from(messages)
      .where(stale ? or(isNull(messages.piiKeyId), stale) : isNull(messages.piiKeyId))
      .orderBy(asc(messages.id))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Rewrites the personal-data columns of a locked message. */
  async setPii(
    tx: Tx,
    id: string,
    set: Pick<NewMessageRow, 'address' | 'addressSealed' | 'body' | 'bodySealed' | 'piiKeyId'>,
  ): Promise<void> {
    await tx.update(messages).set(set).where(eq(messages.id, id));
  }

  /** Inbox messages of a recipient, newest first, strictly before the `(createdAt, id)` cursor. */
  async inbox(p: {
    kind: RecipientKind;
    id: string;
    limit: number;
    before?: { createdAt: Date; id: string } | undefined;
  }): Promise<MessageRow[]> {
    const where: SQL[] = [
      eq(messages.recipientKind, p.kind),
      eq(messages.recipientId, p.id),
      eq(messages.channel, 'inbox'),
    ];
    if (p.before)
      where.push(
        sql`(${messages.createdAt}, ${messages.id}) < (${p.before.createdAt.toISOString()}::timestamptz, ${p.before.id}::uuid)`,
      );
    return this.db
      .select()
      .from(messages)
      .where(and(...where))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(p.limit);
  }

  async unreadCount(kind: RecipientKind, id: string): Promise<number> {
    const [row] = await this.db
      .select({ n: countAll() })
      .from(messages)
      .where(
        and(
          eq(messages.recipientKind, kind),
          eq(messages.recipientId, id),
          eq(messages.channel, 'inbox'),
          isNull(messages.readAt),
        ),
      );
    return row?.n ?? 0;
  }

  /** Sets `read_at` on those of `ids` that are unread inbox messages of the recipient. @returns how many. */
  async markRead(kind: RecipientKind, id: string, ids: string[], at: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.db
      .update(messages)
      .set({ readAt: at })
      .where(
        and(
          eq(messages.recipientKind, kind),
          eq(messages.recipientId, id),
          eq(messages.channel, 'inbox'),
          inArray(messages.id, ids),
          isNull(messages.readAt),
        ),
      )
      .returning({ id: messages.id });
    return rows.length;
  }

  async findMessage(id: string): Promise<MessageRow | undefined> {
    const [row] = await this.db.select().from(messages).where(eq(messages.id, id));
    return row;
  }

  /** Messages made from a case's events, in event order, then by recipient and channel. */
  async messagesOfCase(caseId: string): Promise<MessageRow[]> {
    return this.db
      .select()
      .from(messages)
      .where(eq(messages.caseId, caseId))
      .orderBy(
        asc(messages.outboxId),
        asc(messages.createdAt),
        asc(messages.recipientKind),
        asc(messages.recipientId),
        asc(messages.channel),
        asc(messages.address),
      );
  }

  /** Counts by status for `/health` and operations (e.g. `{ created: 3, failed: 1 }`). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db
      .select({ status: messages.status, n: countAll() })
      .from(messages)
      .groupBy(messages.status);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  // ------------------------------------------------------------------------------- push subscriptions

  async subscriptionsOf(tx: Tx | Db, accountId: string): Promise<PushSubscriptionRow[]> {
    return tx
      .select()
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.accountId, accountId))
      .orderBy(asc(pushSubscriptions.createdAt), asc(pushSubscriptions.id));
  }

  /** Inserts, or — same endpoint — moves it to `accountId` with the new keys. */
  async upsertSubscription(row: {
    accountId: string;
    endpoint: string;
    p256dh: string;
    auth: string;
  }): Promise<PushSubscriptionRow> {
    const [saved] = await this.db
      .insert(pushSubscriptions)
      .values(row)
      .onConflictDoUpdate({
        target: pushSubscriptions.endpoint,
        set: { accountId: row.accountId, p256dh: row.p256dh, auth: row.auth },
      })
      .returning();
    return saved!;
  }

  async findSubscription(endpoint: string): Promise<PushSubscriptionRow | undefined> {
    const [row] = await this.db
      .select()
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.endpoint, endpoint));
    return row;
  }

  async deleteSubscription(endpoint: string, accountId?: string): Promise<number> {
    const where = accountId
      ? and(eq(pushSubscriptions.endpoint, endpoint), eq(pushSubscriptions.accountId, accountId))
      : eq(pushSubscriptions.endpoint, endpoint);
    const rows = await this.db.delete(pushSubscriptions).where(where).returning({ id: pushSubscriptions.id });
    return rows.length;
  }
}
