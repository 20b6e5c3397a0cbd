/**
 * The staff workbench story (issue 5) in Debian's Chromium against the real server and the built client:
 * the 凯里 intake clerk takes in 最低生活保障申请 for an applicant of 威宁彝族回族苗族自治县 (materials
 * verified, a scan uploaded) and forwards it; in a second browser context the 威宁 officer finds it in the
 * inbox and requests supplements (one notice listing every gap); the intake hall records the resubmission;
 * the officer accepts and decides; the 凯里 pickup desk hands the result over with the pickup code. A
 * 南明区 clerk cannot see the case; an administrator signs in with password + TOTP; an ended session
 * returns to sign-in with the reason. axe-core finds 0 violations on every screen; screenshots of each
 * screen go to artifacts/screenshots/staff (or E2E_SCREENSHOTS).
 *
 * In the case thread the officer @mentions the clerk, whose unread badge rises live (no reload); the clerk
 * opens it from the badge, reads and replies, and the officer sees the reply live. The 收件凭证, the
 * 一次性告知书, the 受理通知书 and the 准予许可决定书 are downloaded through the UI and parsed (pdfjs-dist):
 * each carries the 文号 shown in the UI and the case number, the notice every gap requested. The applicant
 * visits twice (receipt and pickup).
 */
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'otplib';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoAccount, seedDemoStaff } from '../src/cli/commands/demo.ts';
import { axeViolations, type Harness, settled, startHarness } from './harness.ts';

const ITEM = '050004001000'; // 最低生活保障申请, decided where the applicant is registered
const APPLICANT_ID = '520526198503120020'; // made up, valid GB 11643 check character, 威宁
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
let accounts: Record<string, DemoAccount>;
let shots: string;
let caseNumber = '';
let pickupCode = '';

beforeAll(async () => {
  h = await startHarness('staff');
  if (!h.server.services) throw new Error('the staff story seeds demo accounts: run it without E2E_BASE_URL');
  accounts = Object.fromEntries((await seedDemoStaff(h.server.services)).map((a) => [a.username, a]));
  shots = process.env.E2E_SCREENSHOTS ?? path.resolve('artifacts/screenshots/staff');
  fs.mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await h?.close();
});

/** The pickup code as the applicant received it (their inbox; the jobs loop sends it within seconds). */
async function applicantPickupCode(): Promise<string> {
  const services = h.server.services!;
  const c = await services.cases.get(caseNumber);
  let code: string | undefined;
  await expect
    .poll(
      async () => {
        const inbox = await services.notifications.inboxOf({ kind: 'applicant', id: `case:${c.id}` });
        code = /(?:取件码)\D*(\d{6})/.exec(JSON.stringify(inbox.items))?.[1];
        return code;
      },
      { timeout: 20_000 },
    )
    .toMatch(/^\d{6}$/);
  return code!;
}

/** Saves a full-page screenshot and asserts axe-core finds nothing. */
async function screen(page: Page, name: string) {
  await page.waitForLoadState('networkidle');
  await settled(page);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  expect(await axeViolations(page, name)).toEqual([]);
}

async function signIn(page: Page, username: string, totp?: string) {
  await page.goto(`${h.server.url}/staff/`);
  await inp(page, 'username').fill(username);
  await inp(page, 'password').fill(accounts[username]!.password);
  await page.getByTestId('sign-in').click();
  if (totp !== undefined) {
    await inp(page, 'totp').fill(totp);
    await page.getByTestId('sign-in').click();
  }
  await expect
    .poll(() => page.getByTestId('who').textContent(), { timeout: 15_000 })
    .toContain(accounts[username]!.name);
}

/** The native input of an Element Plus field (its data-testid lands on the input or on its wrapper). */
const inp = (scope: Page | Locator, id: string) =>
  scope
    .locator(`input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input`)
    .first();

