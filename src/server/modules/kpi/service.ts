import { addCalendarDays, toEpochDay, type WorkingDayCalendar } from '../../../domain/calendar.ts';
import { parseDivisionCode } from '../../../domain/division-code.ts';
import { invalid } from '../../../domain/errors.ts';
import {
  type CaseEventFacts,
  KPI_IDS,
  type KpiDaily,
  type KpiDashboard,
  type KpiFigure,
  type KpiId,
} from '../../../domain/kpi.ts';
import type { OpeningHours } from '../../../domain/opening-hours.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { Hall } from '../halls/service.ts';
import type { Principal } from '../identity/principal.ts';
import type { OutboxHandler, OutboxRow } from '../outbox/service.ts';
import type { Division } from '../regions/service.ts';
import {
  addCounters,
  backlogOf,
  type Counters,
  caseEventCounters,
  daysBetween,
  decidingUnits,
  intakeUnits,
  type KpiParts,
  kpiParts,
  lostMinutesOn,
  PROVINCE_COUNTY,
  scheduledMinutesOn,
  type Unit,
  zeroCounters,
} from './formulas.ts';
import { requireDashboardRead } from './policy.ts';
import { type DailyAddition, KpiRepository, type UnitFilter } from './repository.ts';

/** A place the KPIs are asked for: a division (province, prefecture, county) or one hall. */
export type KpiScope = { divisionCode: string } | { hallCode: string };

/** What the kpi module needs of other modules (their services). */
export interface KpiDeps {
  /** The working-day calendar; `tx` is used when its cache is cold inside the dispatch transaction. */
  calendar: { calendar(tx?: Tx): Promise<WorkingDayCalendar> };
  regions: Pick<import('../regions/service.ts').RegionsService, 'getDivision' | 'getChildren'>;
  halls: Pick<import('../halls/service.ts').HallsService, 'getHall' | 'listHallsOfDivision'>;
  /** The current instant (simulated time in `tongban simulate`): ends running hall outages. */
  clock?: () => Date;
}

/** Longest period a dashboard or daily series covers, in calendar days. */
export const MAX_KPI_DAYS = 366;
const HALLS_TTL_MS = 10 * 60_000;

/** Halls of one grouping key with the same opening hours. */
interface Profile {
  key: string;
  hours: OpeningHours;
  hoursKey: string;
  count: number;
}

interface HallInfo {
  code: string;
  name: string;
  countyCode: string;
  hours: OpeningHours;
  /** The hours as one string (grouping key). */
  hoursKey: string;
}

