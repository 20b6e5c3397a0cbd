/**
 * Benchmark: catalog search at province scale (issue 2, item 5).
 *
 * Generates 715,000 implementation records deterministically (seeded PRNG): 671 service items made of
 * real service stems × actions (社会保障卡 × 补领 …), implemented in 1,066 real Guizhou divisions read
 * from data/guizhou/ (the province, 9 prefectures, 88 counties and a seeded sample of 968 townships);
 * 671 × 1,066 = 715,286 minus 286 township records; ~3 % of county/township records carry a local
 * name variant (…（即时办结）), ~10 % of items a colloquial alias (俗称). Builds the index and reports
 * build time, memory after a full GC, and latency percentiles over a fixed set of 80 queries (Chinese
 * words, partial words, full pinyin, initials, colloquial synonyms; with and without division/industry
 * filters) after a warm-up. Anchor, same run: a plain `Array.prototype.filter` + `String.includes`
 * scan over the 715,000 record names for the same query strings.
 *
 * Run: `npm run bench:catalog-search` (≈ 30–60 s). The last stdout line is one JSON object.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import {
  CatalogSearchIndex,
  defaultJieba,
  type SearchDocument,
  type SearchQuery,
} from '../src/server/modules/search/search-index.ts';
import { defaultSynonyms } from '../src/server/modules/search/synonyms.ts';
import { collectGarbage, memoryMb, percentile, round, seededRandom, shuffle } from './lib/stats.ts';

const RECORDS = 715_000;
const ITEMS = 671;
const DIVISIONS = 1_066;
const GOAL_P99_MS = 10;
const random = seededRandom(20_260_101);

// ---------------------------------------------------------------------------------------------- data
type Obj = 'natural_person' | 'legal_person';
const N: Obj[] = ['natural_person'];
const L: Obj[] = ['legal_person'];
const NL: Obj[] = ['natural_person', 'legal_person'];
/** Real service stems: [stem, industry, service objects, colloquial alias stem?]. */
const STEMS: Array<[string, string, Obj[], string?]> = [
  ['社会保障卡', '人力资源和社会保障', N, '社保卡'],
  ['失业保险金', '人力资源和社会保障', N, '失业金'],
  ['职工基本养老保险', '人力资源和社会保障', NL],
  ['城乡居民基本养老保险', '人力资源和社会保障', N, '农保'],
  ['就业创业证', '人力资源和社会保障', N],
  ['技能人员职业资格', '人力资源和社会保障', N],
  ['人力资源服务许可', '人力资源和社会保障', L],
  ['居民身份证', '公安', N, '身份证'],
  ['临时居民身份证', '公安', N],
  ['居民户口簿', '公安', N, '户口本'],
  ['户口迁移', '公安', N, '迁户口'],
  ['机动车驾驶证', '公安', N, '驾照'],
  ['机动车行驶证', '公安', NL, '行驶证'],
  ['机动车号牌', '公安', NL, '车牌'],
  ['普通护照', '公安', N, '护照'],
  ['往来港澳通行证', '公安', N, '港澳通行证'],
  ['居住证', '公安', N],
  ['无犯罪记录证明', '公安', N, '无犯罪证明'],
  ['婚姻登记', '民政', N],
  ['最低生活保障', '民政', N, '低保'],
  ['特困人员救助供养', '民政', N],
  ['残疾人两项补贴', '民政', N],
  ['社会团体', '民政', L],
  ['民办非企业单位', '民政', L],
  ['城乡居民基本医疗保险', '医疗保障', N, '居民医保'],
  ['职工基本医疗保险', '医疗保障', NL, '职工医保'],
  ['异地就医', '医疗保障', N],
  ['医疗救助', '医疗保障', N],
  ['生育保险待遇', '医疗保障', N, '生育津贴'],
  ['住房公积金', '住房公积金', NL, '公积金'],
  ['住房公积金贷款', '住房公积金', N, '公积金贷款'],
  ['不动产权证书', '自然资源', NL, '房产证'],
  ['不动产抵押权', '自然资源', NL],
  ['建设用地规划许可证', '自然资源', L],
  ['建筑工程施工许可证', '住房和城乡建设', L],
  ['商品房预售许可证', '住房和城乡建设', L],
  ['建筑业企业资质', '住房和城乡建设', L],
  ['营业执照', '市场监督管理', L],
  ['个体工商户', '市场监督管理', N],
  ['食品经营许可证', '市场监督管理', L],
  ['特种设备使用登记证', '市场监督管理', L],
  ['出生医学证明', '卫生健康', N, '出生证'],
  ['医师执业证书', '卫生健康', N],
  ['护士执业证书', '卫生健康', N],
  ['生育服务证', '卫生健康', N, '准生证'],
  ['道路运输经营许可证', '交通运输', L],
  ['道路运输证', '交通运输', NL],
  ['出租汽车驾驶员证', '交通运输', N],
  ['增值税发票', '税务', L],
  ['纳税人信息', '税务', NL],
  ['个人所得税', '税务', N],
  ['教师资格证书', '教育', N, '教师证'],
  ['学生学籍', '教育', N],
  ['民办学校办学许可证', '教育', L],
  ['农村土地承包经营权', '农业农村', N],
  ['农药经营许可证', '农业农村', L],
  ['动物防疫条件合格证', '农业农村', L],
  ['农村村民住宅建设', '农业农村', N, '建房'],
  ['残疾人证', '残疾人联合会', N, '残疾证'],
  ['优抚对象抚恤', '退役军人事务', N],
  ['取水许可', '水利', L],
  ['排污许可证', '生态环境', L],
  ['烟草专卖零售许可证', '烟草专卖', L],
];
const ACTIONS = [
  '申领',
  '补领',
  '换领',
  '变更',
  '注销',
  '查询',
  '提取',
  '登记',
  '备案',
  '审批',
  '认定',
  '核准',
];
const SUFFIXES = ['即时办结', '乡镇代办', '窗口办理', '网上办理'];

