/**
 * The admin screens of the staff workbench (issue 5, 管理) in Debian's Chromium against the real server
 * and the built client: the 威宁 county administrator (password + TOTP) creates a staff member (the
 * initial password shown once), grants 收件员 over the 威宁 hall until a date; the new staff member signs
 * in and sees the workbench that grant allows (no admin menu); the administrator revokes the grant and the
 * staff member's next request is refused. The hall is set to 降级 with a reason and an expected end; a
 * variance of the implementation list is refused (promised limit beyond the legal one, the field named)
 * and then saved; the catalog import is explained as province-only; the change log lists what was done.
 * axe-core finds 0 violations on every screen; screenshots go to artifacts/screenshots/staff/admin-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'otplib';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoAccount, seedDemoStaff } from '../src/cli/commands/demo.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';

const HALL = '520526-zwfw'; // 威宁 county government service centre
const IMPLEMENTATION = '050004001000-520526'; // 最低生活保障申请 in 威宁: legal limit 30 working days
const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  isMobile: false,
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};

let h: Harness;
let accounts: Record<string, DemoAccount>;
let shots: string;

beforeAll(async () => {
  h = await startHarness('staff-admin');
  if (!h.server.services) throw new Error('the admin story seeds demo accounts: run it without E2E_BASE_URL');
  accounts = Object.fromEntries((await seedDemoStaff(h.server.services)).map((a) => [a.username, a]));
  shots = process.env.E2E_SCREENSHOTS ?? path.resolve('artifacts/screenshots/staff');
  fs.mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await h?.close();
});

async function screen(page: Page, name: string) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300); // dialog / popper transitions
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  expect(await axeViolations(page, name)).toEqual([]);
}

const inp = (scope: Page | Locator, id: string) =>
  scope
    .locator(
      `input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input, [data-testid="${id}"] textarea`,
    )
    .first();

/** Chooses the option of an Element Plus select whose label contains `text`. */
async function choose(page: Page, select: Locator, text: string) {
  await select.click();
  const option = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first();
  await option.click();
  await page.keyboard.press('Escape').catch(() => {});
}

