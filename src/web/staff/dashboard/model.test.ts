import { describe, expect, test } from 'vitest';
import { KPI_DEFINITIONS, KPI_IDS } from '../../../domain/kpi.ts';
import type { Grant } from '../api/types.ts';
import { barOption, mapOption, sortBest, trendOption } from './charts.ts';
import {
  addDays,
  childLevel,
  DEFAULT_KPI,
  daysBetween,
  defaultScope,
  extremes,
  formatValue,
  MAX_DAYS,
  parseQuery,
  presetOf,
  presetRange,
  todayInShanghai,
  toQuery,
  trendOf,
} from './model.ts';

const TODAY = '2026-11-30';

describe('period', () => {
  test('a preset is N days ending today, both ends counted', () => {
    expect(presetRange(7, TODAY)).toEqual({ from: '2026-11-24', to: TODAY });
    expect(daysBetween('2026-11-24', TODAY)).toBe(7);
    expect(presetRange(30, TODAY).from).toBe('2026-11-01');
    expect(presetRange(90, '2026-03-01').from).toBe(addDays('2026-03-01', -89));
    expect(presetOf('2026-11-01', TODAY, TODAY)).toBe(30);
    expect(presetOf('2026-11-02', TODAY, TODAY)).toBe('custom');
    expect(presetOf('2026-10-24', '2026-10-30', TODAY)).toBe('custom');
  });

  test('today is the Asia/Shanghai day (16:30 UTC is already the next day there)', () => {
    expect(todayInShanghai(new Date('2026-11-30T16:30:00Z'))).toBe('2026-12-01');
    expect(todayInShanghai(new Date('2026-11-30T15:59:00Z'))).toBe('2026-11-30');
  });
});

describe('the URL query', () => {
  test('round-trips scope, period and KPI', () => {
    const q = parseQuery(
      { division: '5226', from: '2026-11-01', to: '2026-11-30', kpi: 'overdue_rate' },
      TODAY,
    );
    expect(q).toEqual({
      scope: { kind: 'division', code: '5226' },
      from: '2026-11-01',
      to: '2026-11-30',
      kpi: 'overdue_rate',
    });
    expect(parseQuery(toQuery(q), TODAY)).toEqual(q);
    expect(parseQuery({ hall: '522601-zwfw' }, TODAY).scope).toEqual({ kind: 'hall', code: '522601-zwfw' });
  });

  test('malformed parts fall back (last 30 days, the default KPI, no scope); a reversed range is swapped', () => {
    const q = parseQuery({ division: '52a', from: '2026-13-45', kpi: 'nope' }, TODAY);
    expect(q).toEqual({ scope: null, ...presetRange(30, TODAY), kpi: DEFAULT_KPI });
    expect(parseQuery({ from: '2026-11-30', to: '2026-11-01' }, TODAY)).toMatchObject({
      from: '2026-11-01',
      to: '2026-11-30',
    });
    const long = parseQuery({ from: '2000-01-01', to: TODAY }, TODAY);
    expect(daysBetween(long.from, long.to)).toBe(MAX_DAYS);
  });
});

const grant = (
  role: Grant['role'],
  kind: Grant['scope']['kind'],
  value: string,
  extra: Partial<Grant> = {},
): Grant => ({
  id: `${role}-${value}`,
  accountId: 'a',
  role,
  scope: { kind, value, divisionCode: kind === 'division' ? value : '520526' },
  itemCodes: null,
  validFrom: '2020-01-01T00:00:00Z',
  validUntil: '2099-01-01T00:00:00Z',
  revokedAt: null,
  ...extra,
});

describe('the starting scope', () => {
  test('the widest division a dashboard grant covers, else a hall', () => {
    expect(
      defaultScope([grant('county_admin', 'division', '520526'), grant('leader', 'division', '5205')]),
    ).toEqual({
      kind: 'division',
      code: '5205',
    });
    expect(defaultScope([grant('hall_admin', 'hall', '522601-zwfw')])).toEqual({
      kind: 'hall',
      code: '522601-zwfw',
    });
  });

  test('grants that do not allow dashboard.read, revoked or expired ones do not count', () => {
    expect(defaultScope([grant('intake_clerk', 'hall', '522601-zwfw')])).toBeNull();
    expect(
      defaultScope([grant('leader', 'division', '52', { revokedAt: '2026-01-01T00:00:00Z' })]),
    ).toBeNull();
    expect(
      defaultScope([grant('leader', 'division', '52', { validUntil: '2021-01-01T00:00:00Z' })]),
    ).toBeNull();
  });

  test('drill-down levels: province → prefecture → county → hall', () => {
    expect(childLevel({ kind: 'division', code: '52' })).toBe('prefecture');
    expect(childLevel({ kind: 'division', code: '5226' })).toBe('county');
    expect(childLevel({ kind: 'division', code: '522601' })).toBe('hall');
    expect(childLevel({ kind: 'hall', code: '522601-zwfw' })).toBeNull();
  });
});

