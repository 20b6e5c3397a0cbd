import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf as thrown } from '../../../testing/app-error.ts';
import { CatalogSearchIndex, type SearchDocument, type SearchQuery } from './search-index.ts';
import { defaultSynonyms } from './synonyms.ts';

const NP = ['natural_person'];
const LP = ['legal_person'];

/** [itemCode, name, industry, serviceObjects, divisions, popularity per record, aliases?] */
const ITEMS: Array<[string, string, string, string[], string[], number, string[]?]> = [
  ['000120001', '社会保障卡补领', '人力资源和社会保障', NP, ['52'], 100],
  ['000120002', '社会保障卡申领', '人力资源和社会保障', NP, ['52'], 500],
  ['000120003', '社会保障卡挂失', '人力资源和社会保障', NP, ['52'], 50, ['社保卡挂失']],
  ['000130001', '居民身份证换领', '公安', NP, ['52'], 800],
  ['000130002', '出生登记', '公安', NP, ['520102', '520103'], 300],
  ['000130003', '机动车驾驶证补领', '公安', NP, ['52'], 200],
  ['000130004', '机动车驾驶证换领', '公安', NP, ['52'], 250],
  ['000140001', '结婚登记', '民政', NP, ['5201', '5203'], 400],
  ['000140002', '离婚登记', '民政', NP, ['5201'], 90],
  ['000140003', '最低生活保障申请', '民政', NP, ['520102001'], 60],
  ['000150001', '住房公积金提取', '住房公积金', NP, ['52'], 700],
  ['000160001', '城乡居民基本医疗保险参保登记', '医疗保障', NP, ['52'], 650],
  ['000170001', '企业设立登记', '市场监督管理', LP, ['520102', '520103'], 120],
  ['000170002', '个体工商户设立登记', '市场监督管理', ['natural_person', 'legal_person'], ['520102'], 110],
];

function fixture(): SearchDocument[] {
  const docs: SearchDocument[] = [];
  for (const [itemCode, name, industry, serviceObjects, divisions, popularity, aliases] of ITEMS) {
    for (const divisionCode of divisions) {
      docs.push({
        id: `${itemCode}-${divisionCode}`,
        itemCode,
        name,
        ...(aliases === undefined ? {} : { aliases }),
        industry,
        divisionCode,
        serviceObjects,
        popularity,
      });
    }
  }
  // A county's local name for the social security card replacement (实施清单 local variance).
  docs.push({
    id: '000120001-520103',
    itemCode: '000120001',
    name: '社会保障卡补领（即时办结）',
    industry: '人力资源和社会保障',
    divisionCode: '520103',
    serviceObjects: NP,
    popularity: 10,
  });
  return docs;
}

let index: CatalogSearchIndex;
beforeAll(() => {
  index = CatalogSearchIndex.build(fixture(), { synonyms: defaultSynonyms() });
});

const names = (query: SearchQuery) => index.search(query).results.map((r) => r.name);
const codes = (query: SearchQuery) => index.search(query).results.map((r) => r.code);

describe('done-when queries', () => {
  it('社保卡补办 finds 社会保障卡补领 first (synonyms 社保卡→社会保障卡, 补办→补领)', () => {
    const result = index.search({ q: '社保卡补办' });
    expect(result.results[0]).toMatchObject({
      code: '000120001',
      name: '社会保障卡补领',
      industry: '人力资源和社会保障',
    });
    expect(result.results[0]!.matched.kinds).toContain('synonym');
    // relevance beats popularity: 申领 is five times as popular but matches only 社保卡
    expect(result.results[0]!.score).toBeGreaterThan(result.results[1]?.score ?? 0);
  });

  it.each(['shebaoka', 'sbk', 'shehuibaozhangka', 'shbzk', 'she bao ka', 'SBK'])(
    '%s finds the social security card items',
    (q) => {
      const found = codes({ q });
      expect(found.slice(0, 3).sort()).toEqual(['000120001', '000120002', '000120003']);
    },
  );

  it('pinyin of a colloquial synonym is marked as both pinyin and synonym', () => {
    const hit = index.search({ q: 'shebaoka' }).results.find((r) => r.code === '000120002')!;
    expect(hit.matched.kinds).toEqual(['synonym', 'pinyin']);
    expect(index.search({ q: 'sbk' }).results.find((r) => r.code === '000120002')!.matched.kinds).toEqual([
      'synonym',
      'initials',
    ]);
  });
});

