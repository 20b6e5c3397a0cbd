import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf as errorOf } from '../../../testing/app-error.ts';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { buildHttpApp, type HttpApp } from '../../http/app.ts';
import { CalendarService } from '../calendar/service.ts';
import { DepartmentsService } from '../departments/service.ts';
import { HallsService } from '../halls/service.ts';
import { RegionsService } from '../regions/service.ts';
import { CatalogSearchService } from '../search/service.ts';
import { catalogRoutes } from './routes.ts';
import { loadSampleCatalogSource, SAMPLE_CATALOG_XLSX } from './sample.ts';
import { CatalogService, PROVINCE_CODE } from './service.ts';
import { readCatalogFile, writeCatalogCsv, writeCatalogFile } from './workbook.ts';

let database: Database;
let regions: RegionsService;
let departments: DepartmentsService;
let catalog: CatalogService;
let app: HttpApp;
let tmp: string;
const source = loadSampleCatalogSource();
const codeOf = (name: string) => {
  const item = source.items.find((i) => i.name === name);
  if (!item) throw new Error(name);
  return item.code;
};
const FOOD = codeOf('食品经营许可');
const ID_RENEWAL = codeOf('居民身份证换领');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-catalog-'));
  database = await openTestDatabase();
  regions = new RegionsService(database.db);
  departments = new DepartmentsService(database.db);
  const halls = new HallsService(database.db, { calendar: new CalendarService(database.db) });
  await database.db.transaction(async (tx) => {
    const all = await regions.seed(tx);
    await departments.seed(tx, all);
    await halls.seed(tx, all);
  });
  catalog = new CatalogService(database.db, { regions, departments, halls });
});

