import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { custodyEvents } from './schema.ts';

export type CustodyEventRow = typeof custodyEvents.$inferSelect;
export type NewCustodyEventRow = Omit<typeof custodyEvents.$inferInsert, 'id'>;

/** SQL for the custody module. No business rules here. */
export class CustodyRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Serialises writers of one material for the rest of the transaction (a transaction-level advisory
   * lock: no row of another module is touched, and it works on PGlite and PostgreSQL alike).
   */
  async lockMaterial(tx: Tx, caseId: string, materialSeq: number): Promise<void> {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`custody:${caseId}:${materialSeq}`}, 0))`,
    );
  }

  /** A material's events, oldest first. */
  async events(caseId: string, materialSeq: number, tx: Tx | Db = this.db): Promise<CustodyEventRow[]> {
    return tx
      .select()
      .from(custodyEvents)
      .where(and(eq(custodyEvents.caseId, caseId), eq(custodyEvents.materialSeq, materialSeq)))
      .orderBy(asc(custodyEvents.seq));
  }

  /** Every material's events of a case, by material then order. */
  async eventsOfCase(caseId: string): Promise<CustodyEventRow[]> {
    return this.db
      .select()
      .from(custodyEvents)
      .where(eq(custodyEvents.caseId, caseId))
      .orderBy(asc(custodyEvents.materialSeq), asc(custodyEvents.seq));
  }

  async append(tx: Tx, row: NewCustodyEventRow): Promise<CustodyEventRow> {
    const [inserted] = await tx.insert(custodyEvents).values(row).returning();
    return inserted!;
  }

  /** The `scanned` event that stored `fileKey` for this case material, if any. */
  async findScan(caseId: string, materialSeq: number, fileKey: string): Promise<CustodyEventRow | undefined> {
    const [row] = await this.db
      .select()
      .from(custodyEvents)
      .where(
        and(
          eq(custodyEvents.caseId, caseId),
          eq(custodyEvents.fileKey, fileKey),
          eq(custodyEvents.materialSeq, materialSeq),
          eq(custodyEvents.type, 'scanned'),
        ),
      );
    return row;
  }
}
