/**
 * The dashboard (看板, issue 7 part 5) in Debian's Chromium against the real server and the built client, on
 * REAL data: before the browser opens, five cases are filed and worked through the real case engine
 * (CasesService.submit / .command) on past working days with a movable clock, two of them rated through
 * EvaluationsService (好 and 差), the 凯里市 hall is put offline (HallsService.setStatus), and the jobs loop
 * (`runOnce`) dispatches the outbox so the KPI rollups and the warnings fill. Nothing is intercepted.
 *
 * A province leader (领导, dashboard.read over 贵州省 52) opens 看板 from the menu and sees every KPI card
 * with the value and the trend the server computes (KpiService.dashboard called here for the same scope and
 * period, formatted with the model's formatValue); drills down province → 黔东南州 (5226) → 凯里市 (522601)
 * → the 凯里市 hall through the child units' table, the URL keeping the scope and the period at each step;
 * goes back up with the breadcrumb; chooses another KPI and period; switches the trend chart to its table
 * and reads one day's value. The alerts panel shows the hall's 大厅停摆或降级 alert to the leader without the
 * 签收 button (leaders hold dashboard.read, not alert.manage); a 凯里市 duty officer (值守员, alert.manage)
 * acknowledges it in the panel. axe-core finds 0 violations in every view; screenshots go to
 * artifacts/screenshots/staff-dashboard/.
 */

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addCalendarDays } from '../src/domain/calendar.ts';
import type { CaseActor } from '../src/domain/case-state.ts';
import { KPI_DEFINITIONS, KPI_IDS, type KpiDashboard, type KpiId } from '../src/domain/kpi.ts';
import { principalFromDevActor } from '../src/server/modules/identity/principal.ts';
import { syntheticIdNumber } from '../src/testing/pii-flow.ts';
import { formatValue, presetRange, todayInShanghai, trendOf } from '../src/web/staff/dashboard/model.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';

const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  isMobile: false,
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};
const LEADER = { username: 'gz.leader', password: 'Leader-2026-看板a9', name: '省领导（看板）' };
const DUTY = { username: 'kl.duty', password: 'Duty-2026-值守b7', name: '凯里值守员' };
const KAILI = '522601';
const KAILI_HALL = '522601-zwfw';

let h: Harness;
let page: Page;
/** The query strings the dashboard asked the KPI route with, in order. */
const asked: URLSearchParams[] = [];
const today = todayInShanghai();

/** The services' clock: a past instant while the cases are filed, then the system clock again. */
let frozen: Date | null = new Date(`${addCalendarDays(today, -40)}T07:00:00+08:00`);
const at = (day: string, hhmm: string) => {
  frozen = new Date(`${day}T${hhmm}:00+08:00`);
};

const supervisor = principalFromDevActor({ kind: 'staff', id: 'e2e-supervisor' });
const services = () => h.server.services!;
/** What the server computes for a scope and period (the page must show the same). */
const serverDashboard = (scope: { division?: string; hall?: string }, from: string, to: string) =>
  services().kpi.dashboard(supervisor, { ...scope, from, to });
const fig = (d: KpiDashboard, id: KpiId) => d.kpis.find((k) => k.id === id)!;
const shown = (id: KpiId, value: number | null) => formatValue(KPI_DEFINITIONS[id].unit, value, 'zh-CN');

const mail = { method: 'mail', recipient: '测试', phone: '13800000000', address: '贵州省凯里市测试路1号' };
const hallStaff: CaseActor = { kind: 'staff', id: 'kaili-window-1', hallCode: KAILI_HALL };
const numbers: Record<string, string> = {};

