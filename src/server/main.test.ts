import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidCreditCode } from '../domain/credit-code.ts';
import { loadConfig } from './config.ts';
import { type RunningServer, startServer, WEB_ROOT } from './main.ts';
import { HallsService } from './modules/halls/service.ts';
import { startTestServer } from './testing.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const get = async (url: string) => {
  const res = await server.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
};

describe('regions: Guizhou divisions loaded from data/guizhou', () => {
  it('loads 1 province, 9 prefectures, 88 counties, 1,510 townships, 17,964 villages', async () => {
    expect(await server.services.regions.countByLevel()).toEqual({
      province: 1,
      prefecture: 9,
      county: 88,
      township: 1510,
      village: 17964,
    });
  });

  it('resolves a village, township or county code to its county', async () => {
    expect((await server.services.regions.resolveCounty('520102016001')).name).toBe('南明区');
    expect((await server.services.regions.resolveCounty('520102016')).code).toBe('520102');
    expect((await server.services.regions.resolveCounty('522601')).code).toBe('522601');
    await expect(server.services.regions.resolveCounty('5201')).rejects.toMatchObject({
      code: 'division.above_county',
    });
  });

  it('GET /api/v1/divisions/{code} gives the division and its ancestors up to the province', async () => {
    const { status, body } = await get('/api/v1/divisions/520102016001');
    expect(status).toBe(200);
    expect(body.name).toBe('纪念塔社区');
    expect(body.level).toBe('village');
    expect(body.ancestors.map((a: { code: string }) => a.code)).toEqual([
      '520102016',
      '520102',
      '5201',
      '52',
    ]);
  });

  it('lists children by parent and divisions by level, ordered by code with keyset pages', async () => {
    const prefectures = await get('/api/v1/divisions?level=prefecture');
    expect(prefectures.body.items).toHaveLength(9);
    expect(prefectures.body.items[0]).toMatchObject({ code: '5201', name: '贵阳市' });
    const page1 = await get('/api/v1/divisions?level=county&limit=50');
    expect(page1.body.items).toHaveLength(50);
    const page2 = await get(`/api/v1/divisions?level=county&limit=50&after=${page1.body.next}`);
    expect(page2.body.items).toHaveLength(38);
    expect(page2.body.next).toBeNull();
    const kids = await get('/api/v1/divisions?parent=5201&limit=1000');
    expect(kids.body.items.every((d: { parentCode: string }) => d.parentCode === '5201')).toBe(true);
    expect(kids.body.items.length).toBe(10);
  });

  it('answers a malformed code with 400 naming the field, and an unknown code with 404', async () => {
    const bad = await get('/api/v1/divisions/52x1');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'division.format', field: 'code' });
    const unknown = await get('/api/v1/divisions/529999');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('division.not_found');
    const badLevel = await get('/api/v1/divisions?level=city');
    expect(badLevel.status).toBe(400);
    expect(badLevel.body.error.field).toBe('level');
    const unknownParent = await get('/api/v1/divisions?parent=5299');
    expect(unknownParent.status).toBe(404);
    expect(unknownParent.body.error.field).toBe('parent');
  });
});

describe('departments: the standard competent departments', () => {
  it('has every kind at the province, each prefecture and each county, with valid credit codes', async () => {
    const all = await server.services.departments.listDepartments();
    expect(new Set(all.map((d) => d.divisionCode)).size).toBe(98);
    const nanming = await get('/api/v1/departments?division=520102&kind=human_resources_social_security');
    expect(nanming.status).toBe(200);
    expect(nanming.body.items).toHaveLength(1);
    expect(nanming.body.items[0]).toMatchObject({
      name: '南明区人力资源和社会保障局',
      level: 'county',
      sample: true,
    });
    expect(all.every((d) => isValidCreditCode(d.creditCode))).toBe(true);
    expect(new Set(all.map((d) => d.creditCode)).size).toBe(all.length);
    const province = await server.services.departments.findDepartment('52', 'civil_affairs');
    expect(province?.name).toBe('贵州省民政厅');
  });

  it('refuses an unknown kind with 400', async () => {
    const r = await get('/api/v1/departments?kind=police');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'department.unknown_kind', field: 'kind' });
  });
});

