import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isValidIdentityNumber } from '../../domain/identity-number.ts';
import { seededRandom } from '../../domain/random.ts';
import {
  channelMix,
  countyProfiles,
  drawPlan,
  itemWeights,
  PLAN_SHARES,
  PREFECTURE_POPULATION_2020,
  phoneFor,
  poisson,
  syntheticIdNumber,
} from './model.ts';

/** The shipped divisions (code, name) of one level's CSV. */
function divisions(file: string): { code: string; name: string }[] {
  return fs
    .readFileSync(new URL(`../../../data/guizhou/${file}`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [code, name] = line.split(',');
      return { code: code!, name: name!.replaceAll('"', '') };
    });
}

describe('the demand model', () => {
  const profiles = countyProfiles([
    ...divisions('counties.csv'),
    ...divisions('townships.csv'),
    ...divisions('villages.csv'),
  ]);

  it('splits the 2020 census population of each prefecture over its 88 counties; districts are urban', () => {
    expect(profiles).toHaveLength(88);
    const total = profiles.reduce((a, c) => a + c.population, 0);
    expect(Math.abs(total - 38_562_148)).toBeLessThan(100);
    for (const [prefecture, population] of Object.entries(PREFECTURE_POPULATION_2020)) {
      const sum = profiles
        .filter((c) => c.prefectureCode === prefecture)
        .reduce((a, c) => a + c.population, 0);
      expect(Math.abs(sum - population)).toBeLessThan(20);
    }
    const nanming = profiles.find((c) => c.code === '520102')!; // 南明区
    const weining = profiles.find((c) => c.code === '520526')!; // 威宁县
    expect(nanming.ruralShare).toBeLessThan(0.3);
    expect(weining.ruralShare).toBeGreaterThan(0.7);
    expect(weining.villages.length).toBeGreaterThan(100);
  });

  it('sends the young and urban online, older and rural residents to halls and agents; 被网办 pushes 65+ online', () => {
    const young = channelMix(25, 0.1);
    const old = channelMix(72, 0.9);
    for (const m of [young, old]) expect(m.online + m.hall + m.agent).toBeCloseTo(1, 10);
    expect(young.online).toBeGreaterThan(0.6);
    expect(old.online).toBeLessThan(0.1);
    expect(old.agent).toBeGreaterThan(0.25);
    expect(channelMix(72, 0.9, true).online).toBeGreaterThanOrEqual(0.6);
    expect(channelMix(40, 0.9, true)).toEqual(channelMix(40, 0.9));
  });

  it('ranks items by popularity (Zipf) and doubles school items in the enrolment season', () => {
    const items = [
      { code: '200001001000', popularity: 95 },
      { code: '200012001000', popularity: 35 }, // 义务教育阶段学生转学
      { code: '010017001000', popularity: 20 },
    ];
    expect(itemWeights(items, 3)).toEqual([1, 1 / 2, 1 / 3]);
    expect(itemWeights(items, 8)).toEqual([1, 2.5 / 2, 1 / 3]);
  });

  it('draws case plans in the documented shares, the same for the same seed', () => {
    const rng = seededRandom('plans');
    const plans = Array.from({ length: 20_000 }, () => drawPlan(rng));
    const share = (f: (p: ReturnType<typeof drawPlan>) => boolean) => plans.filter(f).length / plans.length;
    expect(share((p) => p.supplements > 0)).toBeCloseTo(PLAN_SHARES.supplement, 1);
    expect(share((p) => p.supplements === 2)).toBeGreaterThan(0.015);
    expect(share((p) => p.supplements === 2)).toBeLessThan(0.045);
    expect(share((p) => p.late)).toBeCloseTo(PLAN_SHARES.late, 1);
    expect(share((p) => p.level >= 4)).toBeGreaterThan(0.03);
    expect(share((p) => p.level >= 4)).toBeLessThan(0.08);
    const again = seededRandom('plans');
    expect(drawPlan(again)).toEqual(plans[0]);
    const counts = Array.from({ length: 2000 }, () => poisson(rng, 4));
    expect(counts.reduce((a, b) => a + b, 0) / counts.length).toBeCloseTo(4, 0);
  });

  it('makes valid synthetic ID numbers and 11-digit phones', () => {
    const id = syntheticIdNumber('520526', '1950-06-01', 7);
    expect(isValidIdentityNumber(id)).toBe(true);
    expect(id.slice(0, 14)).toBe('52052619500601');
    expect(phoneFor(id)).toMatch(/^19\d{9}$/);
    expect(phoneFor(id)).toBe(phoneFor(id));
  });
});
