import { inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf } from '../../db/sql.ts';
import { outbox } from './schema.ts';

export type OutboxRow = typeof outbox.$inferSelect;
export type NewOutboxRow = Omit<typeof outbox.$inferInsert, 'id' | 'createdAt' | 'dispatchedAt'>;

/** SQL for the outbox. */
export class OutboxRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async append(tx: Tx | Db, rows: NewOutboxRow[]): Promise<void> {
    if (rows.length > 0) await tx.insert(outbox).values(rows);
  }

  /** The INSERT of `rows` (at least one), not sent: for a {@link WriteBatch}. */
  appendSql(rows: NewOutboxRow[]): SQL {
    // A plain template (not the query builder): it is on every case transition's path.
    const values = rows.map(
      (r) => sql`(${r.topic}, ${r.aggregateType}, ${r.aggregateId}, ${JSON.stringify(r.payload)}::jsonb)`,
    );
    return sql`insert into ${outbox} (topic, aggregate_type, aggregate_id, payload) values ${sql.join(values, sql`, `)}`;
  }

  /** Locks up to `limit` undispatched rows (oldest first), skipping rows another node holds. */
  async claim(tx: Tx, limit: number): Promise<OutboxRow[]> {
    const result = await tx.execute(sql`
      select id, topic, aggregate_type as "aggregateType", aggregate_id as "aggregateId", payload,
             created_at as "createdAt", dispatched_at as "dispatchedAt"
      from outbox where dispatched_at is null order by id limit ${limit} for update skip locked`);
    return rowsOf<OutboxRow>(result).map((r) => ({
      ...r,
      id: Number(r.id),
      createdAt: new Date(r.createdAt),
    }));
  }

  async markDispatched(tx: Tx, ids: number[]): Promise<void> {
    if (ids.length > 0)
      await tx.update(outbox).set({ dispatchedAt: new Date() }).where(inArray(outbox.id, ids));
  }

  /**
   * Locks up to `limit` rows whose payload (or its `applicant` object) has one of `keys` at the top level,
   * skipping rows another transaction holds (FOR UPDATE SKIP LOCKED).
   */
  async lockWithPayloadKeys(
    tx: Tx,
    keys: string[],
    limit: number,
  ): Promise<{ id: number; payload: Record<string, unknown> }[]> {
    const list = sql.raw(`array[${keys.map((k) => `'${k.replaceAll("'", "''")}'`).join(',')}]`);
    const result = await tx.execute(sql`
      select id, payload from outbox
      where payload ?| ${list} or (jsonb_typeof(payload->'applicant') = 'object' and payload->'applicant' ?| ${list})
      order by id limit ${limit} for update skip locked`);
    return rowsOf<{ id: number | string; payload: Record<string, unknown> }>(result).map((r) => ({
      id: Number(r.id),
      payload: r.payload,
    }));
  }

  async setPayload(tx: Tx, id: number, payload: Record<string, unknown>): Promise<void> {
    await tx.update(outbox).set({ payload }).where(sql`${outbox.id} = ${id}`);
  }

  async listFor(aggregateType: string, aggregateId: string): Promise<OutboxRow[]> {
    return this.db
      .select()
      .from(outbox)
      .where(sql`${outbox.aggregateType} = ${aggregateType} and ${outbox.aggregateId} = ${aggregateId}`)
      .orderBy(outbox.id);
  }
}
