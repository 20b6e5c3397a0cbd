import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { countAll } from '../../db/sql.ts';
import { departments } from './schema.ts';

export type DepartmentRow = typeof departments.$inferSelect;
export type NewDepartmentRow = typeof departments.$inferInsert;

/** SQL for the departments module. */
export class DepartmentsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insertMany(rows: NewDepartmentRow[], tx: Tx | Db = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await tx
        .insert(departments)
        .values(rows.slice(i, i + 500))
        .onConflictDoNothing();
    }
  }

  async find(filter: {
    divisionCode?: string;
    kind?: string;
    id?: string;
    creditCode?: string;
  }): Promise<DepartmentRow[]> {
    const where: SQL[] = [];
    if (filter.divisionCode) where.push(eq(departments.divisionCode, filter.divisionCode));
    if (filter.kind) where.push(eq(departments.kind, filter.kind));
    if (filter.id) where.push(eq(departments.id, filter.id));
    if (filter.creditCode) where.push(eq(departments.creditCode, filter.creditCode));
    return this.db
      .select()
      .from(departments)
      .where(and(...where))
      .orderBy(asc(departments.divisionCode), asc(departments.kind));
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: countAll() }).from(departments);
    return row?.n ?? 0;
  }
}
