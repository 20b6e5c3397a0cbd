import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { regionsOf } from '../src/web/staff/dashboard/regions.ts';
import { SOURCE, simplifyCounties, TARGET } from './simplify-boundaries.ts';

describe('the dashboard map boundaries', () => {
  const committed = fs.readFileSync(TARGET, 'utf8');

  test('the committed file is what the script writes from data/guizhou/counties.geojson', () => {
    expect(committed).toBe(`${JSON.stringify(simplifyCounties(fs.readFileSync(SOURCE, 'utf8')))}\n`);
  });

  test('all 88 counties of counties.csv, each with a polygon, and small enough for the browser', () => {
    const geo = JSON.parse(committed) as ReturnType<typeof simplifyCounties>;
    const csv = fs
      .readFileSync(new URL('../data/guizhou/counties.csv', import.meta.url), 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(',')[0]);
    expect(geo.features.map((f) => f.properties.code).sort()).toEqual([...csv].sort());
    for (const f of geo.features) {
      expect(f.geometry.coordinates.length, f.properties.code).toBeGreaterThan(0);
      expect(f.properties.code.startsWith(f.properties.prefectureCode)).toBe(true);
    }
    expect(gzipSync(committed).length).toBeLessThan(40 * 1024);
  });

  test('the province map has the 9 prefectures; a prefecture map its counties', () => {
    const geo = JSON.parse(committed) as ReturnType<typeof simplifyCounties>;
    const province = regionsOf(geo, '52', { '5226': '黔东南苗族侗族自治州' });
    expect(province.features.map((f) => f.properties.code).sort()).toEqual([
      '5201',
      '5202',
      '5203',
      '5204',
      '5205',
      '5206',
      '5223',
      '5226',
      '5227',
    ]);
    expect(province.features.find((f) => f.properties.code === '5226')?.properties.name).toBe(
      '黔东南苗族侗族自治州',
    );
    const qdn = regionsOf(geo, '5226');
    expect(qdn.features.length).toBe(16);
    expect(qdn.features.every((f) => f.properties.code.startsWith('5226'))).toBe(true);
  });
});
