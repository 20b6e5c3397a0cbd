import fs from 'node:fs';
import path from 'node:path';
import bbox from '@turf/bbox';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import pointOnFeature from '@turf/point-on-feature';
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { seededRandom } from '../../../domain/random.ts';
import { GUIZHOU_DATA_DIR } from '../regions/reference-data.ts';

type CountyFeature = Feature<Polygon | MultiPolygon, { code: string; name: string; prefectureCode: string }>;

/** A WGS-84-ish point in degrees (the source datum is not stated: display only, not for surveying). */
export interface LatLon {
  latitude: number;
  longitude: number;
}

/**
 * Approximate hall locations from the shipped county boundaries (data/guizhou/counties.geojson):
 * a county's seat is a point guaranteed inside its polygon; township and village access points are
 * stable pseudo-random points inside their county's polygon. All flagged approximate by the caller.
 */
export class CountyLocator {
  private readonly counties = new Map<string, { feature: CountyFeature; box: number[] }>();

  constructor(file = path.join(GUIZHOU_DATA_DIR, 'counties.geojson')) {
    const fc = JSON.parse(fs.readFileSync(file, 'utf8')) as FeatureCollection<
      Polygon | MultiPolygon,
      CountyFeature['properties']
    >;
    for (const f of fc.features)
      this.counties.set(f.properties.code, { feature: f as CountyFeature, box: bbox(f) });
  }

  has(countyCode: string): boolean {
    return this.counties.has(countyCode);
  }

  /** A point inside the county's polygon (its seat, approximately). */
  seatOf(countyCode: string): LatLon {
    const c = this.require(countyCode);
    const [lon, lat] = pointOnFeature(c.feature).geometry.coordinates as [number, number];
    return { latitude: round(lat), longitude: round(lon) };
  }

  /** A stable pseudo-random point inside the county's polygon, seeded by `seed` (e.g. a village code). */
  pointIn(countyCode: string, seed: string): LatLon {
    const c = this.require(countyCode);
    const rnd = seededRandom(seed);
    const [minX, minY, maxX, maxY] = c.box as [number, number, number, number];
    for (let i = 0; i < 200; i++) {
      const lon = minX + rnd() * (maxX - minX);
      const lat = minY + rnd() * (maxY - minY);
      if (booleanPointInPolygon([lon, lat], c.feature))
        return { latitude: round(lat), longitude: round(lon) };
    }
    return this.seatOf(countyCode);
  }

  /** Whether a point lies inside the county's polygon. */
  contains(countyCode: string, p: LatLon): boolean {
    return booleanPointInPolygon([p.longitude, p.latitude], this.require(countyCode).feature);
  }

  private require(countyCode: string) {
    const c = this.counties.get(countyCode);
    if (!c) throw new Error(`no boundary for county ${countyCode} in counties.geojson`);
    return c;
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
