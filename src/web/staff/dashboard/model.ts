/**
 * The dashboard's pure parts (看板; issue 7 part 5): how a KPI value reads (ratios as %, working hours,
 * counts), the trend against the previous period judged by `higherIsBetter` (src/domain/kpi.ts), the
 * period presets in Asia/Shanghai days, the URL query ↔ scope and period, and the scope a staff member
 * starts from (their widest `dashboard.read` grant). No I/O, no Vue: unit-tested in model.test.ts.
 */
import { KPI_DEFINITIONS, KPI_IDS, type KpiId, type KpiUnit } from '../../../domain/kpi.ts';
import { type Action, roleAllows } from '../../../domain/roles.ts';
import type { Grant } from '../api/types.ts';

/** The unit a dashboard shows: a division (2/4/6-digit GB/T 2260 code) or a hall (hall code). */
export interface DashboardScope {
  kind: 'division' | 'hall';
  code: string;
}

/** What the URL holds: scope, period (inclusive `YYYY-MM-DD` days, Asia/Shanghai) and the chosen KPI. */
export interface DashboardQuery {
  scope: DashboardScope | null;
  from: string;
  to: string;
  kpi: KpiId;
}

/** Period presets: the last 7, 30 or 90 days ending today (inclusive), or a custom range. */
export const PERIOD_PRESETS = [7, 30, 90] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number] | 'custom';

export const DEFAULT_KPI: KpiId = 'satisfaction_rate';
export const DEFAULT_DAYS = 30;
/** The longest period the dashboard asks for (a year), so a typo in the URL does not ask for a century. */
export const MAX_DAYS = 366;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DIVISION = /^(\d{2}|\d{4}|\d{6})$/;