afterAll(async () => {
  await app?.close();
  await database?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('catalog import (one transaction; an invalid file changes nothing)', () => {
  it('rejects a broken file with every problem and leaves the database empty', async () => {
    const broken = path.join(tmp, 'broken.csv');
    fs.writeFileSync(
      broken,
      writeCatalogCsv(source)
        .replace(',居民身份证换领,', ',居民身份证换领（已改）,')
        .replace(',公共服务,', ',公务服务,'),
    );
    const e = await errorOf(catalog.importFile(broken));
    expect(e.code).toBe('catalog.invalid_file');
    expect(e.issues?.[0]?.field).toBe('sheet 事项, row 3, column 事项类型');
    expect((await catalog.counts()).items).toBe(0);
  });

  it('imports the shipped sample workbook', async () => {
    const progress: number[] = [];
    const summary = await catalog.importFile(SAMPLE_CATALOG_XLSX, (done) => progress.push(done));
    expect(summary.items).toBe(source.items.length);
    expect(summary.items).toBeGreaterThanOrEqual(60);
    expect(summary.industries).toBeGreaterThanOrEqual(20);
    expect(summary.variances).toBe(source.implementations.length);
    expect(progress.at(-1)).toBe(source.items.length + source.implementations.length);
    expect(await catalog.getItem(ID_RENEWAL)).toEqual(source.items.find((i) => i.code === ID_RENEWAL));
  });

  it('a second, invalid import changes nothing that is already there', async () => {
    const before = await catalog.exportCatalog();
    const bad = structuredClone(source);
    bad.items[0] = { ...bad.items[0]!, name: '改过的名字' };
    bad.implementations.push({
      itemCode: FOOD,
      divisionCode: '522701',
      variances: { promisedTimeLimit: { value: 30, unit: 'working_days' } },
    });
    const e = await errorOf(catalog.importCatalog(bad));
    expect(e.code).toBe('catalog.invalid_import');
    expect(e.issues?.map((i) => i.field)).toEqual([
      `implementations.${source.implementations.length}.variances.promisedTimeLimit`,
    ]);
    expect(await catalog.exportCatalog()).toEqual(before);
  });

  it('a file with a bad 表单 cell or a JSON import with a bad form definition changes nothing', async () => {
    const before = await catalog.exportCatalog();
    const changed = structuredClone(source);
    changed.items[0] = { ...changed.items[0]!, name: '改过的名字' };
    const file = path.join(tmp, 'bad-form.csv');
    fs.writeFileSync(file, writeCatalogCsv(changed).replace('lost=遗失;stolen=被盗', 'lost=遗失;lost=被盗'));
    const e = await errorOf(catalog.importFile(file));
    expect(e.code).toBe('catalog.invalid_file');
    expect(e.issues).toHaveLength(1);
    expect(e.issues?.[0]?.field).toMatch(/^sheet 表单, row \d+, column 选项$/);
    expect(e.issues?.[0]?.message).toMatch(/the option value lost appears twice/);
    const json = structuredClone(changed) as unknown as { items: { formFields: unknown[] }[] };
    json.items[0]!.formFields = [{ key: 'a', label: '甲', type: 'select' }];
    const j = await errorOf(catalog.importCatalog(json as never));
    expect(j.issues?.map((i) => i.field)).toEqual(['items.0.formFields.0.options']);
    expect(await catalog.exportCatalog()).toEqual(before);
  });

  it('refuses variance rows naming a division outside the province or an unknown hall, changing nothing', async () => {
    const before = await catalog.exportCatalog();
    const bad = structuredClone(source);
    const n = source.implementations.length;
    bad.implementations.push(
      { itemCode: FOOD, divisionCode: '999999', variances: { notes: '不存在的县' } },
      { itemCode: FOOD, divisionCode: '110101', variances: { notes: '北京东城区' } },
      {
        itemCode: FOOD,
        divisionCode: '520103',
        variances: { acceptingHallCodes: ['520103-zwfw', 'nohall-zwfw'] },
      },
    );
    const e = await errorOf(catalog.importCatalog(bad));
    expect(e.code).toBe('catalog.invalid_import');
    expect(e.issues?.map((i) => i.field)).toEqual([
      `implementations.${n}.divisionCode`,
      `implementations.${n + 1}.divisionCode`,
      `implementations.${n + 2}.variances.acceptingHallCodes.1`,
    ]);
    expect(await catalog.exportCatalog()).toEqual(before);
  });

  it('refuses an item change that would break a stored local variance (lower legal limit), changing nothing', async () => {
    const before = await catalog.exportCatalog();
    const food = source.items.find((i) => i.code === FOOD)!;
    const lowered = {
      ...food,
      legalTimeLimit: { value: 1, unit: 'working_days' as const },
      promisedTimeLimit: { value: 1, unit: 'working_days' as const },
    };
    const e = await errorOf(catalog.importCatalog({ items: [lowered], implementations: [] }));
    expect(e.code).toBe('catalog.invalid_import');
    expect(e.issues?.some((i) => i.field.startsWith(`stored implementation ${FOOD}-`))).toBe(true);
    expect(await catalog.exportCatalog()).toEqual(before);
  });

  it('re-importing the same file is idempotent', async () => {
    const before = await catalog.counts();
    await catalog.importFile(SAMPLE_CATALOG_XLSX);
    expect(await catalog.counts()).toEqual(before);
  });

  it('reports an unknown item with catalog.item_not_found', async () => {
    expect((await errorOf(catalog.getItem('999999999999'))).code).toBe('catalog.item_not_found');
  });
});

describe('implementation list (实施清单) seeding and guides', () => {
  it('creates a provincial standard implementation per item plus one per prefecture/county where the item is exercised', async () => {
    const result = await catalog.seedImplementations(departments);
    expect(result.unbound).toBe(0);
    const food = await catalog.listImplementations(FOOD); // county level + a variance at 贵阳市 (5201)
    expect(food.filter((i) => i.divisionCode.length === 6)).toHaveLength(88);
    expect(food.map((i) => i.divisionCode)).toEqual(expect.arrayContaining([PROVINCE_CODE, '5201']));
    expect(food).toHaveLength(90);
    const standard = food.find((i) => i.divisionCode === PROVINCE_CODE);
    expect(standard?.code).toBe(`${FOOD}-52`);
    const provincial = await departments.findDepartment('52', 'market_regulation');
    expect(standard?.departmentId).toBe(provincial?.id);
    const guanshanhu = food.find((i) => i.divisionCode === '520115');
    expect(guanshanhu?.departmentId).toBe(
      (await departments.findDepartment('520115', 'market_regulation'))?.id,
    );
    expect(guanshanhu?.variances.promisedTimeLimit).toEqual({ value: 2, unit: 'working_days' });
    // Idempotent, keeps variances.
    expect((await catalog.seedImplementations(departments)).implementations).toBe(result.implementations);
    expect(
      (await catalog.listImplementations(FOOD)).find((i) => i.divisionCode === '520115')?.variances.notes,
    ).toMatch(/观山湖区/);
  });

  it('county variance beats prefecture beats the provincial standard; other counties fall back', async () => {
    const county = await catalog.getGuide(FOOD, '520115');
    expect(county.item.promisedTimeLimit.value).toBe(2);
    expect(county.sources.promisedTimeLimit).toMatchObject({ from: 'variance', divisionCode: '520115' });
    const sibling = await catalog.getGuide(FOOD, '520102');
    expect(sibling.item.promisedTimeLimit.value).toBe(3);
    expect(sibling.sources.promisedTimeLimit).toMatchObject({ from: 'variance', divisionCode: '5201' });
    expect(sibling.implementation?.code).toBe(`${FOOD}-520102`);
    const elsewhere = await catalog.getGuide(FOOD, '520302');
    expect(elsewhere.item.promisedTimeLimit.value).toBe(5);
    expect(elsewhere.sources.promisedTimeLimit.from).toBe('standard');
    const village = await catalog.getGuide(FOOD, '520115001001');
    expect(village.divisionCode).toBe('520115001001');
    expect(village.item.promisedTimeLimit.value).toBe(2);
    expect(village.implementation?.divisionCode).toBe('520115');
  });

  it('a prefecture-level item read from a county resolves to the prefecture implementation', async () => {
    const fund = codeOf('住房公积金提取'); // exercised at prefecture level only
    const guide = await catalog.getGuide(fund, '520102');
    expect(guide.implementation?.divisionCode).toBe('5201');
    expect(guide.notes).toMatch(/贵阳市/);
  });

  it('refuses malformed and unknown divisions', async () => {
    const malformed = await errorOf(catalog.getGuide(FOOD, '52011'));
    expect([malformed.code, malformed.field, malformed.status]).toEqual(['division.length', 'division', 400]);
    const unknown = await errorOf(catalog.getGuide(FOOD, '529999'));
    expect([unknown.code, unknown.status]).toEqual(['division.not_found', 404]);
    expect((await errorOf(catalog.getGuide('999999999999', '520102'))).code).toBe('catalog.item_not_found');
  });
});

describe('export', () => {
  it('exports what was imported; export → import round-trips through xlsx and csv', async () => {
    const exported = await catalog.exportCatalog();
    const byCode = <T extends { code: string }>(xs: T[]) =>
      [...xs].sort((a, b) => a.code.localeCompare(b.code));
    const byKey = (xs: typeof source.implementations) =>
      [...xs].sort((a, b) =>
        `${a.itemCode}-${a.divisionCode}`.localeCompare(`${b.itemCode}-${b.divisionCode}`),
      );
    expect(byCode(exported.items)).toEqual(byCode(source.items));
    expect(byKey(exported.implementations)).toEqual(byKey(source.implementations));
    for (const ext of ['xlsx', 'csv']) {
      const file = path.join(tmp, `export.${ext}`);
      await writeCatalogFile(file, exported);
      expect(await readCatalogFile(file)).toEqual(exported);
    }
  });
});

describe('lists and search documents', () => {
  it('lists items with filters and pagination, most popular first', async () => {
    const all = await catalog.listItems({ limit: 200 });
    expect(all.total).toBe(source.items.length);
    expect(all.items[0]?.name).toBe('居民身份证换领'); // popularity 95
    const page = await catalog.listItems({ limit: 10, offset: 10 });
    expect(page.items.map((i) => i.code)).toEqual(all.items.slice(10, 20).map((i) => i.code));
    const social = await catalog.listItems({ industry: 'social_insurance', serviceObject: 'natural_person' });
    expect(social.total).toBeGreaterThan(3);
    expect(social.items.every((i) => i.industry === 'social_insurance')).toBe(true);
    const byAlias = await catalog.listItems({ q: '社保卡' });
    expect(byAlias.items.map((i) => i.name)).toEqual(
      expect.arrayContaining(['社会保障卡申领', '社会保障卡补领']),
    );
    expect((await catalog.listItems({ q: '100%_' })).total).toBe(0);
    await expect(catalog.listItems({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
  });

  it('lists industries with counts', async () => {
    const industries = await catalog.listIndustries();
    expect(industries.length).toBeGreaterThanOrEqual(20);
    expect(industries.reduce((n, i) => n + i.items, 0)).toBe(source.items.length);
    expect(industries.find((i) => i.id === 'marriage_registration')).toEqual({
      id: 'marriage_registration',
      label: '婚姻登记',
      items: 3,
    });
  });

  it('produces one search document per implementation; popularity sums to the item popularity', async () => {
    const docs = await catalog.listSearchDocuments();
    expect(docs.length).toBe((await catalog.counts()).implementations);
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
    const card = docs.filter((d) => d.itemCode === codeOf('社会保障卡补领'));
    expect(card.reduce((n, d) => n + d.popularity, 0)).toBe(88);
    expect(card[0]).toMatchObject({
      name: '社会保障卡补领',
      industry: '社会保险',
      serviceObjects: ['natural_person'],
    });
    expect(card[0]?.aliases).toContain('社保卡补办');
  });
});

describe('HTTP routes', () => {
  beforeAll(async () => {
    const search = new CatalogSearchService(catalog);
    await search.rebuild();
    app = await buildHttpApp({
      logLevel: false,
      routes: [catalogRoutes({ catalog, search, regions })],
    });
  });
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };

  it('GET /api/v1/catalog/items/{code}: the item, or 404 catalog.item_not_found', async () => {
    const ok = await get(`/api/v1/catalog/items/${ID_RENEWAL}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ code: ID_RENEWAL, name: '居民身份证换领', sample: true });
    expect(ok.body.materials.length).toBeGreaterThan(0);
    const missing = await get('/api/v1/catalog/items/999999999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('catalog.item_not_found');
    expect((await get('/api/v1/catalog/items/%20bad')).status).toBe(400);
  });

  it('GET /api/v1/catalog/items/{code}/guide?division=: the resolved guide; 400 malformed; 404 unknown', async () => {
    const ok = await get(`/api/v1/catalog/items/${FOOD}/guide?division=520115`);
    expect(ok.status).toBe(200);
    expect(ok.body.item.promisedTimeLimit).toEqual({ value: 2, unit: 'working_days' });
    expect(ok.body.sources.promisedTimeLimit.divisionCode).toBe('520115');
    const malformed = await get(`/api/v1/catalog/items/${FOOD}/guide?division=abc`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'division.format', field: 'division' });
    expect((await get(`/api/v1/catalog/items/${FOOD}/guide`)).status).toBe(400);
    const unknown = await get(`/api/v1/catalog/items/${FOOD}/guide?division=529999`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'division.not_found']);
    const card = await get(`/api/v1/catalog/items/${codeOf('社会保障卡补领')}/guide?division=520102`);
    expect(card.status).toBe(200);
    expect(card.body.item.formFields.map((f: { key: string }) => f.key)).toEqual([
      'reason',
      'lossDate',
      'reportedLoss',
      'contactPhone',
    ]);
    expect(card.body.item.formFields[1]).toMatchObject({
      type: 'date',
      visibleWhen: { key: 'reason', equals: 'lost' },
    });
    // 译文 travel with the item through import, storage and the guide
    expect(card.body.item.translations.ug).toMatchObject({ status: 'machine', name: expect.any(String) });
    expect(Object.keys(card.body.item.translations.bo.materials)).toContain('申请人居民身份证');
    expect(ok.body.item.translations).toBeUndefined();
    const noItem = await get('/api/v1/catalog/items/999999999999/guide?division=520115');
    expect([noItem.status, noItem.body.error.code]).toEqual([404, 'catalog.item_not_found']);
  });

  it('GET /api/v1/catalog/items: filters and pagination; 400 for an unknown filter value', async () => {
    const ok = await get('/api/v1/catalog/items?industry=marriage_registration&limit=2');
    expect(ok.status).toBe(200);
    expect(ok.body.total).toBe(3);
    expect(ok.body.items).toHaveLength(2);
    const bad = await get('/api/v1/catalog/items?industry=magic');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('industry');
    expect((await get('/api/v1/catalog/items?limit=1000')).status).toBe(400);
  });

  it('GET /api/v1/catalog/search finds the social security card replacement for 社保卡补办, shebaoka and sbk', async () => {
    const res = await get(`/api/v1/catalog/search?q=${encodeURIComponent('社保卡补办')}`);
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({
      code: codeOf('社会保障卡补领'),
      name: '社会保障卡补领',
      industry: '社会保险',
    });
    for (const q of ['shebaoka', 'sbk']) {
      const r = await get(`/api/v1/catalog/search?q=${q}`);
      expect(r.body.results.map((x: { name: string }) => x.name)).toEqual(
        expect.arrayContaining(['社会保障卡补领']),
      );
    }
    const filtered = await get(
      `/api/v1/catalog/search?q=${encodeURIComponent('登记')}&industry=marriage_registration`,
    );
    expect(filtered.body.results.length).toBeGreaterThan(0);
    expect(filtered.body.results.every((r: { industry: string }) => r.industry === '婚姻登记')).toBe(true);
    expect((await get('/api/v1/catalog/search?q=')).status).toBe(400);
    expect((await get('/api/v1/catalog/search?q=x&division=123')).status).toBe(400);
  });

  it('GET /api/v1/catalog/industries and /items/{code}/implementations', async () => {
    const industries = await get('/api/v1/catalog/industries');
    expect(industries.status).toBe(200);
    expect(industries.body.items.length).toBeGreaterThanOrEqual(20);
    const impls = await get(`/api/v1/catalog/items/${FOOD}/implementations`);
    expect(impls.status).toBe(200);
    expect(impls.body.items).toHaveLength(90);
  });
});

describe('division codes in the implementation list', () => {
  it('stores a padded division code (520100) as the division it names (5201)', async () => {
    const food = source.items.find((i) => i.code === FOOD)!;
    await catalog.importCatalog({
      items: [food],
      implementations: [{ itemCode: FOOD, divisionCode: '522600', variances: { notes: '黔东南州补充说明' } }],
    });
    const guide = await catalog.getGuide(FOOD, '522601');
    expect(guide.notes).toBe('黔东南州补充说明');
    expect(guide.sources.notes.divisionCode).toBe('5226');
    const codes = (await catalog.listImplementations(FOOD)).map((i) => i.divisionCode);
    expect(codes).toContain('5226');
    expect(codes).not.toContain('522600');
  });
});
