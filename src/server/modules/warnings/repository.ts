import { type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';

/** An alert row as stored (instants as Date). */
export interface AlertRow {
  id: string;
  rule: string;
  severity: 'warning' | 'critical';
  dedupeKey: string;
  place: string;
  period: string;
  divisionCode: string;
  hallCode: string | null;
  departmentId: string | null;
  title: string;
  details: Record<string, unknown>;
  status: 'open' | 'acknowledged' | 'resolved';
  firstRaisedAt: Date;
  lastRaisedAt: Date;
  occurrences: number;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgeNote: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolution: string | null;
}

/** What a rule raises; the repository de-duplicates by `dedupeKey`. */
export interface RaiseRow {
  rule: string;
  severity: 'warning' | 'critical';
  dedupeKey: string;
  place: string;
  period: string;
  divisionCode: string;
  hallCode: string | null;
  departmentId: string | null;
  title: string;
  details: Record<string, unknown>;
  at: Date;
}

const COLUMNS = sql.raw(`id, rule, severity, dedupe_key as "dedupeKey", place, period,
  division_code as "divisionCode", hall_code as "hallCode", department_id as "departmentId", title, details,
  status, first_raised_at as "firstRaisedAt", last_raised_at as "lastRaisedAt", occurrences,
  acknowledged_at as "acknowledgedAt", acknowledged_by as "acknowledgedBy", acknowledge_note as "acknowledgeNote",
  resolved_at as "resolvedAt", resolved_by as "resolvedBy", resolution`);

const dateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : new Date(v as string);

function normalise(rows: Record<string, unknown>[]): AlertRow[] {
  return rows.map((r) => ({
    ...(r as unknown as AlertRow),
    occurrences: toInt(r.occurrences),
    firstRaisedAt: new Date(r.firstRaisedAt as string),
    lastRaisedAt: new Date(r.lastRaisedAt as string),
    acknowledgedAt: dateOrNull(r.acknowledgedAt),
    resolvedAt: dateOrNull(r.resolvedAt),
  }));
}

/** The SQL of the warnings module (alerts, the sweep schedule, the bad reviews and closed halls it watches). */
export class WarningsRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Raises an alert in ONE statement: a new row, or — when an alert with the same key is not yet resolved
   * (the partial unique index) — that row's occurrences + 1, last_raised_at, title, details and severity
   * (critical never drops back to warning). Concurrent raises of one key wait on the index and then
   * update: never two open rows. `suppressIfResolved`: do nothing when an alert with the key was already
   * resolved (the periodic rules: an admin closed this period's alert; the next period is a new key).
   * @returns the row and whether it was created, or null when suppressed.
   */
  async raise(
    db: Db | Tx,
    r: RaiseRow,
    options: { suppressIfResolved: boolean },
  ): Promise<{ row: AlertRow; created: boolean } | null> {
    const suppress = options.suppressIfResolved
      ? sql`and not exists (select 1 from alerts where dedupe_key = ${r.dedupeKey} and status = 'resolved')`
      : sql``;
    const at = r.at.toISOString();
    const res = await db.execute(sql`
      insert into alerts (rule, severity, dedupe_key, place, period, division_code, hall_code, department_id,
        title, details, status, first_raised_at, last_raised_at, occurrences)
      select ${r.rule}, ${r.severity}, ${r.dedupeKey}, ${r.place}, ${r.period}, ${r.divisionCode},
        ${r.hallCode}, ${r.departmentId}, ${r.title}, ${JSON.stringify(r.details)}::jsonb, 'open',
        ${at}::timestamptz, ${at}::timestamptz, 1
      where true ${suppress}
      on conflict (dedupe_key) where status <> 'resolved' do update set
        occurrences = alerts.occurrences + 1,
        last_raised_at = greatest(alerts.last_raised_at, excluded.last_raised_at),
        title = excluded.title,
        details = excluded.details,
        severity = case when excluded.severity = 'critical' then 'critical' else alerts.severity end
      returning ${COLUMNS}, (xmax = 0) as created`);
    const row = rowsOf<Record<string, unknown>>(res)[0];
    if (!row) return null;
    const created = row.created === true || row.created === 't';
    delete row.created;
    return { row: normalise([row])[0]!, created };
  }

  async get(db: Db | Tx, id: string): Promise<AlertRow | null> {
    const res = await db.execute(sql`select ${COLUMNS} from alerts where id = ${id}::uuid`);
    return normalise(rowsOf(res))[0] ?? null;
  }

  async lock(tx: Tx, id: string): Promise<AlertRow | null> {
    const res = await tx.execute(sql`select ${COLUMNS} from alerts where id = ${id}::uuid for update`);
    return normalise(rowsOf(res))[0] ?? null;
  }

  async acknowledge(tx: Tx, id: string, by: string, at: Date, note: string | null): Promise<AlertRow> {
    const res = await tx.execute(sql`
      update alerts set status = 'acknowledged', acknowledged_at = ${at.toISOString()}::timestamptz,
        acknowledged_by = ${by}, acknowledge_note = ${note}
      where id = ${id}::uuid returning ${COLUMNS}`);
    return normalise(rowsOf(res))[0]!;
  }

  async resolve(tx: Tx, id: string, by: string, at: Date, resolution: string): Promise<AlertRow> {
    const res = await tx.execute(sql`
      update alerts set status = 'resolved', resolved_at = ${at.toISOString()}::timestamptz,
        resolved_by = ${by}, resolution = ${resolution}
      where id = ${id}::uuid returning ${COLUMNS}`);
    return normalise(rowsOf(res))[0]!;
  }

  /** Resolves the not-yet-resolved alert of `dedupeKey`, if any (system resolutions). @returns it or null. */
  async resolveKey(
    db: Db | Tx,
    dedupeKey: string,
    by: string,
    at: Date,
    resolution: string,
  ): Promise<AlertRow | null> {
    const res = await db.execute(sql`
      update alerts set status = 'resolved', resolved_at = ${at.toISOString()}::timestamptz,
        resolved_by = ${by}, resolution = ${resolution}
      where dedupe_key = ${dedupeKey} and status <> 'resolved' returning ${COLUMNS}`);
    return normalise(rowsOf(res))[0] ?? null;
  }

  /** When the alert of `dedupeKey` was last resolved (null: never). */
  async lastResolvedAt(db: Db | Tx, dedupeKey: string): Promise<Date | null> {
    const res = await db.execute(
      sql`select max(resolved_at) as at from alerts where dedupe_key = ${dedupeKey} and status = 'resolved'`,
    );
    return dateOrNull(rowsOf<{ at: unknown }>(res)[0]?.at);
  }

  /**
   * Alerts matching the filters and the caller's places (`within`: division prefixes, hall codes,
   * department ids — an alert is in when its division lies under one prefix, or its hall or department is
   * listed). Active first (open, acknowledged), critical first, then the latest raised. @returns ≤ limit rows and the total.
   */
  async list(filter: {
    within: { divisionPrefixes: string[]; hallCodes: string[]; departmentIds: string[] };
    status?: string;
    rule?: string;
    divisionPrefix?: string;
    limit: number;
  }): Promise<{ rows: AlertRow[]; total: number }> {
    const places: SQL[] = [
      ...filter.within.divisionPrefixes.map((p) => sql`division_code like ${`${p}%`}`),
      ...(filter.within.hallCodes.length > 0
        ? [
            sql`hall_code in (${sql.join(
              filter.within.hallCodes.map((h) => sql`${h}`),
              sql`, `,
            )})`,
          ]
        : []),
      ...(filter.within.departmentIds.length > 0
        ? [
            sql`department_id in (${sql.join(
              filter.within.departmentIds.map((d) => sql`${d}`),
              sql`, `,
            )})`,
          ]
        : []),
    ];
    if (places.length === 0) return { rows: [], total: 0 };
    const where: SQL[] = [sql`(${sql.join(places, sql` or `)})`];
    if (filter.status === 'active') where.push(sql`status <> 'resolved'`);
    else if (filter.status) where.push(sql`status = ${filter.status}`);
    if (filter.rule) where.push(sql`rule = ${filter.rule}`);
    if (filter.divisionPrefix) where.push(sql`division_code like ${`${filter.divisionPrefix}%`}`);
    const cond = sql.join(where, sql` and `);
    const res = await this.db.execute(sql`
      select ${COLUMNS}, count(*) over () as total from alerts where ${cond}
      order by (status = 'resolved'), (severity = 'critical') desc, last_raised_at desc, id
      limit ${filter.limit}`);
    const raw = rowsOf<Record<string, unknown>>(res);
    const total = raw[0] ? toInt(raw[0].total) : 0;
    for (const r of raw) delete r.total;
    return { rows: normalise(raw), total };
  }

  /**
   * Claims the sweep `id` when it is due at `now`: one statement — the row picked FOR UPDATE SKIP LOCKED
   * (a node holding it makes the others skip at once) and moved to `nextRunAt`. Creates the row (due) on
   * first use. @returns true when this caller runs the sweep.
   */
  async claimSweep(id: string, now: Date, nextRunAt: Date): Promise<boolean> {
    await this.db.execute(sql`insert into warning_sweeps (id, next_run_at)
      values (${id}, '-infinity'::timestamptz) on conflict (id) do nothing`);
    const res = await this.db.execute(sql`
      update warning_sweeps set next_run_at = ${nextRunAt.toISOString()}::timestamptz,
        last_started_at = ${now.toISOString()}::timestamptz
      where id in (select id from warning_sweeps where id = ${id}
                   and next_run_at <= ${now.toISOString()}::timestamptz for update skip locked)
      returning id`);
    return rowsOf(res).length > 0;
  }

  async finishSweep(id: string, raised: number): Promise<void> {
    await this.db.execute(sql`update warning_sweeps set last_raised = ${raised} where id = ${id}`);
  }

  /** Records a bad review (idempotent by evaluation id). */
  async addBadReview(
    tx: Tx,
    r: {
      evaluationId: string;
      caseId: string | null;
      hallCode: string | null;
      departmentId: string | null;
      divisionCode: string;
      at: Date;
    },
  ): Promise<void> {
    await tx.execute(sql`insert into warning_bad_reviews (evaluation_id, case_id, hall_code, department_id, division_code, at)
      values (${r.evaluationId}, ${r.caseId}, ${r.hallCode}, ${r.departmentId}, ${r.divisionCode}, ${r.at.toISOString()}::timestamptz)
      on conflict (evaluation_id) do nothing`);
  }

  async removeBadReview(tx: Tx, evaluationId: string): Promise<void> {
    await tx.execute(sql`delete from warning_bad_reviews where evaluation_id = ${evaluationId}`);
  }

  /**
   * Bad reviews of one hall or department with `after` < at ≤ `until`, counted as DISTINCT cases: several
   * reviews of one case are one resident's complaint, not a cluster.
   */
  async countBadReviews(
    tx: Tx,
    place: { hallCode: string } | { departmentId: string },
    after: Date,
    until: Date,
  ): Promise<number> {
    const col =
      'hallCode' in place ? sql`hall_code = ${place.hallCode}` : sql`department_id = ${place.departmentId}`;
    const res =
      await tx.execute(sql`select count(distinct coalesce(case_id, evaluation_id)) as n from warning_bad_reviews where ${col}
      and at > ${after.toISOString()}::timestamptz and at <= ${until.toISOString()}::timestamptz`);
    return toInt(rowsOf<{ n: unknown }>(res)[0]!.n);
  }

  async watchClosedHall(
    tx: Tx,
    h: { hallCode: string; divisionCode: string; reason: string | null; since: Date },
  ): Promise<void> {
    await tx.execute(sql`insert into warning_closed_halls (hall_code, division_code, reason, since)
      values (${h.hallCode}, ${h.divisionCode}, ${h.reason}, ${h.since.toISOString()}::timestamptz)
      on conflict (hall_code) do update set reason = excluded.reason, since = excluded.since,
        division_code = excluded.division_code`);
  }

  async unwatchClosedHall(tx: Tx, hallCode: string): Promise<void> {
    await tx.execute(sql`delete from warning_closed_halls where hall_code = ${hallCode}`);
  }

  async closedHalls(
    limit: number,
  ): Promise<{ hallCode: string; divisionCode: string; reason: string | null; since: Date }[]> {
    const res =
      await this.db.execute(sql`select hall_code as "hallCode", division_code as "divisionCode", reason,
      since from warning_closed_halls order by since limit ${limit}`);
    return rowsOf<{ hallCode: string; divisionCode: string; reason: string | null; since: string }>(res).map(
      (r) => ({
        ...r,
        since: new Date(r.since),
      }),
    );
  }
}
