/**
 * The periodic warning rules' decisions on hand-built KPI series with known answers, and the thresholds'
 * environment overrides.
 */
import { describe, expect, it } from 'vitest';
import { addCalendarDays } from '../../../domain/calendar.ts';
import { KPI_IDS, type KpiDaily, type KpiId } from '../../../domain/kpi.ts';
import {
  backlogGrowth,
  badReviewCluster,
  evaluateSeries,
  loadWarningThresholds,
  offlineShareDrop65Plus,
  overdueSpike,
  responseTimeBreach,
  DEFAULT_WARNING_THRESHOLDS as T,
  thresholdEnvName,
} from './rules.ts';

/** A series of `n` days ending 2026-06-30, each day built by `f(i)` (i = 0 the oldest). */
function series(
  n: number,
  f: (i: number) => { counts?: Partial<KpiDaily['counts']>; values?: Partial<Record<KpiId, number | null>> },
): KpiDaily[] {
  return Array.from({ length: n }, (_, i) => {
    const d = f(i);
    const values = Object.fromEntries(KPI_IDS.map((id) => [id, null])) as Record<KpiId, number | null>;
    return {
      day: addCalendarDays('2026-06-30', i - n + 1),
      values: { ...values, ...d.values },
      counts: { received: 10, open: 100, overdue: 2, ratings: 0, badReviews: 0, ...d.counts },
    };
  });
}

describe('overdue_spike', () => {
  it('fires when the latest day has ≥ factor × the 7-day mean and ≥ minOverdue', () => {
    // baseline 3,3,3,3,3,3,3 → mean 3; latest 7 ≥ 2×3 and ≥ 5 → warning (critical needs 12)
    const s = series(8, (i) => ({ counts: { overdue: i === 7 ? 7 : 3, open: 140 } }));
    const f = overdueSpike(s, T.overdue_spike);
    expect(f).toMatchObject({ rule: 'overdue_spike', severity: 'warning', day: '2026-06-30' });
    expect(f?.details).toMatchObject({ overdue: 7, open: 140, overdueShareOfOpen: 0.05, baselineMean: 3 });
    expect(f?.summary).toBe('超期办件 7 件（占在办 5%），前7日均 3 件');
  });
  it('is critical from criticalFactor × the mean', () => {
    const s = series(8, (i) => ({ counts: { overdue: i === 7 ? 12 : 3 } }));
    expect(overdueSpike(s, T.overdue_spike)?.severity).toBe('critical');
  });
  it('does not fire just under the factor, nor on small numbers from an empty baseline', () => {
    expect(
      overdueSpike(
        series(8, (i) => ({ counts: { overdue: i === 7 ? 5 : 3 } })),
        T.overdue_spike,
      ),
    ).toBeNull();
    // 0 before, 4 now: ≥ 2 × max(0,1) but under minOverdue 5
    expect(
      overdueSpike(
        series(8, (i) => ({ counts: { overdue: i === 7 ? 4 : 0 } })),
        T.overdue_spike,
      ),
    ).toBeNull();
    // 0 before, 5 now: fires; floor 1 → 5 ≥ 4 × 1 → critical
    expect(
      overdueSpike(
        series(8, (i) => ({ counts: { overdue: i === 7 ? 5 : 0 } })),
        T.overdue_spike,
      )?.severity,
    ).toBe('critical');
    expect(overdueSpike([], T.overdue_spike)).toBeNull();
  });
  it('uses only the baselineDays days before the latest (older days are ignored)', () => {
    // days 0–2 at 50 overdue would lift the mean; only days 3–9 (mean 2) count
    const s = series(11, (i) => ({ counts: { overdue: i < 3 ? 50 : i === 10 ? 9 : 2 } }));
    const f = overdueSpike(s, T.overdue_spike);
    expect(f?.details.baselineMean).toBe(2);
    expect(f?.severity).toBe('critical');
  });
});

describe('backlog_growth', () => {
  it('fires on +50 % and +20 cases over 7 days, critical when doubled', () => {
    const grow = (to: number) => series(8, (i) => ({ counts: { open: i === 7 ? to : 40 } }));
    expect(backlogGrowth(grow(60), T.backlog_growth)).toMatchObject({
      severity: 'warning',
      details: { open: 60, openBefore: 40, increase: 20, growth: 0.5, since: '2026-06-23' },
    });
    expect(backlogGrowth(grow(80), T.backlog_growth)?.severity).toBe('critical');
    expect(backlogGrowth(grow(59), T.backlog_growth)).toBeNull();
  });
  it('needs the absolute increase too: 10 → 25 (+150 %) is not a backlog', () => {
    expect(
      backlogGrowth(
        series(8, (i) => ({ counts: { open: i === 7 ? 25 : 10 } })),
        T.backlog_growth,
      ),
    ).toBeNull();
  });
  it('from an empty backlog only the increase counts (critical); one day decides nothing', () => {
    const f = backlogGrowth(
      series(8, (i) => ({ counts: { open: i === 7 ? 30 : 0 } })),
      T.backlog_growth,
    );
    expect(f).toMatchObject({ severity: 'critical', details: { growth: null, increase: 30 } });
    expect(
      backlogGrowth(
        series(1, () => ({ counts: { open: 500 } })),
        T.backlog_growth,
      ),
    ).toBeNull();
  });
  it('compares with the first day of a shorter series', () => {
    const f = backlogGrowth(
      series(3, (i) => ({ counts: { open: [100, 120, 160][i]! } })),
      T.backlog_growth,
    );
    expect(f?.details).toMatchObject({ openBefore: 100, since: '2026-06-28', growth: 0.6 });
  });
});

