import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The KPI rollups (docs/metrics.md): one row per unit × Asia/Shanghai day, kept current by the kpi
 * module's outbox handler — the dashboards read these, never the cases table.
 *
 * A unit is `county` (a 6-digit GB/T 2260 code: a county, or a prefecture / the province padded, e.g.
 * `522600` 市本级, `520000` 省本级), `prefecture` (4 digits) and `province` (2 digits) — the sums of their
 * county units, written by the same statement so a division dashboard reads one unit —, `hall` (a hall code), `department` (a department id) or `item` (a
 * 12-digit basic code, province-wide). `county_code` is the county the unit lies in (a hall's county, a
 * department's deciding county; `520000` for items), so the halls of a county are one index range.
 * Cardinality: ~100 county units, ~19,500 halls, ~2,200 departments and the items, each at most once a
 * day — independent of the number of cases (10 M cases over a year ≈ 3–5 M rows, mostly village halls).
 *
 * Every counter is a count of events of the day (no personal data). `open_delta` / `overdue_delta` are
 * transitions into (+1) and out of (−1) the backlog; the backlog at the end of a day is their running sum.
 */
export const kpiDaily = pgTable(
  'kpi_daily',
  {
    unitKind: text('unit_kind', {
      enum: ['province', 'prefecture', 'county', 'hall', 'department', 'item'],
    }).notNull(),
    unitCode: text('unit_code').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    countyCode: text('county_code').notNull(),
    /** Cases filed (申报, incl. at a window) that day — the intake side. */
    received: integer('received').notNull().default(0),
    /** …of which online (pc, mobile). */
    online: integer('online').notNull().default(0),
    /** Filed cases whose applicant's home county is known (nearby rate's denominator)… */
    nearbyBase: integer('nearby_base').notNull().default(0),
    /** …of which online or received in the home county. */
    nearby: integer('nearby').notNull().default(0),
    /** Filed cases of applicants aged 65+… */
    senior: integer('senior').notNull().default(0),
    /** …of which through an offline channel (hall_window, village_agent, post). */
    seniorOffline: integer('senior_offline').notNull().default(0),
    /** Cases delivered (送达) that day… */
    delivered: integer('delivered').notNull().default(0),
    /** …with at most one visit (一次办成). */
    oneVisit: integer('one_visit').notNull().default(0),
    /** Σ max(0, traditional visits − visits) over the delivered cases. */
    tripsSaved: integer('trips_saved').notNull().default(0),
    /** Acceptances of cases forwarded across counties (intake county ≠ deciding county)… */
    crossAccepts: integer('cross_accepts').notNull().default(0),
    /** …Σ working minutes from forward to acceptance (09:00–12:00, 13:00–17:00 on working days). */
    crossMinutes: bigint('cross_minutes', { mode: 'number' }).notNull().default(0),
    /** Of those, measured over a day of a year the calendar does not know (weekly rule used). */
    crossProvisional: integer('cross_provisional').notNull().default(0),
    /** Cross-county cases closed (decided, not accepted, withdrawn)… */
    remoteClosed: integer('remote_closed').notNull().default(0),
    /** …of which decided (办结). */
    remoteDecided: integer('remote_decided').notNull().default(0),
    /** Decisions of cases with a decision due date… */
    decidedWithLimit: integer('decided_with_limit').notNull().default(0),
    /** …taken after it. */
    decidedLate: integer('decided_late').notNull().default(0),
    /** Σ legal limit (working days) of decided cases with a legal limit… */
    legalDays: integer('legal_days').notNull().default(0),
    /** …Σ working days they actually took (acceptance → decision). */
    actualDays: integer('actual_days').notNull().default(0),
    /** First supplement notices (一次性告知) issued… */
    firstSupplements: integer('first_supplements').notNull().default(0),
    /** …second notices issued. */
    secondSupplements: integer('second_supplements').notNull().default(0),
    /** Cases entering (+1) / leaving (−1) the open statuses that day. */
    openDelta: integer('open_delta').notNull().default(0),
    /** Open cases becoming (+1) / ceasing to be (−1) overdue that day. */
    overdueDelta: integer('overdue_delta').notNull().default(0),
    /** Ratings (好差评) counted… */
    ratings: integer('ratings').notNull().default(0),
    /** …good (levels 1–2)… */
    goodReviews: integer('good_reviews').notNull().default(0),
    /** …bad (levels 4–5). */
    badReviews: integer('bad_reviews').notNull().default(0),
    /** Staff feedback reports (一线反馈). */
    feedbackReports: integer('feedback_reports').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.unitKind, t.unitCode, t.day] }),
    index('kpi_daily_county_idx').on(t.unitKind, t.countyCode, t.day),
  ],
);

/**
 * The kpi module's own view of each case (no personal data): whether it counts in the backlog and as
 * overdue, and in which units, after the latest event folded in; and the outbox ids already folded in,
 * so a replayed event never counts twice.
 */
export const kpiCases = pgTable('kpi_cases', {
  caseId: text('case_id').primaryKey(),
  open: boolean('open').notNull(),
  overdue: boolean('overdue').notNull(),
  day: date('day', { mode: 'string' }).notNull(),
  /** The backlog units: `[[kind, code, countyCode], …]`. */
  units: jsonb('units').$type<[string, string, string][]>().notNull(),
  lastEventId: bigint('last_event_id', { mode: 'number' }).notNull(),
  applied: bigint('applied', { mode: 'number' }).array().notNull().default(sql`'{}'::bigint[]`),
});

/** Each rating folded in (day, units, level), so an exclusion (appeal upheld) takes back exactly what it added. */
export const kpiEvaluations = pgTable('kpi_evaluations', {
  evaluationId: text('evaluation_id').primaryKey(),
  day: date('day', { mode: 'string' }).notNull(),
  units: jsonb('units').$type<[string, string, string][]>().notNull(),
  level: smallint('level').notNull(),
  excluded: boolean('excluded').notNull().default(false),
});

/** Staff feedback reports folded in (de-duplication). */
export const kpiFeedback = pgTable('kpi_feedback', {
  feedbackId: text('feedback_id').primaryKey(),
});

/**
 * Stretches of time a hall was not `open` (closed, degraded, offline) from `hall.status_changed`;
 * `ended_at` null while it lasts. The dashboard intersects them with the hall's opening hours.
 */
export const kpiHallOutages = pgTable(
  'kpi_hall_outages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    hallCode: text('hall_code').notNull(),
    countyCode: text('county_code').notNull(),
    status: text('status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    startedEventId: bigint('started_event_id', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('kpi_hall_outages_event_idx').on(t.startedEventId),
    index('kpi_hall_outages_county_idx').on(t.countyCode, t.startedAt),
    index('kpi_hall_outages_open_idx').on(t.hallCode).where(sql`${t.endedAt} is null`),
  ],
);