describe('staff workbench: admin screens', () => {
  let admin: Page;
  let staff: Page;
  let newPassword = '';

  test('the county administrator creates a staff member; the initial password is shown once', async () => {
    admin = await h.newPage(DESKTOP);
    await admin.goto(`${h.server.url}/staff/`);
    await inp(admin, 'username').fill('weining.admin');
    await inp(admin, 'password').fill(accounts['weining.admin']!.password);
    await admin.getByTestId('sign-in').click();
    await inp(admin, 'totp').fill(await generate({ secret: accounts['weining.admin']!.totp!.secret }));
    await admin.getByTestId('sign-in').click();
    await admin.getByTestId('nav-admin').click();
    await admin.getByTestId('staff-table').waitFor();
    expect(new URL(admin.url()).pathname).toBe('/staff/admin/staff');
    // a county administrator sees the screens of their grant: all five entries
    expect(await admin.getByTestId('admin-nav').locator('a').count()).toBe(5);
    await screen(admin, 'admin-staff');

    await admin.getByTestId('staff-create').click();
    const dialog = admin.getByTestId('create-dialog');
    await dialog.waitFor();
    // nothing is sent before the form is complete
    await admin.getByTestId('create-submit').click();
    await expect.poll(() => dialog.locator('.el-form-item__error').count()).toBeGreaterThan(0);
    await inp(dialog, 'new-name').fill('威宁新收件员');
    await inp(dialog, 'new-username').fill('weining.newclerk');
    await choose(admin, dialog.getByTestId('new-hall'), HALL);
    await screen(admin, 'admin-staff-create');
    await admin.getByTestId('create-submit').click();
    await admin.getByTestId('password-once').waitFor();
    newPassword = (await admin.getByTestId('initial-password').textContent())?.trim() ?? '';
    expect(newPassword.length).toBeGreaterThanOrEqual(10);
    await screen(admin, 'admin-staff-password');
    await admin.getByTestId('password-done').click();
    await admin.getByTestId('staff-grants-panel').waitFor();
    await admin.getByTestId('grants-empty').waitFor();
  });

  test('grants 收件员 over the 威宁 hall with an expiry; the new staff member sees what it allows', async () => {
    await admin.getByTestId('grant-open').click();
    const dialog = admin.getByTestId('grant-dialog');
    await dialog.waitFor();
    await choose(admin, dialog.getByTestId('grant-role'), '收件员');
    await dialog.getByTestId('scope-hall').click();
    await choose(admin, dialog.getByTestId('grant-hall'), HALL);
    const until = await inp(dialog, 'grant-until').inputValue();
    const days = (Date.parse(until) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(28);
    expect(days).toBeLessThan(31);
    await inp(dialog, 'grant-reason').fill('新入职，威宁政务服务中心收件窗口');
    await screen(admin, 'admin-staff-grant');
    await admin.getByTestId('grant-submit').click();
    const row = admin.locator('[data-testid="grant-row"][data-role="intake_clerk"]');
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('active');
    await screen(admin, 'admin-staff-grants');

    staff = await h.newPage(DESKTOP);
    await staff.goto(`${h.server.url}/staff/`);
    await inp(staff, 'username').fill('weining.newclerk');
    await inp(staff, 'password').fill(newPassword);
    await staff.getByTestId('sign-in').click();
    await expect
      .poll(() => staff.getByTestId('who').textContent(), { timeout: 15_000 })
      .toContain('威宁新收件员');
    await staff.getByTestId('inbox-empty').waitFor();
    expect(await staff.getByTestId('nav-admin').count()).toBe(0);
    expect(await staff.getByTestId('who').textContent()).toContain('收件员');
    // the admin screens are not for a clerk: straight back to the inbox
    await staff.goto(`${h.server.url}/staff/admin/staff`);
    await staff.getByTestId('inbox-empty').waitFor();
    expect(new URL(staff.url()).pathname).toBe('/staff/inbox');
    const status = () =>
      staff.evaluate(async (hall) => (await fetch(`/api/v1/halls/${hall}/intake`)).status, HALL);
    expect(await status()).toBe(200);

    // revoked: the staff member's next request is refused, without a new sign-in
    await admin.getByTestId('grant-revoke').click();
    await admin.getByTestId('reason-dialog').waitFor();
    await screen(admin, 'admin-staff-revoke');
    await inp(admin, 'reason').fill('调岗');
    await admin.getByTestId('reason-confirm').click();
    await expect.poll(() => row.getAttribute('data-state')).toBe('revoked');
    expect(await status()).toBe(403);
    await staff.locator('main h1').click();
    await staff.keyboard.press('r');
    await staff.getByTestId('error').waitFor();
    await screen(admin, 'admin-staff-revoked');
  });

  test('the hall is set to 降级 with a reason and an expected end', async () => {
    await admin.getByTestId('admin-nav-halls').click();
    await admin.getByTestId('hall-status').waitFor();
    expect(await admin.getByTestId('hall-select').textContent()).toBeDefined();
    await screen(admin, 'admin-halls');
    await admin.getByTestId('status-degraded').click();
    // a reason is required
    await admin.getByTestId('status-save').click();
    await expect.poll(() => admin.locator('.el-form-item__error').count()).toBeGreaterThan(0);
    await inp(admin, 'status-reason').fill('网络故障，部分事项暂停收件');
    const end = new Date(Date.now() + 2 * 86_400_000 + 8 * 3600_000).toISOString().slice(0, 16);
    await inp(admin, 'status-end').fill(end);
    await admin.getByTestId('status-save').click();
    await expect.poll(() => admin.getByTestId('hall-status').getAttribute('data-status')).toBe('degraded');
    expect(await admin.getByTestId('hall-status').textContent()).toContain('网络故障');
    const hall = await h.server.services!.halls.getHall(HALL);
    expect(hall.status).toBe('degraded');
    expect(hall.statusReason).toBe('网络故障，部分事项暂停收件');
    await screen(admin, 'admin-halls-degraded');
  });

  test('a variance beyond the legal limit is refused with the field named; a valid one is saved', async () => {
    await admin.getByTestId('admin-nav-implementations').click();
    await inp(admin, 'impl-search').fill('最低生活保障');
    await inp(admin, 'impl-search').press('Enter');
    const row = admin.locator(`[data-testid="impl-row"][data-code="${IMPLEMENTATION}"]`);
    await row.waitFor();
    await screen(admin, 'admin-implementations');
    await row.getByTestId('impl-edit').click();
    const dialog = admin.getByTestId('variance-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('var-limit-on').click();
    await inp(dialog, 'var-limit-value').fill('45');
    await admin.getByTestId('var-save').click();
    const err = dialog.getByTestId('var-error-promisedTimeLimit');
    await err.waitFor();
    expect(await err.textContent()).toContain('promisedTimeLimit');
    await screen(admin, 'admin-implementations-invalid');
    await inp(dialog, 'var-limit-value').fill('15');
    await admin.getByTestId('var-save').click();
    await admin.getByTestId('impl-notice').waitFor();
    expect(await row.getByTestId('impl-local').textContent()).toContain('承诺办结时限');
    expect(await row.textContent()).toContain('15');
  });

  test('the catalog import is explained as province-only; the change log lists what was done', async () => {
    await admin.getByTestId('admin-nav-catalog').click();
    await admin.getByTestId('import-province-only').waitFor();
    expect(await admin.getByTestId('export-xlsx').getAttribute('href')).toContain('/api/v1/catalog/export');
    await screen(admin, 'admin-catalog');

    await admin.getByTestId('admin-nav-audit').click();
    await admin.getByTestId('audit-table').waitFor();
    const actions = await admin
      .getByTestId('audit-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    for (const a of [
      'account.create',
      'grant.create',
      'grant.revoke',
      'hall.status_change',
      'implementation.variances_update',
    ])
      expect(actions).toContain(a);
    await screen(admin, 'admin-audit');
  });
});