/** Files and works the cases of the story (see the module comment) through the real services. */
async function fileCases(): Promise<void> {
  const s = services();
  const calendar = await s.calendar.calendar();
  const working = (from: number, to: number) => {
    const out: string[] = [];
    for (let n = from; n <= to; n++) {
      const day = addCalendarDays(today, n);
      if (calendar.isWorkingDay(day).working) out.push(day);
    }
    return out;
  };
  const [p0] = working(-40, -31); // the period before the last 30 days
  const [e0] = working(-20, -7); // in the last 30 days, before the last 7
  // the clock only moves forward: the last days come after e0 (four of them: w0 < w1 < w2 < wLast)
  const recent = working(-12, -1).filter((d) => e0 !== undefined && d > e0);
  if (p0 === undefined || e0 === undefined || recent.length < 4)
    throw new Error('too few working days before today to file the story on');
  const [w0, w1, w2] = recent as [string, string, string];
  const wLast = recent.at(-1)!;
  const civil = (await s.departments.findDepartment(KAILI, 'civil_affairs'))!.id;
  const dept = (id: string): CaseActor => ({
    kind: 'staff',
    id: `kaili-dept-${id.slice(0, 8)}`,
    departmentId: id,
  });
  const submit = async (name: string, app: Record<string, unknown>, actor: CaseActor) => {
    const { case: c } = await s.cases.submit(app, { actor, idempotencyKey: randomUUID() });
    numbers[name] = c.number;
    return c;
  };
  const cmd = (name: string, actor: CaseActor, command: Record<string, unknown>) =>
    s.cases.command(numbers[name]!, command, { actor, idempotencyKey: randomUUID() });
  const rate = (name: string, level: number) =>
    s.evaluations.submit(
      {
        caseNumber: numbers[name]!,
        channel: 'sms',
        level,
        token: s.evaluations.ratingToken(numbers[name]!),
        ...(level >= 4 ? { comment: '等候时间太长' } : {}),
      },
      { principal: null, idempotencyKey: randomUUID() },
    );
  /** 最低生活保障申请 received at the 凯里 hall for a 凯里 resident born `birth`, forwarded to 凯里 民政. */
  const atHall = (name: string, birth: string, serial: string) =>
    submit(
      name,
      {
        itemCode: '050004001000',
        applicant: {
          kind: 'natural_person',
          name: `居民${name}`,
          idNumber: syntheticIdNumber(KAILI, birth, serial),
        },
        channel: 'hall_window',
        intakeHallCode: KAILI_HALL,
        processingMode: 'off_site_intake',
        decidingDivisionCode: KAILI,
        delivery: mail,
        formData: { familySize: 2, monthlyIncome: 900 },
      },
      hallStaff,
    );

  // the previous period: P at the hall, decided, delivered and rated 非常满意
  at(p0, '09:30');
  await atHall('P', '19800101', '001');
  at(p0, '10:00');
  await cmd('P', hallStaff, { type: 'forward' });
  at(p0, '11:00');
  await cmd('P', dept(civil), { type: 'accept' });
  at(p0, '14:00');
  await cmd('P', dept(civil), { type: 'decide', outcome: 'granted' });
  at(p0, '15:00');
  await cmd('P', dept(civil), { type: 'deliver', method: 'mail', reference: 'EMS-P' });
  await rate('P', 1);

  // the last 30 days, before the last 7: A received, forwarded and accepted, then left open (so every day of
  // the last 7 has open cases: the overdue rate has a figure each day)
  at(e0, '10:00');
  await atHall('A', '19850312', '002');
  at(e0, '10:30');
  await cmd('A', hallStaff, { type: 'forward' });
  at(e0, '14:00');
  await cmd('A', dept(civil), { type: 'accept' });
  // the last days: B decided and rated 非常满意, C filed online and rated 非常不满意
  at(w0, '11:00');
  await atHall('B', '19480505', '003');
  at(w0, '11:30');
  await cmd('B', hallStaff, { type: 'forward' });
  at(w1, '09:30');
  const c = await submit(
    'C',
    {
      itemCode: '200001004000', // 居住证申领
      applicant: {
        kind: 'natural_person',
        name: '居民C',
        idNumber: syntheticIdNumber(KAILI, '19960101', '004'),
      },
      channel: 'mobile',
      processingMode: 'online',
      decidingDivisionCode: KAILI,
      delivery: mail,
    },
    { kind: 'applicant', id: 'resident-c' },
  );
  at(w1, '10:00');
  await cmd('B', dept(civil), { type: 'accept' });
  await cmd('C', dept(c.competentDepartmentId!), { type: 'receive' });
  at(w1, '10:30');
  await cmd('C', dept(c.competentDepartmentId!), { type: 'accept' });
  at(w2, '10:00');
  await cmd('B', dept(civil), { type: 'decide', outcome: 'granted' });
  await cmd('C', dept(c.competentDepartmentId!), { type: 'decide', outcome: 'granted' });
  at(w2, '11:00');
  await cmd('B', dept(civil), { type: 'deliver', method: 'mail', reference: 'EMS-B' });
  await cmd('C', dept(c.competentDepartmentId!), { type: 'deliver', method: 'mail', reference: 'EMS-C' });
  at(w2, '15:00');
  await rate('B', 1);
  await rate('C', 5);

  // the last working day: D received at the hall (left open), then the hall goes offline and stays so
  at(wLast, '10:00');
  await atHall('D', '19520808', '005');
  at(wLast, '15:00');
  await s.halls.setStatus(supervisor, KAILI_HALL, { status: 'offline', reason: '网络中断' });
  for (let i = 0; i < 3; i++) await h.server.jobs!.runOnce();
}

