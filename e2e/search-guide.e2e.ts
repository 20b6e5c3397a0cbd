/**
 * A resident finds a service and reads its guide, in a real Chromium against the real server and the
 * built web client: search-as-you-type, pinyin initials, the guide (materials, time limits in working
 * days, fees, visits, nearest halls), the remembered division, and axe-core with 0 violations.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { axeViolations, type Harness, startHarness } from './harness.ts';

/** 贵阳市南明区, near the 南明区政务服务中心 (the app's default division). */
const GUIYANG = { latitude: 26.5683, longitude: 106.7146 };

let h: Harness;

beforeAll(async () => {
  h = await startHarness('search-guide');
});
afterAll(async () => {
  await h?.close();
});

async function openApp(options: Parameters<Harness['browser']['newContext']>[0] = {}): Promise<Page> {
  const page = await h.newPage(options);
  await page.goto(`${h.server.url}/`);
  await expect.poll(() => page.locator('h1').textContent()).toBe('查找办事服务');
  return page;
}

const searchBox = (page: Page) => page.getByRole('searchbox', { name: '搜索事项' });
const resultLinks = (page: Page) => page.getByTestId('results').getByRole('link');
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(h.shots, name), fullPage: true });

describe('citizen search → guide', () => {
  test('社保卡补办 finds 社会保障卡补领; its guide shows materials, working-day limits and the nearest halls', async () => {
    const page = await openApp({ geolocation: GUIYANG, permissions: ['geolocation'] });
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.getByTestId('county').inputValue()).toBe('520102');

    // typed key by key: search-as-you-type, no submit
    await searchBox(page).pressSequentially('社保卡补办', { delay: 40 });
    const replacement = resultLinks(page).filter({ hasText: /社会保障卡.*补[领办]/ });
    await expect.poll(() => replacement.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('社保卡补办');
    await shot(page, '1-search-results.png');
    expect(await axeViolations(page, 'search page with results')).toEqual([]);

    await replacement.first().click();
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toMatch(/社会保障卡.*补[领办]/);
    expect(await page.locator('h1').count()).toBe(1);

    const materials = page.getByTestId('material');
    await expect.poll(() => materials.count()).toBeGreaterThan(0);
    const firstMaterial = (await materials.first().textContent()) ?? '';
    expect(firstMaterial).toMatch(/原件 \d+ 份/);
    expect(firstMaterial).toMatch(/复印件 \d+ 份/);
    expect(firstMaterial).toMatch(/必要|非必要/);

    const facts = page.getByTestId('facts');
    expect(await facts.locator('[data-fact="promised"]').textContent()).toMatch(
      /承诺办结时限\s*\d+ 个工作日/,
    );
    expect(await facts.locator('[data-fact="legal"]').textContent()).toMatch(/法定办结时限/);
    expect(await facts.locator('[data-fact="fees"]').textContent()).toMatch(/免费|\d 元/);
    expect(await facts.locator('[data-fact="visits"]').textContent()).toMatch(/到现场次数\s*\d+ 次/);
    expect(await page.getByTestId('department').textContent()).toMatch(/人力资源和社会保障/);

    // location permitted: the nearest halls, with distances
    const halls = page.getByTestId('hall');
    await expect.poll(() => halls.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('distance').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('distance').first().textContent()).toMatch(/约 [\d.]+ 公里/);
    expect(await halls.first().textContent()).toMatch(/办公时间/);
    await shot(page, '2-guide.png');
    await page.getByTestId('materials').screenshot({ path: path.join(h.shots, '2a-guide-materials.png') });
    await page.getByTestId('halls').screenshot({ path: path.join(h.shots, '2b-guide-halls.png') });
    expect(await axeViolations(page, 'guide page')).toEqual([]);

    // back to the same results
    await page.getByRole('link', { name: /返回搜索/ }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('查找办事服务');
    expect(await searchBox(page).inputValue()).toBe('社保卡补办');
    await expect.poll(() => replacement.count(), { timeout: 15_000 }).toBeGreaterThan(0);
  });

  test('pinyin initials sbk, submitted with Enter, find a 社会保障卡 item', async () => {
    const page = await openApp();
    await searchBox(page).fill('sbk');
    await searchBox(page).press('Enter');
    const cards = resultLinks(page).filter({ hasText: '社会保障卡' });
    await expect.poll(() => cards.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await shot(page, '3-search-sbk.png');
  });

  test('a query with no match gets a helpful message', async () => {
    const page = await openApp();
    await searchBox(page).fill('qqqzzzxxx');
    await page.getByRole('button', { name: '搜索' }).click();
    const empty = page.locator('.results__empty');
    await expect
      .poll(() => empty.textContent(), { timeout: 15_000 })
      .toContain('没有找到与“qqqzzzxxx”相关的事项');
    expect(await empty.textContent()).toContain('sbk');
    await shot(page, '4-search-empty.png');
    expect(await axeViolations(page, 'empty result')).toEqual([]);
  });

  test('the chosen division is remembered; without location the guide lists that county’s halls', async () => {
    const page = await openApp();
    await page.getByTestId('prefecture').selectOption('5203'); // 遵义市
    await expect.poll(() => page.getByTestId('county').inputValue()).toMatch(/^5203\d\d$/);
    const county = await page.getByTestId('county').inputValue();
    const countyName =
      (await page.getByTestId('county').locator('option:checked').textContent())?.trim() ?? '';
    await page.reload();
    await expect.poll(() => page.getByTestId('county').inputValue(), { timeout: 15_000 }).toBe(county);
    expect(await page.getByTestId('prefecture').inputValue()).toBe('5203');

    await searchBox(page).fill('结婚登记');
    await searchBox(page).press('Enter');
    const marriage = resultLinks(page).filter({ hasText: '结婚登记' });
    await expect.poll(() => marriage.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await marriage.first().click();
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toContain('结婚登记');
    expect(await page.locator('.guide-head__meta').textContent()).toContain(`遵义市${countyName}`);
    const halls = page.getByTestId('hall');
    await expect.poll(() => halls.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await halls.first().textContent()).toContain(countyName);
    expect(await page.getByTestId('distance').count()).toBe(0);
    expect(await page.getByRole('button', { name: '用我的位置找最近的大厅' }).count()).toBe(1);
    await page.getByTestId('halls').screenshot({ path: path.join(h.shots, '5-guide-county-halls.png') });
  });

  test('offline, a search explains the failure in plain words and retries once back online', async () => {
    const page = await h.newPage();
    // no copy of the catalog on this device (its sync is cut off): offline search has nothing to fall
    // back on (e2e/citizen-offline.e2e.ts covers search from the synced copy)
    await page.context().route('**/api/v1/catalog/sync?*', (route) => route.abort());
    await page.goto(`${h.server.url}/`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('查找办事服务');
    await page.context().setOffline(true);
    await searchBox(page).fill('结婚');
    await searchBox(page).press('Enter');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toContain('网络连接不上');
    await shot(page, '6-search-offline.png');
    await page.context().setOffline(false);
    await alert.getByRole('button', { name: '重试' }).click();
    await expect
      .poll(() => resultLinks(page).filter({ hasText: '结婚登记' }).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await alert.count()).toBe(0);
  });

  test('English UI: lang="en", English labels, still 0 axe violations', async () => {
    const page = await openApp();
    await page.getByLabel('语言').selectOption('en');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Find a government service');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByRole('searchbox', { name: 'Search services' }).fill('sbk');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => resultLinks(page).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await axeViolations(page, 'English search page')).toEqual([]);
    await page.reload();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Find a government service');
  });
});
