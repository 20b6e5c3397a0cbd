import { and, asc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { DivisionLevel } from '../../../domain/division-code.ts';
import type { Db, Tx } from '../../db/index.ts';
import { countAll } from '../../db/sql.ts';
import { divisions } from './schema.ts';

export type { DivisionLevel };

/** A division row: GB/T 2260 code, name, level, parent and containing county. */
export interface DivisionRecord {
  code: string;
  name: string;
  level: DivisionLevel;
  parentCode: string | null;
  countyCode: string | null;
}

const BATCH = 1000;

/** SQL for the regions module. No business rules here. */
export class RegionsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insertMany(rows: DivisionRecord[], tx: Tx | Db = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      await tx
        .insert(divisions)
        .values(rows.slice(i, i + BATCH))
        .onConflictDoNothing();
    }
  }

  async findByCode(code: string): Promise<DivisionRecord | undefined> {
    const [row] = await this.db.select().from(divisions).where(eq(divisions.code, code));
    return row;
  }

  async findByCodes(codes: string[]): Promise<DivisionRecord[]> {
    if (codes.length === 0) return [];
    return this.db.select().from(divisions).where(inArray(divisions.code, codes));
  }

  async list(filter: {
    level?: DivisionLevel;
    parentCode?: string;
    limit: number;
    after?: string;
  }): Promise<DivisionRecord[]> {
    const where: SQL[] = [];
    if (filter.level) where.push(eq(divisions.level, filter.level));
    if (filter.parentCode) where.push(eq(divisions.parentCode, filter.parentCode));
    const q = this.db
      .select()
      .from(divisions)
      .where(and(...where, ...(filter.after ? [gt(divisions.code, filter.after)] : [])))
      .orderBy(asc(divisions.code))
      .limit(filter.limit);
    return q;
  }

  async countByLevel(): Promise<Record<DivisionLevel, number>> {
    const rows = await this.db
      .select({ level: divisions.level, n: countAll() })
      .from(divisions)
      .groupBy(divisions.level);
    const out: Record<DivisionLevel, number> = {
      province: 0,
      prefecture: 0,
      county: 0,
      township: 0,
      village: 0,
    };
    for (const r of rows) out[r.level] = r.n;
    return out;
  }
}
