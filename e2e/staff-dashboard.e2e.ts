/**
 * The dashboard (看板, issue 7 part 5) in Debian's Chromium against the real server and the built client:
 * a province leader (领导, dashboard.read over 贵州省 52) opens 看板 from the menu and sees every KPI card
 * with its value and its trend in words; drills down province → 黔东南州 (5226) → 凯里市 (522601) → the
 * 凯里市 hall through the child units' table, the URL keeping the scope and the period at each step; goes
 * back up with the breadcrumb; chooses another KPI and period; switches the trend chart to its table and
 * reads one day's value. axe-core finds 0 violations in the chart and the table views; screenshots go to
 * artifacts/screenshots/staff-dashboard/.
 *
 * The KPI numbers come from a fixture (e2e/fixtures/kpi-dashboard.ts) while the KPI routes are built on
 * another branch: ONLY `GET /api/v1/kpi/dashboard` is intercepted, in the one marked block below; sign-in,
 * grants, divisions and halls are the real server's. Once the KPI module is merged the block can go and the
 * expectations read the figures from the server instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KPI_DEFINITIONS, KPI_IDS, type KpiDashboard } from '../src/domain/kpi.ts';
import { formatValue, presetRange, todayInShanghai, trendOf } from '../src/web/staff/dashboard/model.ts';
import { fixtureDashboard, fixtureValue } from './fixtures/kpi-dashboard.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';

const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  isMobile: false,
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};
const LEADER = { username: 'gz.leader', password: 'Leader-2026-看板a9', name: '省领导（看板）' };

let h: Harness;
let page: Page;
/** The query strings the dashboard asked the KPI route with, in order. */
const asked: URLSearchParams[] = [];

beforeAll(async () => {
  h = await startHarness('staff-dashboard');
  const services = h.server.services;
  if (!services) throw new Error('the dashboard story creates a leader account: run it without E2E_BASE_URL');
  // a staff account is bound to a department or a hall: the province's government-services office
  const office = await services.departments.findDepartment('52', 'government_services');
  if (!office) throw new Error('no province government-services department in the reference data');
  const { id } = await services.identity.createStaff({
    name: LEADER.name,
    username: LEADER.username,
    password: LEADER.password,
    departmentId: office.id,
    isAdmin: false,
  });
  await services.identity.grants.grantFromCli(
    {
      accountId: id,
      role: 'leader',
      scope: { kind: 'division', value: '52' },
      itemCodes: null,
      validUntil: new Date(Date.now() + 30 * 86_400_000),
      reason: 'e2e：省领导只读看板',
    },
    'e2e',
  );
});
afterAll(async () => {
  await h?.close();
});

async function publicJson<T>(p: string): Promise<T> {
  const res = await fetch(`${h.server.url}${p}`);
  if (!res.ok) throw new Error(`${p}: ${res.status}`);
  return (await res.json()) as T;
}

// ======== BEGIN interception of the dashboard API (fixture data; the only faked request) ========
/** Answers GET /api/v1/kpi/dashboard with {@link fixtureDashboard}, names and children from the real server. */
async function interceptDashboardApi(p: Page): Promise<void> {
  await p.route(
    (url) => url.pathname === '/api/v1/kpi/dashboard',
    async (route) => {
      const q = new URL(route.request().url()).searchParams;
      asked.push(q);
      const from = q.get('from') ?? '';
      const to = q.get('to') ?? '';
      const hall = q.get('hall');
      let body: KpiDashboard;
      if (hall) {
        const hl = await publicJson<{ code: string; name: string }>(`/api/v1/halls/${hall}`);
        body = fixtureDashboard({ kind: 'hall', code: hl.code, name: hl.name, level: 'hall' }, from, to, []);
      } else {
        const code = q.get('division') ?? '';
        const d = await publicJson<{ code: string; name: string; level: string }>(
          `/api/v1/divisions/${code}`,
        );
        const children =
          d.level === 'county'
            ? (
                await publicJson<{ items: { code: string; name: string }[] }>(
                  `/api/v1/halls?division=${code}&limit=12`,
                )
              ).items.map((x) => ({ kind: 'hall' as const, code: x.code, name: x.name }))
            : (
                await publicJson<{ items: { code: string; name: string }[] }>(
                  `/api/v1/divisions?parent=${code}`,
                )
              ).items.map((x) => ({ kind: 'division' as const, code: x.code, name: x.name }));
        body = fixtureDashboard(
          { kind: 'division', code: d.code, name: d.name, level: d.level },
          from,
          to,
          children,
        );
      }
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    },
  );
}
// ======== END interception of the dashboard API ========

