/**
 * The demand model of `tongban simulate` (docs/simulation.md): who applies for what, when, and through
 * which channel, in a province shaped like Guizhou. Pure functions of their inputs and a seeded random
 * source (src/domain/random.ts): no I/O, so the same seed gives the same demand on every machine.
 */
import type { CalendarDay } from '../../domain/calendar.ts';
import { computeIdentityCheckCharacter } from '../../domain/identity-number.ts';

/** A source of floats in [0, 1) (seededRandom). */
export type Rng = () => number;

/**
 * 第七次全国人口普查 (2020) resident population (常住人口) of Guizhou's 9 prefectures, from the provincial
 * census bulletin (贵州省第七次全国人口普查公报, 2021): 38,562,148 in all.
 */
export const PREFECTURE_POPULATION_2020: Readonly<Record<string, number>> = {
  '5201': 5_987_018, // 贵阳市
  '5202': 3_031_602, // 六盘水市
  '5203': 6_606_675, // 遵义市
  '5204': 2_470_630, // 安顺市
  '5205': 6_899_636, // 毕节市
  '5206': 3_298_468, // 铜仁市
  '5223': 3_015_052, // 黔西南布依族苗族自治州
  '5226': 3_758_622, // 黔东南苗族侗族自治州
  '5227': 3_494_500, // 黔南布依族苗族自治州
};

/** How much larger an urban community (社区/居委会, village-level code 001–199) is than a village (村, 200–399). */
export const COMMUNITY_WEIGHT = 2.5;

/** A county as the model sees it. */
export interface CountyProfile {
  code: string;
  name: string;
  prefectureCode: string;
  /** Approximate resident population (persons). */
  population: number;
  /** Share of village-level units that are villages (村) rather than urban communities: 0 urban … 1 rural. */
  ruralShare: number;
  /** Township codes (9 digits) of the county, for 便民服务中心. */
  townships: string[];
  /** Village codes (12 digits, 村 only) of the county, for 服务站 and village agents. */
  villages: string[];
}

/**
 * Splits each prefecture's 2020 population over its counties in proportion to their village-level units
 * (communities weighted {@link COMMUNITY_WEIGHT}), and measures each county's rurality from the same units.
 * @param divisions counties (6 digits), townships (9) and villages (12) with their codes and names.
 */
export function countyProfiles(divisions: readonly { code: string; name: string }[]): CountyProfile[] {
  const counties = new Map<string, CountyProfile & { communities: number; villageCount: number }>();
  for (const d of divisions)
    if (d.code.length === 6)
      counties.set(d.code, {
        code: d.code,
        name: d.name,
        prefectureCode: d.code.slice(0, 4),
        population: 0,
        ruralShare: 0,
        townships: [],
        villages: [],
        communities: 0,
        villageCount: 0,
      });
  for (const d of divisions) {
    const c = counties.get(d.code.slice(0, 6));
    if (!c) continue;
    if (d.code.length === 9) c.townships.push(d.code);
    if (d.code.length === 12) {
      if (Number(d.code.slice(9)) >= 200) {
        c.villageCount++;
        c.villages.push(d.code);
      } else c.communities++;
    }
  }
  const weight = (c: { communities: number; villageCount: number }) =>
    Math.max(1, c.communities * COMMUNITY_WEIGHT + c.villageCount);
  const perPrefecture = new Map<string, number>();
  for (const c of counties.values())
    perPrefecture.set(c.prefectureCode, (perPrefecture.get(c.prefectureCode) ?? 0) + weight(c));
  const out: CountyProfile[] = [];
  for (const c of [...counties.values()].sort((a, b) => a.code.localeCompare(b.code))) {
    const total = PREFECTURE_POPULATION_2020[c.prefectureCode] ?? 0;
    const units = c.communities + c.villageCount;
    out.push({
      code: c.code,
      name: c.name,
      prefectureCode: c.prefectureCode,
      population: Math.round((total * weight(c)) / (perPrefecture.get(c.prefectureCode) ?? 1)),
      ruralShare: units === 0 ? 0.5 : c.villageCount / units,
      townships: c.townships.sort(),
      villages: c.villages.sort(),
    });
  }
  return out;
}

/**
 * Month factors of demand (index 0 = January): 春节 in February, school enrolment July–September, the
 * National Day week in October, the year-end peak in December (settlements, renewals, insurance).
 */
export const MONTH_FACTORS = [1.0, 0.75, 1.05, 1.0, 0.95, 1.0, 1.1, 1.15, 1.1, 0.9, 1.0, 1.2] as const;