describe('halls: the hall network', () => {
  it('has the provincial hall, 9 prefecture halls, 88 county halls and access points in every township and village', async () => {
    expect(await server.services.halls.countByLevel()).toEqual({
      province: 1,
      prefecture: 9,
      county: 88,
      township: 1510,
      village: 17964,
    });
    const h = await get('/api/v1/halls/520102-zwfw');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      name: '南明区政务服务中心',
      level: 'county',
      locationApproximate: true,
      status: 'open',
    });
    expect(h.body.capabilities).toContain('remote_video');
  });

  it('finds the nearest halls to a point, nearest first, with distances in km', async () => {
    // 贵阳 city centre (approx. 26.58 N, 106.71 E)
    const r = await get('/api/v1/halls?near=26.58,106.71&limit=5');
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(5);
    const d = r.body.items.map((x: { distanceKm: number }) => x.distanceKm);
    expect([...d].sort((a, b) => a - b)).toEqual(d);
    expect(d[0]).toBeLessThan(5);
    const upper = await get('/api/v1/halls?near=26.58,106.71&limit=3&level=county,prefecture,province');
    expect(
      upper.body.items.every((x: { level: string }) =>
        ['county', 'prefecture', 'province'].includes(x.level),
      ),
    ).toBe(true);
    expect(upper.body.items[0].divisionCode.startsWith('5201')).toBe(true);
  });

  it('lists the halls of a division subtree, and refuses bad queries', async () => {
    const r = await get('/api/v1/halls?division=520102&level=township&limit=500');
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(5);
    expect(
      r.body.items.every(
        (x: { countyCode: string; level: string }) => x.countyCode === '520102' && x.level === 'township',
      ),
    ).toBe(true);
    expect((await get('/api/v1/halls')).status).toBe(400);
    expect((await get('/api/v1/halls?near=26.58,106.71&division=520102')).status).toBe(400);
    const badPoint = await get('/api/v1/halls?near=north');
    expect(badPoint.status).toBe(400);
    expect(badPoint.body.error.field).toBe('near');
    expect((await get('/api/v1/halls?near=126.58,106.71')).body.error.code).toBe('hall.bad_point');
    expect((await get('/api/v1/halls?division=529999')).status).toBe(404);
    expect((await get('/api/v1/halls/nope')).status).toBe(404);
  });
});

describe('halls: open now, by opening hours on the working-day calendar', () => {
  const hallsAt = (iso: string) =>
    new HallsService(server.database.db, { calendar: server.services.calendar, clock: () => new Date(iso) });
  it('is open on a Monday morning, closed on Sunday evening and during Spring Festival (Asia/Shanghai)', async () => {
    expect((await hallsAt('2026-11-30T02:00:00Z').getHall('520102-zwfw')).openNow).toBe(true); // Mon 10:00
    expect((await hallsAt('2026-11-29T12:42:00Z').getHall('520102-zwfw')).openNow).toBe(false); // Sun 20:42
    expect((await hallsAt('2026-11-28T02:00:00Z').getHall('520102-zwfw')).openNow).toBe(true); // Sat 10:00 延时服务
    expect((await hallsAt('2026-11-28T02:00:00Z').getHall('520102016-bmfw')).openNow).toBe(false); // no Saturday hours
    expect((await hallsAt('2026-02-17T02:00:00Z').getHall('520102-zwfw')).openNow).toBe(false); // 春节
    expect((await hallsAt('2027-03-01T02:00:00Z').getHall('520102-zwfw')).openNow).toBeNull(); // 2027 not published
  });
  it('gives every hall a full address from its divisions', async () => {
    const h = await get('/api/v1/halls/520102016001-fwz');
    expect(h.body.address).toBe('贵州省贵阳市南明区新华路街道纪念塔社区');
    expect(typeof h.body.openNow === 'boolean' || h.body.openNow === null).toBe(true);
  });
});

describe('HTTP basics', () => {
  it('serves /health, the OpenAPI document and a JSON 404 for unknown routes', async () => {
    const h = await get('/health');
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect(h.body.loaded.divisions.village).toBe(17964);
    const doc = await get('/docs/json');
    expect(doc.status).toBe(200);
    for (const p of ['/health', '/api/v1/divisions', '/api/v1/divisions/{code}', '/api/v1/halls']) {
      expect(Object.keys(doc.body.paths)).toContain(p);
    }
    expect(h.body.loaded.catalog.items).toBeGreaterThanOrEqual(60);
    expect(h.body.loaded.catalog.boundImplementations).toBe(h.body.loaded.catalog.implementations);
    // The committed docs/openapi.json is what the code serves (regenerate with `npm run openapi`).
    const committed = JSON.parse(
      fs.readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
    );
    expect(doc.body, 'docs/openapi.json is stale: run `npm run openapi` and commit it').toEqual(committed);
    const nf = await get('/api/v1/nothing-here');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('http.route_not_found');
  });
});

describe('error messages say what to send', () => {
  it('a missing header or query parameter names it and what to send; a body that is not JSON is a 415', async () => {
    const noKey = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases/522601202612010000099/commands',
      headers: { 'content-type': 'application/json', 'x-tongban-actor': 'applicant:a1' },
      payload: { type: 'withdraw', reason: '不办了' },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().error).toMatchObject({ field: 'idempotency-key' });
    expect(noKey.json().error.message).toMatch(/idempotency-key is missing: send Idempotency-Key .*UUID/);
    const noDivision = await server.app.inject({
      method: 'GET',
      url: '/api/v1/catalog/items/050004001000/guide',
    });
    expect(noDivision.statusCode).toBe(400);
    expect(noDivision.json().error.message).toMatch(/division is missing: add \?division=/);
    const text = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: {
        'content-type': 'application/xml',
        'idempotency-key': 'k-12345678',
        'x-tongban-actor': 'applicant:a1',
      },
      payload: '<case/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error).toMatchObject({ code: 'http.unsupported_media_type' });
    expect(text.json().error.message).toMatch(/Content-Type: application\/json/);
  });
});