interface Division {
  code: string;
  name: string;
  level: 'province' | 'prefecture' | 'county' | 'township';
}

function readCsv(file: string): Array<Record<string, string>> {
  return parse(readFileSync(new URL(`../data/guizhou/${file}`, import.meta.url), 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  }) as Array<Record<string, string>>;
}

function divisions(): Division[] {
  const out: Division[] = [];
  for (const r of readCsv('provinces.csv')) out.push({ code: r.code!, name: r.name!, level: 'province' });
  for (const r of readCsv('prefectures.csv')) out.push({ code: r.code!, name: r.name!, level: 'prefecture' });
  for (const r of readCsv('counties.csv')) out.push({ code: r.code!, name: r.name!, level: 'county' });
  const townships = readCsv('townships.csv').map(
    (r): Division => ({ code: r.code!, name: r.name!, level: 'township' }),
  );
  const sample = shuffle(townships, random).slice(0, DIVISIONS - out.length);
  sample.sort((a, b) => (a.code < b.code ? -1 : 1));
  return [...out, ...sample];
}

interface Item {
  code: string;
  name: string;
  industry: string;
  objects: Obj[];
  aliases: string[] | undefined;
  base: number;
}

function items(): Item[] {
  const combos: Array<[number, number]> = [];
  for (let s = 0; s < STEMS.length; s++) for (let a = 0; a < ACTIONS.length; a++) combos.push([s, a]);
  const chosen = shuffle(combos, random).slice(0, ITEMS);
  return chosen.map(([s, a], i): Item => {
    const [stem, industry, objects, colloquial] = STEMS[s]!;
    const action = ACTIONS[a]!;
    const aliases = colloquial !== undefined && random() < 0.5 ? [`${colloquial}${action}`] : undefined;
    return {
      code: `${String(11 + (s % 89)).padStart(2, '0')}${String(a + 1).padStart(2, '0')}${String(i + 1).padStart(8, '0')}`,
      name: `${stem}${action}`,
      industry,
      objects,
      aliases,
      // Zipf-like item popularity: a few items carry most cases.
      base: Math.floor(20_000 / (1 + Math.floor(random() * ITEMS))),
    };
  });
}

/**
 * The records, one chunk (one item × all its divisions) at a time, so the benchmark never holds all
 * 715,000 record objects at once (the catalog module streams them from the database the same way).
 */