/** Items whose demand follows school enrolment (Jul–Sep ×2.5): transfers, residence permits, teachers. */
export const SCHOOL_ITEMS: ReadonlySet<string> = new Set([
  '200012001000', // 义务教育阶段学生转学
  '010012001000', // 教师资格认定
  '200001004000', // 居住证申领 (积分入学)
  '070001002000', // 户口迁移
]);
/** Items of the year-end peak (Dec ×2; insurance enrolment Sep–Dec ×2): 集中参保期, settlements, closures. */
export const YEAR_END_ITEMS: ReadonlySet<string> = new Set([
  '200011001000', // 住房公积金提取
  '200003001000', // 城乡居民基本医疗保险参保登记
  '200002003000', // 城乡居民养老保险参保登记
  '100010002000', // 发票领用
  '010007004000', // 企业注销登记
]);

/** Seasonal multiplier of one item in a month (1–12). */
export function itemSeason(itemCode: string, month: number): number {
  if (SCHOOL_ITEMS.has(itemCode) && month >= 7 && month <= 9) return 2.5;
  if (YEAR_END_ITEMS.has(itemCode) && (month === 12 || (itemCode === '200003001000' && month >= 9))) return 2;
  return 1;
}

/**
 * Zipf weights over the catalog's items: rank by the catalog's `popularity` (ties by code), weight
 * 1 / rank^s (s = 1), times the item's season in `month`. @returns weights in the order of `items`.
 */
export function itemWeights(
  items: readonly { code: string; popularity: number }[],
  month: number,
  s = 1,
): number[] {
  const ranked = [...items].sort((a, b) => b.popularity - a.popularity || a.code.localeCompare(b.code));
  const rank = new Map(ranked.map((it, i) => [it.code, i + 1]));
  return items.map((it) => itemSeason(it.code, month) / (rank.get(it.code) ?? items.length) ** s);
}

