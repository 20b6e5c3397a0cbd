/**
 * The citizen app's catalog API on a real server (PGlite, the sample catalog): the offline sync (full,
 * delta after a cursor, removed items, ETag → 304, br/gzip), life events, popular services of a county
 * (catalog popularity, then local cases), and the cache headers of the public reference answers.
 */
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kailiToWeiningApplication } from '../../../testing/applications.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';
import { loadSampleCatalogSource } from './sample.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  server.app.inject({ method: 'GET', url, headers });

interface SyncBody {
  cursor: string;
  full: boolean;
  items: {
    code: string;
    name: string;
    industry: string;
    industryLabel: string;
    pinyin: string;
    initials: string;
    synonyms?: string[];
    synonymPinyin?: string[];
    guide: { divisionCode: string; item: { code: string; promisedTimeLimit: unknown }; notes: string | null };
  }[];
  removed: string[];
  lifeEvents: { id: string; name: string; itemCodes: string[] }[];
  popular: { code: string; basis: string; cases: number }[];
}

const GUANSHANHU = '520115';
const FOOD = '010007005000'; // 食品经营许可: natural persons too; 观山湖区 promises 2 working days
const CARD = '200002002000'; // 社会保障卡补领

describe('GET /api/v1/catalog/sync', () => {
  let first: SyncBody;
  let etag = '';

  it('without a cursor: every guide shown to residents, with search keys, life events and popular', async () => {
    const res = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    first = res.json();
    expect(first.full).toBe(true);
    expect(first.removed).toEqual([]);
    expect(first.cursor).toMatch(/^c1\.520115\.\d+$/);
    const sample = loadSampleCatalogSource().items;
    const forResidents = sample.filter((i) => i.serviceObjects.includes('natural_person')).map((i) => i.code);
    expect(first.items.map((i) => i.code).sort()).toEqual([...forResidents].sort());
    // the guide is the one GET …/guide gives for the division (local variance applied)
    const food = first.items.find((i) => i.code === FOOD)!;
    const guide = (await get(`/api/v1/catalog/items/${FOOD}/guide?division=${GUANSHANHU}`)).json();
    expect(food.guide).toEqual(guide);
    expect(food.guide.item.promisedTimeLimit).toEqual({ value: 2, unit: 'working_days' });
    // offline search keys computed on the server
    const card = first.items.find((i) => i.code === CARD)!;
    expect(card).toMatchObject({
      name: '社会保障卡补领',
      industry: 'social_insurance',
      industryLabel: '社会保险',
      pinyin: 'shehuibaozhangkabuling',
      initials: 'shbzkbl',
    });
    expect(card.synonyms).toEqual(expect.arrayContaining(['社保卡', '补办']));
    expect(card.synonymPinyin).toEqual(expect.arrayContaining(['shebaoka', 'sbk']));
    // compact: no empty synonym lists
    expect(first.items.every((i) => i.synonyms === undefined || i.synonyms.length > 0)).toBe(true);
    expect(first.lifeEvents.map((e) => e.id)).toEqual(expect.arrayContaining(['birth', 'retirement']));
    expect(first.popular.length).toBe(10);
    // an enterprise-only item is not shipped to the citizen app
    expect(first.items.some((i) => i.code === '010007003000')).toBe(false);
  });

  it('revalidates: the same ETag → 304 without a body; compressed for clients that accept br or gzip', async () => {
    const again = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const stale = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`, { 'if-none-match': '"nope"' });
    expect(stale.statusCode).toBe(200);
    const br = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`, { 'accept-encoding': 'gzip, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toBe(`${etag.slice(0, -1)}-br"`);
    const plain = zlib.brotliDecompressSync(br.rawPayload).toString('utf8');
    expect(JSON.parse(plain)).toEqual(first);
    expect(br.rawPayload.length).toBeLessThan(Buffer.byteLength(plain) / 4);
    const gz = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(gz.rawPayload).toString('utf8'))).toEqual(first);
    // the compressed tag revalidates too
    const viaBr = await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`, {
      'if-none-match': String(br.headers.etag),
      'accept-encoding': 'br',
    });
    expect(viaBr.statusCode).toBe(304);
  });

  it('with the cursor: nothing changed → an empty delta; after a local variance → only that guide', async () => {
    const none = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${first.cursor}`)).json();
    expect(none).toMatchObject({ full: false, items: [], removed: [], cursor: first.cursor });
    // a restart re-binds the implementation list: no change, no new version
    await server.services.catalog.seedImplementations(server.services.departments);
    const still = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${first.cursor}`)).json();
    expect(still.items).toEqual([]);

    // 观山湖区 varies the notes of 社会保障卡补领 (an administrator, through the service)
    const admin = await signedInStaff(server, {
      username: 'gsh-admin',
      hallCode: '520115-zwfw',
      grant: { role: 'county_admin', kind: 'division', value: GUANSHANHU },
    });
    const set = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/implementations/${CARD}-${GUANSHANHU}/variances`,
      headers: { authorization: `Bearer ${admin.token}` },
      payload: { variances: { notes: '观山湖区政务服务中心二楼社保窗口办理' }, reason: '补充说明' },
    });
    expect(set.statusCode, set.body).toBe(200);
    const delta: SyncBody = (
      await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${first.cursor}`)
    ).json();
    expect(delta.full).toBe(false);
    expect(delta.items.map((i) => i.code)).toEqual([CARD]);
    expect(delta.items[0]!.guide.notes).toBe('观山湖区政务服务中心二楼社保窗口办理');
    expect(delta.cursor).not.toBe(first.cursor);
    // another county does not see 观山湖区's change
    const other = (await get(`/api/v1/catalog/sync?division=520102`)).json();
    const otherDelta = (await get(`/api/v1/catalog/sync?division=520102&since=${other.cursor}`)).json();
    expect(otherDelta.items).toEqual([]);
    // the new cursor is current again
    const after = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${delta.cursor}`)).json();
    expect(after.items).toEqual([]);
  });

  it('an item that stops serving residents is in `removed`; an unknown or foreign cursor gives a full sync', async () => {
    const before: SyncBody = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}`)).json();
    const item = await server.services.catalog.getItem(FOOD);
    await server.services.catalog.importCatalog({
      items: [{ ...item, serviceObjects: ['enterprise_legal_person'] }],
      implementations: [],
    });
    const delta: SyncBody = (
      await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${before.cursor}`)
    ).json();
    expect(delta).toMatchObject({ full: false, items: [], removed: [FOOD] });
    // re-importing the same content changes nothing
    const now = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${delta.cursor}`)).json();
    await server.services.catalog.importCatalog({
      items: [{ ...item, serviceObjects: ['enterprise_legal_person'] }],
      implementations: [],
    });
    const same = (await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${now.cursor}`)).json();
    expect(same.items).toEqual([]);
    expect(same.removed).toEqual([]);
    for (const since of [
      'garbage',
      `c1.520102.${before.cursor.split('.')[2]}`,
      'c1.520115.999999999',
      'c0.520115.1',
    ]) {
      const r: SyncBody = (
        await get(`/api/v1/catalog/sync?division=${GUANSHANHU}&since=${encodeURIComponent(since)}`)
      ).json();
      expect([since, r.full]).toEqual([since, true]);
      expect(r.items.some((i) => i.code === FOOD)).toBe(false);
    }
    await server.services.catalog.importCatalog({ items: [item], implementations: [] });
  });

  it('refuses a missing, malformed or unknown division, naming the field', async () => {
    for (const [url, status, code] of [
      ['/api/v1/catalog/sync', 400, undefined],
      ['/api/v1/catalog/sync?division=5201', 400, undefined],
      ['/api/v1/catalog/sync?division=529999', 404, 'division.not_found'],
    ] as const) {
      const res = await get(url);
      expect([url, res.statusCode]).toEqual([url, status]);
      expect(res.json().error.field).toBe('division');
      if (code) expect(res.json().error.code).toBe(code);
    }
  });
});

