import { type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf } from '../../db/sql.ts';
import { COUNTERS, type Counters, type Unit, zeroCounters } from './formulas.ts';
import { kpiCases, kpiDaily, kpiEvaluations, kpiFeedback, kpiHallOutages } from './schema.ts';

/** snake_case column of each counter. */
const COLUMN: Record<string, string> = Object.fromEntries(
  COUNTERS.map((c) => [c, c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)]),
);

/** The kpi module's view of a case (schema.ts `kpi_cases`). */
export interface KpiCaseRow {
  caseId: string;
  open: boolean;
  overdue: boolean;
  day: string;
  units: Unit[];
  lastEventId: number;
  applied: number[];
}

/** One contribution to the rollups: a unit, a day, counters to add. */
export interface DailyAddition {
  unit: Unit;
  day: string;
  counters: Partial<Counters>;
}

/**
 * Which rollup rows a read covers: the units of a kind in a code range (the prefectures of `52`, the
 * counties of `5226`), the hall units of a county, or one unit.
 */
export type UnitFilter =
  | { kind: 'range'; unitKind: Unit[0]; prefix: string }
  | { kind: 'halls_of_county'; countyCode: string }
  | { kind: 'one'; unitKind: Unit[0]; code: string };

/** `[prefix, next prefix)`: the codes starting with a digit string, as a range (index-friendly). */
function range(prefix: string): [string, string] {
  const next = String(Number(prefix) + 1).padStart(prefix.length, '0');
  return [prefix, next];
}

function where(f: UnitFilter): SQL {
  switch (f.kind) {
    case 'range': {
      const [lo, hi] = range(f.prefix);
      return sql`unit_kind = ${f.unitKind} and unit_code >= ${lo} and unit_code < ${hi}`;
    }
    case 'halls_of_county':
      return sql`unit_kind = 'hall' and county_code = ${f.countyCode}`;
    case 'one':
      return sql`unit_kind = ${f.unitKind} and unit_code = ${f.code}`;
  }
}

const sums = sql.raw(COUNTERS.map((c) => `coalesce(sum(${COLUMN[c]}), 0)::bigint as "${c}"`).join(', '));

function countersOf(row: Record<string, unknown>): Counters {
  const out = zeroCounters();
  for (const c of COUNTERS) out[c] = Number(row[c] ?? 0);
  return out;
}

