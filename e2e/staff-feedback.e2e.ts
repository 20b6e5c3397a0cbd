/**
 * The staff feedback channel (一线反馈, issue 7) in Debian's Chromium against the real server and the built
 * client: the 凯里 intake clerk (demo account kaili.intake) reports a problem from the inbox screen with
 * the top-bar button — the dialog fills in the screen, refuses an empty summary, shows the report number —
 * and finds it under 我的反馈 as 新提交; the 凯里 county administrator (password + TOTP) opens the triage
 * queue, gives the report to a department with a priority and a note, and closes it with a resolution;
 * the clerk sees it closed with the answer. On a case page the case number is filled in, and one the clerk
 * cannot see is refused at the field (nothing filed). The shortcut `f` opens the dialog by keyboard. axe-core finds
 * 0 violations on every screen; screenshots go to artifacts/screenshots/staff-feedback/.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoAccount, seedDemoStaff } from '../src/cli/commands/demo.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';
import { choose, DESKTOP, inp, signInStaff } from './staff-page.ts';

const KAILI = '522601';
const SUMMARY = '收件时身份证读卡器无响应';

let h: Harness;
let accounts: Record<string, DemoAccount>;
/** The 凯里 county administrator (the demo set has none: created here like the demo's). */
const admin = {
  username: 'kaili.admin.fb',
  name: '凯里县级管理员',
  password: 'Kaili-Admin-2026!x',
  secret: '',
};

beforeAll(async () => {
  h = await startHarness('staff-feedback');
  const services = h.server.services;
  if (!services) throw new Error('the feedback story seeds accounts: run it without E2E_BASE_URL');
  accounts = Object.fromEntries((await seedDemoStaff(services)).map((a) => [a.username, a]));
  const { identity } = services;
  const account = await identity.createStaff({
    name: admin.name,
    username: admin.username,
    password: admin.password,
    hallCode: `${KAILI}-zwfw`,
    isAdmin: true,
  });
  const totp = await identity.resetStaffCredentials(account.id, { password: admin.password, totp: true });
  admin.secret = totp!.secret;
  await identity.grants.grantFromCli(
    {
      accountId: account.id,
      role: 'county_admin',
      scope: { kind: 'division', value: KAILI },
      itemCodes: null,
      validUntil: new Date(Date.now() + 30 * 86_400_000),
      reason: 'e2e 一线反馈',
    },
    'e2e',
  );
});
afterAll(async () => {
  await h?.close();
});

async function screen(page: Page, name: string) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300); // dialog / drawer transitions
  await page.screenshot({ path: path.join(h.shots, `${name}.png`), fullPage: true });
  expect(await axeViolations(page, name)).toEqual([]);
}