/** Index drawn with probability proportional to `weights` (all ≥ 0, some > 0). */
export function pickWeighted(rng: Rng, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let x = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i]!;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** A Poisson-distributed count with mean `mean` (Knuth for small means, normal approximation above 50). */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    const u = Math.max(rng(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    return Math.max(0, Math.round(mean + z * Math.sqrt(mean)));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/**
 * Cases per day per million residents on an average working day at scale 1 (≈ 150 province-wide: a
 * demo volume that PGlite files in minutes; real Guizhou volume is some hundred times more, `--scale`).
 */
export const CASES_PER_MILLION_PER_WORKING_DAY = 3.9;
/** Online demand on a rest day (weekend, holiday) relative to a working day; halls are closed then. */
export const REST_DAY_ONLINE_FACTOR = 0.35;

/** Expected arrivals of a county on a day (both channels), before the rest-day rule. */
export function expectedArrivals(county: CountyProfile, month: number, scale: number): number {
  return (county.population / 1e6) * CASES_PER_MILLION_PER_WORKING_DAY * MONTH_FACTORS[month - 1]! * scale;
}

/** Whether halls open on the day (a working day of the statutory calendar, 调休 included). */
export function hallsOpen(day: CalendarDay): boolean {
  return day.working;
}

/** Age bands of adult applicants (shares of applications; older residents apply more for benefits). */
export const APPLICANT_AGES: readonly { from: number; to: number; share: number }[] = [
  { from: 18, to: 29, share: 0.22 },
  { from: 30, to: 44, share: 0.3 },
  { from: 45, to: 64, share: 0.32 },
  { from: 65, to: 89, share: 0.16 },
];

/** An applicant's age in whole years. */
export function sampleAge(rng: Rng): number {
  const band =
    APPLICANT_AGES[
      pickWeighted(
        rng,
        APPLICANT_AGES.map((b) => b.share),
      )
    ]!;
  return band.from + Math.floor(rng() * (band.to - band.from + 1));
}

/** The channel family a resident prefers: online (PC/mobile), a hall window, or a village agent (帮办代办). */
export type ChannelFamily = 'online' | 'hall' | 'agent';

/**
 * Probabilities of the channel families for a natural person of `age` in a county of `ruralShare`
 * (0 urban … 1 rural): the young and urban go online, older and rural residents to a hall or an agent.
 * `pushedOnline` models a county forcing people online ("被网办"): older residents' online share rises.
 */
export function channelMix(
  age: number,
  ruralShare: number,
  pushedOnline = false,
): Record<ChannelFamily, number> {
  const base = age < 30 ? 0.75 : age < 45 ? 0.65 : age < 65 ? 0.4 : 0.12;
  let online = base * (1 - 0.5 * ruralShare);
  if (pushedOnline && age >= 65) online = Math.max(online, 0.6);
  const agentBase = age >= 65 ? 0.35 : age >= 45 ? 0.12 : 0.04;
  const agent = Math.min(1 - online, ruralShare * agentBase);
  return { online, agent, hall: Math.max(0, 1 - online - agent) };
}

/** Share of online natural-person applications made on a phone rather than a PC, by age. */
export function mobileShare(age: number): number {
  return age < 45 ? 0.85 : 0.7;
}

/** Probability that a resident of a county of `ruralShare` lives and applies away from home (异地, migrant). */
export function migrantShare(ruralShare: number): number {
  return 0.02 + 0.12 * ruralShare;
}

/** What happens to one case, drawn at submission (shares in docs/simulation.md). */
export interface CasePlan {
  /** Supplement notices (一次性告知) before acceptance: 0, 1 or 2. */
  supplements: 0 | 1 | 2;
  /** 不予受理 instead of acceptance. */
  notAccepted: boolean;
  /** Withdrawn by the applicant after receipt. */
  withdrawn: boolean;
  /** The decision comes after the promised limit. */
  late: boolean;
  /** Share (0…1) of the promised limit the decision takes when not late. */
  speed: number;
  /** Working days over the promised limit when late (1–5). */
  lateBy: number;
  denied: boolean;
  /** The applicant rates after delivery. */
  rates: boolean;
  /** 1 非常满意 … 5 非常不满意 (when rating). */
  level: number;
}

/** Shares of the case plan (docs/simulation.md). */
export const PLAN_SHARES = {
  supplement: 0.19,
  secondSupplementOfSupplemented: 0.15,
  notAccepted: 0.03,
  withdrawn: 0.01,
  late: 0.04,
  denied: 0.04,
  rates: 0.65,
} as const;

/** Rating levels 1…5 of a service that went well, and of one that did not (late, two supplements). */
export const LEVEL_SHARES = {
  normal: [0.78, 0.13, 0.05, 0.025, 0.015],
  troubled: [0.45, 0.2, 0.15, 0.12, 0.08],
} as const;

/** Draws a case's plan. The draws happen in a fixed order, so the plan is a function of the random state. */
export function drawPlan(rng: Rng): CasePlan {
  const supplemented = rng() < PLAN_SHARES.supplement;
  const second = rng() < PLAN_SHARES.secondSupplementOfSupplemented;
  const notAccepted = rng() < PLAN_SHARES.notAccepted;
  const withdrawn = rng() < PLAN_SHARES.withdrawn;
  const late = rng() < PLAN_SHARES.late;
  const speed = 0.15 + rng() * 0.7;
  const lateBy = 1 + Math.floor(rng() * 5);
  const denied = rng() < PLAN_SHARES.denied;
  const rates = rng() < PLAN_SHARES.rates;
  const supplements = supplemented ? (second ? 2 : 1) : 0;
  const troubled = late || supplements === 2;
  const level = 1 + pickWeighted(rng, troubled ? LEVEL_SHARES.troubled : LEVEL_SHARES.normal);
  return { supplements, notAccepted, withdrawn, late, speed, lateBy, denied, rates, level };
}

/** A synthetic resident ID number (GB 11643: area, birth date, 3-digit sequence, check character). */
export function syntheticIdNumber(areaCode: string, birth: string, sequence: number): string {
  const first17 = `${areaCode}${birth.replaceAll('-', '')}${String(sequence % 1000).padStart(3, '0')}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

/** A mobile number derived from an ID number (FNV-1a), so the same person always has the same phone. */
export function phoneFor(idNumber: string): string {
  let h = 2166136261;
  for (let i = 0; i < idNumber.length; i++) h = Math.imul(h ^ idNumber.charCodeAt(i), 16777619);
  return `19${String((h >>> 0) % 1_000_000_000).padStart(9, '0')}`;
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗龙吴杨潘石'.split('');
const GIVEN =
  '秀英 建华 志强 明 芳 丽 勇 军 艳 敏 静 磊 洋 霞 波 兰 婷 文 华 平 红 桂英 国强 小龙 阿花'.split(' ');
/** A plausible Chinese name (synthetic). */
export function sampleName(rng: Rng): string {
  return SURNAMES[Math.floor(rng() * SURNAMES.length)]! + GIVEN[Math.floor(rng() * GIVEN.length)]!;
}

/** Minutes after midnight of office hours (Asia/Shanghai): 9:00–12:00 and 14:00–17:30. */
export const OFFICE_MINUTES: readonly [number, number][] = [
  [9 * 60, 12 * 60],
  [14 * 60, 17 * 60 + 30],
];

/** A minute of office hours, uniformly. */
export function officeMinute(rng: Rng): number {
  const total = OFFICE_MINUTES.reduce((a, [f, t]) => a + t - f, 0);
  let x = Math.floor(rng() * total);
  for (const [f, t] of OFFICE_MINUTES) {
    if (x < t - f) return f + x;
    x -= t - f;
  }
  return OFFICE_MINUTES[0]![0];
}

/** A minute of the online day (7:00–23:00, more in the evening). */
export function onlineMinute(rng: Rng): number {
  const evening = rng() < 0.4;
  return evening ? 19 * 60 + Math.floor(rng() * 240) : 7 * 60 + Math.floor(rng() * 12 * 60);
}
