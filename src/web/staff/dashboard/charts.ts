/**
 * ECharts options of the dashboard (pure: data in, option out; no ECharts runtime imported here, only its
 * types): the daily trend line of one KPI, the bar of one KPI per child unit, and the map of one KPI per
 * prefecture or county. Values are shown in display units (ratios as percent; see model.ts
 * `displayNumber`); a null value (no denominator that day) is a gap, never a zero.
 */
import type { BarSeriesOption, LineSeriesOption, MapSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import { KPI_DEFINITIONS, type KpiId } from '../../../domain/kpi.ts';
import { displayNumber, formatValue } from './model.ts';

export type DashboardOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | MapSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
>;

/** The province blue of the workbench (styles.css --el-color-primary) and its light tint. */
const BLUE = '#0b5cad';
const LIGHT = '#e7eef7';

const shown = (id: KpiId, v: number | null) =>
  v === null ? null : displayNumber(KPI_DEFINITIONS[id].unit, v);

/** One KPI per day: a line with points (the points stay visible where neighbours are missing). */
export function trendOption(
  id: KpiId,
  days: readonly { day: string; value: number | null }[],
  locale: string,
  seriesName: string,
): DashboardOption {
  const unit = KPI_DEFINITIONS[id].unit;
  return {
    animation: false,
    grid: { left: 56, right: 24, top: 24, bottom: 40 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) =>
        formatValue(unit, typeof v === 'number' ? (unit === 'ratio' ? v / 100 : v) : null, locale),
    },
    xAxis: { type: 'category', data: days.map((d) => d.day.slice(5)), boundaryGap: false },
    yAxis: {
      type: 'value',
      scale: unit !== 'ratio',
      ...(unit === 'ratio' ? { min: 0, max: 100, axisLabel: { formatter: '{value}%' } } : {}),
    },
    series: [
      {
        type: 'line',
        name: seriesName,
        data: days.map((d) => shown(id, d.value)),
        connectNulls: false,
        showSymbol: true,
        symbolSize: 6,
        lineStyle: { color: BLUE, width: 2 },
        itemStyle: { color: BLUE },
      },
    ],
  };
}

/** A child unit as the bar and the map read it. */
export interface ChildValue {
  code: string;
  name: string;
  value: number | null;
}

/** One KPI per child unit, best first (by `higherIsBetter`), missing values last; each bar labelled with its value. */
export function barOption(id: KpiId, children: readonly ChildValue[], locale: string): DashboardOption {
  const unit = KPI_DEFINITIONS[id].unit;
  const rows = sortBest(id, children);
  return {
    animation: false,
    grid: { left: 8, right: 72, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: 'item' },
    xAxis: {
      type: 'value',
      ...(unit === 'ratio' ? { min: 0, max: 100, axisLabel: { formatter: '{value}%' } } : {}),
    },
    // best at the top: a category axis draws its first item at the bottom
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name) },
    series: [
      {
        type: 'bar',
        data: rows.map((r) => ({ value: shown(id, r.value) ?? 0, code: r.code, name: r.name, raw: r.value })),
        itemStyle: { color: BLUE },
        label: {
          show: true,
          position: 'right',
          formatter: (p) => formatValue(unit, (p.data as { raw: number | null }).raw, locale),
        },
        cursor: 'pointer',
        tooltip: {
          formatter: (p) => `${p.name}：${formatValue(unit, (p.data as { raw: number | null }).raw, locale)}`,
        },
      },
    ],
  };
}

/** Children sorted best first by the KPI's `higherIsBetter`, units without a value last (then by name). */
export function sortBest<T extends ChildValue>(id: KpiId, children: readonly T[]): T[] {
  const sign = KPI_DEFINITIONS[id].higherIsBetter ? -1 : 1;
  return [...children].sort((a, b) => {
    if (a.value === null || b.value === null)
      return a.value === b.value ? a.name.localeCompare(b.name) : a.value === null ? 1 : -1;
    return sign * (a.value - b.value) || a.name.localeCompare(b.name);
  });
}

/**
 * One KPI per region of a registered map (`mapName`, features named by their `code` property): a
 * continuous light → blue scale over the values present, each region labelled with its name and value so
 * the map does not rely on colour alone; `labels: false` for many small regions (the table says it all).
 */
export function mapOption(
  id: KpiId,
  mapName: string,
  regions: readonly ChildValue[],
  locale: string,
  legend: { high: string; low: string },
  labels = true,
): DashboardOption {
  const unit = KPI_DEFINITIONS[id].unit;
  const values = regions.flatMap((r) => (r.value === null ? [] : [shown(id, r.value) ?? 0]));
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 1;
  const byCode = new Map(regions.map((r) => [r.code, r]));
  const text = (code: string) => {
    const r = byCode.get(code);
    return r ? `${r.name}\n${formatValue(unit, r.value, locale)}` : code;
  };
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p) => text(String(Array.isArray(p) ? p[0]?.name : p.name)).replace('\n', '：'),
    },
    visualMap: {
      type: 'continuous',
      min,
      max: max === min ? min + 1 : max,
      calculable: false,
      left: 8,
      bottom: 8,
      text: [legend.high, legend.low],
      inRange: { color: [LIGHT, BLUE] },
      formatter: (v) => formatValue(unit, unit === 'ratio' ? Number(v) / 100 : Number(v), locale),
    },
    series: [
      {
        type: 'map',
        map: mapName,
        nameProperty: 'code',
        roam: false,
        // fill the panel: the province is about as wide as it is tall
        layoutCenter: ['55%', '50%'],
        layoutSize: '96%',
        selectedMode: false,
        label: {
          show: labels,
          formatter: (p) => text(String(p.name)),
          fontSize: 11,
          color: '#1f1f1f',
          textBorderColor: '#fff',
          textBorderWidth: 2,
        },
        emphasis: { label: { show: true }, itemStyle: { areaColor: '#f5a400' } },
        itemStyle: { borderColor: '#fff', borderWidth: 0.6, areaColor: '#d9d9d9' },
        data: regions.map((r) => ({ name: r.code, value: shown(id, r.value) ?? Number.NaN })),
      },
    ],
  };
}
