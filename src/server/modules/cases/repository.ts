import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, not, or, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { countAll, rowsOf } from '../../db/sql.ts';
import { caseEvents, caseMaterials, caseParts, cases, caseTimers, delegations } from './schema.ts';

export type CaseRow = typeof cases.$inferSelect;
export type NewCaseRow = typeof cases.$inferInsert;
export type CaseEventRow = typeof caseEvents.$inferSelect;
export type NewCaseEventRow = Omit<typeof caseEvents.$inferInsert, 'id'>;
export type CasePartRow = typeof caseParts.$inferSelect;
export type CaseMaterialRow = typeof caseMaterials.$inferSelect;
export type DelegationRow = typeof delegations.$inferSelect;
export type CaseTimerRow = typeof caseTimers.$inferSelect;
/** What a case view shows of a 多地联办 part. */
export type CasePartSummary = Pick<
  CasePartRow,
  'seq' | 'departmentId' | 'divisionCode' | 'itemCode' | 'status' | 'outcome'
>;
/** What a case view shows of a checklist material. */
export type CaseMaterialSummary = Pick<CaseMaterialRow, 'seq' | 'name' | 'required'>;
/** A locked case with what its view needs, read in one statement. */
export interface LockedCase {
  row: CaseRow;
  parts: CasePartSummary[];
  materials: CaseMaterialSummary[];
}

