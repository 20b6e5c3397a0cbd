import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from './index.ts';

/**
 * Writes that need no answer, collected during a transaction and sent in ONE round trip just before it
 * commits: `WITH w1 AS (<write 1>), w2 AS (<write 2>) … SELECT pg_notify(…) …`. A transition of a case
 * used to send a dozen statements (each a network round trip and a syscall pair); its event, outbox row,
 * case update, idempotency record and announcement now travel together.
 *
 * PostgreSQL runs every data-modifying statement of a WITH exactly once and to completion, in the order
 * of the list but on ONE snapshot: a write cannot see another write of the same batch, and no two writes
 * of a batch may touch the same row (that is unsupported). Each module adds the statements for its own
 * tables (its repository builds them); the transaction's owner calls {@link WriteBatch.flush}.
 *
 * `pg_notify` in the batch is still transactional: listeners hear it only when the transaction commits.
 */
export class WriteBatch {
  private readonly writes: SQL[] = [];
  private readonly notifications: { channel: string; payload: string }[] = [];

  /** Queues an INSERT, UPDATE or DELETE (without RETURNING) to run at {@link flush}. */
  add(write: SQL): void {
    this.writes.push(write);
  }

  /** Queues `pg_notify(channel, payload)` (payload < 8,000 bytes), heard by listeners on commit. */
  notify(channel: string, payload: string): void {
    this.notifications.push({ channel, payload });
  }

  /** Number of queued writes and notifications. */
  get size(): number {
    return this.writes.length + this.notifications.length;
  }

  /**
   * Sends everything queued as one statement in `tx`, then empties the batch. A failing write fails the
   * statement (and so the transaction): nothing of the batch is applied.
   */
  async flush(tx: Tx): Promise<void> {
    if (this.size === 0) return;
    const writes = this.writes.splice(0);
    const notes = this.notifications.splice(0);
    const tail =
      notes.length === 0
        ? sql`select 1`
        : sql`select ${sql.join(
            notes.map((n) => sql`pg_notify(${n.channel}, ${n.payload})`),
            sql`, `,
          )}`;
    if (writes.length === 0) {
      await tx.execute(tail);
      return;
    }
    if (writes.length === 1 && notes.length === 0) {
      await tx.execute(writes[0]!);
      return;
    }
    const ctes = sql.join(
      writes.map((w, i) => sql`${sql.raw(`w${i}`)} as (${w})`),
      sql`, `,
    );
    await tx.execute(sql`with ${ctes} ${tail}`);
  }
}
