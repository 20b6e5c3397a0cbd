/**
 * The boundaries the dashboard's map draws: the simplified county polygons (counties.geo.json, written by
 * scripts/simplify-boundaries.ts from data/guizhou/counties.geojson; display only, approximate) fetched
 * lazily as their own chunk the first time a map is shown, and the map of one scope built from them —
 * the province as its prefectures (each the union of its counties' polygons, county lines kept inside),
 * a prefecture as its counties. Registered with ECharts under `tongban-<code>`.
 */
import type { FeatureCollection, MultiPolygon } from 'geojson';
import { registerMap } from './echarts.ts';

interface RegionProps {
  code: string;
  name: string;
  prefectureCode: string;
}
type Regions = FeatureCollection<MultiPolygon, RegionProps>;

let counties: Promise<Regions> | null = null;

/** The 88 county polygons (one request, cached for the page's life). */
export function loadCounties(): Promise<Regions> {
  counties ??= import('./counties.geo.json').then((m) => m.default as unknown as Regions);
  return counties;
}

/**
 * The regions of `code`'s map: for the province (2 digits) one feature per prefecture (4-digit code,
 * `names[code]` or the code as its name), for a prefecture (4 digits) its counties. Pure.
 */
export function regionsOf(all: Regions, code: string, names: Record<string, string> = {}): Regions {
  if (code.length === 4)
    return {
      type: 'FeatureCollection',
      features: all.features.filter((f) => f.properties.prefectureCode === code),
    };
  const byPrefecture = new Map<string, MultiPolygon['coordinates']>();
  for (const f of all.features) {
    const p = f.properties.prefectureCode;
    byPrefecture.set(p, [...(byPrefecture.get(p) ?? []), ...f.geometry.coordinates]);
  }
  return {
    type: 'FeatureCollection',
    features: [...byPrefecture].map(([p, coordinates]) => ({
      type: 'Feature',
      properties: { code: p, name: names[p] ?? p, prefectureCode: p },
      geometry: { type: 'MultiPolygon', coordinates },
    })),
  };
}

const registered = new Set<string>();

/** Registers (once) and returns the ECharts map name of a province (2) or prefecture (4) code. */
export async function mapNameOf(code: string, names: Record<string, string> = {}): Promise<string> {
  const name = `tongban-${code}`;
  if (!registered.has(name)) {
    const regions = regionsOf(await loadCounties(), code, names);
    // ECharts' GeoJSON input type is its own; the shape is the standard one
    registerMap(name, regions as unknown as Parameters<typeof registerMap>[1]);
    registered.add(name);
  }
  return name;
}