/** SQL for the cases module. No business rules here. */
export class CasesRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Every case filed, whatever its status. */
  async countCases(outside: readonly { from: Date; to: Date }[] = []): Promise<number> {
    const inWindows = outside.map((w) => and(gte(cases.createdAt, w.from), lt(cases.createdAt, w.to)));
    const [row] = await this.db
      .select({ n: countAll() })
      .from(cases)
      .where(inWindows.length > 0 ? not(or(...inWindows)!) : undefined);
    return row?.n ?? 0;
  }

  /** Next value of the shared case number sequence (unique across nodes). */
  async nextCaseSequence(tx: Tx): Promise<string> {
    const [row] = rowsOf<{ n: string | number }>(
      await tx.execute(sql`select nextval('case_number_seq') as n`),
    );
    return String(row!.n);
  }

  async insertCase(tx: Tx, row: NewCaseRow): Promise<CaseRow> {
    const [inserted] = await tx.insert(cases).values(row).returning();
    return inserted!;
  }

  async findById(id: string, tx: Tx | Db = this.db): Promise<CaseRow | undefined> {
    const [row] = await tx.select().from(cases).where(eq(cases.id, id));
    return row;
  }

  async findByNumber(number: string): Promise<CaseRow | undefined> {
    const [row] = await this.db.select().from(cases).where(eq(cases.number, number));
    return row;
  }

  /** Ids of cases in `statuses`, by id after `after` (keyset), at most `limit`. */
  async openCaseIds(after: string, limit: number, statuses: string[]): Promise<string[]> {
    const rows = await this.db
      .select({ id: cases.id })
      .from(cases)
      .where(and(inArray(cases.status, statuses), gt(cases.id, after)))
      .orderBy(asc(cases.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  /** Locks the case row unless another transaction holds it (then undefined). */
  async lockByIdSkipLocked(tx: Tx, id: string): Promise<CaseRow | undefined> {
    const [row] = await tx.select().from(cases).where(eq(cases.id, id)).for('update', { skipLocked: true });
    return row;
  }

  /**
   * Locks the case (by its 21-digit number or its id) for the rest of the transaction and reads, in the
   * same statement, the parts and materials its view shows. @returns undefined when there is no such case.
   */
  async lockForCommand(tx: Tx, ref: { number: string } | { id: string }): Promise<LockedCase | undefined> {
    const [found] = await tx
      .select({
        row: cases,
        parts: sql<CasePartSummary[]>`coalesce((select json_agg(json_build_object('seq', p.seq,
          'departmentId', p.department_id, 'divisionCode', p.division_code, 'itemCode', p.item_code,
          'status', p.status, 'outcome', p.outcome) order by p.seq)
          from ${caseParts} p where p.case_id = "cases"."id"), '[]'::json)`,
        materials: sql<CaseMaterialSummary[]>`coalesce((select json_agg(json_build_object('seq', m.seq,
          'name', m.name, 'required', m.required) order by m.seq)
          from ${caseMaterials} m where m.case_id = "cases"."id"), '[]'::json)`,
      })
      .from(cases)
      .where('number' in ref ? eq(cases.number, ref.number) : eq(cases.id, ref.id))
      .for('update', { of: cases });
    if (!found) return undefined;
    const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
    // The subqueries ran on the statement's snapshot, taken BEFORE any wait for the row lock: a 多地联办
    // part decided by the transaction we waited for is not in it. Parts change only in joint cases, so
    // those read them again now that the lock is held (a new statement sees every commit before it).
    const parts =
      found.row.processingMode === 'multi_site_joint'
        ? (await this.parts(found.row.id, tx)).map((p) => ({
            seq: p.seq,
            departmentId: p.departmentId,
            divisionCode: p.divisionCode,
            itemCode: p.itemCode,
            status: p.status,
            outcome: p.outcome,
          }))
        : json<CasePartSummary[]>(found.parts);
    return { row: found.row, parts, materials: json(found.materials) };
  }

  /**
   * The UPDATE of a case LOCKED by this transaction (see {@link lockForCommand}), not sent: for a
   * {@link WriteBatch}. Writes the state, its column copies and the clock copies, the new `version` and
   * `updatedAt`. A plain template (not the query builder): it is on every transition's path.
   */
  updateLockedSql(
    id: string,
    set: Pick<
      CaseRow,
      | 'status'
      | 'outcome'
      | 'state'
      | 'competentDepartmentId'
      | 'delivery'
      | 'visits'
      | 'version'
      | 'updatedAt'
      | 'decisionDue'
      | 'supplementDue'
      | 'certificateDue'
      | 'dueProvisional'
      | 'warning'
    >,
  ): SQL {
    const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
    return sql`update ${cases} set status = ${set.status}, outcome = ${set.outcome},
        state = ${json(set.state)}::jsonb, competent_department_id = ${set.competentDepartmentId}::uuid,
        delivery = ${json(set.delivery)}::jsonb, visits = ${set.visits}, version = ${set.version},
        updated_at = ${set.updatedAt.toISOString()}::timestamptz, decision_due = ${set.decisionDue},
        supplement_due = ${set.supplementDue}, certificate_due = ${set.certificateDue},
        due_provisional = ${set.dueProvisional}, warning = ${set.warning}
      where id = ${id}::uuid`;
  }

  /**
   * The INSERT of a timeline event numbered one after the case's last (`seq` computed in the statement;
   * the case row lock serialises writers), not sent: for a {@link WriteBatch}.
   */
  appendEventSql(event: Omit<NewCaseEventRow, 'seq'>): SQL {
    return sql`insert into ${caseEvents} (case_id, seq, type, from_status, to_status, at, actor, reason, data)
      select ${event.caseId}::uuid, coalesce(max(e.seq), 0) + 1, ${event.type}, ${event.fromStatus ?? null},
        ${event.toStatus}, ${event.at.toISOString()}::timestamptz, ${JSON.stringify(event.actor)}::jsonb,
        ${event.reason ?? null}, ${JSON.stringify(event.data ?? {})}::jsonb
      from ${caseEvents} e where e.case_id = ${event.caseId}::uuid`;
  }

  /** Writes the clock copies of a case (due dates, provisional flag, warning); no version bump. */
  async setClockCopies(
    tx: Tx,
    id: string,
    copies: Pick<
      NewCaseRow,
      'decisionDue' | 'supplementDue' | 'certificateDue' | 'dueProvisional' | 'warning'
    >,
  ): Promise<void> {
    await tx.update(cases).set(copies).where(eq(cases.id, id));
  }

  /**
   * What a policy needs to know of where a case lies, in ONE statement: its number, deciding division,
   * intake hall, competent department, item and delivery record; the departments of its 多地联办 parts; the
   * departments it was reassigned away from (改派 events). @returns undefined when there is no such case.
   */
  async locationOf(ref: { number: string } | { id: string }): Promise<
    | {
        id: string;
        number: string;
        decidingDivisionCode: string;
        intakeHallCode: string | null;
        competentDepartmentId: string | null;
        itemCode: string;
        delivery: Record<string, unknown> | null;
        applicantAccountId: string | null;
        agent: Record<string, unknown> | null;
        partDepartmentIds: string[];
        partItemCodes: string[];
        pastDepartmentIds: string[];
      }
    | undefined
  > {
    const [found] = await this.db
      .select({
        id: cases.id,
        number: cases.number,
        decidingDivisionCode: cases.decidingDivisionCode,
        intakeHallCode: cases.intakeHallCode,
        competentDepartmentId: cases.competentDepartmentId,
        itemCode: cases.itemCode,
        delivery: cases.delivery,
        applicantAccountId: cases.applicantAccountId,
        agent: cases.agent,
        // "cases".id spelled out: in a one-table select drizzle renders a column unqualified, which the
        // subquery would read as its own table's column.
        parts: sql<string[] | string>`coalesce((select json_agg(p.department_id::text) from ${caseParts} p
          where p.case_id = "cases"."id"), '[]'::json)`,
        partItems: sql<string[] | string>`coalesce((select json_agg(distinct p.item_code) from ${caseParts} p
          where p.case_id = "cases"."id"), '[]'::json)`,
        past: sql<string[] | string>`coalesce((select json_agg(distinct e.data->>'fromDepartmentId')
          from ${caseEvents} e where e.case_id = "cases"."id" and e.type = 'reassign'
            and e.data->>'fromDepartmentId' is not null), '[]'::json)`,
      })
      .from(cases)
      .where('number' in ref ? eq(cases.number, ref.number) : eq(cases.id, ref.id));
    if (!found) return undefined;
    const list = (v: unknown): string[] => (typeof v === 'string' ? JSON.parse(v) : (v as string[]));
    const { parts, partItems, past, ...row } = found;
    return {
      ...row,
      partDepartmentIds: list(parts),
      partItemCodes: list(partItems),
      pastDepartmentIds: list(past),
    };
  }

  /**
   * Writes a new state if the version is still `expectedVersion` (optimistic concurrency).
   * @returns the updated row, or undefined when another write got there first.
   */
  async updateCase(
    tx: Tx,
    id: string,
    expectedVersion: number,
    set: Partial<NewCaseRow>,
  ): Promise<CaseRow | undefined> {
    const [row] = await tx
      .update(cases)
      .set({ ...set, version: expectedVersion + 1, updatedAt: new Date() })
      .where(and(eq(cases.id, id), eq(cases.version, expectedVersion)))
      .returning();
    return row;
  }

  /** Updates the delivery record only (e.g. a wrong pickup attempt): not a change of state, no version bump. */
  async setDelivery(tx: Tx, id: string, delivery: Record<string, unknown>): Promise<void> {
    await tx.update(cases).set({ delivery }).where(eq(cases.id, id));
  }

  async appendEvent(tx: Tx, event: NewCaseEventRow): Promise<void> {
    await tx.insert(caseEvents).values(event);
  }

  async lastEventSeq(tx: Tx, caseId: string): Promise<number> {
    const [row] = await tx
      .select({ seq: caseEvents.seq })
      .from(caseEvents)
      .where(eq(caseEvents.caseId, caseId))
      .orderBy(desc(caseEvents.seq))
      .limit(1);
    return row?.seq ?? 0;
  }

  timeline(caseId: string): Promise<CaseEventRow[]> {
    return this.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, caseId))
      .orderBy(asc(caseEvents.seq));
  }

  async insertParts(tx: Tx, rows: (typeof caseParts.$inferInsert)[]): Promise<void> {
    if (rows.length > 0) await tx.insert(caseParts).values(rows);
  }

  /** Parts of several cases at once (list views), ordered by case then seq. */
  partsOfMany(caseIds: string[]): Promise<CasePartRow[]> {
    if (caseIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(caseParts)
      .where(inArray(caseParts.caseId, caseIds))
      .orderBy(asc(caseParts.caseId), asc(caseParts.seq));
  }

  /** Materials of several cases at once (list views). */
  materialsOfMany(caseIds: string[]): Promise<CaseMaterialRow[]> {
    if (caseIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(caseMaterials)
      .where(inArray(caseMaterials.caseId, caseIds))
      .orderBy(asc(caseMaterials.caseId), asc(caseMaterials.seq));
  }

  parts(caseId: string, tx: Tx | Db = this.db): Promise<CasePartRow[]> {
    return tx.select().from(caseParts).where(eq(caseParts.caseId, caseId)).orderBy(asc(caseParts.seq));
  }

  async updatePart(
    tx: Tx,
    caseId: string,
    seq: number,
    set: Partial<typeof caseParts.$inferInsert>,
  ): Promise<void> {
    await tx
      .update(caseParts)
      .set(set)
      .where(and(eq(caseParts.caseId, caseId), eq(caseParts.seq, seq)));
  }

  async insertMaterials(tx: Tx, rows: (typeof caseMaterials.$inferInsert)[]): Promise<void> {
    if (rows.length > 0) await tx.insert(caseMaterials).values(rows);
  }

  materials(caseId: string, tx: Tx | Db = this.db): Promise<CaseMaterialRow[]> {
    return tx
      .select()
      .from(caseMaterials)
      .where(eq(caseMaterials.caseId, caseId))
      .orderBy(asc(caseMaterials.seq));
  }

  /**
   * A department's inbox: its open cases ordered by decision due (nulls last), then id; keyset pagination
   * with `after` = the last row's (decisionDue, id) — never a COUNT(*) over the table.
   */
  async inbox(filter: {
    departmentIds: string[];
    statuses?: string[];
    warning?: string;
    limit: number;
    after?: { decisionDue: string | null; id: string };
  }): Promise<CaseRow[]> {
    const where: SQL[] = [inArray(cases.competentDepartmentId, filter.departmentIds)];
    if (filter.statuses?.length) where.push(inArray(cases.status, filter.statuses));
    if (filter.warning) where.push(eq(cases.warning, filter.warning));
    // Order: decision_due NULLS LAST, then id — the order of cases_inbox_idx (department, decision_due, id).
    // Dated and undated cases are read by two keyset queries whose conditions are index ranges (a row
    // comparison, or `is null`), so a page costs the same on the first page and the thousandth.
    const page = (extra: SQL, limit: number) =>
      this.db
        .select()
        .from(cases)
        .where(and(...where, extra))
        .orderBy(asc(cases.decisionDue), asc(cases.id))
        .limit(limit);
    const after = filter.after;
    const dated =
      after?.decisionDue === null
        ? []
        : await page(
            after
              ? sql`${cases.decisionDue} is not null and (${cases.decisionDue}, ${cases.id}) > (${after.decisionDue}, ${after.id}::uuid)`
              : sql`${cases.decisionDue} is not null`,
            filter.limit,
          );
    if (dated.length === filter.limit) return dated;
    const undated = await page(
      after?.decisionDue === null
        ? sql`${cases.decisionDue} is null and ${cases.id} > ${after.id}::uuid`
        : sql`${cases.decisionDue} is null`,
      filter.limit - dated.length,
    );
    return [...dated, ...undated];
  }

  /** Cases received at a hall, newest first; keyset by (createdAt, id). */
  async intakeList(
    hallCode: string,
    limit: number,
    before?: { createdAt: Date; id: string },
  ): Promise<CaseRow[]> {
    const where: SQL[] = [eq(cases.intakeHallCode, hallCode)];
    if (before)
      where.push(
        sql`(${cases.createdAt}, ${cases.id}) < (${before.createdAt.toISOString()}::timestamptz, ${before.id}::uuid)`,
      );
    return this.db
      .select()
      .from(cases)
      .where(and(...where))
      .orderBy(desc(cases.createdAt), desc(cases.id))
      .limit(limit);
  }

  /** The cases of an applicant-side account (`applicant_account_id`), newest first. */
  casesOfAccount(accountId: string, limit: number): Promise<CaseRow[]> {
    return this.db
      .select()
      .from(cases)
      .where(eq(cases.applicantAccountId, accountId))
      .orderBy(desc(cases.createdAt), desc(cases.id))
      .limit(limit);
  }

  /** An applicant's cases (by keyed hash of the identifier), newest first. */
  applicantCases(applicantKey: string, limit: number): Promise<CaseRow[]> {
    return this.db
      .select()
      .from(cases)
      .where(eq(cases.applicantKey, applicantKey))
      .orderBy(desc(cases.createdAt), desc(cases.id))
      .limit(limit);
  }

  // -- personal data (key rotation) ----------------------------------------------------------------

  /**
   * Locks up to `limit` cases whose personal data is in plaintext (`pii_key_id` null) or sealed under one
   * of `staleKeyIds`, skipping rows another transaction holds (FOR UPDATE SKIP LOCKED: nodes share it).
   */
  lockPiiStale(tx: Tx, staleKeyIds: string[], limit: number) {
    const stale = staleKeyIds.length > 0 ? inArray(cases.piiKeyId, staleKeyIds) : undefined;
    // rows without tracking keys (written before public tracking) are brought up to date the same way
    const missing = or(isNull(cases.piiKeyId), isNull(cases.trackingKeys));
    return tx
      .select({
        id: cases.id,
        number: cases.number,
        applicant: cases.applicant,
        agent: cases.agent,
        delivery: cases.delivery,
        formData: cases.formData,
      })
      .from(cases)
      .where(stale ? or(missing, stale) : missing)
      .orderBy(asc(cases.id))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Rewrites the personal-data columns of a locked case (not a change of the case: no version bump). */
  async setPii(
    tx: Tx,
    id: string,
    set: Pick<NewCaseRow, 'applicant' | 'agent' | 'delivery' | 'piiKeyId' | 'formData' | 'trackingKeys'>,
  ): Promise<void> {
    await tx.update(cases).set(set).where(eq(cases.id, id));
  }

  /**
   * The case with `number` when one of `keys` is among its tracking keys (public tracking), else undefined —
   * an unknown number and a wrong check look the same.
   */
  async findTracked(number: string, keys: readonly string[]): Promise<CaseRow | undefined> {
    if (keys.length === 0) return undefined;
    const [row] = await this.db
      .select()
      .from(cases)
      .where(
        and(
          eq(cases.number, number),
          sql`${cases.trackingKeys} && ${sql.raw('ARRAY[')}${sql.join(
            keys.map((k) => sql`${k}`),
            sql`, `,
          )}${sql.raw(']::text[]')}`,
        ),
      );
    return row;
  }

  /** Cases filed with intake in `countyCode` since `since`, counted per item, most first. */
  async filedPerItem(countyCode: string, since: Date): Promise<{ itemCode: string; cases: number }[]> {
    const rows = await this.db
      .select({ itemCode: cases.itemCode, n: sql<number>`count(*)::int` })
      .from(cases)
      .where(and(eq(cases.intakeDivisionCode, countyCode), gt(cases.createdAt, since)))
      .groupBy(cases.itemCode)
      .orderBy(desc(sql`count(*)`));
    return rows.map((r) => ({ itemCode: r.itemCode, cases: Number(r.n) }));
  }

  // -- timers ---------------------------------------------------------------------------------------

  /** Replaces the case's pending timers with `timers` (already-fired ones are kept as they are). */
  async setTimers(tx: Tx, caseId: string, timers: { kind: string; dueAt: Date }[]): Promise<void> {
    await tx.delete(caseTimers).where(and(eq(caseTimers.caseId, caseId), isNull(caseTimers.firedAt)));
    const fired = new Set(
      (await tx.select({ kind: caseTimers.kind }).from(caseTimers).where(eq(caseTimers.caseId, caseId))).map(
        (r) => r.kind,
      ),
    );
    const rows = timers
      .filter((t) => !fired.has(t.kind))
      .map((t) => ({ caseId, kind: t.kind, dueAt: t.dueAt }));
    if (rows.length > 0) await tx.insert(caseTimers).values(rows);
  }

  /** Forgets fired timers of kinds in `kinds` (the level was left, e.g. after an extension), so they can fire again. */
  async resetFired(tx: Tx, caseId: string, kinds: string[]): Promise<void> {
    if (kinds.length === 0) return;
    await tx.delete(caseTimers).where(and(eq(caseTimers.caseId, caseId), inArray(caseTimers.kind, kinds)));
  }

  /** Up to `limit` due, unfired timers, oldest first (no locks: see claimTimer). */
  dueTimers(now: Date, limit: number): Promise<CaseTimerRow[]> {
    return this.db
      .select()
      .from(caseTimers)
      .where(and(isNull(caseTimers.firedAt), lte(caseTimers.dueAt, now)))
      .orderBy(asc(caseTimers.dueAt))
      .limit(limit);
  }

  /** Locks one unfired timer, or returns false when it fired already or another node holds it. */
  async claimTimer(tx: Tx, caseId: string, kind: string): Promise<boolean> {
    const rows = await tx
      .select({ kind: caseTimers.kind })
      .from(caseTimers)
      .where(and(eq(caseTimers.caseId, caseId), eq(caseTimers.kind, kind), isNull(caseTimers.firedAt)))
      .for('update', { skipLocked: true });
    return rows.length > 0;
  }

  async postponeTimer(tx: Tx, caseId: string, kind: string, dueAt: Date): Promise<void> {
    await tx
      .update(caseTimers)
      .set({ dueAt })
      .where(and(eq(caseTimers.caseId, caseId), eq(caseTimers.kind, kind)));
  }

  async markTimerFired(tx: Tx, caseId: string, kind: string, at: Date): Promise<void> {
    await tx
      .update(caseTimers)
      .set({ firedAt: at })
      .where(and(eq(caseTimers.caseId, caseId), eq(caseTimers.kind, kind)));
  }

  timersOf(caseId: string): Promise<CaseTimerRow[]> {
    return this.db
      .select()
      .from(caseTimers)
      .where(eq(caseTimers.caseId, caseId))
      .orderBy(asc(caseTimers.dueAt));
  }

  // -- delegations (无差别办理) ------------------------------------------------------------------------

  async insertDelegation(tx: Tx, row: typeof delegations.$inferInsert): Promise<DelegationRow> {
    const [inserted] = await tx.insert(delegations).values(row).returning();
    return inserted!;
  }

  async findDelegation(id: string): Promise<DelegationRow | undefined> {
    const [row] = await this.db.select().from(delegations).where(eq(delegations.id, id));
    return row;
  }

  async revokeDelegation(tx: Tx, id: string, at: Date, reason: string): Promise<DelegationRow | undefined> {
    const [row] = await tx
      .update(delegations)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(eq(delegations.id, id), isNull(delegations.revokedAt)))
      .returning();
    return row;
  }

  /** The delegations in force at `at` for an item, department and hall. */
  activeDelegations(
    p: { itemCode: string; departmentId: string; hallCode: string; at: Date },
    tx: Tx | Db = this.db,
  ) {
    return tx
      .select()
      .from(delegations)
      .where(
        and(
          eq(delegations.itemCode, p.itemCode),
          eq(delegations.departmentId, p.departmentId),
          eq(delegations.hallCode, p.hallCode),
          isNull(delegations.revokedAt),
          lte(delegations.validFrom, p.at),
          gt(delegations.validUntil, p.at),
        ),
      );
  }

  delegationsOfHall(hallCode: string) {
    return this.db
      .select()
      .from(delegations)
      .where(or(eq(delegations.hallCode, hallCode)))
      .orderBy(desc(delegations.createdAt));
  }
}
