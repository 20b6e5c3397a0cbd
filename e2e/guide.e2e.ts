/**
 * The guide page in detail, in a real Chromium against the real server and the built web client: hall
 * opening state vs service status, the halls that can handle the item (exercise levels, designated
 * halls), the local promised limit against the provincial standard, fee bases, a code change to an
 * unknown item, switching the division on the guide page, and the English wording — each with axe-core.
 */
import path from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { axeViolations, type Harness, PHONE, startHarness } from './harness.ts';

/** 贵阳市南明区, near the 南明区政务服务中心 (the app's default division). */
const GUIYANG = { latitude: 26.5683, longitude: 106.7146 };

/** Sample items: 居民身份证换领 (南明区 promises 10 of the standard 15 working days; a fee with its basis). */
const ID_RENEWAL = '200001001000';
/** 居民身份证补领: the provincial standard applies everywhere. */
const ID_REPLACEMENT = '200001002000';
/** 结婚登记: exercised at county level only. */
const MARRIAGE = '070004001000';
/** 居住证申领: exercised at county and township level. */
const RESIDENCE_PERMIT = '200001004000';
/** 住房公积金提取: exercised at prefecture level only. */
const PROVIDENT_FUND = '200011001000';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('guide');
});
afterAll(async () => {
  await h?.close();
});

async function newPage(options: Parameters<Harness['browser']['newContext']>[0] = {}): Promise<Page> {
  return h.newPage(options);
}

/** Opens the guide of `code` and waits for its heading to show `name`. */
async function openGuide(page: Page, code: string, name: string | RegExp) {
  await page.goto(`${h.server.url}/#/guide/${code}`);
  await expect
    .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
    .toMatch(typeof name === 'string' ? new RegExp(name) : name);
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(h.shots, name), fullPage: true });
const halls = (page: Page) => page.getByTestId('hall');
const hallCodes = (page: Page) =>
  halls(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-hall') ?? ''));

/** Rewrites the JSON body of matching API responses. */
async function rewriteJson<T>(page: Page, url: string | RegExp, edit: (body: T, route: Route) => void) {
  await page.route(url, async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as T;
    edit(body, route);
    await route.fulfill({ response, json: body });
  });
}

