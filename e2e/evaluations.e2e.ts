/**
 * 好差评 story (issue 7) in Debian's Chromium against the real server and the built apps: a case received
 * at the 凯里 hall for 威宁 is decided and mailed (set up through the case service); the resident opens
 * the rating link of her message (`/rate/<number>?t=<token>`) and gives level 5 非常不满意 with a comment;
 * the 威宁 civil-affairs officer finds the rectification in /staff/evaluations with its due dates in
 * working days, records the call-back and the outcome; the 凯里 intake clerk appeals the review as
 * mistaken; the 威宁 county administrator (password + TOTP) rejects the appeal with a reason; the resident
 * opens the link again, reads the outcome and gives her follow-up rating, which closes the rectification.
 * A second case is rated on the hall tablet (/staff/tablet) by the 凯里 clerk's window. axe-core finds 0
 * violations on every screen; screenshots go to artifacts/screenshots/evaluations.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoAccount, seedDemoStaff } from '../src/cli/commands/demo.ts';
import { kailiToWeiningApplication } from '../src/testing/applications.ts';
import { axeViolations, type Harness, settled, startHarness } from './harness.ts';
import { DESKTOP, inp, signInStaff } from './staff-page.ts';

const HALL = '522601-zwfw';

let h: Harness;
let accounts: Record<string, DemoAccount>;
let caseNumber = '';
let tabletCase = '';
let token = '';

/** A 凯里 → 威宁 case taken to `until` through the case service (the staff story covers these screens). */
async function caseUntil(idSeq: string, until: 'decided' | 'delivered'): Promise<string> {
  const services = h.server.services!;
  const civil = (await services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  const clerk = { kind: 'staff' as const, id: 'e2e-kaili-clerk', hallCode: HALL };
  const officer = { kind: 'staff' as const, id: 'e2e-weining-officer', departmentId: civil };
  const filed = await services.cases.submit(
    {
      ...kailiToWeiningApplication(idSeq),
      delivery: {
        method: 'mail',
        recipient: '王小芳',
        phone: '13800000009',
        address: '贵州省威宁县测试路1号',
      },
    },
    { actor: clerk, idempotencyKey: randomUUID() },
  );
  const n = filed.case.number;
  // received at the window as it was filed there
  expect(filed.case.status).toBe('received');
  const steps: [typeof clerk | typeof officer, unknown][] = [
    [clerk, { type: 'forward' }],
    [officer, { type: 'accept' }],
    [officer, { type: 'decide', outcome: 'granted' }],
  ];
  if (until === 'delivered') steps.push([officer, { type: 'deliver', method: 'mail', reference: 'SF2026' }]);
  for (const [actor, body] of steps)
    await services.cases.command(n, body, { actor, idempotencyKey: randomUUID() });
  return n;
}

beforeAll(async () => {
  h = await startHarness('evaluations');
  if (!h.server.services)
    throw new Error('the evaluations story seeds demo accounts: run it without E2E_BASE_URL');
  accounts = Object.fromEntries((await seedDemoStaff(h.server.services)).map((a) => [a.username, a]));
  caseNumber = await caseUntil('061', 'delivered');
  tabletCase = await caseUntil('062', 'decided');
  token = h.server.services.evaluations.ratingToken(caseNumber);
});
afterAll(async () => {
  await h?.close();
});

async function screen(page: Page, name: string) {
  // the pointer off the buttons: Element Plus lightens a hovered button (not what a reader sees)
  await page.mouse.move(0, 0);
  await page.waitForLoadState('networkidle');
  await settled(page);
  await page.screenshot({ path: path.join(h.shots, `${name}.png`), fullPage: true });
  expect(await axeViolations(page, name)).toEqual([]);
}

async function signIn(page: Page, username: string) {
  const a = accounts[username]!;
  await signInStaff(page, h.server.url, { ...a, totpSecret: a.totp?.secret });
}

const row = (page: Page) => page.locator(`[data-testid="rectifications"] tr[data-case="${caseNumber}"]`);

describe('a bad review runs through rectification, call-back, appeal and review', () => {
  test('the resident rates level 5 from the link in her message', async () => {
    const page = await h.newPage({ locale: 'zh-CN' });
    await page.goto(`${h.server.url}/#/rate/${caseNumber}?t=${token}`);
    await page.getByTestId('rate-form').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId('rate-item').textContent()).toContain('最低生活保障');
    await screen(page, '01-rate-link');
    await page.locator('.rate-level[data-level="5"]').click();
    await inp(page, 'rate-comment').fill('窗口让我跑了两趟');
    await screen(page, '02-rate-chosen');
    await page.getByTestId('rate-submit').click();
    await expect
      .poll(() => page.getByTestId('rate-thanks').textContent(), { timeout: 15_000 })
      .toContain('1 个工作日');
    await expect.poll(() => page.getByTestId('rate-mine').textContent()).toContain('非常不满意');
    await screen(page, '03-rate-thanks');
    expect((await h.server.services!.cases.get(caseNumber)).status).toBe('rated');
  });

  test('the 威宁 officer sees the rectification with its due dates and records the call-back and the outcome', async () => {
    const page = await h.newPage(DESKTOP);
    await signIn(page, 'weining.officer');
    await page.goto(`${h.server.url}/staff/evaluations`);
    await row(page).waitFor({ timeout: 20_000 });
    expect(await row(page).getAttribute('data-status')).toBe('open');
    expect(await row(page).getByTestId('rect-left').textContent()).toContain('剩 1 个工作日');
    await screen(page, '04-rectifications');
    await row(page).getByTestId('do-call-back').click();
    await inp(page, 'ev-text').fill('已电话回访，申请人反映需补材料跑了两趟，已致歉');
    await screen(page, '05-call-back-form');
    await page.getByTestId('ev-send').click();
    await expect.poll(() => row(page).getAttribute('data-status'), { timeout: 15_000 }).toBe('called_back');
    await row(page).getByTestId('do-outcome').click();
    await inp(page, 'ev-text').fill('一次性告知清单已补全，窗口人员已培训');
    await page.getByTestId('ev-send').click();
    await expect.poll(() => row(page).getAttribute('data-status'), { timeout: 15_000 }).toBe('rectified');
    await screen(page, '06-rectified');
  });

  test('the 凯里 intake clerk appeals the review as mistaken', async () => {
    const page = await h.newPage(DESKTOP);
    await signIn(page, 'kaili.intake');
    await page.goto(`${h.server.url}/staff/evaluations`);
    await row(page).waitFor({ timeout: 20_000 });
    await row(page).getByTestId('do-appeal').click();
    await inp(page, 'ev-text').fill('第二趟是申请人自行改选邮寄，并非窗口要求');
    await screen(page, '07-appeal-form');
    await page.getByTestId('ev-send').click();
    await expect
      .poll(() => row(page).getByTestId('appeal-status').textContent(), { timeout: 15_000 })
      .toContain('申诉中');
    await screen(page, '08-appealed');
  });

  test('the 威宁 county administrator rejects the appeal with a reason', async () => {
    const page = await h.newPage(DESKTOP);
    await signIn(page, 'weining.admin');
    await page.goto(`${h.server.url}/staff/evaluations`);
    const appeal = page.locator(`[data-testid="appeals"] li[data-case="${caseNumber}"]`);
    await appeal.waitFor({ timeout: 20_000 });
    await inp(appeal, 'decision-text').fill('回访记录显示申请人确因补材料往返，评价属实');
    await screen(page, '09-review-queue');
    await appeal.getByTestId('do-reject').click();
    await expect.poll(() => page.getByTestId('ev-done').textContent(), { timeout: 15_000 }).toContain('驳回');
    await screen(page, '10-appeal-rejected');
    const rect = (
      await h.server.services!.evaluations.rectifications({
        accountId: 'e2e',
        kind: 'staff',
        via: 'dev_header',
        isAdmin: false,
        mfa: false,
        grants: [
          {
            role: 'province_admin',
            scope: { kind: 'division', code: '52' },
            itemCodes: null,
            validFrom: new Date(0),
            validUntil: new Date('9999-01-01'),
          },
        ],
      })
    ).find((r) => r.caseNumber === caseNumber)!;
    expect(rect).toMatchObject({
      status: 'rectified',
      appeal: { status: 'rejected' },
      evaluation: { excluded: false },
    });
  });

  test('the resident reads the outcome and gives her follow-up rating, which closes it', async () => {
    const page = await h.newPage({ locale: 'zh-CN' });
    await page.goto(`${h.server.url}/#/rate/${caseNumber}?t=${token}`);
    await page.getByTestId('rate-outcome').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('rate-outcome').textContent()).toContain('一次性告知清单已补全');
    await screen(page, '11-follow-up');
    await page.locator('.rate-level[data-level="2"]').click();
    await page.getByTestId('rate-submit').click();
    await expect.poll(() => page.getByTestId('follow-up-thanks').isVisible(), { timeout: 15_000 }).toBe(true);
    await screen(page, '12-follow-up-thanks');
    const officer = await h.newPage(DESKTOP);
    await signIn(officer, 'weining.officer');
    await officer.goto(`${h.server.url}/staff/evaluations`);
    await expect.poll(() => row(officer).getAttribute('data-status'), { timeout: 20_000 }).toBe('closed');
  });

  test('the hall tablet: the applicant rates the case just handled at the 凯里 window', async () => {
    const page = await h.newPage(DESKTOP);
    await signIn(page, 'kaili.intake');
    await page.goto(`${h.server.url}/staff/tablet`);
    await inp(page, 'tablet-number').fill(tabletCase);
    await page.getByTestId('tablet-find').click();
    await page.getByTestId('tablet-form').waitFor({ timeout: 15_000 });
    await page.locator('.tablet__level[data-level="1"]').click();
    await screen(page, '13-tablet');
    await page.getByTestId('tablet-send').click();
    await page.getByTestId('tablet-thanks').waitFor({ timeout: 15_000 });
    await screen(page, '14-tablet-thanks');
    const hall = await h.server.services!.evaluations.satisfaction('hall', HALL);
    expect(hall).toMatchObject({ count: 2, perLevel: { 1: 1, 5: 1 }, satisfactionRate: 0.5 });
  });
});
