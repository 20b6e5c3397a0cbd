/**
 * The boundaries the dashboard's map draws: the simplified county polygons (counties.simplified.geojson, written by
 * scripts/simplify-boundaries.ts from data/guizhou/counties.geojson; display only, approximate) fetched
 * lazily as their own chunk the first time a map is shown, and the map of one scope built from them —
 * the province as its prefectures (each the union of its counties' polygons, county lines kept inside),
 * a prefecture as its counties. Registered with ECharts under `tongban-<code>`.
 */
import { registerMap } from './echarts.ts';
import { type Regions, regionsOf } from './regions.ts';

let counties: Promise<Regions> | null = null;

/** The 88 county polygons (one request, cached for the page's life). */
export function loadCounties(): Promise<Regions> {
  counties ??= import('./counties.simplified.geojson?raw').then((m) => JSON.parse(m.default) as Regions);
  return counties;
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
