import { and, asc, desc, eq, inArray, like, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { feedbackComments, feedbackReports } from './schema.ts';

export type FeedbackRow = typeof feedbackReports.$inferSelect;
export type NewFeedbackRow = typeof feedbackReports.$inferInsert;
export type FeedbackCommentRow = typeof feedbackComments.$inferSelect;

/** The places a triager's grants cover (division subtrees by code prefix, halls, departments). */
export interface FeedbackPlaces {
  divisionPrefixes: string[];
  hallCodes: string[];
  departmentIds: string[];
}

/** List filters; `before`: running numbers below this one (keyset, newest first). */
export interface FeedbackListFilter {
  status?: string | undefined;
  category?: string | undefined;
  before?: number | undefined;
  limit: number;
}

/** The only place with SQL for the staff feedback channel. No business rules. */
export class FeedbackRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insert(tx: Tx, row: NewFeedbackRow): Promise<FeedbackRow> {
    const [r] = await tx.insert(feedbackReports).values(row).returning();
    return r!;
  }

  async findById(id: string, tx: Tx | Db = this.db): Promise<FeedbackRow | undefined> {
    const [r] = await tx.select().from(feedbackReports).where(eq(feedbackReports.id, id));
    return r;
  }

  /** The report, locked for an update in `tx`. */
  async lock(tx: Tx, id: string): Promise<FeedbackRow | undefined> {
    const [r] = await tx.select().from(feedbackReports).where(eq(feedbackReports.id, id)).for('update');
    return r;
  }

  async update(tx: Tx, id: string, set: Partial<NewFeedbackRow>): Promise<FeedbackRow> {
    const [r] = await tx
      .update(feedbackReports)
      .set({ ...set, version: sql`${feedbackReports.version} + 1`, updatedAt: sql`now()` })
      .where(eq(feedbackReports.id, id))
      .returning();
    return r!;
  }

  /** Appends a comment as the report's next `seq` (the caller holds the report's lock). */
  async addComment(
    tx: Tx,
    reportId: string,
    authorAccountId: string,
    body: string,
  ): Promise<FeedbackCommentRow> {
    const [counted] = await tx
      .update(feedbackReports)
      .set({ commentCount: sql`${feedbackReports.commentCount} + 1`, updatedAt: sql`now()` })
      .where(eq(feedbackReports.id, reportId))
      .returning({ seq: feedbackReports.commentCount });
    const [c] = await tx
      .insert(feedbackComments)
      .values({ reportId, seq: counted!.seq, authorAccountId, body })
      .returning();
    return c!;
  }

  comments(reportId: string): Promise<FeedbackCommentRow[]> {
    return this.db
      .select()
      .from(feedbackComments)
      .where(eq(feedbackComments.reportId, reportId))
      .orderBy(asc(feedbackComments.seq));
  }

  /** Reports filed by one staff account, newest first. */
  byReporter(accountId: string, f: FeedbackListFilter): Promise<FeedbackRow[]> {
    return this.list([eq(feedbackReports.reporterAccountId, accountId)], f);
  }

  /** Reports whose place lies in `places`, newest first. Empty places: nothing. */
  async inPlaces(places: FeedbackPlaces, f: FeedbackListFilter): Promise<FeedbackRow[]> {
    const covers: SQL[] = [
      ...places.divisionPrefixes.map((p) => like(feedbackReports.divisionCode, `${p}%`)),
      ...(places.hallCodes.length ? [inArray(feedbackReports.hallCode, places.hallCodes)] : []),
      ...(places.departmentIds.length ? [inArray(feedbackReports.departmentId, places.departmentIds)] : []),
    ];
    if (covers.length === 0) return [];
    return this.list([or(...covers)!], f);
  }

  private list(where: SQL[], f: FeedbackListFilter): Promise<FeedbackRow[]> {
    const conditions = [...where];
    if (f.status) conditions.push(eq(feedbackReports.status, f.status as FeedbackRow['status']));
    if (f.category) conditions.push(eq(feedbackReports.category, f.category as FeedbackRow['category']));
    if (f.before !== undefined) conditions.push(lt(feedbackReports.no, f.before));
    return this.db
      .select()
      .from(feedbackReports)
      .where(and(...conditions))
      .orderBy(desc(feedbackReports.no))
      .limit(f.limit);
  }
}
