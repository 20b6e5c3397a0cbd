/**
 * Writes the county boundaries the staff dashboard's map draws (src/web/staff/dashboard/counties.simplified.geojson)
 * from the shipped data/guizhou/counties.geojson (88 counties, 4 MB; provenance in data/README.md):
 * each ring simplified with Douglas–Peucker (@turf/simplify, tolerance {@link TOLERANCE_DEGREES}), its
 * coordinates rounded to {@link DECIMALS} decimals (≈ 100 m), rings left with fewer than 4 points
 * dropped; properties kept: `code` (GB/T 2260, 6 digits), `name`, `prefectureCode` (4 digits).
 * Display only (approximate, no 审图号): not for surveying or legal boundary decisions.
 *
 * The dashboard imports the file lazily as text (`?raw`: its own chunk, precompressed, loaded only with the
 * map); `.geojson` keeps Biome from reformatting the generated file (biome.json ignores `*.geojson`). Run
 * `node scripts/simplify-boundaries.ts` after the source changes; scripts/simplify-boundaries.test.ts
 * checks that the committed file matches this script's output and stays small.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import simplify from '@turf/simplify';
import type { Feature, FeatureCollection, MultiPolygon, Polygon, Position } from 'geojson';

/** Douglas–Peucker tolerance in degrees (≈ 1 km at 26° N): enough for a map 500–900 px wide. */
export const TOLERANCE_DEGREES = 0.008;
/** Decimals kept of each longitude / latitude. */
export const DECIMALS = 3;

export const SOURCE = fileURLToPath(new URL('../data/guizhou/counties.geojson', import.meta.url));
export const TARGET = fileURLToPath(
  new URL('../src/web/staff/dashboard/counties.simplified.geojson', import.meta.url),
);

interface CountyProps {
  code: string;
  name: string;
  prefectureCode: string;
}

const round = (p: Position): Position => p.slice(0, 2).map((v) => Number(v.toFixed(DECIMALS)));

function cleanRing(ring: Position[]): Position[] | null {
  const out: Position[] = [];
  for (const p of ring.map(round)) {
    const last = out.at(-1);
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  return out.length >= 4 ? out : null;
}

/** The simplified collection (MultiPolygon per county), as the dashboard reads it. Pure given the source text. */
export function simplifyCounties(source: string): FeatureCollection<MultiPolygon, CountyProps> {
  const input = JSON.parse(source) as FeatureCollection<Polygon | MultiPolygon, CountyProps>;
  const features = input.features.map((f): Feature<MultiPolygon, CountyProps> => {
    const simple = simplify(f, { tolerance: TOLERANCE_DEGREES, highQuality: true, mutate: false });
    const polygons =
      simple.geometry.type === 'Polygon' ? [simple.geometry.coordinates] : simple.geometry.coordinates;
    const kept = polygons
      .map((poly) => poly.map(cleanRing))
      .filter((poly) => poly[0] !== null)
      .map((poly) => poly.filter((r): r is Position[] => r !== null));
    const { code, name, prefectureCode } = f.properties;
    return {
      type: 'Feature',
      properties: { code, name, prefectureCode },
      geometry: { type: 'MultiPolygon', coordinates: kept },
    };
  });
  features.sort((a, b) => a.properties.code.localeCompare(b.properties.code));
  return { type: 'FeatureCollection', features };
}

if (import.meta.main) {
  const out = JSON.stringify(simplifyCounties(fs.readFileSync(SOURCE, 'utf8')));
  fs.writeFileSync(TARGET, `${out}\n`);
  console.log(`${TARGET}: ${(out.length / 1024).toFixed(1)} KB`);
}
