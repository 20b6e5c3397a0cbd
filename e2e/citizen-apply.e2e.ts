/**
 * Apply and follow in the citizen app (issue 6, part 2), in Debian's Chromium on a phone-sized window
 * against the real server and the built client: a resident registers with their real name and signs in
 * by SMS code (codes read from the development SMS file in the server's DATA_DIR); finds 社会保障卡补领,
 * opens its guide and applies online (全程网办) — the form generated from the item's form definition and
 * checked on the device, one photo compressed on the device to ≤ 300 KB, pickup at the nearest hall;
 * follows a case in 我的办件 (status, next step highlighted), answers a supplement request from the phone
 * with a new photo, and shows the pickup code as a QR code once decided; reads the inbox; tracks a case
 * by number with a check (wrong check → not found; right check → the status and nothing personal).
 * axe-core finds 0 violations on every screen; screenshots go to the harness's shots folder.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kailiToWeiningApplication } from '../src/testing/applications.ts';
import { syntheticIdNumber } from '../src/testing/pii-flow.ts';
import { axeViolations, devSmsTo, type Harness, startHarness } from './harness.ts';

const RESIDENT = {
  name: '李春花',
  idNumber: syntheticIdNumber('520102', '19880808', '124'),
  phone: '13912340001',
};
const ITEM = '200002002000'; // 社会保障卡补领: 全程网办, pickup or mail, 4 form fields, 2 materials
/** 贵阳市南明区, near the 南明区政务服务中心 (the app's default division). */
const GUIYANG = { latitude: 26.5683, longitude: 106.7146 };

let h: Harness;
/** the resident's signed-in page, shared by the tests in order */
let page: Page;
let accountId = '';
/** a case of the resident filed through the service layer (followed, supplemented, picked up) */
let followed = '';

beforeAll(async () => {
  h = await startHarness('citizen-apply');
  if (!h.server.services || !h.dataDir)
    throw new Error('the apply story reads the development SMS file: run it without E2E_BASE_URL');
});
afterAll(async () => {
  await h?.close();
});

const services = () => h.server.services!;

async function screen(p: Page, name: string) {
  await p.waitForLoadState('networkidle');
  await p.screenshot({ path: path.join(h.shots, `apply-${name}.png`), fullPage: true });
  expect(await axeViolations(p, name)).toEqual([]);
}

const smsTo = (phone: string) => devSmsTo(h.dataDir!, phone);

/** Presses 获取验证码 and returns the code that arrives by (development) SMS. */
async function getCode(p: Page, phone: string): Promise<string> {
  const before = smsTo(phone).length;
  await p.getByTestId('get-code').click();
  let code: string | undefined;
  await expect
    .poll(
      () => {
        const texts = smsTo(phone);
        code = texts.length > before ? /验证码\s*(\d{6})/.exec(texts.at(-1)!)?.[1] : undefined;
        return code;
      },
      { timeout: 15_000 },
    )
    .toMatch(/^\d{6}$/);
  return code!;
}

/** A large, detailed "photo" (JPEG, 2400×1800) drawn in the page: well over 300 KB before compression. */
async function photo(p: Page): Promise<Buffer> {
  const dataUrl = await p.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 2400;
    c.height = 1800;
    const g = c.getContext('2d')!;
    g.fillStyle = '#e8e2d0';
    g.fillRect(0, 0, c.width, c.height);
    let seed = 7;
    const rnd = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 6000; i++) {
      g.fillStyle = `hsl(${rnd() * 360}, 45%, ${25 + rnd() * 50}%)`;
      g.fillRect(rnd() * c.width, rnd() * c.height, 3 + rnd() * 50, 3 + rnd() * 24);
    }
    return c.toDataURL('image/jpeg', 0.97);
  });
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** The pickup code the applicant received (their inbox; the jobs loop writes it within seconds). */
async function inboxPickupCode(caseNumber: string): Promise<string> {
  let code: string | undefined;
  await expect
    .poll(
      async () => {
        const inbox = await services().notifications.inboxOf({ kind: 'applicant', id: accountId });
        const texts = inbox.items.filter((m) => m.caseNumber === caseNumber).map((m) => m.body);
        code = texts.map((b) => /取件码\D{0,8}?(\d{6})/.exec(b)?.[1]).find(Boolean);
        return code;
      },
      { timeout: 20_000 },
    )
    .toMatch(/^\d{6}$/);
  return code!;
}