describe('synonyms and partial words', () => {
  it.each([
    ['上户口', '出生登记'],
    ['给孩子上户口', '出生登记'],
    ['驾照补办', '机动车驾驶证补领'],
    ['驾照换证', '机动车驾驶证换领'],
    ['公积金怎么取', '住房公积金提取'],
    ['医保', '城乡居民基本医疗保险参保登记'],
    ['新农合', '城乡居民基本医疗保险参保登记'],
    ['低保', '最低生活保障申请'],
    ['身份证', '居民身份证换领'],
    ['离婚', '离婚登记'],
    ['保障卡挂', '社会保障卡挂失'],
    ['驾驶证补', '机动车驾驶证补领'],
    ['jiehun', '结婚登记'],
    ['gjj', '住房公积金提取'],
  ])('%s → %s first', (q, expected) => {
    expect(names({ q })[0]).toBe(expected);
  });

  it('营业执照 finds the 设立登记 items', () => {
    expect(codes({ q: '营业执照' }).sort()).toEqual(['000170001', '000170002']);
  });

  it('a word found nowhere falls back to its parts', () => {
    const hit = index.search({ q: '婚姻' }).results;
    expect(hit.map((r) => r.name).sort()).toEqual(['离婚登记', '结婚登记']);
    expect(hit[0]!.matched.kinds).toEqual(['partial']);
  });

  it('an alias matches and says so', () => {
    const hit = index.search({ q: '社保卡挂失' }).results[0]!;
    expect(hit).toMatchObject({ code: '000120003', name: '社会保障卡挂失' });
    expect(hit.matched).toMatchObject({ field: 'alias', text: '社保卡挂失' });
  });

  it('only stop words or unknown words give no results, not an error', () => {
    expect(index.search({ q: '怎么办理' })).toEqual({ total: 0, results: [] });
    expect(index.search({ q: '火箭发射' })).toEqual({ total: 0, results: [] });
    expect(index.search({ q: 'xyzzy' })).toEqual({ total: 0, results: [] });
  });
});

describe('ranking', () => {
  it('equal relevance is ordered by popularity', () => {
    const r = index.search({ q: '社会保障卡' }).results;
    expect(r.map((x) => x.code)).toEqual(['000120002', '000120001', '000120003']);
    expect(r[0]!.score).toBe(r[1]!.score);
  });

  it('one hit per item, even with several implementations and names', () => {
    const found = codes({ q: '社会保障卡补领' });
    expect(found.filter((c) => c === '000120001')).toHaveLength(1);
    expect(index.search({ q: '社会保障卡补领' }).results[0]).toMatchObject({
      name: '社会保障卡补领',
      score: 1.1,
    });
  });

  it('popularity is the sum over an item’s records and can be updated without a rebuild', () => {
    const local = CatalogSearchIndex.build(fixture(), { synonyms: defaultSynonyms() });
    expect(local.popularityOf('000120001')).toBe(110);
    expect(local.popularityOf('000130002')).toBe(600);
    local.setPopularity('000120001', 1000);
    expect(local.search({ q: '社会保障卡' }).results.map((x) => x.code)[0]).toBe('000120001');
    local.recordPopularity('000120003', 2000);
    expect(local.popularityOf('000120003')).toBe(2050);
    expect(local.search({ q: '社会保障卡' }).results.map((x) => x.code)[0]).toBe('000120003');
    expect(thrown(() => local.setPopularity('nope', 1)).code).toBe('search.item_not_found');
    expect(thrown(() => local.setPopularity('000120001', -1)).field).toBe('popularity');
    expect(thrown(() => local.recordPopularity('000120001', Number.NaN)).field).toBe('delta');
  });

  it('limit and offset page through the ranked items; total counts them all', () => {
    const all = index.search({ q: '登记', limit: 100 });
    expect(all.total).toBe(all.results.length);
    expect(all.total).toBeGreaterThanOrEqual(6);
    const page = index.search({ q: '登记', limit: 2, offset: 2 });
    expect(page.total).toBe(all.total);
    expect(page.results.map((r) => r.code)).toEqual(all.results.slice(2, 4).map((r) => r.code));
  });
});