const shotsDir = () => {
  fs.mkdirSync(h.shots, { recursive: true });
  return h.shots;
};

async function screen(p: Page, name: string) {
  await p.waitForLoadState('networkidle');
  await p.waitForTimeout(200);
  await p.screenshot({ path: path.join(shotsDir(), `${name}.png`), fullPage: true });
  expect(await axeViolations(p, name)).toEqual([]);
}

const query = () => new URL(page.url()).searchParams;
/** The scope shown: the last breadcrumb step (aria-current). */
const current = () => page.getByTestId('breadcrumb').locator('[aria-current="page"]').textContent();

describe('staff workbench: the dashboard', () => {
  const today = todayInShanghai();
  const last30 = presetRange(30, today);

  test('a province leader opens 看板: every KPI card with value and trend in words', async () => {
    page = await h.newPage(DESKTOP);
    await interceptDashboardApi(page);
    await page.goto(`${h.server.url}/staff/`);
    await page
      .locator('[data-testid="username"] input, input[data-testid="username"]')
      .first()
      .fill(LEADER.username);
    await page
      .locator('[data-testid="password"] input, input[data-testid="password"]')
      .first()
      .fill(LEADER.password);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('kpi-cards').waitFor();
    expect(new URL(page.url()).pathname).toBe('/staff/dashboard');
    // the widest grant is the starting scope, the last 30 days the period; both in the URL
    await expect.poll(() => query().get('division')).toBe('52');
    expect(query().get('from')).toBe(last30.from);
    expect(query().get('to')).toBe(today);
    expect(asked.at(-1)?.get('division')).toBe('52');
    expect(await current()).toBe('贵州省');

    expect(await page.locator('[data-testid^="kpi-card-"]').count()).toBe(KPI_IDS.length);
    const card = page.getByTestId('kpi-card-satisfaction_rate');
    const value = fixtureValue('satisfaction_rate', '52', 'period');
    expect(await card.getByTestId('kpi-value').textContent()).toContain(formatValue('ratio', value, 'zh-CN'));
    const trend = trendOf('satisfaction_rate', value, fixtureValue('satisfaction_rate', '52', 'previous'));
    const words = { better: '变好', worse: '变差', same: '持平', unknown: '无法比较' }[trend.judgement];
    const trendText = (await card.getByTestId('kpi-trend').textContent()) ?? '';
    expect(trendText).toMatch(/[↑↓→]/);
    expect(trendText).toContain(words);
    // the judgement follows higherIsBetter: the overdue rate's card says 变好 when it went down
    const overdue = trendOf(
      'overdue_rate',
      fixtureValue('overdue_rate', '52', 'period'),
      fixtureValue('overdue_rate', '52', 'previous'),
    );
    expect(
      await page.getByTestId('kpi-card-overdue_rate').getByTestId('kpi-trend').getAttribute('data-judgement'),
    ).toBe(overdue.judgement);
    expect(KPI_DEFINITIONS.overdue_rate.higherIsBetter).toBe(false);
    expect(await page.getByTestId('children-table').locator('tbody tr').count()).toBe(9);
    // the alerts area of the division shown (the warnings module's panel)
    await page.getByTestId('alerts').getByTestId('alerts-panel').waitFor();
    // the province map (by prefecture) is drawn
    await page.getByTestId('map').getByTestId('echart').locator('canvas').first().waitFor();
    await screen(page, 'dashboard-province');
  });

  test('drills down province → prefecture → county → hall; the URL keeps scope and period', async () => {
    await page.getByTestId('drill-5226').click();
    await expect.poll(() => query().get('division')).toBe('5226');
    expect(query().get('from')).toBe(last30.from);
    await expect.poll(current).toBe('黔东南苗族侗族自治州');
    await expect.poll(() => page.getByTestId('children-table').locator('tbody tr').count()).toBe(16);
    await page.getByTestId('map').getByTestId('echart').locator('canvas').first().waitFor();
    await screen(page, 'dashboard-prefecture');

    await page.getByTestId('drill-522601').click();
    await expect.poll(current).toBe('凯里市');
    expect(query().get('division')).toBe('522601');
    // a county drills into its halls and has no map
    await page.getByTestId('drill-522601-zwfw').waitFor();
    expect(await page.getByTestId('map').count()).toBe(0);

    await page.getByTestId('drill-522601-zwfw').click();
    await expect.poll(() => query().get('hall')).toBe('522601-zwfw');
    expect(query().get('division')).toBeNull();
    expect(query().get('to')).toBe(today);
    await page.getByTestId('no-children').waitFor();
    const crumbs = await page.getByTestId('breadcrumb').locator('li').allTextContents();
    expect(crumbs.map((c) => c.trim())).toEqual([
      '贵州省',
      '黔东南苗族侗族自治州',
      '凯里市',
      crumbs[3]!.trim(),
    ]);
    expect(crumbs[3]).toMatch(/凯里/);
    expect(asked.at(-1)?.get('hall')).toBe('522601-zwfw');
    await screen(page, 'dashboard-hall');
  });

  test('goes back up with the breadcrumb (and with the browser history)', async () => {
    await page.getByTestId('crumb-5226').click();
    await expect.poll(current).toBe('黔东南苗族侗族自治州');
    expect(query().get('division')).toBe('5226');
    await page.getByTestId('crumb-52').click();
    await expect.poll(current).toBe('贵州省');
    await page.goBack();
    await expect.poll(current).toBe('黔东南苗族侗族自治州');
  });

  test('another KPI and the last 7 days; the trend read as a table', async () => {
    await page.getByTestId('kpi-card-overdue_rate').click();
    await expect.poll(() => query().get('kpi')).toBe('overdue_rate');
    expect(await page.getByTestId('kpi-card-overdue_rate').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('period-7').click();
    const last7 = presetRange(7, today);
    await expect.poll(() => query().get('from')).toBe(last7.from);
    await expect.poll(() => asked.at(-1)?.get('from')).toBe(last7.from);
    expect(query().get('division')).toBe('5226');

    await page.getByTestId('trend-as-table').click();
    const table = page.getByTestId('trend-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(7);
    const day = last7.from;
    const cell = table.locator(`tr[data-day="${day}"] td`);
    expect((await cell.textContent())?.trim()).toBe(
      formatValue('ratio', fixtureValue('overdue_rate', '5226', day), 'zh-CN'),
    );
    expect(await table.locator('caption').textContent()).toContain('超期率');
    await screen(page, 'dashboard-tables');

    await page.getByTestId('trend-as-chart').click();
    await page.getByTestId('trend').getByTestId('echart').waitFor();
    expect(await page.getByTestId('trend').getByTestId('echart').getAttribute('aria-label')).toContain(
      '超期率',
    );
  });

  test('in English the same view reads in English (names, trend words, captions)', async () => {
    await page.locator('.lang select').selectOption('en');
    await expect.poll(() => page.getByTestId('trend').locator('h2').textContent()).toContain('Overdue rate');
    const words =
      (await page.getByTestId('kpi-card-overdue_rate').getByTestId('kpi-trend').textContent()) ?? '';
    expect(words).toMatch(/better|worse|Same as the previous period|No previous data/);
    await page.getByTestId('children-as-chart').click();
    await page.getByTestId('children').getByTestId('echart').locator('canvas').first().waitFor();
    expect(await page.getByTestId('children').getByTestId('echart').getAttribute('aria-label')).toMatch(
      /Overdue rate per county/,
    );
    await screen(page, 'dashboard-en-charts');
    await page.locator('.lang select').selectOption('zh-CN');
  });
});
