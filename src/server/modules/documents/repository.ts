import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf } from '../../db/sql.ts';
import { caseDocuments, documentJobs, documentSequences } from './schema.ts';

export type CaseDocumentRow = typeof caseDocuments.$inferSelect;
export type NewCaseDocument = Omit<
  typeof caseDocuments.$inferInsert,
  'id' | 'sequence' | 'number' | 'createdAt' | 'renderedAt' | 'sm3' | 'byteSize' | 'storageKey'
>;

/** SQL of the documents module (no rules here). */
export class DocumentsRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  listByCase(caseId: string): Promise<CaseDocumentRow[]> {
    return this.db
      .select()
      .from(caseDocuments)
      .where(eq(caseDocuments.caseId, caseId))
      .orderBy(asc(caseDocuments.eventSeq), asc(caseDocuments.kind));
  }

  async find(caseId: string, id: string): Promise<CaseDocumentRow | undefined> {
    const [row] = await this.db
      .select()
      .from(caseDocuments)
      .where(and(eq(caseDocuments.caseId, caseId), eq(caseDocuments.id, id)));
    return row;
  }

  /**
   * Allocates the next 文号 sequence of (issuer, kind, year) and inserts the document, in ONE transaction:
   * the sequence row is locked FOR UPDATE, then the (case, event, kind) row is looked for again — a
   * concurrent allocation that committed meanwhile is returned as it is and no number is used (no gaps).
   * `number(sequence)` builds the 文号 and the content printed with it.
   */
  allocate(
    doc: NewCaseDocument,
    build: (sequence: number) => { number: string; content: Record<string, unknown> },
  ): Promise<CaseDocumentRow> {
    return this.db.transaction(async (tx) => {
      await tx
        .insert(documentSequences)
        .values({ issuerKey: doc.issuerKey, kind: doc.kind, year: doc.year, last: 0 })
        .onConflictDoNothing();
      const [seq] = await tx
        .select({ last: documentSequences.last })
        .from(documentSequences)
        .where(
          and(
            eq(documentSequences.issuerKey, doc.issuerKey),
            eq(documentSequences.kind, doc.kind),
            eq(documentSequences.year, doc.year),
          ),
        )
        .for('update');
      const existing = await this.findForEvent(tx, doc.caseId, doc.eventSeq, doc.kind);
      if (existing) return existing;
      const sequence = (seq?.last ?? 0) + 1;
      const built = build(sequence);
      const [row] = await tx
        .insert(caseDocuments)
        .values({ ...doc, content: built.content, sequence, number: built.number })
        .onConflictDoNothing({ target: [caseDocuments.caseId, caseDocuments.eventSeq, caseDocuments.kind] })
        .returning();
      if (!row) return (await this.findForEvent(tx, doc.caseId, doc.eventSeq, doc.kind))!;
      await tx
        .update(documentSequences)
        .set({ last: sequence })
        .where(
          and(
            eq(documentSequences.issuerKey, doc.issuerKey),
            eq(documentSequences.kind, doc.kind),
            eq(documentSequences.year, doc.year),
          ),
        );
      return row;
    });
  }

  private async findForEvent(
    tx: Tx,
    caseId: string,
    eventSeq: number,
    kind: string,
  ): Promise<CaseDocumentRow | undefined> {
    const [row] = await tx
      .select()
      .from(caseDocuments)
      .where(
        and(
          eq(caseDocuments.caseId, caseId),
          eq(caseDocuments.eventSeq, eventSeq),
          eq(caseDocuments.kind, kind),
        ),
      );
    return row;
  }

  /** Records the stored PDF (idempotent: rendering is deterministic, a second writer writes the same). */
  async markRendered(
    id: string,
    file: { sm3: string; bytes: number; key: string },
  ): Promise<CaseDocumentRow> {
    const [row] = await this.db
      .update(caseDocuments)
      .set({ sm3: file.sm3, byteSize: file.bytes, storageKey: file.key, renderedAt: new Date() })
      .where(eq(caseDocuments.id, id))
      .returning();
    return row!;
  }

  /** Queues a case for the jobs loop, in the caller's transaction; an existing entry becomes due now. */
  async enqueue(tx: Tx, caseId: string): Promise<void> {
    await tx
      .insert(documentJobs)
      .values({ caseId })
      .onConflictDoUpdate({ target: documentJobs.caseId, set: { notBefore: sql`now()`, attempts: 0 } });
  }

  /**
   * Leases up to `limit` due cases for `leaseSeconds` (one statement, FOR UPDATE SKIP LOCKED: nodes share
   * the work). @returns each case with its lease, which {@link finishJob} and {@link failJob} compare.
   */
  async claimJobs(limit: number, leaseSeconds: number): Promise<{ caseId: string; lease: string }[]> {
    const result = await this.db.execute(sql`
      update ${documentJobs} set not_before = now() + make_interval(secs => ${leaseSeconds}),
        attempts = attempts + 1
      where case_id in (select case_id from ${documentJobs} where not_before <= now()
                        order by not_before limit ${limit} for update skip locked)
      returning case_id as "caseId", not_before::text as lease`);
    return rowsOf<{ caseId: string; lease: string }>(result);
  }

  /** Removes a finished job — unless an event re-queued it meanwhile (its lease changed). */
  async finishJob(caseId: string, lease: string): Promise<void> {
    await this.db.execute(
      sql`delete from ${documentJobs} where case_id = ${caseId}::uuid and not_before = ${lease}::timestamptz`,
    );
  }

  /** Records a failure; the job is due again after `retrySeconds`. */
  async failJob(caseId: string, lease: string, error: string, retrySeconds: number): Promise<void> {
    await this.db.execute(sql`
      update ${documentJobs} set last_error = ${error.slice(0, 500)},
        not_before = now() + make_interval(secs => ${retrySeconds})
      where case_id = ${caseId}::uuid and not_before = ${lease}::timestamptz`);
  }

  async pendingJobs(): Promise<number> {
    const result = await this.db.execute(sql`select count(*)::int as n from ${documentJobs}`);
    return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  }
}