/** A staff account with one grant given by the bootstrap path (no TOTP: neither role manages grants). */
async function staffAccount(
  who: { username: string; password: string; name: string },
  binding: { departmentId: string } | { hallCode: string },
  role: string,
  division: string,
): Promise<void> {
  const { id } = await services().identity.createStaff({
    name: who.name,
    username: who.username,
    password: who.password,
    ...binding,
    isAdmin: false,
  });
  await services().identity.grants.grantFromCli(
    {
      accountId: id,
      role,
      scope: { kind: 'division', value: division },
      itemCodes: null,
      validUntil: new Date(Date.now() + 30 * 86_400_000),
      reason: `e2e：${who.name}`,
    },
    'e2e',
  );
}

beforeAll(async () => {
  h = await startHarness('staff-dashboard', { clock: () => frozen ?? new Date() });
  if (!h.server.services) throw new Error('the dashboard story files its cases: run it without E2E_BASE_URL');
  await fileCases();
  // from here on the server lives in the present: sessions, grants and the dashboard's "today"
  frozen = null;
  await h.server.jobs!.runOnce();
  // a staff account is bound to a department or a hall: the province's government-services office
  const office = await services().departments.findDepartment('52', 'government_services');
  if (!office) throw new Error('no province government-services department in the reference data');
  await staffAccount(LEADER, { departmentId: office.id }, 'leader', '52');
  await staffAccount(DUTY, { hallCode: KAILI_HALL }, 'duty_officer', KAILI);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

async function signIn(p: Page, who: { username: string; password: string }): Promise<void> {
  p.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/v1/kpi/dashboard') asked.push(url.searchParams);
  });
  await p.goto(`${h.server.url}/staff/`);
  await p.locator('[data-testid="username"] input, input[data-testid="username"]').first().fill(who.username);
  await p.locator('[data-testid="password"] input, input[data-testid="password"]').first().fill(who.password);
  await p.getByTestId('sign-in').click();
  await p.getByTestId('nav-dashboard').click();
  await p.getByTestId('kpi-cards').waitFor();
}

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

