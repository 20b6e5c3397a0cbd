import { asc, eq } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { piiReads } from './schema.ts';

export type PiiReadRow = typeof piiReads.$inferSelect;

/** SQL for the pii module (no business rules). */
export class PiiRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insertRead(tx: Tx | Db, row: typeof piiReads.$inferInsert): Promise<void> {
    await tx.insert(piiReads).values(row);
  }

  readsOf(target: string): Promise<PiiReadRow[]> {
    return this.db.select().from(piiReads).where(eq(piiReads.target, target)).orderBy(asc(piiReads.at));
  }
}