/** SQL of the kpi module (no business rules). */
export class KpiRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The case's row, locked for the rest of `tx`; null when the case was never seen. */
  async lockCase(tx: Tx, caseId: string): Promise<KpiCaseRow | null> {
    const r = rowsOf<{
      case_id: string;
      open: boolean;
      overdue: boolean;
      day: string;
      units: Unit[];
      last_event_id: number | string;
      applied: (number | string)[];
    }>(await tx.execute(sql`select * from ${kpiCases} where case_id = ${caseId} for update`))[0];
    if (!r) return null;
    return {
      caseId: r.case_id,
      open: r.open,
      overdue: r.overdue,
      day: String(r.day).slice(0, 10),
      units: r.units,
      lastEventId: Number(r.last_event_id),
      applied: r.applied.map(Number),
    };
  }

  async saveCase(tx: Tx, row: KpiCaseRow): Promise<void> {
    const applied = sql.raw(`'{${row.applied.join(',')}}'::bigint[]`);
    await tx.execute(sql`
      insert into ${kpiCases} (case_id, open, overdue, day, units, last_event_id, applied)
      values (${row.caseId}, ${row.open}, ${row.overdue}, ${row.day}, ${JSON.stringify(row.units)}::jsonb,
              ${row.lastEventId}, ${applied})
      on conflict (case_id) do update set open = excluded.open, overdue = excluded.overdue, day = excluded.day,
        units = excluded.units, last_event_id = excluded.last_event_id, applied = excluded.applied`);
  }

  /**
   * Adds counters to the rollup rows in ONE statement. Additions to the same unit and day are merged
   * first (an INSERT … ON CONFLICT may not touch a row twice).
   */
  async addDaily(tx: Tx, additions: DailyAddition[]): Promise<void> {
    const merged = new Map<string, { unit: Unit; day: string; counters: Counters }>();
    for (const a of additions) {
      const key = `${a.unit[0]}|${a.unit[1]}|${a.day}`;
      let m = merged.get(key);
      if (!m) {
        m = { unit: a.unit, day: a.day, counters: zeroCounters() };
        merged.set(key, m);
      }
      for (const c of COUNTERS) m.counters[c] += a.counters[c] ?? 0;
    }
    const rows = [...merged.values()].filter((m) => COUNTERS.some((c) => m.counters[c] !== 0));
    if (rows.length === 0) return;
    const cols = sql.raw(COUNTERS.map((c) => COLUMN[c]).join(', '));
    const values = rows.map(
      (m) =>
        sql`(${m.unit[0]}, ${m.unit[1]}, ${m.day}, ${m.unit[2]}, ${sql.join(
          COUNTERS.map((c) => sql`${m.counters[c]}`),
          sql`, `,
        )})`,
    );
    const set = sql.raw(
      COUNTERS.map((c) => `${COLUMN[c]} = kpi_daily.${COLUMN[c]} + excluded.${COLUMN[c]}`).join(', '),
    );
    await tx.execute(sql`
      insert into ${kpiDaily} (unit_kind, unit_code, day, county_code, ${cols})
      values ${sql.join(values, sql`, `)}
      on conflict (unit_kind, unit_code, day) do update set ${set}`);
  }

  /** Records a rating once. @returns false when it was recorded before (a replay). */
  async insertEvaluation(
    tx: Tx,
    row: { evaluationId: string; day: string; units: Unit[]; level: number; excluded: boolean },
  ): Promise<boolean> {
    const r = await tx.execute(sql`
      insert into ${kpiEvaluations} (evaluation_id, day, units, level, excluded)
      values (${row.evaluationId}, ${row.day}, ${JSON.stringify(row.units)}::jsonb, ${row.level}, ${row.excluded})
      on conflict (evaluation_id) do nothing returning evaluation_id`);
    return rowsOf(r).length > 0;
  }

  /** Marks a counted rating excluded. @returns its day, units and level, or null (unknown or already excluded). */
  async excludeEvaluation(
    tx: Tx,
    evaluationId: string,
  ): Promise<{ day: string; units: Unit[]; level: number } | null> {
    const r = rowsOf<{ day: string; units: Unit[]; level: number }>(
      await tx.execute(sql`
        update ${kpiEvaluations} set excluded = true where evaluation_id = ${evaluationId} and not excluded
        returning day::text as day, units, level`),
    )[0];
    return r ? { day: String(r.day).slice(0, 10), units: r.units, level: Number(r.level) } : null;
  }

  /** Records a feedback report once. @returns false for a replay. */
  async insertFeedback(tx: Tx, feedbackId: string): Promise<boolean> {
    const r = await tx.execute(
      sql`insert into ${kpiFeedback} (feedback_id) values (${feedbackId}) on conflict do nothing returning feedback_id`,
    );
    return rowsOf(r).length > 0;
  }

  /** Whether the hall has an outage running. */
  async hasOpenOutage(tx: Tx, hallCode: string): Promise<boolean> {
    const r = await tx.execute(
      sql`select 1 from ${kpiHallOutages} where hall_code = ${hallCode} and ended_at is null limit 1`,
    );
    return rowsOf(r).length > 0;
  }

  /** Starts an outage (once per event). */
  async startOutage(
    tx: Tx,
    o: { hallCode: string; countyCode: string; status: string; at: Date; eventId: number },
  ): Promise<void> {
    await tx.execute(sql`
      insert into ${kpiHallOutages} (hall_code, county_code, status, started_at, started_event_id)
      values (${o.hallCode}, ${o.countyCode}, ${o.status}, ${o.at.toISOString()}, ${o.eventId})
      on conflict (started_event_id) do nothing`);
  }

  /** Ends the hall's running outage at `at` (no-op when none runs). */
  async endOutage(tx: Tx, hallCode: string, at: Date): Promise<void> {
    await tx.execute(sql`
      update ${kpiHallOutages} set ended_at = greatest(started_at, ${at.toISOString()}::timestamptz)
      where hall_code = ${hallCode} and ended_at is null`);
  }

  // ------------------------------------------------------------------------------------------ reads

  /** Counters per day over `[from, to]` for the units of `filter`, summed. */
  async sumByDay(filter: UnitFilter, from: string, to: string): Promise<Map<string, Counters>> {
    const r = rowsOf<Record<string, unknown> & { day: string }>(
      await this.db.execute(sql`
        select day::text as day, ${sums} from ${kpiDaily}
        where ${where(filter)} and day >= ${from} and day <= ${to}
        group by day`),
    );
    return new Map(r.map((row) => [String(row.day).slice(0, 10), countersOf(row)]));
  }

  /** The backlog (Σ open/overdue deltas) of the units of `filter` over the days before `before`. */
  async backlogBefore(filter: UnitFilter, before: string): Promise<{ open: number; overdue: number }> {
    const r = rowsOf<{ open: unknown; overdue: unknown }>(
      await this.db.execute(sql`
        select coalesce(sum(open_delta), 0)::bigint as open, coalesce(sum(overdue_delta), 0)::bigint as overdue
        from ${kpiDaily} where ${where(filter)} and day < ${before}`),
    )[0];
    return { open: Number(r?.open ?? 0), overdue: Number(r?.overdue ?? 0) };
  }

  /**
   * Per child (the first `keyLength` characters of the unit code, or the whole code when null): counters
   * over `[from, to]` and the backlog at the end of `to`.
   */
  async sumByChild(
    filter: UnitFilter,
    keyLength: number | null,
    from: string,
    to: string,
  ): Promise<Map<string, { counters: Counters; open: number; overdue: number }>> {
    const key = keyLength === null ? sql`unit_code` : sql`left(unit_code, ${keyLength})`;
    const periodSums = sql.join(
      COUNTERS.map(
        (c) =>
          sql`coalesce(sum(${sql.raw(COLUMN[c]!)}) filter (where day >= ${from}), 0)::bigint as ${sql.raw(`"${c}"`)}`,
      ),
      sql`, `,
    );
    const r = rowsOf<Record<string, unknown> & { child: string; open_end: unknown; overdue_end: unknown }>(
      await this.db.execute(sql`
        select ${key} as child, ${periodSums},
               coalesce(sum(open_delta), 0)::bigint as open_end, coalesce(sum(overdue_delta), 0)::bigint as overdue_end
        from ${kpiDaily} where ${where(filter)} and day <= ${to}
        group by 1`),
    );
    return new Map(
      r.map((row) => [
        String(row.child),
        { counters: countersOf(row), open: Number(row.open_end), overdue: Number(row.overdue_end) },
      ]),
    );
  }

  /** Outages overlapping `[fromAt, toAt)` of halls in the county range / the county / the hall. */
  async outages(
    filter: { prefix: string } | { hallCode: string },
    fromAt: Date,
    toAt: Date,
  ): Promise<{ hallCode: string; countyCode: string; startedAt: Date; endedAt: Date | null }[]> {
    let cond: SQL;
    if ('hallCode' in filter) cond = sql`hall_code = ${filter.hallCode}`;
    else {
      const [lo, hi] = range(filter.prefix);
      cond = sql`county_code >= ${lo} and county_code < ${hi}`;
    }
    const r = rowsOf<{
      hall_code: string;
      county_code: string;
      started_at: string | Date;
      ended_at: string | Date | null;
    }>(
      await this.db.execute(sql`
        select hall_code, county_code, started_at, ended_at from ${kpiHallOutages}
        where ${cond} and started_at < ${toAt.toISOString()}
          and (ended_at is null or ended_at > ${fromAt.toISOString()})`),
    );
    return r.map((o) => ({
      hallCode: o.hall_code,
      countyCode: o.county_code,
      startedAt: new Date(o.started_at),
      endedAt: o.ended_at ? new Date(o.ended_at) : null,
    }));
  }
}
