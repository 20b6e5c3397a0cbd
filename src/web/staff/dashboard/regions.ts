/**
 * The regions of a dashboard map, pure (no Vite, no ECharts; unit-tested from Node): the simplified county
 * polygons (`counties.simplified.geojson`) regrouped for one scope.
 */
import type { FeatureCollection, MultiPolygon } from 'geojson';

export interface RegionProps {
  code: string;
  name: string;
  prefectureCode: string;
}
export type Regions = FeatureCollection<MultiPolygon, RegionProps>;

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
