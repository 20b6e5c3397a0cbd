/**
 * The citizen app's display modes in a real Chromium (phone-sized) against the real server and the
 * built client: 长辈版 (elderly mode: ≥ 18 px text, spacing, ≥ 60 px targets, the simplified home with
 * big tiles and a call button, remembered), read-aloud of a guide (headless Chromium has no voices:
 * the no-voice message), Uyghur right to left (mirrored layout, unreviewed-translation notice, the
 * Arabic-script font fetched only once chosen, item translations on the guide) and Tibetan. axe-core
 * reports 0 violations on home, guide, browse and settings in normal, elderly and RTL modes.
 * Screenshots: citizen-elderly-*.png, citizen-rtl-*.png, citizen-bo-*.png in the harness folder.
 */
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { axeViolations, type Harness, settled, startHarness } from './harness.ts';

/** 社会保障卡补领: the sample catalog carries machine bo/ug translations of it. */
const CARD = '200002002000';
const UG_CARD_NAME = 'ئىجتىمائىي كاپالەت كارتىسىنى تولۇقلاپ ئېلىش';
const BO_CARD_NAME = 'སྤྱི་ཚོགས་འགན་ལེན་ཁཱ་ཌ་བསྐྱར་ལེན།';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('citizen-modes');
});
afterAll(async () => {
  await h?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(h.shots, name), fullPage: true });

/** A fresh phone page whose requests are recorded (to see when a font is fetched). */
async function openApp(): Promise<{ page: Page; requests: string[] }> {
  const page = await h.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${h.server.url}/`);
  await expect.poll(() => page.locator('h1').textContent()).toBe('查找办事服务');
  return { page, requests };
}

async function go(page: Page, hash: string) {
  await page.evaluate((to) => {
    location.hash = to;
  }, hash);
}

/** Computed style numbers of the first element matching `selector`. */
const styleOf = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const s = getComputedStyle(el);
      return {
        fontSize: Number.parseFloat(s.fontSize),
        lineHeight: Number.parseFloat(s.lineHeight),
        marginBottom: Number.parseFloat(s.marginBottom),
      };
    });

/** Font faces of a family the page knows, with their status (unloaded / loading / loaded). */
const fontFaces = (page: Page, family: string) =>
  page.evaluate((f) => [...document.fonts].filter((x) => x.family.includes(f)).map((x) => x.status), family);

const noVoices = (page: Page) =>
  page.evaluate(() => !('speechSynthesis' in window) || speechSynthesis.getVoices().length === 0);

async function noAxe(page: Page, label: string) {
  expect(await axeViolations(page, label)).toEqual([]);
}

/** WCAG AAA text contrast (≥ 7:1; 4.5:1 for large text), which 长辈版 promises. */
async function enhancedContrast(page: Page) {
  const result = await new AxeBuilder({ page }).withRules(['color-contrast-enhanced']).analyze();
  return result.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`));
}

