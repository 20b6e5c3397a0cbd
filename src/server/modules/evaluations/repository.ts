import { type AnyColumn, and, eq, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import { evaluationAppeals, evaluations, rectifications } from './schema.ts';

export type EvaluationRow = typeof evaluations.$inferSelect;
export type RectificationRow = typeof rectifications.$inferSelect;
export type AppealRow = typeof evaluationAppeals.$inferSelect;

/** The places a staff member's grants cover, as SQL filters (department ids, hall codes, division prefixes). */
export interface PlaceFilter {
  departmentIds: string[];
  hallCodes: string[];
  divisionPrefixes: string[];
}

/** SQL of the evaluations module (no business rules). */
export class EvaluationsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The case's rating about `subject` (one per case and subject), whoever gave it. */
  async findByCase(
    caseId: string,
    subject: 'service' | 'hall',
    tx: Tx | Db = this.db,
  ): Promise<EvaluationRow | null> {
    const [row] = await tx
      .select()
      .from(evaluations)
      .where(and(eq(evaluations.caseId, caseId), eq(evaluations.subject, subject)));
    return row ?? null;
  }

  async findEvaluation(id: string, tx: Tx | Db = this.db): Promise<EvaluationRow | null> {
    const [row] = await tx.select().from(evaluations).where(eq(evaluations.id, id));
    return row ?? null;
  }

  /** Inserts a rating; null when the case already has one about that subject (unique index). */
  async insertEvaluation(tx: Tx, row: typeof evaluations.$inferInsert): Promise<EvaluationRow | null> {
    const [inserted] = await tx.insert(evaluations).values(row).onConflictDoNothing().returning();
    return inserted ?? null;
  }

  async insertRectification(tx: Tx, row: typeof rectifications.$inferInsert): Promise<RectificationRow> {
    const [inserted] = await tx.insert(rectifications).values(row).returning();
    return inserted!;
  }

  async findRectification(id: string, tx: Tx | Db = this.db): Promise<RectificationRow | null> {
    const [row] = await tx.select().from(rectifications).where(eq(rectifications.id, id));
    return row ?? null;
  }

  async lockRectification(tx: Tx, id: string): Promise<RectificationRow | null> {
    const [row] = await tx.select().from(rectifications).where(eq(rectifications.id, id)).for('update');
    return row ?? null;
  }

  async rectificationOfEvaluation(
    evaluationId: string,
    tx: Tx | Db = this.db,
  ): Promise<RectificationRow | null> {
    const [row] = await tx.select().from(rectifications).where(eq(rectifications.evaluationId, evaluationId));
    return row ?? null;
  }

  async updateRectification(
    tx: Tx,
    id: string,
    set: Partial<typeof rectifications.$inferInsert>,
  ): Promise<RectificationRow> {
    const [row] = await tx.update(rectifications).set(set).where(eq(rectifications.id, id)).returning();
    return row!;
  }

  async excludeEvaluation(tx: Tx, id: string): Promise<void> {
    await tx.update(evaluations).set({ excluded: true }).where(eq(evaluations.id, id));
  }

  async lockEvaluation(tx: Tx, id: string): Promise<EvaluationRow | null> {
    const [row] = await tx.select().from(evaluations).where(eq(evaluations.id, id)).for('update');
    return row ?? null;
  }

  /** Inserts an appeal; null when the review already has one (unique index). */
  async insertAppeal(tx: Tx, row: typeof evaluationAppeals.$inferInsert): Promise<AppealRow | null> {
    const [inserted] = await tx.insert(evaluationAppeals).values(row).onConflictDoNothing().returning();
    return inserted ?? null;
  }

  async lockAppeal(tx: Tx, id: string): Promise<AppealRow | null> {
    const [row] = await tx.select().from(evaluationAppeals).where(eq(evaluationAppeals.id, id)).for('update');
    return row ?? null;
  }

  async findAppeal(id: string): Promise<AppealRow | null> {
    const [row] = await this.db.select().from(evaluationAppeals).where(eq(evaluationAppeals.id, id));
    return row ?? null;
  }

  async appealsOf(evaluationIds: string[]): Promise<AppealRow[]> {
    if (evaluationIds.length === 0) return [];
    return this.db
      .select()
      .from(evaluationAppeals)
      .where(inArray(evaluationAppeals.evaluationId, evaluationIds));
  }

  async evaluationsByIds(ids: string[]): Promise<EvaluationRow[]> {
    if (ids.length === 0) return [];
    return this.db.select().from(evaluations).where(inArray(evaluations.id, ids));
  }

  async updateAppeal(
    tx: Tx,
    id: string,
    set: Partial<typeof evaluationAppeals.$inferInsert>,
  ): Promise<AppealRow> {
    const [row] = await tx.update(evaluationAppeals).set(set).where(eq(evaluationAppeals.id, id)).returning();
    return row!;
  }

  /** Rectifications in the places of `filter`, optionally of some statuses; by rectify due date, newest last. */
  async listRectifications(
    filter: PlaceFilter,
    statuses: readonly string[] | null,
    limit: number,
  ): Promise<RectificationRow[]> {
    const place = placeWhere(filter, {
      department: rectifications.departmentId,
      hall: rectifications.hallCode,
      divisions: [rectifications.countyCode],
    });
    if (!place) return [];
    const where = statuses ? and(place, inArray(rectifications.status, [...statuses] as never[])) : place;
    return this.db
      .select()
      .from(rectifications)
      .where(where)
      .orderBy(rectifications.rectifyDue, rectifications.createdAt)
      .limit(limit);
  }

  /** Appeals about ratings in the divisions of `prefixes` (intake or deciding county), optionally by status. */
  async listAppeals(prefixes: string[], status: string | null, limit: number): Promise<AppealRow[]> {
    const place = placeWhere(
      { departmentIds: [], hallCodes: [], divisionPrefixes: prefixes },
      { divisions: [evaluations.intakeCountyCode, evaluations.decidingCountyCode] },
    );
    if (!place) return [];
    const rows = await this.db
      .select({ appeal: evaluationAppeals })
      .from(evaluationAppeals)
      .innerJoin(evaluations, eq(evaluations.id, evaluationAppeals.evaluationId))
      .where(status ? and(place, eq(evaluationAppeals.status, status as AppealRow['status'])) : place)
      .orderBy(evaluationAppeals.appealedAt)
      .limit(limit);
    return rows.map((r) => r.appeal);
  }

  /** Rectifications past a due date (open past callBackDue, or not rectified past rectifyDue) not yet flagged. */
  async lockNewlyOverdue(tx: Tx, today: string, limit: number): Promise<RectificationRow[]> {
    return tx
      .select()
      .from(rectifications)
      .where(
        and(
          isNull(rectifications.overdueFlaggedAt),
          or(
            and(eq(rectifications.status, 'open'), lt(rectifications.callBackDue, today)),
            and(
              inArray(rectifications.status, ['open', 'called_back']),
              lt(rectifications.rectifyDue, today),
            ),
          ),
        ),
      )
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Counted (not excluded) ratings of a hall or an item, per level. */
  async levelCounts(kind: 'hall' | 'item', code: string): Promise<Record<number, number>> {
    const column = kind === 'hall' ? evaluations.hallCode : evaluations.itemCode;
    const rows = rowsOf<{ level: unknown; n: unknown }>(
      await this.db.execute(sql`select ${evaluations.level} as level, count(*) as n from ${evaluations}
        where ${column} = ${code} and ${evaluations.excluded} = false group by ${evaluations.level}`),
    );
    const out: Record<number, number> = {};
    for (const r of rows) out[toInt(r.level)] = toInt(r.n);
    return out;
  }
}

/** The OR of the place conditions; null when the filter names no place (nothing is covered). */
function placeWhere(
  filter: PlaceFilter,
  columns: { department?: AnyColumn; hall?: AnyColumn; divisions: AnyColumn[] },
): SQL | null {
  const parts: SQL[] = [];
  if (columns.department && filter.departmentIds.length > 0)
    parts.push(inArray(columns.department, filter.departmentIds));
  if (columns.hall && filter.hallCodes.length > 0) parts.push(inArray(columns.hall, filter.hallCodes));
  for (const prefix of filter.divisionPrefixes)
    for (const c of columns.divisions) parts.push(sql`${c} like ${`${prefix}%`}`);
  if (parts.length === 0) return null;
  return or(...parts) ?? null;
}