function* generate(divs: Division[], list: Item[]): Generator<SearchDocument[]> {
  const total = list.length * divs.length;
  // Drop (total − RECORDS) township records, chosen by the seeded PRNG.
  const drop = new Set<number>();
  while (drop.size < total - RECORDS) {
    const pos = Math.floor(random() * total);
    if (divs[pos % divs.length]!.level === 'township') drop.add(pos);
  }
  const levelFactor = { province: 0.5, prefecture: 0.3, county: 1, township: 0.1 };
  let pos = 0;
  for (const item of list) {
    const docs: SearchDocument[] = [];
    for (const div of divs) {
      if (drop.has(pos++)) continue;
      const local = div.level === 'county' || div.level === 'township';
      const name =
        local && random() < 0.03
          ? `${item.name}（${SUFFIXES[Math.floor(random() * SUFFIXES.length)]!}）`
          : item.name;
      docs.push({
        id: `${item.code}${div.code.padEnd(12, '0')}`,
        itemCode: item.code,
        name,
        ...(item.aliases === undefined ? {} : { aliases: item.aliases }),
        industry: item.industry,
        divisionCode: div.code,
        serviceObjects: item.objects,
        popularity: Math.floor(item.base * levelFactor[div.level] * random()),
      });
    }
    yield docs;
  }
}

// ------------------------------------------------------------------------------------------- queries
function querySet(divs: Division[]): SearchQuery[] {
  const words = [
    // Chinese words
    '社会保障卡',
    '居民身份证',
    '住房公积金',
    '婚姻登记',
    '出生医学证明',
    '营业执照',
    '食品经营许可证',
    '残疾人证',
    '不动产权证书',
    '教师资格证书',
    '最低生活保障',
    '机动车驾驶证补领',
    '住房公积金提取',
    '城乡居民基本医疗保险',
    '普通护照申领',
    // partial words
    '保障卡',
    '驾驶证补',
    '公积金提',
    '医疗保险',
    '身份证换',
    '户口',
    '养老保险',
    '施工许可',
    '经营许可',
    '补领',
    '登记',
    // full pinyin
    'shehuibaozhangka',
    'shebaoka',
    'gongjijin',
    'jiashizheng',
    'shenfenzheng',
    'hunyindengji',
    'huzhao',
    'yingyezhizhao',
    'dibao',
    'canjiren',
    // initials
    'sbk',
    'shbzk',
    'gjj',
    'jsz',
    'sfz',
    'yyzz',
    'bdc',
    'hz',
    // colloquial synonyms
    '社保卡补办',
    '上户口',
    '驾照补办',
    '医保',
    '公积金怎么取',
    '房产证',
    '低保',
    '准生证',
    '离婚',
    '营业执照办理',
    '身份证换证',
    '新农合',
    '退休',
    '我要给孩子上户口',
    '驾驶证 换证',
    'sbk 补办',
  ];
  const county = divs.find((d) => d.code === '520102')!;
  const townships = divs.filter((d) => d.level === 'township');
  const t1 = townships[17]!.code;
  const t2 = townships[500]!.code;
  const filtered: SearchQuery[] = [
    { q: '社保卡补办', division: county.code },
    { q: '社保卡补办', division: t1 },
    { q: 'shebaoka', division: t2 },
    { q: 'sbk', division: '5203' },
    { q: '身份证', division: t1, industry: '公安' },
    { q: '公积金提取', division: '520102' },
    { q: '登记', industry: '民政' },
    { q: '补领', division: t2, serviceObject: 'natural_person' },
    { q: '许可证', industry: '市场监督管理', serviceObject: 'legal_person' },
    { q: '驾照补办', division: `${t2}001` },
    { q: 'gjj', industry: '住房公积金' },
    { q: '医保', division: t1 },
    { q: '营业执照', division: '5201', serviceObject: 'legal_person' },
    { q: '房产证', division: t2, industry: '自然资源' },
    { q: 'yingyezhizhao', division: county.code },
    { q: '上户口', division: t1 },
    { q: '低保', division: '52' },
    { q: '户口', division: t2, industry: '公安' },
    { q: '申领', division: t1, limit: 100 },
    { q: 's', division: t2 },
  ];
  return [...words.map((q) => ({ q })), ...filtered];
}

// ------------------------------------------------------------------------------------------------ run
function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const [, jiebaMs] = time(() => defaultJieba());
defaultSynonyms();
collectGarbage();
const base = memoryMb();

