/**
 * The KPI formulas of docs/metrics.md over the rollup counters, and the working-time arithmetic the
 * rollups need. Pure: no I/O (the calendar is passed in).
 */
import { addCalendarDays, type WorkingDayCalendar } from '../../../domain/calendar.ts';
import type { CaseEventFacts, KpiId } from '../../../domain/kpi.ts';
import type { OpeningHours } from '../../../domain/opening-hours.ts';

/** The counters of one rollup row (see schema.ts `kpi_daily`), all counts of one day. */
export const COUNTERS = [
  'received',
  'online',
  'nearbyBase',
  'nearby',
  'senior',
  'seniorOffline',
  'delivered',
  'oneVisit',
  'tripsSaved',
  'crossAccepts',
  'crossMinutes',
  'crossProvisional',
  'remoteClosed',
  'remoteDecided',
  'decidedWithLimit',
  'decidedLate',
  'legalDays',
  'actualDays',
  'firstSupplements',
  'secondSupplements',
  'openDelta',
  'overdueDelta',
  'ratings',
  'goodReviews',
  'badReviews',
  'feedbackReports',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Record<Counter, number>;

/** All counters at 0. */
export function zeroCounters(): Counters {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters;
}

/** `a += b`, counter by counter. @returns `a`. */
export function addCounters(a: Counters, b: Partial<Counters>): Counters {
  for (const c of COUNTERS) a[c] += b[c] ?? 0;
  return a;
}

/** Online channels (全程网办 entry points). */
export const ONLINE_CHANNELS = ['pc', 'mobile'] as const;
/** Offline channels for the 65+ share (适老化): a window, a village agent, the post. */
export const OFFLINE_CHANNELS = ['hall_window', 'village_agent', 'post'] as const;

/**
 * Office hours for response times: 09:00–12:00 and 13:00–17:00 Asia/Shanghai on the calendar's working
 * days (7 working hours a day), as minutes since midnight.
 */
export const OFFICE_HOURS: readonly (readonly [number, number])[] = [
  [9 * 60, 12 * 60],
  [13 * 60, 17 * 60],
];

/** Asia/Shanghai day and minute of an instant. */
function shanghai(at: Date): { day: string; minute: number } {
  const local = new Date(at.getTime() + 8 * 3_600_000);
  return {
    day: local.toISOString().slice(0, 10),
    minute: local.getUTCHours() * 60 + local.getUTCMinutes() + local.getUTCSeconds() / 60,
  };
}

/** Minutes of `[from, to)` (minutes of the day) inside `ranges`. */
function overlap(ranges: readonly (readonly [number, number])[], from: number, to: number): number {
  let total = 0;
  for (const [a, b] of ranges) total += Math.max(0, Math.min(b, to) - Math.max(a, from));
  return total;
}

/**
 * Working minutes between two instants: the minutes inside {@link OFFICE_HOURS} on working days of
 * `calendar` (holidays off, 调休 make-up days on). 0 when `to` ≤ `from`. At most 400 days are walked
 * (a longer span counts its first 400 days). `provisional`: a day in a year the calendar does not know
 * was counted by the weekly rule.
 */
export function workingMinutesBetween(
  calendar: WorkingDayCalendar,
  from: Date,
  to: Date,
): { minutes: number; provisional: boolean } {
  if (!(to.getTime() > from.getTime())) return { minutes: 0, provisional: false };
  const a = shanghai(from);
  const b = shanghai(to);
  let minutes = 0;
  let provisional = false;
  let day = a.day;
  for (let i = 0; i < 400 && day <= b.day; i++, day = addCalendarDays(day, 1)) {
    const d = calendar.isWorkingDay(day);
    if (d.provisional) provisional = true;
    if (!d.working) continue;
    const start = day === a.day ? a.minute : 0;
    const end = day === b.day ? b.minute : 24 * 60;
    minutes += overlap(OFFICE_HOURS, start, end);
  }
  return { minutes: Math.round(minutes), provisional };
}

function parseRanges(ranges: readonly string[] | undefined): [number, number][] {
  return (ranges ?? []).flatMap((r) => {
    const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(r);
    return m
      ? [[Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] as [number, number]]
      : [];
  });
}

/**
 * A hall's opening ranges (minutes of the day) on `day`: weekday hours on working days (incl. 调休),
 * none on statutory holidays, Saturday/Sunday hours on other weekend days (src/domain/opening-hours.ts).
 */
export function openingRangesOn(
  hours: OpeningHours,
  calendar: WorkingDayCalendar,
  day: string,
): [number, number][] {
  const d = calendar.isWorkingDay(day);
  if (d.working) return parseRanges(hours.weekdays);
  if (d.dayType === 'holiday') return [];
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
  return parseRanges(dow === 6 ? hours.saturday : dow === 0 ? hours.sunday : undefined);
}

/** Minutes a hall with `hours` is scheduled open on `day`. */
export function scheduledMinutesOn(hours: OpeningHours, calendar: WorkingDayCalendar, day: string): number {
  return openingRangesOn(hours, calendar, day).reduce((s, [a, b]) => s + (b - a), 0);
}

/**
 * Scheduled opening minutes of `hours` lost to an outage `[from, to)` on `day` (Asia/Shanghai): the
 * overlap of the outage with that day's opening ranges.
 */
export function lostMinutesOn(
  hours: OpeningHours,
  calendar: WorkingDayCalendar,
  day: string,
  from: Date,
  to: Date,
): number {
  const a = shanghai(from);
  const b = shanghai(to);
  if (day < a.day || day > b.day) return 0;
  const start = day === a.day ? a.minute : 0;
  const end = day === b.day ? b.minute : 24 * 60;
  return Math.round(overlap(openingRangesOn(hours, calendar, day), start, end));
}

/** The days `from` … `to` inclusive (YYYY-MM-DD). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addCalendarDays(d, 1)) out.push(d);
  return out;
}

/** A rollup unit: `[kind, code, countyCode]`. */
export type Unit = [
  kind: 'province' | 'prefecture' | 'county' | 'hall' | 'department' | 'item',
  code: string,
  countyCode: string,
];

/** The province's own county-level code (GB/T 2260, padded): item units sit there. */
export const PROVINCE_COUNTY = '520000';

/** The intake-side units of a case: intake county, intake hall, item. */
export function intakeUnits(f: CaseEventFacts): Unit[] {
  const units: Unit[] = [['county', f.intakeCountyCode, f.intakeCountyCode]];
  if (f.intakeHallCode) units.push(['hall', f.intakeHallCode, f.intakeCountyCode]);
  units.push(['item', f.itemCode, PROVINCE_COUNTY]);
  return units;
}

/**
 * The deciding-side units of a case: deciding county, competent department, the intake hall (a hall
 * sees everything about the cases it received) and the item.
 */
export function decidingUnits(f: CaseEventFacts): Unit[] {
  const units: Unit[] = [['county', f.decidingCountyCode, f.decidingCountyCode]];
  if (f.competentDepartmentId) units.push(['department', f.competentDepartmentId, f.decidingCountyCode]);
  if (f.intakeHallCode) units.push(['hall', f.intakeHallCode, f.intakeCountyCode]);
  units.push(['item', f.itemCode, PROVINCE_COUNTY]);
  return units;
}

/** Whether a status counts in the backlog (在办). */
export function isOpen(status: string): boolean {
  return [
    'submitted',
    'received',
    'supplement_requested',
    'accepted',
    'under_review',
    'special_procedure',
  ].includes(status);
}

/**
 * The flow counters one case event adds (docs/metrics.md, "which events"), per side. The backlog
 * (open/overdue) is not here: it depends on the case's previous state (see the service).
 */
export function caseEventCounters(
  f: CaseEventFacts,
  calendar: WorkingDayCalendar,
): { intake: Partial<Counters>; deciding: Partial<Counters> } {
  const intake: Partial<Counters> = {};
  const deciding: Partial<Counters> = {};
  const remote = f.intakeCountyCode !== f.decidingCountyCode;
  switch (f.type) {
    case 'submit': {
      intake.received = 1;
      const online = (ONLINE_CHANNELS as readonly string[]).includes(f.channel);
      if (online) intake.online = 1;
      if (f.applicantCountyCode) {
        intake.nearbyBase = 1;
        if (online || f.intakeCountyCode === f.applicantCountyCode) intake.nearby = 1;
      }
      if (f.applicantAgeBand === '65_plus') {
        intake.senior = 1;
        if ((OFFLINE_CHANNELS as readonly string[]).includes(f.channel)) intake.seniorOffline = 1;
      }
      break;
    }
    case 'accept':
      if (remote && f.forwardedAt) {
        const w = workingMinutesBetween(calendar, new Date(f.forwardedAt), new Date(f.at));
        deciding.crossAccepts = 1;
        deciding.crossMinutes = w.minutes;
        if (w.provisional) deciding.crossProvisional = 1;
      }
      break;
    case 'decide':
      if (remote) {
        deciding.remoteClosed = 1;
        deciding.remoteDecided = 1;
      }
      if (f.decidedWithinLimit !== null) {
        deciding.decidedWithLimit = 1;
        if (!f.decidedWithinLimit) deciding.decidedLate = 1;
      }
      if (f.legalWorkingDays && f.acceptedOn && f.decidedOn) {
        deciding.legalDays = f.legalWorkingDays;
        deciding.actualDays =
          f.decidedOn > f.acceptedOn ? calendar.workingDaysBetween(f.acceptedOn, f.decidedOn).days : 0;
      }
      break;
    case 'not_accept':
    case 'withdraw':
      if (remote) deciding.remoteClosed = 1;
      break;
    case 'request_supplement':
      if (f.supplementNotices === 1) deciding.firstSupplements = 1;
      else if (f.supplementNotices === 2) deciding.secondSupplements = 1;
      break;
    case 'deliver':
      intake.delivered = 1;
      if (f.visits <= 1) intake.oneVisit = 1;
      intake.tripsSaved = Math.max(0, f.traditionalVisits - f.visits);
      break;
  }
  return { intake, deciding };
}

/** The backlog position of a case after an event: open, and overdue while open. */
export function backlogOf(f: CaseEventFacts): { open: boolean; overdue: boolean } {
  const open = isOpen(f.to);
  return { open, overdue: open && f.warning === 'overdue' };
}

/** A KPI's value and its parts. */
export interface KpiParts {
  value: number | null;
  numerator: number;
  denominator: number;
}

const ratio = (n: number, d: number): KpiParts => ({
  value: d > 0 ? n / d : null,
  numerator: n,
  denominator: d,
});

/**
 * Every KPI (docs/metrics.md) from counters summed over a period, the backlog at its end (`openEnd`,
 * `overdueEnd`) and the halls' scheduled / lost opening minutes over it.
 */
export function kpiParts(
  c: Counters,
  end: { open: number; overdue: number },
  halls: { scheduledMinutes: number; lostMinutes: number },
): Record<KpiId, KpiParts> {
  return {
    cross_level_response_hours: {
      value: c.crossAccepts > 0 ? c.crossMinutes / 60 / c.crossAccepts : null,
      numerator: c.crossMinutes / 60,
      denominator: c.crossAccepts,
    },
    remote_success_rate: ratio(c.remoteDecided, c.remoteClosed),
    nearby_rate: ratio(c.nearby, c.nearbyBase),
    one_visit_rate: ratio(c.oneVisit, c.delivered),
    trips_saved: {
      value: c.delivered > 0 ? c.tripsSaved : null,
      numerator: c.tripsSaved,
      denominator: c.delivered,
    },
    time_compression: ratio(c.legalDays - c.actualDays, c.legalDays),
    satisfaction_rate: ratio(c.goodReviews, c.ratings),
    overdue_rate: ratio(c.decidedLate + end.overdue, c.decidedWithLimit + end.open),
    second_supplement_rate: ratio(c.secondSupplements, c.firstSupplements),
    online_share: ratio(c.online, c.received),
    halls_open_rate: ratio(halls.scheduledMinutes - halls.lostMinutes, halls.scheduledMinutes),
    offline_share_65_plus: ratio(c.seniorOffline, c.senior),
    staff_feedback_reports: { value: c.feedbackReports, numerator: c.feedbackReports, denominator: 1 },
  };
}