describe('GET /api/v1/catalog/life-events', () => {
  it('lists the shipped life events with their items’ names and industries, cacheable', async () => {
    const res = await get('/api/v1/catalog/life-events');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toContain('stale-while-revalidate');
    const events = res.json().items as {
      id: string;
      name: string;
      names?: Record<string, string>;
      itemCodes: string[];
      items: { code: string; name: string; industry: string }[];
    }[];
    const birth = events.find((e) => e.id === 'birth')!;
    expect(birth).toMatchObject({ name: '出生', names: { en: 'Having a baby' } });
    expect(birth.items[0]).toEqual({
      code: '070001001000',
      name: '出生登记',
      industry: 'household_registration',
      industryLabel: '户籍管理',
    });
    expect(events.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        '上学',
        '就业创业',
        '婚姻家庭',
        '住房',
        '社保医保',
        '退休养老',
        '残疾帮扶',
        '身后事',
        '出行',
      ]),
    );
    for (const e of events) expect(e.items.map((i) => i.code)).toEqual(e.itemCodes);
  });
});

describe('GET /api/v1/catalog/popular', () => {
  it('falls back to the catalog popularity without local cases, then ranks by cases filed in the county', async () => {
    const url = '/api/v1/catalog/popular?division=522601&limit=5';
    const before = (await get(url)).json();
    expect(before).toMatchObject({ divisionCode: '522601', countyCode: '522601', windowDays: 90 });
    expect(before.items.map((i: { basis: string }) => i.basis)).toEqual(Array(5).fill('popularity'));
    expect(before.items[0]).toMatchObject({
      code: '200001001000',
      name: '居民身份证换领',
      popularity: 95,
      cases: 0,
    });
    const pops = before.items.map((i: { popularity: number }) => i.popularity);
    expect(pops).toEqual([...pops].sort((a, b) => b - a));

    // three 低保 applications received at the 凯里 hall (intake county 522601), one at 贵阳 (elsewhere)
    for (const seq of ['401', '402', '403']) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/v1/cases',
        headers: {
          'x-tongban-actor': 'staff:kaili-window;hall=522601-zwfw',
          'idempotency-key': randomUUID(),
        },
        payload: kailiToWeiningApplication(seq),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const after = (await get(url)).json();
    expect(after.items[0]).toMatchObject({
      code: '050004001000',
      name: '最低生活保障申请',
      industry: 'social_assistance',
      industryLabel: '社会救助',
      cases: 3,
      basis: 'cases',
    });
    expect(after.items.slice(1).map((i: { basis: string }) => i.basis)).toEqual(Array(4).fill('popularity'));
    // another county is unaffected
    const elsewhere = (await get('/api/v1/catalog/popular?division=520102&limit=3')).json();
    expect(elsewhere.items.every((i: { basis: string }) => i.basis === 'popularity')).toBe(true);
    // a township code counts for its county; the sync of the county carries the same list
    const township = (await get('/api/v1/catalog/popular?division=522601001&limit=5')).json();
    expect(township.items[0].code).toBe('050004001000');
    const sync = (await get('/api/v1/catalog/sync?division=522601')).json();
    expect(sync.popular[0]).toMatchObject({ code: '050004001000', basis: 'cases' });
  });
});

