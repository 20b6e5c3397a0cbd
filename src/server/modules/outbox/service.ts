import type { WriteBatch } from '../../db/batch.ts';
import type { Db, Tx } from '../../db/index.ts';
import { type NewOutboxRow, OutboxRepository, type OutboxRow } from './repository.ts';

export type { NewOutboxRow, OutboxRow };

/** A consumer of outbox events. It runs inside the dispatch transaction: write rows with `tx` only. */
export type OutboxHandler = (tx: Tx, event: OutboxRow) => Promise<void>;

/**
 * The outbox module's public face: append events inside a caller's transaction, and dispatch them to
 * handlers exactly once (claimed with FOR UPDATE SKIP LOCKED, so any number of nodes may dispatch).
 */
export class OutboxService {
  private readonly repo: OutboxRepository;
  private readonly handlers: OutboxHandler[] = [];
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
    this.repo = new OutboxRepository(db);
  }

  /** Appends events in the caller's transaction `tx` (they exist iff `tx` commits). */
  append(tx: Tx, events: NewOutboxRow[]): Promise<void> {
    return this.repo.append(tx, events);
  }

  /**
   * Queues events on the caller's {@link WriteBatch}: they are written when the batch is flushed in the
   * caller's transaction (and exist iff it commits). Same effect as {@link append}, without a round trip.
   */
  appendLater(batch: WriteBatch, events: NewOutboxRow[]): void {
    if (events.length > 0) batch.add(this.repo.appendSql(events));
  }

  /** Registers a handler; every later dispatch hands it each event once. */
  subscribe(handler: OutboxHandler): void {
    this.handlers.push(handler);
  }

  /**
   * Dispatches up to `limit` pending events in one transaction: each handler runs for each event, then
   * the events are marked dispatched. If a handler throws, the whole batch rolls back and is retried by
   * the next dispatch. @returns how many events were dispatched.
   */
  async dispatch(limit = 100): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await this.repo.claim(tx, limit);
      for (const row of rows) for (const h of this.handlers) await h(tx, row);
      await this.repo.markDispatched(
        tx,
        rows.map((r) => r.id),
      );
      return rows.length;
    });
  }

  /**
   * Rewrites stored payloads that still carry one of `keys` (at the top level or in `applicant`), e.g.
   * personal data written in clear before encryption: up to `limit` rows, claimed with FOR UPDATE SKIP
   * LOCKED, each replaced by `rewrite(payload)` (which must remove those keys). @returns rows rewritten.
   */
  async rewritePayloads(
    keys: string[],
    limit: number,
    rewrite: (payload: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await this.repo.lockWithPayloadKeys(tx, keys, limit);
      for (const r of rows) await this.repo.setPayload(tx, r.id, rewrite(r.payload));
      return rows.length;
    });
  }

  /** Events of one aggregate in order (for timelines and tests). */
  eventsOf(aggregateType: string, aggregateId: string): Promise<OutboxRow[]> {
    return this.repo.listFor(aggregateType, aggregateId);
  }
}
