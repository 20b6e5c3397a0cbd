/**
 * 预警规则: the decisions of the periodic warning rules, as PURE functions over a scope's KPI series
 * (`KpiDaily[]`, oldest day first, as KpiService.daily returns it), with every threshold in ONE config
 * object ({@link DEFAULT_WARNING_THRESHOLDS}, overridable by environment variables through
 * {@link loadWarningThresholds}). No I/O: the warnings service feeds them and stores what they return.
 *
 * Windows here count CALENDAR days of the series (a warning looks at the days the rollups hold), never a
 * legal clock; response times are in WORKING hours as the KPI gives them (docs/metrics.md).
 */
import { z } from 'zod';
import type { AlertRule } from '../../../domain/alerts.ts';
import type { KpiDaily } from '../../../domain/kpi.ts';
import { parseEnv } from '../../config.ts';

/** Every threshold of every rule, in one place. Units in the names' comments. */
export interface WarningThresholds {
  /** 超期激增: open overdue cases at the end of the latest day vs the mean of the days before it. */
  overdue_spike: {
    /** Days before the latest one averaged as the baseline (calendar days of the series). */
    baselineDays: number;
    /** Fires when latest ≥ factor × max(baseline mean, 1) … */
    factor: number;
    /** … and latest ≥ this many overdue cases (no alarm over 2 vs 0). */
    minOverdue: number;
    /** critical when latest ≥ criticalFactor × max(baseline mean, 1). */
    criticalFactor: number;
  };
  /** 积压增长: open cases (backlog) at the end of the latest day vs `windowDays` days earlier. */
  backlog_growth: {
    windowDays: number;
    /** Fires when latest ≥ (1 + minGrowth) × earlier (0.5 = +50 %) … */
    minGrowth: number;
    /** … and latest − earlier ≥ this many cases. */
    minIncrease: number;
    /** critical from this growth on (1 = doubled). */
    criticalGrowth: number;
  };
  /** 跨层级响应超时: mean of the daily cross-level response time (forwarded → accepted) over the last days. */
  response_time_breach: {
    windowDays: number;
    /** Working hours; fires above it (8 = one working day, 跨层级协同 “一个工作日内响应”). */
    limitHours: number;
    /** Working hours; critical above it. */
    criticalHours: number;
    /** Days with a value needed in the window (fewer: no decision). */
    minDays: number;
  };
  /** 老年人线下办理占比骤降 (被网办): the 65+ offline share, recent window vs the baseline before it. */
  offline_share_drop_65_plus: {
    recentDays: number;
    baselineDays: number;
    /** Fires when baseline − recent ≥ this (share points: 0.15 = 15 percentage points). */
    minDrop: number;
    /** critical from this drop on. */
    criticalDrop: number;
    /** Days with a value needed in each window. */
    minDays: number;
  };
  /** 差评集中 (event-driven): bad reviews (levels 4–5) at one hall or department within `windowDays`. */
  bad_review_cluster: {
    /** Calendar days (the window a cluster is counted in). */
    windowDays: number;
    /** Fires at this many bad reviews; critical at twice as many. */
    minBadReviews: number;
  };
  /** 大厅停摆 (event-driven + sweep): no thresholds but the sweep period below. */
  sweep: {
    /** Minutes between two sweeps of the periodic rules (claimed on the database: one node runs it). */
    intervalMinutes: number;
    /** Days of KPI series each sweep reads (must cover the longest window above). */
    seriesDays: number;
  };
}

/** The defaults (a county-sized scope; tune per installation with the environment variables). */
export const DEFAULT_WARNING_THRESHOLDS: WarningThresholds = {
  overdue_spike: { baselineDays: 7, factor: 2, minOverdue: 5, criticalFactor: 4 },
  backlog_growth: { windowDays: 7, minGrowth: 0.5, minIncrease: 20, criticalGrowth: 1 },
  response_time_breach: { windowDays: 3, limitHours: 8, criticalHours: 16, minDays: 2 },
  offline_share_drop_65_plus: {
    recentDays: 7,
    baselineDays: 28,
    minDrop: 0.15,
    criticalDrop: 0.3,
    minDays: 3,
  },
  bad_review_cluster: { windowDays: 7, minBadReviews: 3 },
  sweep: { intervalMinutes: 5, seriesDays: 35 },
};