describe('response_time_breach', () => {
  it('fires when the mean of the last 3 days with a value exceeds 8 working hours', () => {
    const s = series(10, (i) => ({
      values: { cross_level_response_hours: i >= 7 ? [6, 9, 12][i - 7]! : 2 },
    }));
    expect(responseTimeBreach(s, T.response_time_breach)).toMatchObject({
      severity: 'warning',
      details: { meanWorkingHours: 9, days: 3, limitHours: 8 },
    });
  });
  it('is critical above 16 hours, silent at exactly 8, and needs 2 days with a value', () => {
    const at = (vals: (number | null)[]) =>
      responseTimeBreach(
        series(vals.length, (i) => ({ values: { cross_level_response_hours: vals[i] ?? null } })),
        T.response_time_breach,
      );
    expect(at([20, 17, 18])?.severity).toBe('critical');
    expect(at([8, 8, 8])).toBeNull();
    expect(at([null, null, 30])).toBeNull();
    expect(at([null, 10, 30])?.details.days).toBe(2);
  });
});

describe('offline_share_drop_65_plus', () => {
  it('fires when the recent 7-day share is ≥ 15 points below the 28 days before (被网办)', () => {
    const s = series(35, (i) => ({ values: { offline_share_65_plus: i < 28 ? 0.8 : 0.6 } }));
    const f = offlineShareDrop65Plus(s, T.offline_share_drop_65_plus);
    expect(f).toMatchObject({
      severity: 'warning',
      details: { recentShare: 0.6, baselineShare: 0.8, drop: 0.2, recentDays: 7, baselineDays: 28 },
    });
    expect(f?.summary).toBe('65岁以上线下办理占比 60%（此前 80%），下降 20 个百分点');
  });
  it('is critical from 30 points; a 10-point dip or a rise is not a drop', () => {
    const with2 = (before: number, after: number) =>
      offlineShareDrop65Plus(
        series(35, (i) => ({ values: { offline_share_65_plus: i < 28 ? before : after } })),
        T.offline_share_drop_65_plus,
      );
    expect(with2(0.9, 0.5)?.severity).toBe('critical');
    expect(with2(0.8, 0.7)).toBeNull();
    expect(with2(0.5, 0.9)).toBeNull();
  });
  it('decides nothing without enough days with a value in each window', () => {
    const s = series(35, (i) => ({ values: { offline_share_65_plus: i < 28 ? (i < 2 ? 0.9 : null) : 0.1 } }));
    expect(offlineShareDrop65Plus(s, T.offline_share_drop_65_plus)).toBeNull();
  });
});

describe('all rules over one series', () => {
  it('returns only the rules that fire, in ALERT_RULES order', () => {
    const s = series(35, (i) => ({
      counts: { overdue: i === 34 ? 20 : 2, open: i === 34 ? 300 : 100 },
      values: { offline_share_65_plus: 0.7, cross_level_response_hours: 3 },
    }));
    expect(evaluateSeries(s, T).map((f) => f.rule)).toEqual(['overdue_spike', 'backlog_growth']);
  });
});

describe('bad_review_cluster decision', () => {
  it('fires from minBadReviews, critical from twice as many', () => {
    expect(badReviewCluster(2, T.bad_review_cluster)).toBeNull();
    expect(badReviewCluster(3, T.bad_review_cluster)).toBe('warning');
    expect(badReviewCluster(6, T.bad_review_cluster)).toBe('critical');
  });
});

describe('thresholds from the environment', () => {
  it('names one variable per threshold and applies overrides', () => {
    expect(thresholdEnvName('overdue_spike', 'baselineDays')).toBe('WARN_OVERDUE_SPIKE_BASELINE_DAYS');
    const t = loadWarningThresholds({ WARN_OVERDUE_SPIKE_FACTOR: '3', WARN_SWEEP_INTERVAL_MINUTES: '1' });
    expect(t.overdue_spike.factor).toBe(3);
    expect(t.sweep.intervalMinutes).toBe(1);
    expect(t.backlog_growth).toEqual(T.backlog_growth);
    expect(T.overdue_spike.factor).toBe(2); // the defaults are not changed
  });
  it('refuses a bad value naming the variable', () => {
    expect(() => loadWarningThresholds({ WARN_BACKLOG_GROWTH_MIN_GROWTH: 'lots' })).toThrow(
      /WARN_BACKLOG_GROWTH_MIN_GROWTH/,
    );
    expect(() => loadWarningThresholds({ WARN_BAD_REVIEW_CLUSTER_WINDOW_DAYS: '1.5' })).toThrow(
      /whole number/,
    );
  });
});