describe('values and trends', () => {
  test('ratios read as percent, hours with one decimal, counts whole; no denominator is a dash', () => {
    expect(formatValue('ratio', 0.8754, 'zh-CN')).toBe('87.5%');
    expect(formatValue('ratio', 1, 'zh-CN')).toBe('100.0%');
    expect(formatValue('working_hours', 3.25, 'zh-CN')).toBe('3.3');
    expect(formatValue('count', 12345, 'en')).toBe('12,345');
    expect(formatValue('ratio', null, 'zh-CN')).toBe('—');
  });

  test('the trend is judged by higherIsBetter, in displayed units (percentage points for ratios)', () => {
    // satisfaction up 2.5 points: better
    expect(trendOf('satisfaction_rate', 0.9, 0.875)).toEqual({
      direction: 'up',
      judgement: 'better',
      delta: 2.5,
    });
    // overdue rate up: worse
    expect(trendOf('overdue_rate', 0.05, 0.03)).toEqual({ direction: 'up', judgement: 'worse', delta: 2 });
    // response time down 1.5 h: better
    expect(trendOf('cross_level_response_hours', 2.5, 4)).toEqual({
      direction: 'down',
      judgement: 'better',
      delta: -1.5,
    });
    // offline share of 65+ falling: worse (pushed online)
    expect(trendOf('offline_share_65_plus', 0.6, 0.7).judgement).toBe('worse');
    // equal once rounded as shown: flat
    expect(trendOf('online_share', 0.50001, 0.5).direction).toBe('flat');
    expect(trendOf('trips_saved', 10, null)).toEqual({
      direction: 'none',
      judgement: 'unknown',
      delta: null,
    });
  });

  test('extremes skip missing values', () => {
    const ex = extremes([
      { name: 'a', value: 0.2 },
      { name: 'b', value: null },
      { name: 'c', value: 0.9 },
    ]);
    expect([ex?.max.name, ex?.min.name]).toEqual(['c', 'a']);
    expect(extremes([{ name: 'x', value: null }])).toBeNull();
  });
});

describe('chart options', () => {
  const children = [
    { code: '5201', name: '贵阳市', value: 0.8 },
    { code: '5226', name: '黔东南州', value: null },
    { code: '5205', name: '毕节市', value: 0.95 },
  ];

  test('the bar sorts best first by higherIsBetter, missing values last', () => {
    expect(sortBest('satisfaction_rate', children).map((c) => c.code)).toEqual(['5205', '5201', '5226']);
    expect(sortBest('overdue_rate', children).map((c) => c.code)).toEqual(['5201', '5205', '5226']);
    const option = barOption('satisfaction_rate', children, 'zh-CN');
    expect(option.yAxis).toMatchObject({ data: ['毕节市', '贵阳市', '黔东南州'] });
  });

  test('the trend keeps a day without data as a gap (null), never a zero', () => {
    const option = trendOption(
      'satisfaction_rate',
      [
        { day: '2026-11-01', value: 0.9 },
        { day: '2026-11-02', value: null },
      ],
      'zh-CN',
      '好评率',
    );
    expect((option.series as { data: unknown[] }[])[0]?.data).toEqual([90, null]);
  });

  test('the map matches regions by code and labels each with its name and value', () => {
    const option = mapOption('satisfaction_rate', 'tongban-52', children, 'zh-CN', { high: '高', low: '低' });
    const series = (option.series as { nameProperty: string; data: { name: string; value: number }[] }[])[0]!;
    expect(series.nameProperty).toBe('code');
    expect(series.data.map((d) => d.name)).toEqual(['5201', '5226', '5205']);
    expect(Number.isNaN(series.data[1]?.value)).toBe(true);
    expect(option.visualMap).toMatchObject({ min: 80, max: 95 });
  });

  test('every KPI reads as a value and compares with itself as unchanged', () => {
    for (const id of KPI_IDS) {
      expect(formatValue(KPI_DEFINITIONS[id].unit, 0.5, 'zh-CN'), id).not.toBe('—');
      expect(trendOf(id, 0.5, 0.5).judgement, id).toBe('same');
    }
  });
});