/** `overdue_spike.factor` → WARN_OVERDUE_SPIKE_FACTOR; `sweep.intervalMinutes` → WARN_SWEEP_INTERVAL_MINUTES. */
export function thresholdEnvName(group: string, key: string): string {
  return `WARN_${group}_${key.replace(/[A-Z]/g, (c) => `_${c}`)}`.toUpperCase();
}

/**
 * The thresholds with environment overrides: one variable per threshold, named by
 * {@link thresholdEnvName} (e.g. `WARN_OVERDUE_SPIKE_FACTOR=3`, `WARN_SWEEP_INTERVAL_MINUTES=1`); each a
 * number ≥ 0 (day counts and counts whole numbers ≥ 1).
 * @throws AppError(validation, `config.invalid`) naming the variable.
 */
export function loadWarningThresholds(env: NodeJS.ProcessEnv = process.env): WarningThresholds {
  const out = structuredClone(DEFAULT_WARNING_THRESHOLDS) as unknown as Record<
    string,
    Record<string, number>
  >;
  const shape: Record<string, z.ZodType> = {};
  for (const [group, values] of Object.entries(out))
    for (const key of Object.keys(values)) {
      const whole = /Days$|^min(Overdue|Increase|BadReviews)$|Minutes$/.test(key);
      const n = z.coerce.number().refine((v) => Number.isFinite(v) && v >= 0, 'must be a number ≥ 0');
      shape[thresholdEnvName(group, key)] = (
        whole ? n.refine((v) => Number.isInteger(v) && v >= 1, 'must be a whole number ≥ 1') : n
      ).optional();
    }
  const parsed = parseEnv(
    z.object(shape),
    Object.fromEntries(Object.entries(env).filter(([k, v]) => k in shape && v !== '')),
  ) as Record<string, number | undefined>;
  for (const [group, values] of Object.entries(out))
    for (const key of Object.keys(values)) {
      const v = parsed[thresholdEnvName(group, key)];
      if (v !== undefined) values[key] = v;
    }
  return out as unknown as WarningThresholds;
}