describe('guide page', () => {
  test('halls say 营业中 / 已下班 from openNow, the service status only when not in normal service, and full addresses', async () => {
    const page = await newPage();
    // the real server first: the tag follows the API's openNow for the county's own centre
    await openGuide(page, MARRIAGE, '结婚登记');
    await expect.poll(() => halls(page).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const real = await page.evaluate(async () => (await fetch('/api/v1/halls/520102-zwfw')).json());
    const centre = page.locator('[data-hall="520102-zwfw"]');
    const openTag = centre.getByTestId('hall-open');
    if (real.openNow === null) expect(await openTag.count()).toBe(0);
    else expect((await openTag.textContent())?.trim()).toBe(real.openNow ? '营业中' : '已下班');
    expect(await centre.getByTestId('hall-service').count()).toBe(real.status === 'open' ? 0 : 1);
    expect(await page.getByTestId('halls').textContent()).not.toMatch(/正在办公|当前不办公/);
    expect((await centre.getByTestId('hall-address').textContent())?.trim()).toMatch(
      /^地址：贵州省贵阳市南明区/,
    );

    // every combination, with the API's answers rewritten: county and township halls of 居住证申领
    type Halls = { items: { openNow: boolean | null; status: string }[] };
    await rewriteJson<Halls>(page, /\/api\/v1\/halls\?/, ({ items }, route) => {
      const level = new URL(route.request().url()).searchParams.get('level');
      if (level === 'county' && items[0]) Object.assign(items[0], { openNow: true, status: 'degraded' });
      if (level === 'township') {
        const states = [
          { openNow: false, status: 'open' },
          { openNow: null, status: 'open' },
          { openNow: false, status: 'closed' },
        ];
        for (const [i, s] of states.entries()) if (items[i]) Object.assign(items[i], s);
      }
    });
    await openGuide(page, RESIDENCE_PERMIT, '居住证申领');
    await expect.poll(() => halls(page).count(), { timeout: 15_000 }).toBe(4);
    const tags = await halls(page).evaluateAll((els) =>
      els.map((e) => ({
        open: e.querySelector('[data-testid="hall-open"]')?.textContent?.trim() ?? null,
        service: e.querySelector('[data-testid="hall-service"]')?.textContent?.trim() ?? null,
      })),
    );
    expect(tags).toEqual([
      { open: '营业中', service: '服务降级' },
      { open: '已下班', service: null },
      { open: null, service: null },
      { open: null, service: '暂停服务' },
    ]);
    await page.getByTestId('halls').screenshot({ path: path.join(h.shots, 'g1-hall-states.png') });
    expect(await axeViolations(page, 'guide with hall states')).toEqual([]);
  });

  test('changing the code to an unknown item shows the not-found notice alone, at the top', async () => {
    const page = await newPage();
    await openGuide(page, ID_RENEWAL, '居民身份证换领');
    await expect.poll(() => page.getByTestId('material').count()).toBeGreaterThan(0);
    await page.evaluate(() => {
      window.location.hash = '#/guide/000000000001';
    });
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toMatch('没有找到这个事项');
    const alert = page.getByRole('alert');
    expect(await alert.textContent()).toContain('没有找到相关内容');
    expect(await page.getByTestId('material').count()).toBe(0);
    expect(await page.getByTestId('facts').count()).toBe(0);
    expect(await page.getByTestId('halls').count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain('居民身份证换领');
    expect(await page.title()).not.toContain('居民身份证换领');
    const box = await alert.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThan(PHONE.viewport.height);
    await shot(page, 'g2-guide-not-found.png');
    expect(await axeViolations(page, 'guide not found')).toEqual([]);

    // and back to a real item: its guide, with no notice left over
    await page.evaluate((code) => {
      window.location.hash = `#/guide/${code}`;
    }, ID_REPLACEMENT);
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toContain('居民身份证补领');
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  test('halls are those that can handle the item: its exercise levels, or the halls the guide designates', async () => {
    const page = await newPage({ geolocation: GUIYANG, permissions: ['geolocation'] });
    const hallQueries: URL[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/halls')) hallQueries.push(new URL(r.url()));
    });

    // 结婚登记, county level only: the nearest county centres, never a township 便民服务中心
    await openGuide(page, MARRIAGE, '结婚登记');
    await expect.poll(() => page.getByTestId('distance').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(hallQueries.some((u) => u.searchParams.has('near'))).toBe(true);
    for (const u of hallQueries) expect(u.searchParams.get('level')).toBe('county');
    const names = await halls(page).locator('h3').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(/政务服务中心$/);
    expect(await page.getByTestId('halls-scope').textContent()).toContain(
      '离您最近的、可办理此事项的县级政务服务中心',
    );
    await page.getByTestId('halls').screenshot({ path: path.join(h.shots, 'g3-marriage-halls.png') });

    // designated halls (受理大厅) win over levels: exactly those, sorted by distance
    hallQueries.length = 0;
    await rewriteJson<{ acceptingHallCodes: string[] }>(
      page,
      /\/api\/v1\/catalog\/items\/070004001000\/guide/,
      (body) => {
        body.acceptingHallCodes = ['52-zwfw', '520102-zwfw'];
      },
    );
    await page.reload();
    await expect.poll(() => hallCodes(page), { timeout: 15_000 }).toEqual(['520102-zwfw', '52-zwfw']);
    expect(await page.getByTestId('halls-scope').textContent()).toContain('受理此事项的指定大厅');
    expect(hallQueries.map((u) => u.pathname).sort()).toEqual([
      '/api/v1/halls/52-zwfw',
      '/api/v1/halls/520102-zwfw',
    ]);
    expect(await page.getByTestId('distance').count()).toBe(2);
  });

  test('without location, the chosen area’s halls at the item’s levels', async () => {
    const page = await newPage();
    await openGuide(page, PROVIDENT_FUND, '住房公积金提取');
    await expect.poll(() => hallCodes(page), { timeout: 15_000 }).toEqual(['5201-zwfw']);
    expect(await page.getByTestId('halls-scope').textContent()).toContain(
      '可办理此事项的市（州）级政务服务中心（贵阳市南明区）',
    );

    await openGuide(page, RESIDENCE_PERMIT, '居住证申领');
    await expect.poll(() => halls(page).count(), { timeout: 15_000 }).toBeGreaterThan(1);
    const codes = await hallCodes(page);
    expect(codes[0]).toBe('520102-zwfw');
    for (const c of codes.slice(1)) expect(c).toMatch(/^520102\d{3}-bmfw$/);
    expect(await page.getByTestId('halls-scope').textContent()).toContain(
      '县级政务服务中心和乡镇（街道）便民服务中心',
    );
  });

  test('a local promised limit names who promised it against the provincial standard; fees show their basis', async () => {
    const page = await newPage();
    await openGuide(page, ID_RENEWAL, '居民身份证换领');
    const promised = page.getByTestId('facts').locator('[data-fact="promised"]');
    await expect
      .poll(() => promised.textContent(), { timeout: 15_000 })
      .toContain('南明区承诺 10 个工作日（全省标准 15 个工作日）');
    expect(await page.locator('main').textContent()).not.toContain('本地标准');
    const fees = page.getByTestId('facts').locator('[data-fact="fees"]');
    expect(await fees.textContent()).toContain('居民身份证工本费：20 元');
    expect(await fees.getByTestId('fee-basis').textContent()).toMatch(/^\s*收费依据：《国家发展改革委/);
    await page.getByTestId('facts').screenshot({ path: path.join(h.shots, 'g4-facts-variance.png') });

    // the provincial standard: the limit alone
    await openGuide(page, ID_REPLACEMENT, '居民身份证补领');
    await expect.poll(() => promised.textContent()).toMatch(/^承诺办结时限\s*15 个工作日\s*$/);
  });

  test('the division can be changed on the guide page, and the guide reloads for it', async () => {
    const page = await newPage();
    const guideQueries: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.endsWith('/guide')) guideQueries.push(u.searchParams.get('division') ?? '');
    });
    await openGuide(page, ID_RENEWAL, '居民身份证换领');
    const promised = page.getByTestId('facts').locator('[data-fact="promised"]');
    await expect.poll(() => promised.textContent(), { timeout: 15_000 }).toContain('南明区承诺');
    expect(await page.getByTestId('county').count()).toBe(0);

    const toggle = page.getByRole('button', { name: '切换地区' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await page.getByTestId('change-division').getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => page.getByTestId('prefecture').locator('option').count()).toBeGreaterThan(5);
    await page.getByTestId('prefecture').selectOption('5203'); // 遵义市
    await expect.poll(() => page.getByTestId('county').inputValue()).toMatch(/^5203\d\d$/);
    const county = await page.getByTestId('county').inputValue();
    const countyName =
      (await page.getByTestId('county').locator('option:checked').textContent())?.trim() ?? '';

    await expect
      .poll(() => page.getByTestId('guide-for').textContent(), { timeout: 15_000 })
      .toContain(`遵义市${countyName}`);
    expect(guideQueries.at(-1)).toBe(county);
    await expect.poll(() => promised.textContent()).toMatch(/^承诺办结时限\s*15 个工作日\s*$/);
    await expect.poll(() => hallCodes(page), { timeout: 15_000 }).toEqual([`${county}-zwfw`]);
    expect(await page.locator('h1').textContent()).toContain('居民身份证换领');
    await shot(page, 'g5-guide-division-switch.png');
    expect(await axeViolations(page, 'guide with the division picker open')).toEqual([]);

    // remembered for the search page too
    await page.getByRole('link', { name: /返回搜索/ }).click();
    await expect.poll(() => page.getByTestId('county').inputValue(), { timeout: 15_000 }).toBe(county);
  });

  test('English guide: English punctuation, plurals and lists, and 0 axe violations', async () => {
    const page = await newPage({ locale: 'en' });
    await page.goto(`${h.server.url}/`);
    await page.getByLabel('语言').selectOption('en');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Find a government service');
    await openGuide(page, ID_RENEWAL, '居民身份证换领');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');

    const material = page.getByTestId('material').first();
    await expect.poll(() => material.textContent(), { timeout: 15_000 }).toContain('1 original');
    const materials = (await page.getByTestId('materials').textContent()) ?? '';
    expect(materials).toContain('no copies');
    expect(materials).toContain('3 items');
    expect(materials).not.toMatch(/\(s\)|\(ies\)|：/);
    expect(materials).toContain('Issued by: ');

    const facts = page.getByTestId('facts');
    await expect
      .poll(() => facts.locator('[data-fact="promised"]').textContent(), { timeout: 15_000 })
      .toContain('10 working days, as promised by 南明区 (provincial standard: 15 working days)');
    const fees = (await facts.locator('[data-fact="fees"]').textContent()) ?? '';
    expect(fees).toContain('居民身份证工本费: 20 yuan');
    expect(fees).toContain('Legal basis: 《');
    expect(fees).not.toContain('：');
    expect(await facts.locator('[data-fact="visits"]').textContent()).toMatch(/1 visit\s*$/);

    const details = await page.locator('.details dd').allTextContents();
    expect(details).toContain('Pick up at the window, By mail');
    for (const d of details) expect(d).not.toContain('、');

    await expect.poll(() => halls(page).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // the hall's own words (its name, address, note) stay Chinese; the app's words around them do not
    const hall = await halls(page)
      .first()
      .evaluate((el) => {
        const copy = el.cloneNode(true) as HTMLElement;
        for (const note of copy.querySelectorAll('.hall__note')) note.remove();
        return copy.textContent ?? '';
      });
    expect(hall).toMatch(/Address: 贵州省/);
    expect(hall).toMatch(/Opening hours: Weekdays 09:00-12:00 13:00-17:00; Saturday 09:00-12:00/);
    expect(hall).toMatch(/30 windows/);
    expect(hall).not.toMatch(/[：；（]|正在办公/);
    expect(await page.getByTestId('halls-scope').textContent()).toContain(
      'For 贵阳市南明区: county government service centres that handle this service',
    );
    await shot(page, 'g6-guide-english.png');
    expect(await axeViolations(page, 'English guide page')).toEqual([]);

    await page.evaluate(() => {
      window.location.hash = '#/guide/000000000001';
    });
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe('Service not found');
    expect(await axeViolations(page, 'English guide not found')).toEqual([]);
  });
});