const divs = divisions();
const list = items();
const index = new CatalogSearchIndex();
const names: string[] = []; // the anchor's data: every record's name
let buildMs = 0;
let genMs = 0;
let t = performance.now();
for (const chunk of generate(divs, list)) {
  const t1 = performance.now();
  genMs += t1 - t;
  index.addAll(chunk);
  t = performance.now();
  buildMs += t - t1;
  for (const d of chunk) names.push(d.name);
}
const gcDone = collectGarbage();
const mem = memoryMb();
const stats = index.stats;

const queries = querySet(divs);
const hitsOf = new Map<SearchQuery, number>();
for (let w = 0; w < 3; w++) for (const q of queries) hitsOf.set(q, index.search(q).total);

const samples: number[] = [];
const ROUNDS = 20;
for (let r = 0; r < ROUNDS; r++) {
  for (const q of queries) {
    const t0 = performance.now();
    index.search(q);
    const dt = performance.now() - t0;
    samples.push(dt);
    if (process.env.BENCH_DEBUG && dt > 1) console.log('slow', r, JSON.stringify(q), dt.toFixed(2));
  }
}

const anchor: number[] = [];
for (let r = 0; r < 2; r++) {
  for (const q of queries) {
    const text = q.q;
    const t0 = performance.now();
    const found = names.filter((n) => n.includes(text));
    anchor.push(performance.now() - t0);
    if (found.length < 0) console.log('unreachable');
  }
}

const p = (s: number[], x: number) => round(percentile(s, x), 3);
const result = {
  bench: 'catalog-search',
  records: stats.documents,
  distinct_items: stats.items,
  variants: stats.variants,
  distinct_texts: stats.texts,
  divisions: stats.divisions,
  queries: queries.length,
  samples: samples.length,
  build_s: round(buildMs / 1000, 2),
  rss_mb: mem.rss,
  heap_mb: mem.heap,
  heap_index_mb: round(mem.heap - base.heap, 1),
  rss_before_mb: base.rss,
  p50_ms: p(samples, 50),
  p95_ms: p(samples, 95),
  p99_ms: p(samples, 99),
  max_ms: round(Math.max(...samples), 3),
  anchor_scan_p50_ms: p(anchor, 50),
  anchor_scan_p99_ms: p(anchor, 99),
  ratio_vs_scan: round(percentile(anchor, 99) / percentile(samples, 99), 1),
  goal_p99_ms: GOAL_P99_MS,
  goal_met: percentile(samples, 99) <= GOAL_P99_MS,
};

const rows: Array<[string, string]> = [
  ['records (implementations)', result.records.toLocaleString('en')],
  [
    'service items / variants / distinct texts',
    `${result.distinct_items} / ${result.variants} / ${result.distinct_texts}`,
  ],
  ['divisions', String(result.divisions)],
  ['data generation', `${round(genMs / 1000, 2)} s (not part of build; fed in 671 chunks)`],
  ['jieba dictionary load', `${round(jiebaMs, 0)} ms (once per process)`],
  ['index build', `${result.build_s} s`],
  [`memory after build${gcDone ? ' + GC' : ' (no GC available)'}`, `RSS ${mem.rss} MB, heap ${mem.heap} MB`],
  ['before generating (jieba + synonyms loaded)', `RSS ${base.rss} MB, heap ${base.heap} MB`],
  ['heap held by the index (vs before)', `${result.heap_index_mb} MB`],
  ['queries × rounds', `${queries.length} × ${ROUNDS} after 3 warm-up rounds`],
  [
    'latency p50 / p95 / p99 / max',
    `${result.p50_ms} / ${result.p95_ms} / ${result.p99_ms} / ${result.max_ms} ms`,
  ],
  [
    'anchor: filter+includes scan p50 / p99',
    `${result.anchor_scan_p50_ms} / ${result.anchor_scan_p99_ms} ms`,
  ],
  ['ratio anchor_p99 / our_p99', `${result.ratio_vs_scan}×`],
  [`goal p99 ≤ ${GOAL_P99_MS} ms`, result.goal_met ? 'met' : 'NOT met'],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('catalog-search benchmark');
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
console.log('\n  hits per query (items, first 12):');
for (const q of queries.slice(0, 12)) console.log(`    ${JSON.stringify(q)} → ${hitsOf.get(q)}`);
console.log(JSON.stringify(result));