describe('staff workbench: the dashboard on real data', () => {
  const last30 = presetRange(30, today);
  const last7 = presetRange(7, today);

  test("a province leader opens 看板: every KPI card with the server's value and trend in words", async () => {
    page = await h.newPage(DESKTOP);
    await signIn(page, LEADER);
    expect(new URL(page.url()).pathname).toBe('/staff/dashboard');
    // the widest grant is the starting scope, the last 30 days the period; both in the URL
    await expect.poll(() => query().get('division')).toBe('52');
    expect(query().get('from')).toBe(last30.from);
    expect(query().get('to')).toBe(today);
    expect(asked.at(-1)?.get('division')).toBe('52');
    expect(await current()).toBe('贵州省');

    const server = await serverDashboard({ division: '52' }, last30.from, today);
    // the story's known answers: B rated 1, C rated 5 in the period; P rated 1 before it
    expect(fig(server, 'satisfaction_rate')).toMatchObject({
      value: 0.5,
      numerator: 1,
      denominator: 2,
      previous: 1,
    });
    expect(await page.locator('[data-testid^="kpi-card-"]').count()).toBe(KPI_IDS.length);
    for (const id of KPI_IDS) {
      const text = await page.getByTestId(`kpi-card-${id}`).getByTestId('kpi-value').textContent();
      expect(text, id).toContain(shown(id, fig(server, id).value));
    }
    const sat = fig(server, 'satisfaction_rate');
    const trend = trendOf('satisfaction_rate', sat.value, sat.previous);
    expect(trend.judgement).toBe('worse');
    const trendText =
      (await page.getByTestId('kpi-card-satisfaction_rate').getByTestId('kpi-trend').textContent()) ?? '';
    expect(trendText).toContain('↓');
    expect(trendText).toContain('变差');
    // every card's judgement is the model's over the server's figures (higherIsBetter decides the words)
    for (const id of KPI_IDS) {
      const f = fig(server, id);
      expect(
        await page.getByTestId(`kpi-card-${id}`).getByTestId('kpi-trend').getAttribute('data-judgement'),
        id,
      ).toBe(trendOf(id, f.value, f.previous).judgement);
    }
    expect(KPI_DEFINITIONS.overdue_rate.higherIsBetter).toBe(false);
    expect(await page.getByTestId('children-table').locator('tbody tr').count()).toBe(server.children.length);
    expect(server.children).toHaveLength(9);
    // the province map (by prefecture) is drawn
    await page.getByTestId('map').getByTestId('echart').locator('canvas').first().waitFor();
    await screen(page, 'dashboard-province');
  });

  test('the alerts panel shows the 凯里 hall offline to the leader, without the acknowledge button', async () => {
    const panel = page.getByTestId('alerts').getByTestId('alerts-panel');
    const row = panel.getByTestId('alerts-table').locator('tbody tr', { hasText: '大厅停摆或降级' });
    await row.waitFor();
    expect(await row.textContent()).toContain('网络中断');
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('open');
    expect(await row.locator('[data-severity]').getAttribute('data-severity')).toBe('critical');
    expect(await panel.locator('[data-testid^="alert-ack-"]').count()).toBe(0);
  });

  test('drills down province → prefecture → county → hall; the URL keeps scope and period', async () => {
    await page.getByTestId('drill-5226').click();
    await expect.poll(() => query().get('division')).toBe('5226');
    expect(query().get('from')).toBe(last30.from);
    await expect.poll(current).toBe('黔东南苗族侗族自治州');
    await expect.poll(() => page.getByTestId('children-table').locator('tbody tr').count()).toBe(16);
    const kaili = (await serverDashboard({ division: '5226' }, last30.from, today)).children.find(
      (c) => c.code === KAILI,
    )!;
    expect(kaili.received).toBe(4); // A, B, C, D
    const kailiRow = page.getByTestId('children-table').locator(`tr[data-code="${KAILI}"]`);
    expect(await kailiRow.textContent()).toContain(
      shown('satisfaction_rate', kaili.values.satisfaction_rate),
    );
    await page.getByTestId('map').getByTestId('echart').locator('canvas').first().waitFor();
    await screen(page, 'dashboard-prefecture');

    await page.getByTestId(`drill-${KAILI}`).click();
    await expect.poll(current).toBe('凯里市');
    expect(query().get('division')).toBe(KAILI);
    // a county drills into its halls and has no map
    await page.getByTestId(`drill-${KAILI_HALL}`).waitFor();
    expect(await page.getByTestId('map').count()).toBe(0);

    await page.getByTestId(`drill-${KAILI_HALL}`).click();
    await expect.poll(() => query().get('hall')).toBe(KAILI_HALL);
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
    expect(asked.at(-1)?.get('hall')).toBe(KAILI_HALL);
    // the hall's figures: it went offline on the last working day, so it was not open all its hours
    const hall = await serverDashboard({ hall: KAILI_HALL }, last30.from, today);
    const open = fig(hall, 'halls_open_rate');
    expect(open.value).not.toBeNull();
    expect(open.numerator).toBeLessThan(open.denominator);
    await expect
      .poll(() => page.getByTestId('kpi-card-halls_open_rate').getByTestId('kpi-value').textContent())
      .toContain(shown('halls_open_rate', open.value));
    expect(await page.getByTestId('kpi-card-online_share').getByTestId('kpi-value').textContent()).toContain(
      shown('online_share', fig(hall, 'online_share').value),
    );
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
    await expect.poll(() => query().get('from')).toBe(last7.from);
    await expect.poll(() => asked.at(-1)?.get('from')).toBe(last7.from);
    expect(query().get('division')).toBe('5226');

    const server = await serverDashboard({ division: '5226' }, last7.from, today);
    await expect
      .poll(() => page.getByTestId('kpi-card-overdue_rate').getByTestId('kpi-value').textContent())
      .toContain(shown('overdue_rate', fig(server, 'overdue_rate').value));
    await page.getByTestId('trend-as-table').click();
    const table = page.getByTestId('trend-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(7);
    expect(server.daily.map((d) => d.day)[0]).toBe(last7.from);
    for (const d of server.daily) {
      const cell = table.locator(`tr[data-day="${d.day}"] td`);
      expect((await cell.textContent())?.trim(), d.day).toBe(shown('overdue_rate', d.values.overdue_rate));
    }
    // A is open all week (and D from the last working day): the first day has a figure, not a dash
    expect(server.daily[0]!.values.overdue_rate).not.toBeNull();
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

  test('a 凯里市 duty officer acknowledges the alert in the panel; the server records it', async () => {
    const duty = await h.newPage(DESKTOP);
    await signIn(duty, DUTY);
    // the duty officer's scope is 凯里市: the dashboard starts there
    await expect.poll(() => new URL(duty.url()).searchParams.get('division')).toBe(KAILI);
    const panel = duty.getByTestId('alerts').getByTestId('alerts-panel');
    const row = panel.getByTestId('alerts-table').locator('tbody tr', { hasText: '大厅停摆或降级' });
    await row.waitFor();
    const [alert] = (await services().warnings.list(supervisor, { rule: 'hall_down', division: KAILI }))
      .items;
    expect(alert).toMatchObject({ hallCode: KAILI_HALL, status: 'open' });
    await duty.getByTestId(`alert-ack-${alert!.id}`).click();
    await duty
      .locator('textarea[data-testid="alert-dialog-text"], [data-testid="alert-dialog-text"] textarea')
      .first()
      .fill('已通知网络运维');
    await duty.getByTestId('alert-dialog-confirm').click();
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('acknowledged');
    expect(await row.locator('[data-status]').textContent()).toContain('已签收');
    expect(await row.textContent()).toContain('已通知网络运维');
    expect(await duty.getByTestId(`alert-ack-${alert!.id}`).count()).toBe(0);
    const after = (await services().warnings.list(supervisor, { rule: 'hall_down', division: KAILI }))
      .items[0]!;
    expect(after).toMatchObject({ status: 'acknowledged', acknowledgeNote: '已通知网络运维' });
    await screen(duty, 'dashboard-alert-acknowledged');
  });
});