describe('staff workbench: 一线反馈', () => {
  let clerk: Page;
  let triager: Page;
  let number = '';

  test('the clerk reports a problem from the inbox with the top-bar button and sees its number', async () => {
    clerk = await h.newPage(DESKTOP);
    await signInStaff(clerk, h.server.url, accounts['kaili.intake']!);
    await clerk.getByTestId('inbox-empty').waitFor();
    // no triage queue in the nav for a clerk
    expect(await clerk.getByTestId('nav-feedback').count()).toBe(0);

    // the shortcut q opens the dialog by keyboard (outside a field); Escape closes it
    await clerk.locator('main h1').click();
    await clerk.keyboard.press('q');
    const dialog = clerk.getByTestId('feedback-dialog');
    await dialog.waitFor();
    expect(await clerk.getByTestId('feedback-screen').textContent()).toBe('/inbox');
    await clerk.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    await clerk.getByTestId('feedback-button').click();
    await dialog.waitFor();
    // nothing is sent without a summary
    await clerk.getByTestId('feedback-submit').click();
    await expect.poll(() => dialog.locator('.el-form-item__error').first().textContent()).toContain('概要');
    await dialog.getByTestId('feedback-category-system').click();
    await inp(dialog, 'feedback-summary').fill(SUMMARY);
    await inp(dialog, 'feedback-details').fill('上午九点起，插入身份证后读卡器指示灯不亮，重启无效。');
    await screen(clerk, '01-report-dialog');
    await clerk.getByTestId('feedback-submit').click();
    const sent = clerk.getByTestId('feedback-sent');
    await sent.waitFor();
    number = /FK\d{6}/.exec((await sent.textContent()) ?? '')?.[0] ?? '';
    expect(number).toMatch(/^FK\d{6}$/);
    await screen(clerk, '02-report-sent');

    await clerk.getByTestId('feedback-open-mine').click();
    const row = clerk.locator(`[data-testid="feedback-row"][data-number="${number}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('new');
    expect(await row.textContent()).toContain(SUMMARY);
    expect(await clerk.getByTestId('feedback-tab-queue').count()).toBe(0);
    await screen(clerk, '03-my-reports-new');
  });

  test('on a case page the case number is filled in; one the clerk cannot see is refused at the field', async () => {
    const unknown = '522601202601019999999';
    await clerk.goto(`${h.server.url}/staff/cases/${unknown}`);
    await clerk.getByTestId('case-not-found').waitFor();
    await clerk.getByTestId('feedback-button').click();
    const dialog = clerk.getByTestId('feedback-dialog');
    await dialog.waitFor();
    expect(await inp(dialog, 'feedback-case').inputValue()).toBe(unknown);
    expect(await clerk.getByTestId('feedback-screen').textContent()).toBe(`/cases/${unknown}`);
    await inp(dialog, 'feedback-summary').fill('办件页面打不开');
    await clerk.getByTestId('feedback-submit').click();
    await expect
      .poll(() => dialog.locator('.el-form-item__error').first().textContent())
      .toContain('您能查看的办件中没有这个编号');
    expect(await clerk.getByTestId('feedback-sent').count()).toBe(0);
    await screen(clerk, '03b-case-refused');
    await clerk.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await clerk.goto(`${h.server.url}/staff/feedback?tab=mine`);
    await clerk.getByTestId('feedback-table').waitFor();
    // nothing was filed by the refused attempt
    expect(await clerk.getByTestId('feedback-row').count()).toBe(1);
  });

  test('the county administrator triages the report to a department and closes it', async () => {
    triager = await h.newPage(DESKTOP);
    await signInStaff(triager, h.server.url, { ...admin, totpSecret: admin.secret });
    await triager.getByTestId('nav-feedback').click();
    const row = triager.locator(`[data-testid="feedback-row"][data-number="${number}"]`);
    await row.waitFor();
    expect(new URL(triager.url()).searchParams.get('tab') ?? 'queue').toBe('queue');
    await screen(triager, '04-triage-queue');

    await row.getByTestId('feedback-open').click();
    const drawer = triager.getByTestId('feedback-drawer');
    await drawer.getByTestId('drawer-triage').waitFor();
    expect(await drawer.getByTestId('drawer-summary').textContent()).toBe(SUMMARY);
    await choose(triager, drawer.getByTestId('drawer-owner'), '民政局');
    await drawer.getByTestId('drawer-priority-high').click();
    await drawer.locator('#feedback-note').fill('已通知信息科更换读卡器');
    await screen(triager, '05-triage-form');
    await drawer.getByTestId('drawer-triage-save').click();
    await expect.poll(() => drawer.getByTestId('drawer-status').textContent()).toContain('已分派');
    expect(await drawer.getByTestId('drawer-comments').textContent()).toContain('已通知信息科更换读卡器');

    // closing needs the resolution
    await drawer.getByTestId('drawer-close-submit').click();
    await expect.poll(() => drawer.locator('.el-form-item__error').count()).toBeGreaterThan(0);
    await inp(drawer, 'drawer-resolution-input').fill('读卡器已更换，恢复正常');
    await drawer.getByTestId('drawer-close-submit').click();
    await expect.poll(() => drawer.getByTestId('drawer-status').textContent()).toContain('已关闭');
    expect(await drawer.getByTestId('drawer-resolution').textContent()).toBe('读卡器已更换，恢复正常');
    await screen(triager, '06-closed');
  });

  test('the clerk sees the report closed with the answer', async () => {
    await clerk.getByTestId('feedback-refresh').click();
    const row = clerk.locator(`[data-testid="feedback-row"][data-number="${number}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('closed');
    await row.getByTestId('feedback-open').click();
    const drawer = clerk.getByTestId('feedback-drawer');
    await drawer.getByTestId('drawer-resolution').waitFor();
    expect(await drawer.getByTestId('drawer-resolution').textContent()).toBe('读卡器已更换，恢复正常');
    // the reporter may not triage: no triage form
    expect(await drawer.getByTestId('drawer-triage').count()).toBe(0);
    await screen(clerk, '07-my-report-closed');
  });
});