describe('the composed server: catalog, search and guides wired together', () => {
  it('finds the social security card replacement for 社保卡补办 and social security card items for shebaoka / sbk', async () => {
    const q = await get(`/api/v1/catalog/search?q=${encodeURIComponent('社保卡补办')}`);
    expect(q.status).toBe(200);
    expect(q.body.results[0].name).toMatch(/社会保障卡补/);
    for (const pinyin of ['shebaoka', 'sbk']) {
      const r = await get(`/api/v1/catalog/search?q=${pinyin}`);
      expect(r.body.results.length).toBeGreaterThan(0);
      expect(r.body.results.every((x: { name: string }) => x.name.includes('社会保障卡'))).toBe(true);
    }
  });

  it('resolves a guide for a village through its county, with the county department and working-day limits', async () => {
    const hit = (await get(`/api/v1/catalog/search?q=${encodeURIComponent('社保卡补办')}`)).body.results[0];
    const g = await get(`/api/v1/catalog/items/${hit.code}/guide?division=520102016001`);
    expect(g.status).toBe(200);
    expect(JSON.stringify(g.body)).toContain('南明区人力资源和社会保障局');
    const bad = await get(`/api/v1/catalog/items/${hit.code}/guide?division=52x`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('division');
    expect((await get('/api/v1/catalog/items/999999999999/guide?division=520102')).status).toBe(404);
    expect((await get('/api/v1/catalog/search?q=%20')).body.error.field).toBe('q');
  });
});

describe('hardening found by an adversarial review', () => {
  it('uses the canonical division for padded codes in halls and departments filters', async () => {
    const padded = await get('/api/v1/halls?division=520100&level=county&limit=50');
    const plain = await get('/api/v1/halls?division=5201&level=county&limit=50');
    expect(padded.body.items.length).toBeGreaterThan(0);
    expect(padded.body.items).toEqual(plain.body.items);
    expect((await get('/api/v1/departments?division=520100')).body.items.length).toBe(22);
    expect((await get(`/api/v1/departments/${'-'.repeat(36)}`)).status).toBe(400);
    expect((await get(`/api/v1/departments/${'a'.repeat(36)}`)).status).toBe(400);
  });

  it('matches item aliases as text, not the JSON punctuation around them', async () => {
    for (const q of ['[', '"', ',']) {
      expect((await get(`/api/v1/catalog/items?q=${encodeURIComponent(q)}`)).body.items).toEqual([]);
    }
    expect((await get(`/api/v1/catalog/items?q=${encodeURIComponent('社保卡丢了')}`)).body.items.length).toBe(
      1,
    );
  });

  it('rebuilds the search index when a catalog import commits (LISTEN/NOTIFY, any node)', async () => {
    const { items } = await server.services.catalog.exportCatalog();
    const base = items.find((i) => i.name === '结婚登记')!;
    const novel = { ...base, code: '200099001000', name: '彩虹桥通行登记', aliases: [], popularity: 1 };
    await server.services.catalog.importCatalog({ items: [novel], implementations: [] });
    await server.services.catalog.seedImplementations(server.services.departments);
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      await new Promise((r) => setTimeout(r, 50));
      found =
        (await get(`/api/v1/catalog/search?q=${encodeURIComponent('彩虹桥')}`)).body.results?.length > 0;
    }
    expect(found).toBe(true);
  });

  it('mends items left without their provincial implementation on the next start', async () => {
    const { sql } = await import('drizzle-orm');
    await server.database.db.execute(
      sql`delete from catalog_implementations where division_code = '52' and item_code = '200099001000'`,
    );
    expect((await server.services.catalog.counts()).itemsWithoutStandard).toBe(1);
    const again = await startServer(loadConfig({ LOG_LEVEL: 'silent' }), {
      listen: false,
      database: server.database,
    });
    try {
      expect(again.summary.catalog.itemsWithoutStandard).toBe(0);
    } finally {
      await again.close();
    }
  });
});

describe('web client serving', () => {
  it('serves index.html revalidated and hashed assets as immutable, when the client is built', async (ctx) => {
    if (!fs.existsSync(`${WEB_ROOT}/index.html`)) ctx.skip(); // built by `npm run build:web` (CI builds before e2e)
    const index = await server.app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = /src="\/(assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    expect(asset).toBeDefined();
    const js = await server.app.inject({ method: 'GET', url: `/${asset}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    const missing = await server.app.inject({ method: 'GET', url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('http.route_not_found');
  });
});