describe('citizen modes: 长辈版, read-aloud, right to left, Tibetan', () => {
  test('normal home: search, popular services of my county, browse by life event and by industry', async () => {
    const { page } = await openApp();
    const popular = page.getByTestId('popular');
    await expect.poll(() => popular.locator('a').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // the server ranks my county's services (GET /api/v1/catalog/popular); the province list is only
    // the fallback of an older server
    expect(await popular.getAttribute('data-scope')).toBe('division');
    const industries = page.getByTestId('industries');
    await expect.poll(() => industries.locator('a').count(), { timeout: 15_000 }).toBeGreaterThan(3);
    const lifeEvents = page.getByTestId('life-events');
    await expect.poll(() => lifeEvents.locator('a').count(), { timeout: 15_000 }).toBeGreaterThan(3);
    await shot(page, 'citizen-normal-home.png');
    await noAxe(page, 'home (normal)');

    // 按行业 → one industry → its items → the guide
    await industries.getByRole('link', { name: /社会保险/ }).click();
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe('社会保险');
    const items = page.getByTestId('browse-items').getByRole('link');
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await items.first().locator('[lang="zh-CN"]').count()).toBe(1);
    await noAxe(page, 'browse industry (normal)');
    await page.getByRole('link', { name: /按行业找服务/ }).click();
    await expect
      .poll(() => page.getByTestId('browse-industries').getByRole('link').count())
      .toBeGreaterThan(10);
    await noAxe(page, 'browse all industries (normal)');
    await go(page, '/browse/life-event');
    await expect.poll(() => page.locator('h1').textContent()).toBe('按人生事件找服务');
    const events = page.getByTestId('browse-life-events').getByRole('link');
    await expect.poll(() => events.count(), { timeout: 15_000 }).toBeGreaterThan(3);
    await events.first().click();
    await expect.poll(() => page.getByTestId('browse-items').getByRole('link').count()).toBeGreaterThan(0);
    await noAxe(page, 'browse life event (normal)');

    await go(page, `/guide/${CARD}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe('社会保障卡补领');
    await expect.poll(() => page.getByTestId('hall').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await noAxe(page, 'guide (normal)');
    await go(page, '/settings');
    await expect.poll(() => page.locator('h1').textContent()).toBe('设置');
    expect(await page.getByTestId('version').textContent()).toMatch(/版本 \d+\.\d+\.\d+/);
    expect(await page.getByTestId('agent-entry').getAttribute('href')).toBe('#/agent');
    await noAxe(page, 'settings (normal)');
  });

  test('长辈版 from the first screen: ≥ 18 px text, 1.3× spacing, ≥ 60 px targets, simplified home with a call button; remembered', async () => {
    const { page } = await openApp();
    const normal = await styleOf(page, 'body');
    const toggle = page.getByRole('button', { name: '长辈版' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('html').getAttribute('data-elderly')).toBe('');

    const body = await styleOf(page, 'body');
    expect(body.fontSize).toBeGreaterThanOrEqual(18);
    expect(body.fontSize).toBeGreaterThan(normal.fontSize);
    expect(body.lineHeight / body.fontSize).toBeGreaterThanOrEqual(1.3);
    // secondary text scales too, and paragraphs are 1.3 line heights apart
    const hint = await styleOf(page, '#search-hint');
    expect(hint.fontSize).toBeGreaterThanOrEqual(18);
    const para = await styleOf(page, '[data-testid="area-line"]');
    expect(para.marginBottom).toBeGreaterThanOrEqual(1.3 * para.lineHeight - 0.5);

    // the simplified home: area in one line, search, popular tiles and the call button; no browse lists
    await expect.poll(() => page.locator('.tiles a').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('industries').count()).toBe(0);
    expect(await page.getByTestId('prefecture').isVisible()).toBe(false);
    const call = page.getByTestId('call-hall');
    expect(await call.getAttribute('href')).toBe('tel:12345');
    expect(await call.textContent()).toContain('拨打大厅电话');
    for (const target of [
      call,
      toggle,
      page.locator('.tiles a').first(),
      page.getByRole('button', { name: '搜索' }),
    ]) {
      const box = await target.boundingBox();
      expect(box?.height ?? 0).toBeGreaterThanOrEqual(60);
    }
    // no pop-ups: nothing modal on the page
    expect(await page.locator('[role="dialog"], .van-popup, .van-toast').count()).toBe(0);
    await shot(page, 'citizen-elderly-home.png');
    await noAxe(page, 'home (elderly)');
    expect(await enhancedContrast(page)).toEqual([]);

    // remembered
    await page.reload();
    await expect.poll(() => page.locator('html').getAttribute('data-elderly')).toBe('');
    expect(await page.getByRole('button', { name: '长辈版' }).getAttribute('aria-pressed')).toBe('true');

    // a tile opens the guide; read-aloud says clearly that there is no voice (or reads)
    await page.locator('.tiles a').first().click();
    await expect.poll(() => page.locator('.page--guide .facts').count(), { timeout: 15_000 }).toBe(1);
    await go(page, `/guide/${CARD}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe('社会保障卡补领');
    await expect.poll(() => page.getByTestId('hall').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const start = page.getByRole('button', { name: '朗读全文' });
    expect((await start.boundingBox())?.height ?? 0).toBeGreaterThanOrEqual(60);
    await start.click();
    if (await noVoices(page)) {
      await expect
        .poll(() => page.getByTestId('read-aloud-message').textContent(), { timeout: 5_000 })
        .toMatch(/没有“中文”的朗读语音/);
    } else {
      await expect.poll(() => page.getByTestId('read-aloud-pause').count()).toBe(1);
      await page.getByTestId('read-aloud-stop').click();
    }
    await shot(page, 'citizen-elderly-guide.png');
    await noAxe(page, 'guide (elderly)');
    expect(await enhancedContrast(page)).toEqual([]);

    await go(page, '/browse/industry/social_insurance');
    await expect
      .poll(() => page.getByTestId('browse-items').getByRole('link').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await shot(page, 'citizen-elderly-browse.png');
    await noAxe(page, 'browse (elderly)');
    expect(await enhancedContrast(page)).toEqual([]);

    // settings: the same switch, and the text size grows the root size further
    await go(page, '/settings');
    await expect.poll(() => page.locator('h1').textContent()).toBe('设置');
    expect(await page.getByTestId('settings-elderly').isChecked()).toBe(true);
    const before = (await styleOf(page, 'body')).fontSize;
    await page.getByTestId('text-size-xlarge').check();
    await expect.poll(async () => (await styleOf(page, 'body')).fontSize).toBeGreaterThan(before);
    await page.getByTestId('voice-test').click();
    if (await noVoices(page))
      await expect
        .poll(() => page.getByTestId('voice-message').textContent())
        .toMatch(/没有“中文”的朗读语音/);
    await shot(page, 'citizen-elderly-settings.png');
    await noAxe(page, 'settings (elderly)');
    expect(await enhancedContrast(page)).toEqual([]);

    // off again from settings
    await page.getByTestId('text-size-standard').check();
    await page.getByTestId('settings-elderly').uncheck();
    await expect.poll(() => page.locator('html').getAttribute('data-elderly')).toBeNull();
    expect((await styleOf(page, 'body')).fontSize).toBe(normal.fontSize);
  });

  test('ug: right to left, mirrored header, unreviewed notice, the Arabic-script font fetched only once chosen', async () => {
    const { page, requests } = await openApp();
    const naskh = (urls: readonly string[]) => urls.filter((u) => /naskh|arabic-400/i.test(u));
    const tibetan = (urls: readonly string[]) => urls.filter((u) => /tibetan/i.test(u));
    await page.waitForLoadState('networkidle');
    expect(naskh(requests)).toEqual([]);
    expect(await fontFaces(page, 'Naskh')).toEqual([]);
    expect(await page.getByTestId('review-notice').count()).toBe(0);

    // the header's start element (the brand) and its tools; the header may wrap onto two lines
    const brand = page.locator('.app-brand');
    const tools = page.locator('.app-header__tools');
    const edges = async () => {
      const [b, t] = [await brand.boundingBox(), await tools.boundingBox()];
      if (!b || !t) throw new Error('header not laid out');
      return { brandLeft: b.x, brandRight: b.x + b.width, toolsLeft: t.x, toolsRight: t.x + t.width };
    };
    const ltr = await edges();
    expect(ltr.brandLeft).toBeLessThan(ltr.toolsLeft);
    expect(ltr.brandLeft).toBeLessThan(40);

    await page.getByTestId('language').selectOption('ug');
    await expect.poll(() => page.locator('html').getAttribute('dir')).toBe('rtl');
    expect(await page.locator('html').getAttribute('lang')).toBe('ug');
    await expect.poll(() => page.locator('h1').textContent()).toBe('مۇلازىمەت ئىزدەش');
    // mirrored: the brand now starts at the right edge, the tools come after it (to its left)
    // measured once the mirrored layout has settled (the script font and the header reflow after the switch)
    await expect.poll(async () => (await edges()).brandRight, { timeout: 10_000 }).toBeGreaterThan(390 - 40);
    await settled(page);
    const rtl = await edges();
    expect(rtl.brandRight).toBeGreaterThan(390 - 40);
    expect(rtl.brandRight).toBeGreaterThan(rtl.toolsRight - 1);
    expect(rtl.toolsLeft).toBeLessThan(rtl.brandLeft);
    await expect
      .poll(async () => {
        const searchBox = await page.getByRole('searchbox').boundingBox();
        const label = await page.locator('.van-search__label').boundingBox();
        return (label?.x ?? 0) > (searchBox?.x ?? 0);
      })
      .toBe(true);

    const notice = page.getByTestId('review-notice');
    await expect.poll(() => notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toContain('تەكشۈرۈلمىگەن');
    expect(await notice.locator('[lang="zh-CN"]').textContent()).toContain('部分译文未经母语审校');
    await notice.screenshot({ path: path.join(h.shots, 'citizen-rtl-notice.png') });

    // the font: requested and loaded now, and only the Arabic one
    await expect.poll(() => naskh(requests).length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => fontFaces(page, 'Naskh'), { timeout: 10_000 }).toContain('loaded');
    expect(tibetan(requests)).toEqual([]);
    await expect
      .poll(() => page.locator('.tiles a, .chips a').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await shot(page, 'citizen-rtl-home.png');
    await noAxe(page, 'home (rtl)');

    // the guide: translated fields in Uyghur, the rest in Chinese marked zh-CN, codes left to right
    await go(page, `/guide/${CARD}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe(UG_CARD_NAME);
    expect(await page.locator('h1').getAttribute('lang')).toBe('ug');
    const materialNames = page.getByTestId('material').locator('.material__name [lang]');
    await expect.poll(() => materialNames.first().getAttribute('lang')).toBe('ug');
    expect(await page.locator('[aria-labelledby="g-basis"] .prose').getAttribute('lang')).toBe('zh-CN');
    expect(await page.getByTestId('item-code').getAttribute('dir')).toBe('ltr');
    await expect.poll(() => page.getByTestId('hall').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // opening hours (09:00-12:00) read left to right: the first character is left of the last
    const range = await page
      .locator('.hall__range')
      .first()
      .evaluate((el) => {
        const text = el.firstChild as Text;
        const at = (i: number) => {
          const r = document.createRange();
          r.setStart(text, i);
          r.setEnd(text, i + 1);
          return r.getBoundingClientRect().x;
        };
        return { first: at(0), last: at(text.length - 1) };
      });
    expect(range.first).toBeLessThan(range.last);
    const back = await page.locator('.back__link').boundingBox();
    expect((back?.x ?? 0) + (back?.width ?? 0)).toBeGreaterThan(300); // starts on the right
    await page.getByRole('button', { name: 'تولۇق ئاۋازلىق ئوقۇش' }).click();
    if (await noVoices(page))
      await expect.poll(() => page.getByTestId('read-aloud-message').textContent()).toContain('ئۇيغۇرچە');
    await shot(page, 'citizen-rtl-guide.png');
    await noAxe(page, 'guide (rtl)');

    await go(page, '/browse/industry/social_insurance');
    await expect
      .poll(() => page.getByTestId('browse-items').getByRole('link').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await shot(page, 'citizen-rtl-browse.png');
    await noAxe(page, 'browse (rtl)');
    await go(page, '/settings');
    await expect.poll(() => page.locator('h1').textContent()).toBe('تەڭشەك');
    await shot(page, 'citizen-rtl-settings.png');
    await noAxe(page, 'settings (rtl)');

    // RTL and 长辈版 together: the hotline number stays left to right
    await page.getByTestId('settings-elderly').check();
    await go(page, '/');
    const number = page.getByTestId('call-hall').locator('bdi');
    await expect.poll(() => number.textContent(), { timeout: 15_000 }).toBe('12345');
    expect(await number.getAttribute('dir')).toBe('ltr');
    await shot(page, 'citizen-rtl-elderly-home.png');
    await noAxe(page, 'home (rtl, elderly)');

    // remembered; back to Chinese undoes the direction and the notice
    await page.reload();
    await expect.poll(() => page.locator('html').getAttribute('dir')).toBe('rtl');
    await page.getByTestId('language').selectOption('zh-CN');
    await expect.poll(() => page.locator('html').getAttribute('dir')).toBe('ltr');
    expect(await page.getByTestId('review-notice').count()).toBe(0);
  });

  test('bo: Tibetan UI left to right, its font only once chosen, the guide’s Tibetan name, the notice', async () => {
    const { page, requests } = await openApp();
    const tibetan = (urls: readonly string[]) => urls.filter((u) => /tibetan/i.test(u));
    await page.waitForLoadState('networkidle');
    expect(tibetan(requests)).toEqual([]);
    expect(await fontFaces(page, 'Tibetan')).toEqual([]);

    await go(page, '/settings');
    await expect.poll(() => page.locator('h1').textContent()).toBe('设置');
    await page.getByTestId('language-bo').check();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('bo');
    expect(await page.locator('html').getAttribute('dir')).toBe('ltr');
    await expect.poll(() => page.locator('h1').textContent()).toBe('སྒྲིག་འགོད།');
    await expect.poll(() => page.getByTestId('review-notice').isVisible()).toBe(true);
    await expect.poll(() => tibetan(requests).length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => fontFaces(page, 'Tibetan'), { timeout: 10_000 }).toContain('loaded');
    expect(requests.filter((u) => /naskh|arabic-400/i.test(u))).toEqual([]);
    await shot(page, 'citizen-bo-settings.png');
    await noAxe(page, 'settings (bo)');

    await go(page, `/guide/${CARD}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe(BO_CARD_NAME);
    await expect.poll(() => page.getByTestId('hall').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await shot(page, 'citizen-bo-guide.png');
    await noAxe(page, 'guide (bo)');
  });
});