describe('citizen app: apply and follow', () => {
  test('a first-time resident registers with real name and ID number, then signs in by SMS code', async () => {
    page = await h.newPage({ geolocation: GUIYANG, permissions: ['geolocation'] });
    await page.goto(`${h.server.url}/#/me`);
    // a signed-in page sends to sign-in, and back after it
    await expect.poll(() => page.url()).toContain('#/login?next=');
    await expect.poll(() => page.locator('h1').textContent()).toBe('登录');
    await screen(page, '1-login');

    await page.getByTestId('to-register').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('实名注册');
    await page.locator('#login-name').fill(RESIDENT.name);
    // a mistyped ID number is refused on the device, at its field, before any code is sent
    const typo = `${RESIDENT.idNumber.slice(0, 17)}${RESIDENT.idNumber.endsWith('1') ? '2' : '1'}`;
    await page.locator('#login-id-number').fill(typo);
    await page.locator('#login-phone').fill(RESIDENT.phone);
    await page.getByTestId('get-code').click();
    await expect.poll(() => page.locator('#login-id-number-error').textContent()).toContain('校验位');
    expect(await page.locator('#login-id-number').getAttribute('aria-invalid')).toBe('true');
    expect(smsTo(RESIDENT.phone)).toHaveLength(0);
    await screen(page, '1a-register-error');

    await page.locator('#login-id-number').fill(RESIDENT.idNumber);
    const registerCode = await getCode(page, RESIDENT.phone);
    await expect.poll(() => page.getByTestId('get-code').textContent()).toMatch(/\d+ 秒后可重新获取/);
    expect(await page.getByTestId('get-code').isDisabled()).toBe(true);
    // a wrong code is explained at the code field
    await page.locator('#login-code').fill(registerCode === '000000' ? '111111' : '000000');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.locator('#login-code-error').textContent()).toContain('验证码不对');
    await page.locator('#login-code').fill(registerCode);
    await page.getByTestId('login-submit').click();

    // the register code signs the new resident in as well: no second code, no minute to wait
    await page.waitForURL(/#\/me$/, { timeout: 15_000 });
    expect(smsTo(RESIDENT.phone)).toHaveLength(1);
    await expect.poll(() => page.locator('h1').textContent()).toBe('我的办件');
    await expect.poll(() => page.getByTestId('me').textContent()).toContain(RESIDENT.name);
    expect(await page.getByTestId('account-link').textContent()).toContain('我的');
    const me = await page.evaluate(() => fetch('/api/v1/auth/me').then((r) => r.json()));
    accountId = me.account.id;
    expect(me.principal.kind).toBe('resident');
    expect(me.account.idNumber).toMatch(/^5201\*+\d{3}[\dX]$/);
    await screen(page, '2-my-cases-empty');
  }, 90_000);

  test('search → guide → the online application form, checked on the device, with one photo compressed to ≤ 300 KB', async () => {
    await page.goto(`${h.server.url}/#/`);
    await page.getByRole('searchbox', { name: '搜索事项' }).pressSequentially('社保卡补办', { delay: 30 });
    const result = page.getByTestId('results').getByRole('link', { name: /社会保障卡补领/ });
    await result.first().waitFor({ timeout: 15_000 });
    await result.first().click();
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toMatch(/社会保障卡补领/);
    const apply = page.getByTestId('apply-online');
    expect(await page.getByTestId('guide-actions').textContent()).toContain('全程网办');
    await apply.click();
    await page.getByTestId('apply-form').waitFor({ timeout: 15_000 });
    expect(page.url()).toContain(`#/apply/${ITEM}`);
    // the applicant comes from the session; the ID number must be typed in full (the server shows it masked)
    expect(await page.locator('#applicant-name').inputValue()).toBe(RESIDENT.name);
    expect(await page.locator('#applicant-phone').inputValue()).toBe(RESIDENT.phone);
    expect(await page.locator('#field-contactPhone').inputValue()).toBe(RESIDENT.phone);

    // submitting empty: every problem at once, by field, in words; the summary takes the focus
    await page.getByTestId('apply-submit').click();
    const summary = page.getByTestId('apply-errors');
    await summary.waitFor();
    const problems = (await summary.textContent()) ?? '';
    expect(problems).toContain('身份证号');
    expect(problems).toContain('补领原因');
    expect(problems).toContain('近期免冠证件照片');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('apply-errors');
    expect(await page.locator('#applicant-id-error').textContent()).toContain('18 位');
    await screen(page, '3-apply-errors');

    // someone else's ID number is refused: it must be the account's own
    await page.locator('#applicant-id').fill(syntheticIdNumber('520526', '19700101', '015'));
    // the form follows the item's rules: 遗失日期 and 挂失 appear only for 遗失
    expect(await page.locator('[data-field="lossDate"]').count()).toBe(0);
    await page.locator('[data-field="reason"]').getByText('遗失').click();
    await page.locator('#field-lossDate').waitFor();
    await page.locator('#field-lossDate').fill('2026-01-05');
    await page.locator('[data-field="reportedLoss"]').getByText('是', { exact: true }).click();
    await page.getByTestId('apply-submit').click();
    await expect.poll(() => page.locator('#applicant-id-error').textContent()).toContain('本人');
    await page.locator('#applicant-id').fill(RESIDENT.idNumber);

    // one photo, compressed on the device
    const original = await photo(page);
    expect(original.length).toBeGreaterThan(600 * 1024);
    const material = page.locator('[data-testid="material-photo"][data-material-seq="2"]');
    await material.getByTestId('photo-file').setInputFiles({
      name: '证件照.jpg',
      mimeType: 'image/jpeg',
      buffer: original,
    });
    const size = material.getByTestId('photo-size');
    await expect.poll(() => size.textContent(), { timeout: 30_000 }).toMatch(/已压缩到 \d+ KB/);
    const kb = Number(/已压缩到 (\d+) KB/.exec((await size.textContent()) ?? '')?.[1]);
    expect(kb).toBeGreaterThan(10);
    expect(kb).toBeLessThanOrEqual(300);
    expect(await material.getByRole('img', { name: /近期免冠证件照片/ }).isVisible()).toBe(true);

    // pickup at the nearest hall, chosen for the resident
    const halls = page.getByTestId('pickup-halls');
    await expect
      .poll(() => halls.locator('input[type=radio]').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await halls.locator('input[type=radio]:checked').count()).toBe(1);
    await expect.poll(() => page.getByTestId('draft-state').textContent()).toContain('草稿已自动保存');
    await page.getByRole('heading', { name: '申请人' }).click(); // blur
    await screen(page, '4-apply-filled');
  }, 120_000);

  test('submit → sent through the outbox, with the case number and what happens next', async () => {
    // the application goes through offline/outbox.ts `enqueue`: POST /api/v1/cases with the entry id as
    // Idempotency-Key and the session's CSRF token, then the photo; the page shows the number
    await page.getByTestId('apply-submit').click();
    const sent = page.getByTestId('apply-sent');
    const failed = page.getByTestId('apply-save-failed');
    await expect
      .poll(async () => (await sent.isVisible()) || (await failed.isVisible()), { timeout: 30_000 })
      .toBe(true);
    expect(await failed.isVisible(), 'the outbox could not keep the application').toBe(false);
    const number = ((await page.getByTestId('case-number').textContent()) ?? '').trim();
    expect(number).toMatch(/^\d{21}$/);
    expect(await sent.textContent()).toContain('凭短信里的取件码');
    await screen(page, '5-apply-sent');
    const c = await services().cases.get(number);
    expect([c.channel, c.processingMode, c.itemCode, c.decidingDivisionCode]).toEqual([
      'mobile',
      'online',
      ITEM,
      '520102',
    ]);
    expect(c.formData).toMatchObject({ reason: 'lost', lossDate: '2026-01-05', reportedLoss: true });
    const custody = await services().custody.custodyOf(number);
    expect(custody.materials.find((m) => m.seq === 2)?.files.length ?? 0).toBeGreaterThan(0);
  }, 60_000);

  test('my applications: status in words, the next step highlighted; a supplement answered from the phone', async () => {
    const s = services();
    const submitted = await s.cases.submit(
      {
        itemCode: ITEM,
        applicant: {
          kind: 'natural_person',
          name: RESIDENT.name,
          idNumber: RESIDENT.idNumber,
          phone: RESIDENT.phone,
          // no accountId: the server records the filing resident's account (messages go there)
        },
        channel: 'mobile',
        processingMode: 'online',
        decidingDivisionCode: '520102',
        formData: { reason: 'damaged', contactPhone: RESIDENT.phone },
        delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      },
      { actor: { kind: 'applicant', id: accountId }, idempotencyKey: randomUUID() },
    );
    followed = submitted.case.number;
    const hr = { kind: 'staff' as const, id: 'e2e-hr', departmentId: submitted.case.competentDepartmentId! };
    await s.cases.command(followed, { type: 'receive' }, { actor: hr, idempotencyKey: randomUUID() });
    await s.cases.command(
      followed,
      {
        type: 'request_supplement',
        gaps: [{ material: '近期免冠证件照片', reason: '照片模糊，请重新拍摄' }],
      },
      { actor: hr, idempotencyKey: randomUUID() },
    );

    await page.goto(`${h.server.url}/#/me`);
    const card = page.locator(`[data-testid="my-case"][data-case="${followed}"]`);
    await card.waitFor({ timeout: 15_000 });
    expect(await card.locator('[data-status]').textContent()).toContain('需要补正材料');
    expect(await card.getByTestId('next-step').textContent()).toContain('待您处理');
    expect(await card.getByTestId('next-step').textContent()).toContain('近期免冠证件照片');
    expect(await card.getAttribute('class')).toContain('case-card--on-me');
    await expect.poll(() => card.textContent()).toContain('社会保障卡补领');
    await screen(page, '6-my-cases');

    await card.click();
    await page.getByTestId('supplement').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('case-status').textContent()).toContain('需要补正材料');
    expect(await page.getByTestId('gap').first().textContent()).toContain('照片模糊');
    expect(await page.getByTestId('timeline').textContent()).toContain('通知补正材料');
    await screen(page, '7-my-case-supplement');

    // without the new photo nothing is sent
    await page.getByTestId('supplement-submit').click();
    await expect
      .poll(() => page.getByTestId('supplement').textContent())
      .toContain('请为“近期免冠证件照片”拍一张新照片');
    await page
      .getByTestId('supplement')
      .getByTestId('photo-camera')
      .setInputFiles({ name: 'new.jpg', mimeType: 'image/jpeg', buffer: await photo(page) });
    await expect
      .poll(() => page.getByTestId('supplement').getByTestId('photo-size').textContent(), { timeout: 30_000 })
      .toMatch(/已压缩到 \d+ KB/);

    // the resident uploads to their own case (PUT …/materials/:seq/file), then resubmits
    await page.getByTestId('supplement-submit').click();
    await expect
      .poll(() => page.getByTestId('case-status').textContent(), { timeout: 20_000 })
      .toContain('已收件');
    const after = await s.cases.get(followed);
    expect(after.status).toBe('received');
    const custody = await s.custody.custodyOf(followed);
    expect(custody.materials.find((m) => m.seq === 2)?.files.length ?? 0).toBeGreaterThan(0);
    expect(await page.getByTestId('timeline').textContent()).toContain('补正材料已提交');
  }, 120_000);

  test('decided for pickup: the pickup code as a QR code with the digits; messages link to the case', async () => {
    const s = services();
    const c = await s.cases.get(followed);
    const hr = { kind: 'staff' as const, id: 'e2e-hr', departmentId: c.competentDepartmentId! };
    await s.cases.command(followed, { type: 'accept' }, { actor: hr, idempotencyKey: randomUUID() });
    await s.cases.command(
      followed,
      { type: 'decide', outcome: 'granted' },
      { actor: hr, idempotencyKey: randomUUID() },
    );
    const code = await inboxPickupCode(followed);

    await page.goto(`${h.server.url}/#/me`);
    const card = page.locator(`[data-testid="my-case"][data-case="${followed}"]`);
    await card.waitFor({ timeout: 15_000 });
    expect(await card.getByTestId('next-step').textContent()).toContain('请到');
    await card.click();
    const pickup = page.getByTestId('pickup');
    await pickup.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('case-status').textContent()).toContain('已办结（准予）');
    expect(await pickup.textContent()).toContain('南明区');
    await page.getByTestId('show-pickup').click();
    await expect.poll(() => page.getByTestId('pickup-code').textContent(), { timeout: 15_000 }).toBe(code);
    const qr = page.getByTestId('pickup-qr');
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.getAttribute('alt')).toContain(code);
    await expect.poll(() => page.getByTestId('documents').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('document').count()).toBeGreaterThan(0);
    await screen(page, '8-my-case-pickup');

    await page.goto(`${h.server.url}/#/messages`);
    const messages = page.getByTestId('message');
    await expect.poll(() => messages.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('unread').textContent()).toMatch(/\d+ 条未读消息/);
    await screen(page, '9-messages');
    const unreadBefore = await page.locator('[data-testid="message"][data-read="no"]').count();
    await page.getByTestId('mark-all-read').click();
    await expect.poll(() => page.locator('[data-testid="message"][data-read="no"]').count()).toBe(0);
    expect(unreadBefore).toBeGreaterThan(0);
    await messages.first().getByRole('button', { name: '查看办件' }).click();
    await page.waitForURL(/#\/me\/cases\/\d{21}$/);
  }, 120_000);

  test('tracking by number: my own case opens in full; for others, the check decides and nothing personal is shown', async () => {
    // signed in, my own case: straight to its page
    await page.goto(`${h.server.url}/#/track/${followed}`);
    await page.waitForURL(new RegExp(`#/me/cases/${followed}$`), { timeout: 15_000 });

    // a walk-in case of someone else, filed at the 凯里 hall
    const walkIn = kailiToWeiningApplication('031');
    const applicant = { ...walkIn.applicant, phone: '13800005678' };
    const filed = await services().cases.submit(
      { ...walkIn, applicant },
      {
        actor: { kind: 'staff', id: 'e2e-kaili-clerk', hallCode: '522601-zwfw' },
        idempotencyKey: randomUUID(),
      },
    );
    const number = filed.case.number;
    const visitor = await h.newPage();
    await visitor.goto(`${h.server.url}/#/track/${number}`);
    await visitor.getByTestId('track-form').waitFor({ timeout: 15_000 });
    await screen(visitor, '10-track');

    // a wrong check: "not found", the same words as for a wrong number
    await visitor.locator('#track-check').fill('9999');
    await visitor.getByTestId('track-submit').click();
    await visitor.getByTestId('track-not-found').waitFor({ timeout: 15_000 });
    const notFound = await visitor.getByTestId('track-not-found').textContent();

    // the right check: GET /api/v1/track/:number?check=… answers where the case stands
    await visitor.locator('#track-check').fill('5678');
    await visitor.getByTestId('track-submit').click();
    const result = visitor.getByTestId('track-result');
    await result.waitFor({ timeout: 15_000 });
    expect(await visitor.getByTestId('track-status').textContent()).toContain('已收件');
    expect(await result.textContent()).toContain('最低生活保障');
    // the server's dates (Shanghai days) and the halls by the names it gives
    expect(await visitor.getByTestId('track-dates').textContent()).toContain('提交日期');
    expect(await result.textContent()).toContain('凯里市政务服务中心');
    const body = (await visitor.locator('body').textContent()) ?? '';
    expect(body).not.toContain(walkIn.applicant.name);
    expect(body).not.toContain(walkIn.applicant.idNumber);
    expect(body).not.toContain(applicant.phone);
    await screen(visitor, '11-track-result');
    expect(notFound).toContain('没有找到');

    // the QR on paper notices: /track/<number> (served index.html by the server) becomes #/track/<number>
    await visitor.goto(`${h.server.url}/track/${number}`);
    await visitor.waitForURL(new RegExp(`/#/track/${number}$`), { timeout: 15_000 });
    await visitor.getByTestId('track-form').waitFor();
  }, 120_000);
});