/** Today in Asia/Shanghai as `YYYY-MM-DD`. */
export function todayInShanghai(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** `day` plus `n` calendar days (negative goes back), `YYYY-MM-DD`. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to`, both counted (a one-day period is 1). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

/** The range of a preset: `days` calendar days ending `today` inclusive. */
export function presetRange(days: number, today: string): { from: string; to: string } {
  return { from: addDays(today, -(days - 1)), to: today };
}

/** Which preset a range is (the last N days ending today), else `custom`. */
export function presetOf(from: string, to: string, today: string): PeriodPreset {
  if (to !== today) return 'custom';
  return PERIOD_PRESETS.find((n) => daysBetween(from, to) === n) ?? 'custom';
}

/** Level of a division code by its length (GB/T 2260): 2 province, 4 prefecture, 6 county. */
export function divisionLevel(code: string): 'province' | 'prefecture' | 'county' | null {
  return code.length === 2
    ? 'province'
    : code.length === 4
      ? 'prefecture'
      : code.length === 6
        ? 'county'
        : null;
}

function first(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/**
 * Reads the route query (`division` | `hall`, `from`, `to`, `kpi`); anything missing or malformed falls
 * back to the last {@link DEFAULT_DAYS} days, {@link DEFAULT_KPI}, and no scope (the caller picks the
 * staff member's own). A reversed range is swapped; a range longer than {@link MAX_DAYS} is cut at `to`.
 */
export function parseQuery(query: Record<string, unknown>, today: string): DashboardQuery {
  const division = first(query.division);
  const hall = first(query.hall);
  const scope: DashboardScope | null =
    hall !== undefined && /^[\w-]{1,64}$/.test(hall)
      ? { kind: 'hall', code: hall }
      : division !== undefined && DIVISION.test(division)
        ? { kind: 'division', code: division }
        : null;
  let from = first(query.from);
  let to = first(query.to);
  const valid = (d: string | undefined): d is string =>
    d !== undefined && DAY.test(d) && !Number.isNaN(Date.parse(d));
  if (!valid(from) || !valid(to)) {
    ({ from, to } = presetRange(DEFAULT_DAYS, today));
  }
  if (from > to) [from, to] = [to, from];
  if (daysBetween(from, to) > MAX_DAYS) from = addDays(to, -(MAX_DAYS - 1));
  const k = first(query.kpi);
  const kpi = (KPI_IDS as readonly string[]).includes(k ?? '') ? (k as KpiId) : DEFAULT_KPI;
  return { scope, from, to, kpi };
}

/** The route query of a dashboard state (the inverse of {@link parseQuery}). */
export function toQuery(q: DashboardQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (q.scope) out[q.scope.kind] = q.scope.code;
  out.from = q.from;
  out.to = q.to;
  out.kpi = q.kpi;
  return out;
}

/**
 * Where a staff member's dashboard starts: among grants in force at `now` whose role allows `action`
 * (default `dashboard.read`), the widest division (shortest code; province before prefecture before
 * county), else a hall grant, else the division of a department grant. Null when none allows it.
 */
export function defaultScope(
  grants: readonly Grant[],
  now: number = Date.now(),
  action: Action = 'dashboard.read',
): DashboardScope | null {
  const held = grants.filter(
    (g) =>
      !g.revokedAt &&
      Date.parse(g.validFrom) <= now &&
      Date.parse(g.validUntil) > now &&
      roleAllows(g.role, action),
  );
  const divisions = held
    .filter((g) => g.scope.kind === 'division')
    .map((g) => g.scope.value)
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  if (divisions[0]) return { kind: 'division', code: divisions[0] };
  const hall = held.find((g) => g.scope.kind === 'hall');
  if (hall) return { kind: 'hall', code: hall.scope.value };
  const dept = held.find((g) => g.scope.kind === 'department');
  if (dept?.scope.divisionCode) return { kind: 'division', code: dept.scope.divisionCode };
  return null;
}

/** Display decimals of a unit (ratios as a percentage with one decimal). */
function decimals(unit: KpiUnit): number {
  return unit === 'count' ? 0 : 1;
}

/** The number as shown: a ratio 0…1 times 100 (percent), hours and days with one decimal, counts whole. */
export function displayNumber(unit: KpiUnit, value: number): number {
  const v = unit === 'ratio' ? value * 100 : value;
  const f = 10 ** decimals(unit);
  return Math.round(v * f) / f;
}

/**
 * A KPI value as text in `locale`: `87.5%`, `3.2`, `1,234` (the unit word for hours/days/counts is added by
 * the caller from the locale). Null (no denominator in the period) reads as `—`.
 */
export function formatValue(unit: KpiUnit, value: number | null, locale: string): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const d = decimals(unit);
  const n = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }).format(
    displayNumber(unit, value),
  );
  return unit === 'ratio' ? `${n}%` : n;
}

/** The trend of a KPI against the previous period of equal length. */
export interface Trend {
  /** up / down / flat as displayed (equal after rounding is flat); none when either value is missing */
  direction: 'up' | 'down' | 'flat' | 'none';
  /** better / worse by `higherIsBetter`; same when flat; unknown when there is nothing to compare */
  judgement: 'better' | 'worse' | 'same' | 'unknown';
  /** change in displayed units: percentage points for ratios, hours, days or a count; null when none */
  delta: number | null;
}

/** Compares `value` with `previous` (both in the KPI's own unit) the way the cards show it. */
export function trendOf(id: KpiId, value: number | null, previous: number | null): Trend {
  if (value === null || previous === null) return { direction: 'none', judgement: 'unknown', delta: null };
  const { unit, higherIsBetter } = KPI_DEFINITIONS[id];
  const f = 10 ** decimals(unit);
  const delta = Math.round((displayNumber(unit, value) - displayNumber(unit, previous)) * f) / f;
  if (delta === 0) return { direction: 'flat', judgement: 'same', delta: 0 };
  const up = delta > 0;
  return { direction: up ? 'up' : 'down', judgement: up === higherIsBetter ? 'better' : 'worse', delta };
}

/** The child level a scope drills into (province → prefecture → county → hall); null for a hall. */
export function childLevel(scope: DashboardScope): 'prefecture' | 'county' | 'hall' | null {
  if (scope.kind === 'hall') return null;
  const level = divisionLevel(scope.code);
  return level === 'province'
    ? 'prefecture'
    : level === 'prefecture'
      ? 'county'
      : level === 'county'
        ? 'hall'
        : null;
}

/** Summary of a series for an aria-label: the highest and lowest named values (nulls skipped). */
export function extremes<T extends { name: string; value: number | null }>(
  rows: readonly T[],
): { max: T; min: T } | null {
  const valued = rows.filter((r): r is T & { value: number } => r.value !== null && Number.isFinite(r.value));
  if (valued.length === 0) return null;
  let max = valued[0]!;
  let min = valued[0]!;
  for (const r of valued) {
    if (r.value > max.value) max = r;
    if (r.value < min.value) min = r;
  }
  return { max, min };
}