const inpAll = (scope: Locator, id: string) =>
  scope.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`);

const status = (page: Page) => page.getByTestId('case-status').getAttribute('data-status');

async function act(page: Page, action: string, fill?: (dialog: Locator) => Promise<void>) {
  await page.getByTestId(`action-${action}`).click();
  const dialog = page.locator(`[data-testid="action-dialog"][data-action="${action}"]`);
  await dialog.waitFor();
  if (fill) await fill(dialog);
  return dialog;
}

/** The text of a PDF, whitespace removed (pdfjs-dist; the documents embed a CJK subset with ToUnicode). */
async function pdfText(bytes: Buffer): Promise<string> {
  const task = getDocument({ data: new Uint8Array(bytes), useSystemFonts: false });
  const pdf = await task.promise;
  let text = '';
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    text += content.items.map((it) => ('str' in it ? it.str : '')).join('');
  }
  await task.destroy();
  return text.replace(/\s+/g, '');
}

/**
 * Downloads a document of `kind` from a documents panel through its 下载 link (Playwright's download
 * event) and returns the 文号 the UI shows and the PDF's text.
 */
async function downloadDocument(page: Page, panel: Locator, kind: string) {
  const row = panel.locator(`[data-testid="document-row"][data-kind="${kind}"]`);
  await row.waitFor({ timeout: 20_000 });
  const number = ((await row.getByTestId('document-number').textContent()) ?? '').trim();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row.getByTestId('document-download').click(),
  ]);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
  return { number, text: await pdfText(bytes) };
}

describe('staff workbench', () => {
  let clerk: Page;
  let officer: Page;

  test('intake at 凯里 of an item decided in 威宁, with materials, a scan and the forward', async () => {
    clerk = await h.newPage(DESKTOP);
    await clerk.goto(`${h.server.url}/staff/inbox`);
    await clerk.getByTestId('sign-in').waitFor();
    expect(new URL(clerk.url()).pathname).toBe('/staff/sign-in');
    await screen(clerk, '01-sign-in');

    await signIn(clerk, 'kaili.intake');
    await clerk.getByTestId('inbox-empty').waitFor();
    await screen(clerk, '02-inbox-empty');

    await clerk.getByTestId('new-intake').click();
    await inp(clerk, 'item-search').fill('低保');
    await inp(clerk, 'item-search').press('Enter');
    await clerk.locator(`[data-testid="item-result"][data-code="${ITEM}"]`).click();
    await inp(clerk, 'applicant-name').fill('王小芳');
    // a wrong check character is explained before anything is sent
    await inp(clerk, 'id-number').fill('520526198503120021');
    await inp(clerk, 'applicant-name').click();
    await expect.poll(() => clerk.locator('.el-form-item__error').first().textContent()).toContain('校验码');
    await inp(clerk, 'id-number').fill(APPLICANT_ID);
    await expect.poll(() => inp(clerk, 'deciding-division').inputValue()).toBe('520526');
    await expect
      .poll(() => clerk.getByTestId('competent').textContent(), { timeout: 15_000 })
      .toMatch(/威宁.*民政/);
    const rows = clerk.getByTestId('check-row');
    expect(await rows.count()).toBe(4);
    for (let i = 0; i < 4; i++) await rows.nth(i).getByTestId('check-original').click();
    await rows
      .nth(0)
      .getByTestId('check-scan')
      .setInputFiles({ name: '身份证.png', mimeType: 'image/png', buffer: PNG });
    await inp(clerk, 'form-familySize').fill('3');
    await screen(clerk, '03-intake-form');
    await clerk.getByTestId('intake-submit').click();
    await clerk
      .locator('[data-testid="intake-done"], [data-testid="error"]')
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(() => {});
    if ((await clerk.getByTestId('intake-done').count()) === 0) {
      await clerk.screenshot({ path: path.join(shots, 'failed-intake.png'), fullPage: true });
      throw new Error(`intake refused: ${await clerk.locator('main').textContent()}`);
    }
    caseNumber = ((await clerk.getByTestId('filed-number').textContent()) ?? '').trim();
    expect(caseNumber).toMatch(/^522601\d{15}$/);
    // the 收件凭证 is offered at once, for the applicant to take home
    const receipt = await downloadDocument(clerk, clerk.getByTestId('intake-receipt'), 'receipt');
    expect(receipt.number).toMatch(/〔20\d\d〕第\d{6}号$/);
    expect(receipt.text).toContain(receipt.number);
    expect(receipt.text).toContain(caseNumber);
    expect(receipt.text).toContain('收件凭证');
    await clerk.getByTestId('forward').click();
    await clerk.getByTestId('forwarded').waitFor();
    await screen(clerk, '04-intake-filed-forwarded');

    // the intake list of the hall shows it; the case page shows custody with the scan
    await clerk.getByTestId('nav-inbox').click();
    await clerk.locator(`[data-testid="inbox-row"][data-number="${caseNumber}"]`).waitFor();
    await clerk.goto(`${h.server.url}/staff/cases/${caseNumber}`);
    await clerk.getByTestId('case-head').waitFor();
    expect(await status(clerk)).toBe('received');
    await expect.poll(() => clerk.locator('.scan img').count()).toBe(1);
    await screen(clerk, '05-case-intake-side');
  });

  test('威宁 sees it in the inbox and requests every supplement at once', async () => {
    officer = await h.newPage(DESKTOP);
    await signIn(officer, 'weining.officer');
    const row = officer.locator(`[data-testid="inbox-row"][data-number="${caseNumber}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getByTestId('light').textContent()).toMatch(/正常|预警|超期|未起算|剩余/);
    await screen(officer, '06-inbox-weining');

    await row.getByTestId('case-link').click();
    await officer.getByTestId('case-head').waitFor();
    await screen(officer, '07-case-weining');

    const dialog = await act(officer, 'request_supplement', async (d) => {
      await d.getByText('申请人居民户口簿').click();
      await d.getByTestId('add-gap').click();
    });
    // an empty reason is refused in the dialog, naming the gap
    await dialog.getByTestId('action-submit').click();
    await dialog.getByTestId('error').waitFor();
    const reasons = inpAll(dialog, 'gap-reason');
    await reasons.nth(0).fill('户口簿首页复印件不清晰，请携带原件');
    await dialog.locator('input[placeholder="其他补正事项名称"]').fill('村委会证明');
    await reasons.nth(1).fill('补充居住地村委会出具的家庭情况证明');
    await screen(officer, '08-supplement-dialog');
    await dialog.getByTestId('action-submit').click();
    await expect.poll(() => status(officer), { timeout: 15_000 }).toBe('supplement_requested');
    expect(await officer.getByTestId('timeline').textContent()).toContain('村委会证明');
    // the 一次性告知书 lists every gap, with the 文号 shown and the case number
    const notice = await downloadDocument(
      officer,
      officer.getByTestId('documents-panel'),
      'supplement_notice',
    );
    expect(notice.text).toContain(notice.number);
    expect(notice.text).toContain(caseNumber);
    for (const gap of [
      '申请人居民户口簿',
      '户口簿首页复印件不清晰，请携带原件',
      '村委会证明',
      '补充居住地村委会出具的家庭情况证明',
    ])
      expect(notice.text).toContain(gap);
    const receipt = officer.locator('[data-testid="document-row"][data-kind="receipt"]');
    expect(await receipt.count()).toBe(1);
    await screen(officer, '08b-documents-supplement');
  });

  test('a message in the case thread: 威宁 @mentions the 凯里 clerk, who sees it live and replies', async () => {
    const clerkName = accounts['kaili.intake']!.name;
    // the clerk waits on the inbox; the live socket follows the listed cases
    await clerk.getByTestId('nav-inbox').click();
    await clerk.locator(`[data-testid="inbox-row"][data-number="${caseNumber}"]`).waitFor();
    const badge = clerk.getByTestId('unread-badge');
    await expect.poll(() => badge.getAttribute('data-live-cases'), { timeout: 15_000 }).not.toBe('0');
    expect(await badge.getAttribute('data-total')).toBe('0');

    const panel = officer.getByTestId('messages-panel');
    await panel.getByTestId('messages-empty').waitFor();
    await panel.getByTestId('mention-picker').click();
    await officer.locator('.el-select-dropdown__item', { hasText: clerkName }).first().click();
    await officer.keyboard.press('Escape');
    // the picker's dropdown closes with a transition: compose only once it is gone
    await expect.poll(() => officer.locator('.el-select-dropdown:visible').count()).toBe(0);
    await inp(panel, 'message-text').fill('申请人户口簿需核对原件，请收件窗口协助通知申请人补正。');
    await screen(officer, '17-messages-compose');
    await panel.getByTestId('message-send').click();
    await panel.locator('[data-testid="message"][data-seq="1"]').waitFor();

    // the clerk's badge rises without a reload
    await expect.poll(() => badge.getAttribute('data-total'), { timeout: 15_000 }).toBe('1');
    expect(await clerk.getByTestId('unread-count').textContent()).toBe('1');
    await badge.click();
    await clerk.getByTestId('unread-list').waitFor();
    await screen(clerk, '18-unread-badge');
    await clerk.locator(`[data-testid="unread-item"][data-number="${caseNumber}"]`).click();
    const mine = clerk.getByTestId('messages-panel');
    const first = mine.locator('[data-testid="message"][data-seq="1"]');
    await first.waitFor();
    expect(await first.textContent()).toContain('提及了您');
    // viewing it marks it read: the badge goes back to 0
    await expect.poll(() => badge.getAttribute('data-total'), { timeout: 15_000 }).toBe('0');
    await inp(mine, 'message-text').fill('已电话通知申请人，将携带户口簿原件到凯里大厅补正。');
    await mine.getByTestId('message-send').click();
    await mine.locator('[data-testid="message"][data-seq="2"]').waitFor();
    await screen(clerk, '19-messages-clerk');

    // the officer sees the reply live, announced politely
    await panel.locator('[data-testid="message"][data-seq="2"]').waitFor({ timeout: 15_000 });
    expect(await panel.getByTestId('messages-live').textContent()).toContain('携带户口簿原件');
    expect(await panel.getByTestId('messages-live').getAttribute('aria-live')).toBe('polite');
    await screen(officer, '20-messages-officer-live');
  });

  test('the intake hall records the resubmission; 威宁 accepts (key a) and decides', async () => {
    await clerk.reload();
    await clerk.getByTestId('case-head').waitFor();
    expect(await status(clerk)).toBe('supplement_requested');
    await act(clerk, 'resubmit');
    await clerk.getByTestId('action-submit').click();
    await expect.poll(() => status(clerk), { timeout: 15_000 }).toBe('received');

    await officer.reload();
    await officer.getByTestId('case-head').waitFor();
    await officer.locator('body').press('?');
    await officer.getByTestId('help-dialog').getByText('受理').first().waitFor();
    await screen(officer, '09-shortcuts-help');
    await officer.keyboard.press('Escape');
    await officer.locator('[data-testid="help-dialog"]').waitFor({ state: 'hidden' });
    await officer.locator('body').press('a');
    const accept = officer.locator('[data-testid="action-dialog"][data-action="accept"]');
    await accept.waitFor();
    await accept.getByTestId('action-submit').click();
    await expect.poll(() => status(officer), { timeout: 15_000 }).toBe('accepted');
    const acceptance = await downloadDocument(
      officer,
      officer.getByTestId('documents-panel'),
      'acceptance_notice',
    );
    expect(acceptance.text).toContain(acceptance.number);
    expect(acceptance.text).toContain(caseNumber);
    expect(acceptance.text).toContain('受理通知书');

    // a denial without a reason is refused in the dialog
    const decide = await act(officer, 'decide', async (d) => {
      await d.getByTestId('outcome-denied').click();
    });
    await decide.getByTestId('action-submit').click();
    await decide.getByTestId('error').waitFor();
    await decide.getByTestId('outcome-granted').click();
    await decide.getByTestId('action-submit').click();
    await expect.poll(() => status(officer), { timeout: 15_000 }).toBe('decided');
    await screen(officer, '10-case-decided');
    const decision = await downloadDocument(
      officer,
      officer.getByTestId('documents-panel'),
      'grant_decision',
    );
    expect(decision.text).toContain(decision.number);
    expect(decision.text).toContain(caseNumber);
    expect(decision.text).toContain('准予');
    // every document's 文号 is its own
    expect(new Set([acceptance.number, decision.number]).size).toBe(2);
    await officer
      .locator('[data-testid="document-row"][data-kind="grant_decision"]')
      .getByTestId('document-preview')
      .click();
    await officer.locator('.doc-frame').waitFor();
    await officer.waitForTimeout(500);
    await officer.screenshot({ path: path.join(shots, '10b-document-preview.png'), fullPage: true });
    await officer.keyboard.press('Escape');
    await officer.locator('.doc-frame').waitFor({ state: 'detached' });
    // the code goes to the applicant alone (their inbox / SMS); the staff screens never show it
    expect(await officer.locator('body').textContent()).not.toMatch(/取件码\s*\d{6}/);
    pickupCode = await applicantPickupCode();
    expect(pickupCode).toMatch(/^\d{6}$/);
  });

  test('the 凯里 pickup desk hands the result over with the pickup code', async () => {
    const desk = await h.newPage(DESKTOP);
    await signIn(desk, 'kaili.pickup');
    await desk.getByTestId('nav-pickup').click();
    await inp(desk, 'pickup-number').fill(caseNumber);
    await desk.getByTestId('pickup-find').click();
    await desk.getByTestId('pickup-code').waitFor();
    await inp(desk, 'pickup-code').fill(pickupCode === '000000' ? '111111' : '000000');
    await desk.getByTestId('hand-over').click();
    await desk.getByTestId('error').waitFor();
    await screen(desk, '11-pickup-wrong-code');
    await inp(desk, 'pickup-code').fill(pickupCode);
    await desk.getByTestId('hand-over').click();
    await desk.getByTestId('pickup-done').waitFor();
    expect(await desk.getByTestId('pickup-status').getAttribute('data-status')).toBe('delivered');
    await screen(desk, '12-pickup-done');
    // the applicant came twice: to hand the application in, and to pick the result up (一次办成)
    const services = h.server.services!;
    const c = await services.cases.get(caseNumber);
    expect(c.visits).toBe(2);
    const visits = (await services.cases.timeline(caseNumber)).filter(
      (e: { type: string }) => e.type === 'receive' || e.type === 'deliver',
    );
    expect(visits.length).toBeLessThanOrEqual(2);
  });

  test('a clerk of another county sees nothing of the case', async () => {
    const other = await h.newPage(DESKTOP);
    await signIn(other, 'nanming.intake');
    await other.getByTestId('inbox-empty').waitFor();
    expect(await other.locator(`[data-number="${caseNumber}"]`).count()).toBe(0);
    await other.goto(`${h.server.url}/staff/cases/${caseNumber}`);
    await other.getByTestId('case-not-found').waitFor();
    expect(await other.locator('body').textContent()).not.toContain('王小芳');
    await screen(other, '13-other-county-not-found');
  });

  test('an administrator signs in with password + TOTP and reaches the admin menu', async () => {
    const admin = await h.newPage(DESKTOP);
    const secret = accounts['weining.admin']!.totp!.secret;
    await admin.goto(`${h.server.url}/staff/`);
    await inp(admin, 'username').fill('weining.admin');
    await inp(admin, 'password').fill(accounts['weining.admin']!.password);
    await admin.getByTestId('sign-in').click();
    await admin.getByTestId('totp').waitFor();
    await screen(admin, '14-sign-in-totp');
    await inp(admin, 'totp').fill(await generate({ secret }));
    await admin.getByTestId('sign-in').click();
    await admin.getByTestId('nav-admin').click();
    await admin.getByTestId('admin-nav').waitFor();
    await screen(admin, '15-admin-staff');
  });

  test('an ended session returns to sign-in with the reason', async () => {
    await clerk.context().clearCookies();
    await clerk.getByTestId('nav-inbox').click();
    await clerk.getByTestId('session-ended').waitFor({ timeout: 15_000 });
    expect(new URL(clerk.url()).pathname).toBe('/staff/sign-in');
    await screen(clerk, '16-session-ended');
  });
});