describe('cache headers of the public reference answers', () => {
  it('guide, item, items, search, industries and halls carry Cache-Control and a strong ETag (304 on match)', async () => {
    for (const url of [
      `/api/v1/catalog/items/${CARD}/guide?division=520102`,
      `/api/v1/catalog/items/${CARD}`,
      '/api/v1/catalog/items?industry=social_insurance&processingMode=online',
      '/api/v1/catalog/search?q=sbk',
      '/api/v1/catalog/industries',
      '/api/v1/halls?division=520102',
      '/api/v1/halls/520102-zwfw',
    ]) {
      const res = await get(url);
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.headers['cache-control'], url).toMatch(/^public, max-age=\d+, stale-while-revalidate=\d+$/);
      expect(res.headers.etag, url).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      const again = await get(url, { 'if-none-match': String(res.headers.etag) });
      expect([url, again.statusCode]).toEqual([url, 304]);
    }
    const online = (
      await get('/api/v1/catalog/items?industry=social_insurance&processingMode=online')
    ).json();
    expect(online.items.length).toBeGreaterThan(0);
    expect(
      online.items.every((i: { processingModes: string[] }) => i.processingModes.includes('online')),
    ).toBe(true);
    // errors are not cached
    const missing = await get('/api/v1/catalog/items/999999999999');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers.etag).toBeUndefined();
  });
});
