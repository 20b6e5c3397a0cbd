/**
 * 帮办代办 in the staff workbench (Debian's Chromium, the real server and the built client): a 村级代办员 of
 * the 凯里 hall signs in, records an authorization for a resident in the intake view (登记委托: the scan of
 * the signed form, its SM3 computed in the browser, then uploaded — in force at once), which is selected;
 * files 最低生活保障申请 for the resident under it; the case page shows the form data by label. axe-core
 * finds 0 violations on the dialog; screenshots go to artifacts/screenshots/staff/agent-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_KAILI_HALL } from '../src/cli/commands/demo.ts';
import { createVillageAgent } from '../src/testing/agents.ts';
import { syntheticIdNumber } from '../src/testing/pii-flow.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';

const ITEM = '050004001000'; // 最低生活保障申请
const RESIDENT_ID = syntheticIdNumber('520526', '19750203', '041');
const PASSWORD = 'Agent-e2e-Pass-9a';
const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  isMobile: false,
  deviceScaleFactor: 1,
  locale: 'zh-CN',
};
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let h: Harness;
let shots: string;

beforeAll(async () => {
  h = await startHarness('staff-agent');
  const services = h.server.services;
  if (!services) throw new Error('the agent story creates accounts: run it without E2E_BASE_URL');
  const { identity } = services;
  await createVillageAgent(identity, {
    name: '凯里代办员',
    username: 'kaili.agent',
    password: PASSWORD,
    hallCode: DEMO_KAILI_HALL,
    reason: 'e2e 帮办代办',
  });
  await identity.registerResident({ name: '李阿婆', idNumber: RESIDENT_ID, phone: '13900000041' });
  shots = process.env.E2E_SCREENSHOTS ?? path.resolve('artifacts/screenshots/staff');
  fs.mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await h?.close();
});

const inp = (scope: Page | Locator, id: string) =>
  scope
    .locator(`input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input`)
    .first();

describe('帮办代办 in the workbench', () => {
  test('a village agent records an authorization with a scan and files under it', async () => {
    const page = await h.newPage(DESKTOP);
    await page.goto(`${h.server.url}/staff/`);
    await inp(page, 'username').fill('kaili.agent');
    await inp(page, 'password').fill(PASSWORD);
    await page.getByTestId('sign-in').click();
    await expect
      .poll(() => page.getByTestId('who').textContent(), { timeout: 15_000 })
      .toContain('凯里代办员');

    await page.goto(`${h.server.url}/staff/intake`);
    await inp(page, 'item-search').fill('低保');
    await inp(page, 'item-search').press('Enter');
    await page.locator(`[data-testid="item-result"][data-code="${ITEM}"]`).click();
    await inp(page, 'applicant-name').fill('李阿婆');
    await inp(page, 'id-number').fill(RESIDENT_ID);
    await expect.poll(() => inp(page, 'deciding-division').inputValue()).toBe('520526');
    await page.getByTestId('as-agent').locator('.el-switch').click();
    expect(await page.getByTestId('as-agent').getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await page.getByTestId('record-authorization').click();

    const dialog = page.getByTestId('agent-auth-dialog');
    await dialog.waitFor();
    // the resident's ID number is carried over; the default is 90 days
    expect(await dialog.locator('#agent-auth-id').inputValue()).toBe(RESIDENT_ID);
    expect(await inp(dialog, 'agent-auth-until').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // no scan: refused in the dialog, by field, nothing sent
    await dialog.getByTestId('agent-auth-submit').click();
    await expect
      .poll(() => dialog.locator('.el-form-item__error').allTextContents())
      .toContain('请上传签字委托书的扫描件或照片。');
    await dialog
      .getByTestId('agent-auth-scan')
      .setInputFiles({ name: '委托书.png', mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => dialog.locator('.el-form-item__error').count()).toBe(0);
    // away from the submit button clicked above (its hover / focus shade is not the resting one)
    await page.mouse.move(0, 0);
    await dialog.locator('#agent-auth-ref').focus();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, 'agent-01-authorization-dialog.png'), fullPage: true });
    expect(await axeViolations(page, 'agent-authorization-dialog')).toEqual([]);
    await dialog.getByTestId('agent-auth-submit').click();
    await page
      .getByTestId('authorization-active')
      .waitFor({ timeout: 15_000 })
      .catch(async () => {
        await page.screenshot({ path: path.join(shots, 'agent-failed.png'), fullPage: true });
        throw new Error(`not recorded: ${await dialog.textContent()}`);
      });
    await dialog.waitFor({ state: 'hidden' });

    // in force (the server verified the scan's SM3) and selected for this application
    const rows = page.getByTestId('check-row');
    const n = await rows.count();
    for (let i = 0; i < n; i++) await rows.nth(i).getByTestId('check-original').click();
    await inp(page, 'form-familySize').fill('2');
    await page.screenshot({ path: path.join(shots, 'agent-02-intake-authorized.png'), fullPage: true });
    await page.getByTestId('intake-submit').click();
    await page
      .locator('[data-testid="intake-done"], [data-testid="error"]')
      .first()
      .waitFor({ timeout: 60_000 });
    if ((await page.getByTestId('intake-done').count()) === 0)
      throw new Error(`intake refused: ${await page.locator('main').textContent()}`);
    const number = ((await page.getByTestId('filed-number').textContent()) ?? '').trim();
    const c = await h.server.services!.cases.get(number);
    expect(c.agent).toMatchObject({ kind: 'hall_helper', name: '凯里代办员' });

    // the case page shows the form data by label, not by key
    await page.goto(`${h.server.url}/staff/cases/${number}`);
    await page.getByTestId('case-head').waitFor();
    await expect.poll(() => page.getByTestId('form-data').textContent()).toContain('家庭');
    expect(await page.getByTestId('form-data').textContent()).not.toContain('familySize');
    await page.screenshot({ path: path.join(shots, 'agent-03-case.png'), fullPage: true });
  });
});