/** A 6-digit GB/T 2260 code for any division code (a township's county; a prefecture/province padded). */
function sixDigits(code: string): string {
  return code.length >= 6 ? code.slice(0, 6) : code.padEnd(6, '0');
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * 循数治理: the KPIs of docs/metrics.md, kept as rollups current from the outbox (`case.*`,
 * `evaluation.submitted|excluded`, `feedback.reported`, `hall.status_changed`); dashboards read rollups
 * (schema.ts `kpi_daily`, `kpi_hall_outages`), never the cases table.
 */
export class KpiService {
  readonly db: Db;
  private readonly repo: KpiRepository;
  private readonly deps: KpiDeps;
  private hallsCache: { at: number; halls: Map<string, HallInfo> } | undefined;
  private readonly names = new Map<string, Division>();
  private readonly kids = new Map<string, Division[]>();
  /** Hall profiles per scope and grouping, for the current hall cache. */
  private readonly profiles = new Map<string, Profile[]>();

  constructor(db: Db, deps: KpiDeps) {
    this.db = db;
    this.repo = new KpiRepository(db);
    this.deps = deps;
  }

  /**
   * Outbox handler: folds each event into the rollups in the dispatch transaction `tx` (so an event
   * counts iff its dispatch commits). A replayed event (same outbox id, same evaluation/feedback id)
   * changes nothing. Events without KPI facts are ignored.
   */
  readonly handler: OutboxHandler = async (tx, event) => {
    const p = event.payload as Record<string, unknown>;
    if (event.topic.startsWith('case.')) {
      if (p.facts) await this.foldCase(tx, event, p.facts as CaseEventFacts);
      return;
    }
    switch (event.topic) {
      case 'evaluation.submitted':
      case 'evaluation.excluded':
        await this.foldEvaluation(tx, event.topic, p);
        return;
      case 'feedback.reported':
        await this.foldFeedback(tx, p);
        return;
      case 'hall.status_changed':
        await this.foldHallStatus(tx, event, p);
        return;
    }
  };

  private async foldCase(tx: Tx, event: OutboxRow, f: CaseEventFacts): Promise<void> {
    const prev = await this.repo.lockCase(tx, event.aggregateId);
    if (prev?.applied.includes(event.id)) return; // replayed: counted already
    const calendar = await this.deps.calendar.calendar(tx);
    const { intake, deciding } = caseEventCounters(f, calendar);
    const additions: DailyAddition[] = [
      ...intakeUnits(f).map((unit) => ({ unit, day: f.on, counters: intake })),
      ...decidingUnits(f).map((unit) => ({ unit, day: f.on, counters: deciding })),
    ];
    // The backlog follows the newest event's state; an older event arriving late (two nodes dispatching
    // side by side) only adds its flow counters.
    const newest = !prev || event.id > prev.lastEventId;
    let state = prev;
    if (newest) {
      const next = backlogOf(f);
      const units = decidingUnits(f);
      if (prev)
        for (const unit of prev.units)
          additions.push({
            unit,
            day: f.on,
            counters: { openDelta: prev.open ? -1 : 0, overdueDelta: prev.overdue ? -1 : 0 },
          });
      for (const unit of units)
        additions.push({
          unit,
          day: f.on,
          counters: { openDelta: next.open ? 1 : 0, overdueDelta: next.overdue ? 1 : 0 },
        });
      state = {
        caseId: event.aggregateId,
        open: next.open,
        overdue: next.overdue,
        day: f.on,
        units,
        lastEventId: event.id,
        applied: prev?.applied ?? [],
      };
    }
    await this.add(tx, additions);
    await this.repo.saveCase(tx, { ...state!, applied: [...state!.applied, event.id] });
  }

  /**
   * Adds to the rollups, each county unit also to its prefecture's and the province's (so a prefecture or
   * province dashboard reads one unit, not ~90 counties).
   */
  private add(tx: Tx, additions: DailyAddition[]): Promise<void> {
    const out = [...additions];
    for (const a of additions)
      if (a.unit[0] === 'county') {
        const code = a.unit[1];
        out.push({ ...a, unit: ['prefecture', code.slice(0, 4), `${code.slice(0, 4)}00`] });
        out.push({ ...a, unit: ['province', code.slice(0, 2), `${code.slice(0, 2)}0000`] });
      }
    return this.repo.addDaily(tx, out);
  }

  private async foldEvaluation(tx: Tx, topic: string, p: Record<string, unknown>): Promise<void> {
    const id = String(p.evaluationId);
    const level = Number(p.level);
    const deciding = String(p.decidingCountyCode ?? p.intakeCountyCode);
    const intake = String(p.intakeCountyCode ?? deciding);
    const units: Unit[] = [['county', deciding, deciding]];
    if (typeof p.departmentId === 'string') units.push(['department', p.departmentId, deciding]);
    if (typeof p.hallCode === 'string') units.push(['hall', p.hallCode, intake]);
    if (typeof p.itemCode === 'string') units.push(['item', p.itemCode, PROVINCE_COUNTY]);
    const counted = (sign: number, lvl: number): Partial<Counters> => ({
      ratings: sign,
      goodReviews: lvl <= 2 ? sign : 0,
      badReviews: lvl >= 4 ? sign : 0,
    });
    if (topic === 'evaluation.submitted') {
      const day = String(p.on);
      if (await this.repo.insertEvaluation(tx, { evaluationId: id, day, units, level, excluded: false }))
        await this.add(
          tx,
          units.map((unit) => ({ unit, day, counters: counted(1, level) })),
        );
      return;
    }
    // excluded (appeal upheld): take back exactly what the rating added, on the rating's own day
    const was = await this.repo.excludeEvaluation(tx, id);
    if (was)
      await this.add(
        tx,
        was.units.map((unit) => ({ unit, day: was.day, counters: counted(-1, was.level) })),
      );
    // not seen yet (or already excluded): remember it so a later `submitted` does not count
    else
      await this.repo.insertEvaluation(tx, {
        evaluationId: id,
        day: String(p.on),
        units,
        level,
        excluded: true,
      });
  }

  private async foldFeedback(tx: Tx, p: Record<string, unknown>): Promise<void> {
    if (!(await this.repo.insertFeedback(tx, String(p.feedbackId)))) return;
    const county = sixDigits(String(p.divisionCode));
    const units: Unit[] = [['county', county, county]];
    if (typeof p.hallCode === 'string') units.push(['hall', p.hallCode, county]);
    const day = typeof p.on === 'string' ? p.on : shanghaiDay(new Date(String(p.at)));
    await this.add(
      tx,
      units.map((unit) => ({ unit, day, counters: { feedbackReports: 1 } })),
    );
  }

  private async foldHallStatus(tx: Tx, event: OutboxRow, p: Record<string, unknown>): Promise<void> {
    const hallCode = String(p.hallCode);
    const at = new Date(String(p.at));
    if (p.to === 'open') {
      await this.repo.endOutage(tx, hallCode, at);
      return;
    }
    if (await this.repo.hasOpenOutage(tx, hallCode)) return; // closed → degraded: still not open
    const countyCode = sixDigits(String(p.countyCode ?? p.divisionCode));
    await this.repo.startOutage(tx, { hallCode, countyCode, status: String(p.to), at, eventId: event.id });
  }

  // ------------------------------------------------------------------------------------------ reads

  /**
   * The scope's KPIs per day, `from` … `to` inclusive (YYYY-MM-DD, Asia/Shanghai; at most
   * {@link MAX_KPI_DAYS} days), with the raw counts the warning rules read: cases received that day,
   * open and overdue at the end of the day, ratings and bad reviews counted that day. Values follow
   * docs/metrics.md, each over that one day. No authorization (a service-to-service read).
   * @throws AppError(validation) `kpi.period_invalid` (field `from`/`to`), `kpi.scope_invalid`
   *   (a township or village division); AppError(not_found) for an unknown division or hall.
   */
  async daily(scope: KpiScope, from: string, to: string): Promise<KpiDaily[]> {
    checkPeriod(from, to);
    const resolved = await this.resolve(scope);
    const calendar = await this.deps.calendar.calendar();
    const byDay = await this.repo.sumByDay(resolved.filter, from, to);
    const base = await this.repo.backlogBefore(resolved.filter, from);
    const halls = await this.hallMinutesByDay(resolved, calendar, from, to);
    const out: KpiDaily[] = [];
    let open = base.open;
    let overdue = base.overdue;
    for (const day of daysBetween(from, to)) {
      const c = byDay.get(day) ?? zeroCounters();
      open += c.openDelta;
      overdue += c.overdueDelta;
      out.push({
        day,
        values: valuesOf(kpiParts(c, { open, overdue }, halls.get(day) ?? NO_HALLS)),
        counts: { received: c.received, open, overdue, ratings: c.ratings, badReviews: c.badReviews },
      });
    }
    return out;
  }

  /**
   * GET /api/v1/kpi/dashboard: the KPIs of a division (province `52`, prefecture `5226`, county
   * `522601`) or one hall over `from` … `to` (inclusive, Asia/Shanghai days, at most
   * {@link MAX_KPI_DAYS}), each with its numerator, denominator and the value over the period of equal
   * length just before; the daily trend; and the children for drill-down (province → prefectures,
   * prefecture → counties and its own level, county → the halls with activity), with names. Reads the
   * rollups only (a few indexed range reads), never the cases table.
   * @throws AppError(forbidden) `kpi.scope_missing` without `dashboard.read` over the scope;
   *   AppError(validation) `kpi.period_invalid` / `kpi.scope_invalid`; AppError(not_found) for an unknown
   *   division or hall.
   */
  async dashboard(
    principal: Principal | null,
    query: { division?: string; hall?: string; from: string; to: string },
  ): Promise<KpiDashboard> {
    const { from, to } = query;
    checkPeriod(from, to);
    if (!query.division === !query.hall)
      throw invalid(
        'division',
        'Give either division (e.g. 52, 5226, 522601) or hall (e.g. 522601-zwfw).',
        'kpi.scope_invalid',
      );
    const resolved = await this.resolve(
      query.division ? { divisionCode: query.division } : { hallCode: query.hall! },
    );
    requireDashboardRead(principal, resolved.target, this.now());
    const length = toEpochDay(to) - toEpochDay(from) + 1;
    const prevFrom = addCalendarDays(from, -length);
    const prevTo = addCalendarDays(from, -1);
    const calendar = await this.deps.calendar.calendar();
    // independent reads, in parallel on PostgreSQL (queued on PGlite's one connection)
    const [byDay, base, halls, children] = await Promise.all([
      this.repo.sumByDay(resolved.filter, prevFrom, to),
      this.repo.backlogBefore(resolved.filter, prevFrom),
      this.hallMinutesByDay(resolved, calendar, prevFrom, to),
      this.children(resolved, calendar, from, to),
    ]);
    const current = { c: zeroCounters(), halls: { scheduledMinutes: 0, lostMinutes: 0 } };
    const previous = { c: zeroCounters(), halls: { scheduledMinutes: 0, lostMinutes: 0 } };
    let open = base.open;
    let overdue = base.overdue;
    let prevEnd = { open, overdue };
    const daily: KpiDashboard['daily'] = [];
    for (const day of daysBetween(prevFrom, to)) {
      const c = byDay.get(day) ?? zeroCounters();
      const h = halls.get(day) ?? NO_HALLS;
      open += c.openDelta;
      overdue += c.overdueDelta;
      const into = day < from ? previous : current;
      addCounters(into.c, c);
      into.halls.scheduledMinutes += h.scheduledMinutes;
      into.halls.lostMinutes += h.lostMinutes;
      if (day === prevTo) prevEnd = { open, overdue };
      if (day >= from) daily.push({ day, values: valuesOf(kpiParts(c, { open, overdue }, h)) });
    }
    const now = kpiParts(current.c, { open, overdue }, current.halls);
    const before = kpiParts(previous.c, prevEnd, previous.halls);
    const kpis: KpiFigure[] = KPI_IDS.map((id) => ({
      id,
      value: now[id].value,
      numerator: now[id].numerator,
      denominator: now[id].denominator,
      previous: before[id].value,
    }));
    return { scope: resolved.scope, from, to, kpis, daily, children };
  }

  /** The scope as names, a rollup filter and a policy target. */
  private async resolve(scope: KpiScope): Promise<Resolved> {
    if ('hallCode' in scope) {
      const hall = await this.deps.halls.getHall(scope.hallCode);
      const county = hall.countyCode ?? sixDigits(hall.divisionCode);
      return {
        scope: { kind: 'hall', code: hall.code, name: hall.name, level: 'hall' },
        filter: { kind: 'one', unitKind: 'hall', code: hall.code },
        hallFilter: { hallCode: hall.code },
        hallCodes: [hall.code],
        countyCode: county,
        target: { hallCodes: [hall.code], divisionCodes: [hall.divisionCode] },
      };
    }
    const division = await this.division(scope.divisionCode);
    if (!['province', 'prefecture', 'county'].includes(division.level))
      throw invalid(
        'division',
        `${division.code} is a ${division.level}: KPIs are kept per province, prefecture, county and hall — ask for its county or its hall.`,
        'kpi.scope_invalid',
      );
    return {
      scope: { kind: 'division', code: division.code, name: division.name, level: division.level },
      filter: {
        kind: 'one',
        unitKind: division.level as 'province' | 'prefecture' | 'county',
        code: division.code,
      },
      hallFilter: { prefix: division.code },
      hallCodes: null,
      countyCode: null,
      division,
      target: { divisionCodes: [division.code] },
    };
  }

  private async division(code: string): Promise<Division> {
    let d = this.names.get(code);
    if (!d) {
      parseDivisionCode(code);
      d = await this.deps.regions.getDivision(code, 'division');
      this.names.set(code, d);
    }
    return d;
  }

  private now(): Date {
    return this.deps.clock ? this.deps.clock() : new Date();
  }

  /** Every hall's county and opening hours (cached for 10 minutes: hours change rarely). */
  private async halls(): Promise<Map<string, HallInfo>> {
    const at = Date.now();
    if (this.hallsCache && at - this.hallsCache.at < HALLS_TTL_MS) return this.hallsCache.halls;
    const list: Hall[] = await this.deps.halls.listHallsOfDivision('52', { limit: 1_000_000 });
    const halls = new Map(
      list.map((h) => [
        h.code,
        {
          code: h.code,
          name: h.name,
          countyCode: h.countyCode ?? sixDigits(h.divisionCode),
          hours: h.openingHours,
          hoursKey: JSON.stringify(h.openingHours),
        },
      ]),
    );
    this.hallsCache = { at, halls };
    this.profiles.clear();
    return halls;
  }

  /** The halls of the scope grouped by (key, opening hours), memoised per hall-cache load. */
  private async profilesOf(r: Resolved, mode: 'total' | 'children', keyOf: (h: HallInfo) => string) {
    const all = await this.halls();
    const memoKey = `${r.scope.kind}:${r.scope.code}|${mode}`;
    let profiles = this.profiles.get(memoKey);
    if (!profiles) {
      const grouped = new Map<string, Profile>();
      for (const h of all.values()) {
        const inScope = r.hallCodes
          ? r.hallCodes.includes(h.code)
          : 'prefix' in r.hallFilter && h.countyCode.startsWith(r.hallFilter.prefix);
        if (!inScope) continue;
        const k = `${keyOf(h)}|${h.hoursKey}`;
        const p = grouped.get(k);
        if (p) p.count++;
        else grouped.set(k, { key: keyOf(h), hours: h.hours, hoursKey: h.hoursKey, count: 1 });
      }
      profiles = [...grouped.values()];
      this.profiles.set(memoKey, profiles);
    }
    return { all, profiles };
  }

  /**
   * Scheduled and lost opening minutes of the halls in scope (halls_open_rate), per day (`keyOf` null)
   * or per child key over the whole period. Scheduled minutes are computed once per distinct opening
   * hours and day, then weighted by the number of halls sharing them; losses from the outages.
   */
  private async hallMinutes(
    r: Resolved,
    calendar: WorkingDayCalendar,
    from: string,
    to: string,
    keyOf: ((h: HallInfo) => string) | null,
  ): Promise<Map<string, { scheduledMinutes: number; lostMinutes: number }>> {
    const { all, profiles } = await this.profilesOf(r, keyOf ? 'children' : 'total', keyOf ?? (() => ''));
    const days = daysBetween(from, to);
    const perHours = new Map<string, number[]>();
    const vector = (p: Profile) => {
      let v = perHours.get(p.hoursKey);
      if (!v) {
        v = days.map((day) => scheduledMinutesOn(p.hours, calendar, day));
        perHours.set(p.hoursKey, v);
      }
      return v;
    };
    const out = new Map<string, { scheduledMinutes: number; lostMinutes: number }>();
    const cell = (key: string) => {
      let c = out.get(key);
      if (!c) {
        c = { scheduledMinutes: 0, lostMinutes: 0 };
        out.set(key, c);
      }
      return c;
    };
    for (const p of profiles) {
      const v = vector(p);
      if (keyOf) cell(p.key).scheduledMinutes += p.count * v.reduce((a, b) => a + b, 0);
      else for (let i = 0; i < days.length; i++) cell(days[i]!).scheduledMinutes += p.count * v[i]!;
    }
    const fromAt = new Date(`${from}T00:00:00+08:00`);
    const toAt = new Date(`${addCalendarDays(to, 1)}T00:00:00+08:00`);
    const now = this.now();
    for (const o of await this.repo.outages(r.hallFilter, fromAt, toAt)) {
      const h = all.get(o.hallCode);
      if (!h || (r.hallCodes && !r.hallCodes.includes(h.code))) continue;
      const end = o.endedAt ?? (now < toAt ? now : toAt);
      for (const day of days) {
        const lost = lostMinutesOn(h.hours, calendar, day, o.startedAt, end);
        if (lost > 0) cell(keyOf ? keyOf(h) : day).lostMinutes += lost;
      }
    }
    return out;
  }

  private hallMinutesByDay(r: Resolved, calendar: WorkingDayCalendar, from: string, to: string) {
    return this.hallMinutes(r, calendar, from, to, null);
  }

  /** Drill-down: the children of a division with their KPIs over the period; a hall has none. */
  private async children(
    r: Resolved,
    calendar: WorkingDayCalendar,
    from: string,
    to: string,
  ): Promise<KpiDashboard['children']> {
    if (!r.division) return [];
    const d = r.division;
    const all = await this.halls();
    const level = d.level;
    const filter: UnitFilter =
      level === 'county'
        ? { kind: 'halls_of_county', countyCode: d.code }
        : level === 'province'
          ? { kind: 'range', unitKind: 'prefecture', prefix: d.code }
          : { kind: 'range', unitKind: 'county', prefix: d.code };
    const rows = await this.repo.sumByChild(filter, null, from, to);
    const keyOf = (h: HallInfo) =>
      level === 'province' ? h.countyCode.slice(0, 4) : level === 'prefecture' ? h.countyCode : h.code;
    const minutes = await this.hallMinutes(r, calendar, from, to, keyOf);
    const total = (key: string) => minutes.get(key) ?? NO_HALLS;
    const entry = (kind: 'division' | 'hall', code: string, key: string, name: string) => {
      const row = rows.get(key);
      const c = row?.counters ?? zeroCounters();
      return {
        kind,
        code,
        name,
        received: c.received,
        values: valuesOf(kpiParts(c, { open: row?.open ?? 0, overdue: row?.overdue ?? 0 }, total(key))),
      };
    };
    if (level === 'county') {
      // the halls with activity in the period (a county has hundreds of village service stations)
      return [...rows.entries()]
        .filter(([, v]) => COUNTED.some((c) => v.counters[c] !== 0) || v.open !== 0)
        .map(([code]) => entry('hall', code, code, all.get(code)?.name ?? code))
        .sort((a, b) => b.received - a.received || a.code.localeCompare(b.code));
    }
    let kids = this.kids.get(d.code);
    if (!kids) {
      kids = await this.deps.regions.getChildren(d.code);
      this.kids.set(d.code, kids);
    }
    const out = kids.map((k) =>
      entry('division', k.code, level === 'province' ? k.code : sixDigits(k.code), k.name),
    );
    // the division's own level (省本级 / 市本级): departments of the province or prefecture itself
    const ownKey = level === 'province' ? '5200' : sixDigits(d.code);
    if (rows.has(ownKey)) out.push(entry('division', d.code, ownKey, `${d.name}本级`));
    return out;
  }
}

const COUNTED = ['received', 'delivered', 'ratings', 'feedbackReports', 'crossAccepts'] as const;
const NO_HALLS = { scheduledMinutes: 0, lostMinutes: 0 };

interface Resolved {
  scope: KpiDashboard['scope'];
  filter: UnitFilter;
  hallFilter: { prefix: string } | { hallCode: string };
  hallCodes: string[] | null;
  countyCode: string | null;
  division?: Division;
  target: { divisionCodes?: string[]; hallCodes?: string[] };
}

function valuesOf(parts: Record<KpiId, KpiParts>): Record<KpiId, number | null> {
  return Object.fromEntries(KPI_IDS.map((id) => [id, parts[id].value])) as Record<KpiId, number | null>;
}

function shanghaiDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

/** @throws AppError(validation) `kpi.period_invalid` for a malformed or reversed period, or one too long. */
function checkPeriod(from: string, to: string): void {
  if (!DAY.test(from))
    throw invalid(
      'from',
      `from must be a day as YYYY-MM-DD; got ${JSON.stringify(from)}.`,
      'kpi.period_invalid',
    );
  if (!DAY.test(to))
    throw invalid('to', `to must be a day as YYYY-MM-DD; got ${JSON.stringify(to)}.`, 'kpi.period_invalid');
  if (to < from)
    throw invalid(
      'to',
      `to (${to}) is before from (${from}): give the first day first.`,
      'kpi.period_invalid',
    );
  if (toEpochDay(to) - toEpochDay(from) + 1 > MAX_KPI_DAYS)
    throw invalid('to', `A period covers at most ${MAX_KPI_DAYS} days: shorten it.`, 'kpi.period_invalid');
}