describe('filters', () => {
  it('division: an implementation applies to its division and everything below it', () => {
    expect(names({ q: '出生登记', division: '520102' })).toEqual(['出生登记']);
    expect(names({ q: '出生登记', division: '520102001' })).toEqual(['出生登记']);
    expect(names({ q: '出生登记', division: '520102001001' })).toEqual(['出生登记']);
    expect(names({ q: '出生登记', division: '520111' })).toEqual([]); // another county
    expect(names({ q: '出生登记', division: '5201' })).toEqual([]); // the prefecture above: not everywhere there
  });

  it('division: a province-level implementation applies everywhere in the province', () => {
    expect(codes({ q: '社保卡补办', division: '522301001' })[0]).toBe('000120001');
    expect(names({ q: '结婚登记', division: '520302' })).toEqual(['结婚登记']); // 5203 → its county
    expect(names({ q: '结婚登记', division: '5202' })).toEqual([]);
  });

  it('division: a padded code is the same division; an unknown one matches nothing', () => {
    expect(names({ q: '结婚登记', division: '520100' })).toEqual(['结婚登记']);
    expect(index.search({ q: '结婚登记', division: '530102' }).total).toBe(0);
  });

  it('division: a local name variant is found only where it applies, under its local name', () => {
    expect(index.search({ q: '即时办结', division: '520103' }).results[0]).toMatchObject({
      code: '000120001',
      name: '社会保障卡补领（即时办结）',
    });
    expect(index.search({ q: '即时办结', division: '520103005' }).total).toBe(1);
    expect(index.search({ q: '即时办结', division: '520102' }).total).toBe(0);
  });

  it('industry and service object', () => {
    expect(names({ q: '补领', industry: '公安' })).toEqual(['机动车驾驶证补领']);
    expect(codes({ q: '登记', serviceObject: 'legal_person' }).sort()).toEqual(['000170001', '000170002']);
    expect(codes({ q: '设立登记', serviceObject: 'natural_person' })).toEqual(['000170002']);
    expect(index.search({ q: '补领', industry: '教育' }).total).toBe(0);
  });

  it('filters combine', () => {
    expect(names({ q: '登记', industry: '民政', division: '520102' }).sort()).toEqual([
      '离婚登记',
      '结婚登记',
    ]);
    expect(names({ q: '登记', industry: '民政', division: '520302' })).toEqual(['结婚登记']);
  });

  it('blank filters are no filters', () => {
    expect(index.search({ q: '补领', industry: '', division: ' ', serviceObject: '' }).total).toBe(
      index.search({ q: '补领' }).total,
    );
  });
});

describe('bad input', () => {
  it.each([
    [{ q: '' }, 'q', 'search.q_required'],
    [{ q: '   \t' }, 'q', 'search.q_required'],
    [{ q: undefined as unknown as string }, 'q', 'search.q_required'],
    [{ q: '社'.repeat(101) }, 'q', 'search.q_too_long'],
    [{ q: '补领', limit: 0 }, 'limit', 'search.limit'],
    [{ q: '补领', limit: 101 }, 'limit', 'search.limit'],
    [{ q: '补领', limit: 2.5 }, 'limit', 'search.limit'],
    [{ q: '补领', offset: -1 }, 'offset', 'search.offset'],
    [{ q: '补领', division: '52abc' }, 'division', 'division.format'],
    [{ q: '补领', division: '5201021' }, 'division', 'division.length'],
    [{ q: '补领', industry: 7 as unknown as string }, 'industry', 'validation.invalid_field'],
  ])('%j → error on %s', (query, field, code) => {
    const e = thrown(() => index.search(query as SearchQuery));
    expect(e.kind).toBe('validation');
    expect(e.field).toBe(field);
    expect(e.code).toBe(code);
  });

  it('accepts exactly 100 characters', () => {
    expect(() => index.search({ q: '社'.repeat(100) })).not.toThrow();
  });

  it('a bad document names the record and field, and nothing of the batch is indexed', () => {
    const local = new CatalogSearchIndex({ synonyms: defaultSynonyms() });
    const good = fixture()[0]!;
    const cases: Array<[Partial<SearchDocument>, string]> = [
      [{ divisionCode: '52x' }, 'documents[1].divisionCode'],
      [{ name: ' （）' }, 'documents[1].name'],
      [{ itemCode: '' }, 'documents[1].itemCode'],
      [{ popularity: -3 }, 'documents[1].popularity'],
      [{ serviceObjects: 'natural_person' as unknown as string[] }, 'documents[1].serviceObjects'],
      [{ aliases: [''] }, 'documents[1].aliases[0]'],
      [{ id: good.id }, 'documents[1].id'],
    ];
    for (const [patch, field] of cases) {
      const e = thrown(() => local.addAll([good, { ...good, id: 'other', ...patch }]));
      expect(e.field).toBe(field);
      expect(local.stats.documents).toBe(0);
      expect(local.search({ q: '社会保障卡' }).total).toBe(0);
    }
    local.add(good);
    expect(local.stats).toMatchObject({ documents: 1, items: 1, variants: 1, texts: 1, divisions: 1 });
    expect(thrown(() => local.add({ ...good, divisionCode: '' })).field).toBe('divisionCode');
  });

  it('records sharing a name share one text and one variant', () => {
    const s = index.stats;
    expect(s.documents).toBe(fixture().length);
    expect(s.items).toBe(ITEMS.length);
    expect(s.variants).toBe(ITEMS.length + 1); // + the local name
    expect(s.texts).toBe(ITEMS.length + 2); // + the local name + the alias
  });
});
