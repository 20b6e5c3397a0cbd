import { and, asc, eq, inArray, like, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { countAll } from '../../db/sql.ts';
import { halls, hallWindows } from './schema.ts';

export type HallRow = typeof halls.$inferSelect;
export type NewHallRow = typeof halls.$inferInsert;
export type HallLevel = HallRow['level'];
export type HallWindowRow = typeof hallWindows.$inferSelect;
export type NewHallWindowRow = typeof hallWindows.$inferInsert;

/** SQL for the halls module. */
export class HallsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insertMany(rows: NewHallRow[], tx: Tx | Db = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await tx
        .insert(halls)
        .values(rows.slice(i, i + 500))
        .onConflictDoNothing();
    }
  }

  async findByCode(code: string): Promise<HallRow | undefined> {
    const [row] = await this.db.select().from(halls).where(eq(halls.code, code));
    return row;
  }

  async existingCodes(codes: string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const rows = await this.db.select({ code: halls.code }).from(halls).where(inArray(halls.code, codes));
    return rows.map((r) => r.code);
  }

  /** Halls located in the division subtree `divisionPrefix` (code prefix), ordered by code. */
  async listInDivision(filter: {
    divisionPrefix: string;
    level?: HallLevel;
    limit: number;
    after?: string;
  }): Promise<HallRow[]> {
    const where: SQL[] = [like(halls.divisionCode, `${filter.divisionPrefix}%`)];
    if (filter.level) where.push(eq(halls.level, filter.level));
    if (filter.after) where.push(sql`${halls.code} > ${filter.after}`);
    return this.db
      .select()
      .from(halls)
      .where(and(...where))
      .orderBy(asc(halls.code))
      .limit(filter.limit);
  }

  /**
   * The `limit` halls nearest to a point by an equirectangular approximation (good to < 0.5 % at
   * Guizhou's latitudes and distances); callers compute exact great-circle distances for the result.
   */
  async nearest(p: {
    latitude: number;
    longitude: number;
    limit: number;
    levels?: HallLevel[];
  }): Promise<HallRow[]> {
    const k = Math.cos((p.latitude * Math.PI) / 180);
    const d2 = sql`((${halls.latitude} - ${p.latitude}) * (${halls.latitude} - ${p.latitude}) + ((${halls.longitude} - ${p.longitude}) * ${k}) * ((${halls.longitude} - ${p.longitude}) * ${k}))`;
    const where = p.levels?.length
      ? sql`${halls.level} in (${sql.join(
          p.levels.map((l) => sql`${l}`),
          sql`, `,
        )})`
      : undefined;
    return this.db.select().from(halls).where(where).orderBy(d2, asc(halls.code)).limit(p.limit);
  }

  /** The windows of a hall, by number. */
  async windowsOf(code: string): Promise<HallWindowRow[]> {
    return this.db
      .select()
      .from(hallWindows)
      .where(eq(hallWindows.hallCode, code))
      .orderBy(asc(hallWindows.number));
  }

  /** Replaces the windows of a hall (and its window count) inside `tx`. */
  async replaceWindows(tx: Tx, code: string, rows: NewHallWindowRow[]): Promise<void> {
    await tx.delete(hallWindows).where(eq(hallWindows.hallCode, code));
    if (rows.length > 0) await tx.insert(hallWindows).values(rows);
    await tx.update(halls).set({ windows: rows.length }).where(eq(halls.code, code));
  }

  /** Updates a hall's row inside `tx`; returns it as it is now. */
  async updateHall(tx: Tx, code: string, set: Partial<NewHallRow>): Promise<HallRow | undefined> {
    const [row] = await tx.update(halls).set(set).where(eq(halls.code, code)).returning();
    return row;
  }

  /** Locks a hall's row for an update (read inside `tx`). */
  async lockHall(tx: Tx, code: string): Promise<HallRow | undefined> {
    const [row] = await tx.select().from(halls).where(eq(halls.code, code)).for('update');
    return row;
  }

  async countByLevel(): Promise<Record<HallLevel, number>> {
    const rows = await this.db.select({ level: halls.level, n: countAll() }).from(halls).groupBy(halls.level);
    const out: Record<HallLevel, number> = { province: 0, prefecture: 0, county: 0, township: 0, village: 0 };
    for (const r of rows) out[r.level] = r.n;
    return out;
  }
}