/** What a rule decided for a series: fire (with severity, the figures, and a title fragment) or not. */
export interface RuleFiring {
  rule: AlertRule;
  severity: 'warning' | 'critical';
  /** The day the firing is about (the latest day of the series): the alert's period. */
  day: string;
  /** The figures that fired it (no personal data). */
  details: Record<string, number | string | null>;
  /** One line in Chinese without the place, e.g. "超期办件 12 件（前7日均 3.0 件）". */
  summary: string;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * 超期激增: the open overdue cases at the end of the latest day against the mean of the
 * `baselineDays` days before it. Fires when latest ≥ minOverdue and latest ≥ factor × max(mean, 1);
 * critical at criticalFactor × max(mean, 1). @returns null when it does not fire or the series is empty.
 */
export function overdueSpike(
  series: readonly KpiDaily[],
  t: WarningThresholds['overdue_spike'],
): RuleFiring | null {
  const last = series.at(-1);
  if (!last) return null;
  const before = series.slice(-1 - t.baselineDays, -1).map((d) => d.counts.overdue);
  const baseline = before.length > 0 ? mean(before) : 0;
  const floor = Math.max(baseline, 1);
  const latest = last.counts.overdue;
  if (latest < t.minOverdue || latest < t.factor * floor) return null;
  const rate = last.counts.open > 0 ? latest / last.counts.open : null;
  return {
    rule: 'overdue_spike',
    severity: latest >= t.criticalFactor * floor ? 'critical' : 'warning',
    day: last.day,
    details: {
      overdue: latest,
      open: last.counts.open,
      overdueShareOfOpen: rate === null ? null : round(rate, 4),
      baselineMean: round(baseline),
      baselineDays: before.length,
    },
    summary: `超期办件 ${latest} 件${rate === null ? '' : `（占在办 ${pct(rate)}）`}，前${before.length}日均 ${round(baseline, 1)} 件`,
  };
}

/**
 * 积压增长: open cases at the end of the latest day against `windowDays` days earlier (or the first day of
 * a shorter series). Fires when the backlog grew by ≥ minGrowth (a share) and ≥ minIncrease cases;
 * critical at criticalGrowth. From an empty backlog only the absolute increase counts.
 */
export function backlogGrowth(
  series: readonly KpiDaily[],
  t: WarningThresholds['backlog_growth'],
): RuleFiring | null {
  if (series.length < 2) return null;
  const last = series.at(-1)!;
  const earlier = series[Math.max(0, series.length - 1 - t.windowDays)]!;
  const increase = last.counts.open - earlier.counts.open;
  if (increase < t.minIncrease) return null;
  const growth = earlier.counts.open > 0 ? increase / earlier.counts.open : null;
  if (growth !== null && growth < t.minGrowth) return null;
  return {
    rule: 'backlog_growth',
    severity: growth === null || growth >= t.criticalGrowth ? 'critical' : 'warning',
    day: last.day,
    details: {
      open: last.counts.open,
      openBefore: earlier.counts.open,
      since: earlier.day,
      increase,
      growth: growth === null ? null : round(growth, 4),
    },
    summary: `在办积压 ${last.counts.open} 件，较 ${earlier.day} 增加 ${increase} 件${growth === null ? '' : `（+${pct(growth)}）`}`,
  };
}

/**
 * 跨层级响应超时: the mean of the daily `cross_level_response_hours` (working hours, forwarded → accepted)
 * over the last `windowDays` days that have a value (at least minDays of them). Fires above limitHours,
 * critical above criticalHours.
 */
export function responseTimeBreach(
  series: readonly KpiDaily[],
  t: WarningThresholds['response_time_breach'],
): RuleFiring | null {
  const last = series.at(-1);
  if (!last) return null;
  const values = series
    .slice(-t.windowDays)
    .map((d) => d.values.cross_level_response_hours)
    .filter((v): v is number => v !== null && v !== undefined);
  if (values.length < t.minDays) return null;
  const hours = mean(values);
  if (hours <= t.limitHours) return null;
  return {
    rule: 'response_time_breach',
    severity: hours > t.criticalHours ? 'critical' : 'warning',
    day: last.day,
    details: { meanWorkingHours: round(hours), limitHours: t.limitHours, days: values.length },
    summary: `跨层级响应平均 ${round(hours, 1)} 个工作小时（近${values.length}日），超过 ${t.limitHours} 小时`,
  };
}

/**
 * 老年人线下办理占比骤降: the mean `offline_share_65_plus` over the last `recentDays` days against the mean
 * over the `baselineDays` days before them (each window needs minDays days with a value). Fires when the
 * share fell by ≥ minDrop (share points), critical from criticalDrop — older residents pushed online
 * (“被网办”) shows up as a fault, not a win.
 */
export function offlineShareDrop65Plus(
  series: readonly KpiDaily[],
  t: WarningThresholds['offline_share_drop_65_plus'],
): RuleFiring | null {
  const last = series.at(-1);
  if (!last) return null;
  const valuesOf = (days: readonly KpiDaily[]) =>
    days.map((d) => d.values.offline_share_65_plus).filter((v): v is number => v !== null && v !== undefined);
  const recent = valuesOf(series.slice(-t.recentDays));
  const baseline = valuesOf(series.slice(-t.recentDays - t.baselineDays, -t.recentDays));
  if (recent.length < t.minDays || baseline.length < t.minDays) return null;
  const now = mean(recent);
  const before = mean(baseline);
  const drop = before - now;
  if (drop < t.minDrop) return null;
  return {
    rule: 'offline_share_drop_65_plus',
    severity: drop >= t.criticalDrop ? 'critical' : 'warning',
    day: last.day,
    details: {
      recentShare: round(now, 4),
      baselineShare: round(before, 4),
      drop: round(drop, 4),
      recentDays: recent.length,
      baselineDays: baseline.length,
    },
    summary: `65岁以上线下办理占比 ${pct(now)}（此前 ${pct(before)}），下降 ${Math.round(drop * 100)} 个百分点`,
  };
}

/** Every periodic rule over one series, in ALERT_RULES order; only those that fire. */
export function evaluateSeries(series: readonly KpiDaily[], t: WarningThresholds): RuleFiring[] {
  return [
    overdueSpike(series, t.overdue_spike),
    backlogGrowth(series, t.backlog_growth),
    responseTimeBreach(series, t.response_time_breach),
    offlineShareDrop65Plus(series, t.offline_share_drop_65_plus),
  ].filter((f): f is RuleFiring => f !== null);
}

/**
 * 差评集中: whether `count` bad reviews at one place within the window fire the rule, and how badly
 * (critical from twice the minimum). @returns null below the minimum.
 */
export function badReviewCluster(
  count: number,
  t: WarningThresholds['bad_review_cluster'],
): 'warning' | 'critical' | null {
  if (count < t.minBadReviews) return null;
  return count >= 2 * t.minBadReviews ? 'critical' : 'warning';
}
