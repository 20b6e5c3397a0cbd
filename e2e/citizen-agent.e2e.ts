/**
 * 帮办代办 on the phone (Debian's Chromium, phone-sized, the real server and the built client): a 村级代办员 of
 * the 凯里 hall signs in on the citizen app's agent screen (a wrong password first); registers 李阿婆 (a
 * mistyped ID number is refused on the device), picks 最低生活保障申请, records her consent on screen — the
 * consent text names agent, resident and item, she signs on the canvas (drawn with the mouse) and text and
 * signature become one PNG whose SM3 is in the authorization body — and fills the application generated
 * from the item's form (a conditional required field, material photos compressed on the device). Then, with
 * the network OFF, the same for 王大伯 with a photo of a signed 委托书: the item is found among the guides
 * kept on the phone. axe-core finds 0 violations on each agent screen; screenshots citizen-agent-*.png go to
 * artifacts/screenshots/citizen (or E2E_SCREENSHOTS).
 *
 * Queuing goes through src/web/citizen/offline/outbox.ts. While that is still the placeholder (its
 * `enqueue` throws), the tests check that the refusal is shown and nothing is lost, and the last test —
 * network back, each case filed exactly once with the agent and the authorization on it — is skipped; it
 * runs as soon as the real outbox is in the tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { sm3 } from 'sm-crypto-v2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_KAILI_HALL } from '../src/cli/commands/demo.ts';
import { createVillageAgent } from '../src/testing/agents.ts';
import { syntheticIdNumber } from '../src/testing/pii-flow.ts';
import { axeViolations, type Harness, startHarness } from './harness.ts';

const ITEM = '050004001000'; // 最低生活保障申请
const ITEM_NAME = '最低生活保障申请';
const LI = { name: '李阿婆', id: syntheticIdNumber('520526', '19480203', '042'), phone: '13900000042' };
const WANG = { name: '王大伯', id: syntheticIdNumber('520526', '19520917', '051'), phone: '13900000051' };
const PASSWORD = 'Agent-e2e-Pass-7c';
const OUTBOX_FILE = path.resolve(import.meta.dirname, '../src/web/citizen/offline/outbox.ts');
/** the offline core's real outbox has replaced the placeholder (whose enqueue throws) */
const REAL_OUTBOX = !fs.readFileSync(OUTBOX_FILE, 'utf8').includes('Placeholder of the outbox');

let h: Harness;
let shots: string;
let page: Page;
/**
 * After the agent signed in: the page's requests for a new CSRF token and the API's 403 answers. The
 * outbox sends the token of the agent's sign-in, so neither should happen.
 */
const csrfTrouble: string[] = [];

/** A small but real photo (PNG, 64×48, a gradient), made once in the browser. */
let photo: Buffer;

beforeAll(async () => {
  h = await startHarness('citizen-agent');
  const services = h.server.services;
  if (!services) throw new Error('the agent story creates accounts: run it without E2E_BASE_URL');
  const { identity } = services;
  await createVillageAgent(identity, {
    name: '凯里代办员',
    username: 'kaili.village',
    password: PASSWORD,
    hallCode: DEMO_KAILI_HALL,
    reason: 'e2e 帮办代办（手机）',
  });
  for (const r of [LI, WANG])
    await identity.registerResident({ name: r.name, idNumber: r.id, phone: r.phone });
  shots = process.env.E2E_SCREENSHOTS ?? path.resolve('artifacts/screenshots/citizen');
  fs.mkdirSync(shots, { recursive: true });
  page = await h.newPage();
  photo = Buffer.from(
    await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, 64, 48);
      grad.addColorStop(0, '#c33');
      grad.addColorStop(1, '#33c');
      g.fillStyle = grad;
      g.fillRect(0, 0, 64, 48);
      return c.toDataURL('image/png').split(',')[1]!;
    }),
    'base64',
  );
});
afterAll(async () => {
  await h?.close();
});

const shot = (name: string) =>
  page.screenshot({ path: path.join(shots, `citizen-agent-${name}.png`), fullPage: true });
async function noViolations(label: string) {
  await page.mouse.move(0, 0);
  expect(await axeViolations(page, label)).toEqual([]);
}

/** What the phone keeps in IndexedDB (tongban-agent), read in the page. */
function readStore(store: 'residents' | 'consents' | 'applications') {
  return page.evaluate(
    (name) =>
      new Promise<unknown[]>((resolve, reject) => {
        const open = indexedDB.open('tongban-agent');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction(name).objectStore(name).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        };
      }),
    store,
  );
}

/** The bytes of a consent's stored evidence file, with its SM3 as recorded in the authorization body. */
async function consentEvidence(clientRef: string) {
  return page.evaluate(async (ref) => {
    const rows = await new Promise<
      {
        clientRef: string;
        kind: string;
        sm3: string;
        body: { evidence: { kind: string; sm3: string } };
        scan: { type: string; blob: Blob };
      }[]
    >((resolve, reject) => {
      const open = indexedDB.open('tongban-agent');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const req = open.result.transaction('consents').objectStore('consents').getAll();
        req.onsuccess = () => resolve(req.result);
      };
    });
    const c = rows.find((r) => r.clientRef === ref)!;
    const bytes = Array.from(new Uint8Array(await c.scan.blob.arrayBuffer()));
    return { kind: c.kind, type: c.scan.type, evidence: c.body.evidence, sm3: c.sm3, bytes };
  }, clientRef);
}

/** Draws a signature-like scribble across the pad with the mouse (pointer events, as a finger would). */
async function sign() {
  const pad = page.getByTestId('agent-signature-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const at = (fx: number, fy: number) => [box.x + box.width * fx, box.y + box.height * fy] as const;
  for (const stroke of [
    [
      [0.1, 0.6],
      [0.2, 0.3],
      [0.3, 0.7],
      [0.4, 0.35],
    ],
    [
      [0.5, 0.4],
      [0.6, 0.65],
      [0.75, 0.3],
      [0.9, 0.6],
    ],
  ]) {
    const [x0, y0] = at(stroke[0]![0]!, stroke[0]![1]!);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    for (const [fx, fy] of stroke.slice(1)) {
      const [x, y] = at(fx!, fy!);
      await page.mouse.move(x, y, { steps: 8 });
    }
    await page.mouse.up();
  }
}

async function chooseItem(query: string, check = false, offline = false) {
  await page.getByTestId('agent-item-query').fill(query);
  await page.getByTestId('agent-item-search').click();
  const result = page.locator(`[data-testid="agent-item-result"][data-code="${ITEM}"]`);
  await result.waitFor({ timeout: 15_000 }).catch(async (e) => {
    throw new Error(`no result for ${query}: ${await page.locator('main').textContent()}`, { cause: e });
  });
  // offline the results come from the catalog synced onto the phone, and the status says so
  const status = (await page.locator('.agent-status').textContent()) ?? '';
  if (offline) expect(status).toContain('来自手机上保存的办事指南');
  else expect(status).not.toContain('手机上保存');
  if (check) await noViolations('agent item results');
  await result.click();
  await page.getByTestId('agent-consent-confirm').waitFor({ timeout: 15_000 });
}

/** Fills 最低生活保障申请: the conditional required field is refused while empty; two material photos. */
async function fillApplication(familySize: string) {
  const form = page.getByTestId('agent-application-form');
  await form.waitFor();
  expect(await page.getByTestId('agent-form-deciding').inputValue()).toBe('520526');
  expect(await page.getByTestId('agent-form-mode').inputValue()).toBe('off_site_intake');
  await page.getByTestId('form-familySize').fill(familySize);
  await page.getByTestId('form-monthlyIncome').fill('850.5');
  await page.getByTestId('form-hasDisabledMember-yes').check();
  await page.getByTestId('form-disabilityNote').waitFor();
  await page.getByTestId('agent-form-queue').click();
  // refused on the device: the note is required once 是 is chosen, and two materials have no photo
  await expect.poll(() => page.getByTestId('agent-form-problems').textContent()).toContain('处需要修改');
  expect(await form.textContent()).toContain('请填写“残疾或重病情况说明”');
  expect(await form.textContent()).toContain('请为必要材料拍照');
  await page.getByTestId('form-disabilityNote').fill('老伴长期卧床');
  for (const seq of [1, 2])
    await page
      .getByTestId(`agent-material-file-${seq}`)
      .setInputFiles({ name: `材料${seq}.png`, mimeType: 'image/png', buffer: photo });
  await expect.poll(() => page.getByTestId('agent-material-ready').count(), { timeout: 20_000 }).toBe(2);
  await page.getByTestId('agent-originals-later').check();
}

/** After 保存并提交: the real outbox shows it queued; the placeholder's refusal keeps everything entered. */
async function queued() {
  await page.getByTestId('agent-form-queue').click();
  if (REAL_OUTBOX) {
    await page.getByTestId('agent-queued').waitFor({ timeout: 15_000 });
  } else {
    await expect
      .poll(() => page.getByTestId('agent-problem').textContent(), { timeout: 15_000 })
      .toContain('没能保存到待发送');
    expect(await page.getByTestId('form-disabilityNote').inputValue()).toBe('老伴长期卧床');
  }
}

describe('帮办代办 on the phone', () => {
  test('the agent signs in, records 李阿婆’s on-screen consent and fills her application', async () => {
    await page.goto(`${h.server.url}/#/agent`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('帮办代办');
    await page.getByTestId('agent-username').fill('kaili.village');
    await page.getByTestId('agent-password').fill('wrong-password');
    await page.getByTestId('agent-sign-in').click();
    await expect
      .poll(() => page.getByTestId('agent-sign-in-problem').textContent(), { timeout: 15_000 })
      .toContain('账号或密码不对');
    await shot('01-sign-in');
    await noViolations('agent sign-in');
    await page.getByTestId('agent-password').fill(PASSWORD);
    await page.getByTestId('agent-sign-in').click();
    await expect
      .poll(() => page.getByTestId('agent-who').textContent(), { timeout: 15_000 })
      .toContain('凯里代办员');
    expect(await page.getByTestId('agent-who').textContent()).toContain('村级代办员');
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/auth/csrf-token')) csrfTrouble.push(`${r.method()} ${r.url()}`);
    });
    page.on('response', (r) => {
      if (r.status() === 403 && r.url().includes('/api/v1/'))
        csrfTrouble.push(`403 ${r.request().method()} ${r.url()}`);
    });
    // the identity kept on the phone for offline use: name and hall, no password or token
    const kept = JSON.parse((await page.evaluate(() => localStorage.getItem('tongban.agent'))) ?? '{}');
    expect(kept).toMatchObject({ name: '凯里代办员', hallCode: DEMO_KAILI_HALL, role: 'village_agent' });
    expect(JSON.stringify(kept)).not.toContain(PASSWORD);
    await page.getByTestId('agent-residents-empty').waitFor();
    await noViolations('agent home');

    await page.getByTestId('agent-start').click();
    await page.getByTestId('agent-resident-name').fill(LI.name);
    await page.getByTestId('agent-resident-id').fill(`${LI.id.slice(0, 17)}${LI.id[17] === '1' ? '2' : '1'}`);
    await page.getByTestId('agent-resident-phone').fill(LI.phone);
    await page.getByTestId('agent-resident-next').click();
    await expect
      .poll(() => page.getByTestId('agent-resident-id-error').textContent())
      .toContain('校验不通过');
    await noViolations('agent resident step, with an error');
    await page.getByTestId('agent-resident-id').fill(LI.id);
    await page.getByTestId('agent-resident-next').click();

    await chooseItem('低保', true);
    // on-screen confirmation (the default): the text names agent, hall, resident and item, shown large
    const text = (await page.getByTestId('agent-consent-text').textContent()) ?? '';
    for (const part of [LI.name, '凯里代办员', ITEM_NAME, '村级代办员']) expect(text).toContain(part);
    expect(text).not.toContain(LI.id); // the number is masked on screen and in the PNG
    const size = await page
      .getByTestId('agent-consent-text')
      .evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
    expect(size).toBeGreaterThanOrEqual(20);
    await page.getByTestId('agent-consent-confirm').click();
    await expect.poll(() => page.locator('main').textContent()).toContain('请居民在签名框内签名');
    await sign();
    await expect.poll(() => page.locator('.agent-signature__state').textContent()).toBe('已签名');
    await shot('02-consent-signed');
    await noViolations('agent consent (on-screen signature)');
    await page.getByTestId('agent-consent-confirm').click();

    // the consent: one PNG (text + signature), its SM3 in the authorization body
    await page.getByTestId('agent-application-form').waitFor();
    const consents = (await readStore('consents')) as {
      clientRef: string;
      residentId: string;
      itemCodes: string[];
    }[];
    expect(consents).toHaveLength(1);
    expect(consents[0]!.itemCodes).toEqual([ITEM]);
    const ev = await consentEvidence(consents[0]!.clientRef);
    const png = Buffer.from(ev.bytes);
    expect(ev.type).toBe('image/png');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1080); // IHDR width
    expect(png.readUInt32BE(20)).toBeGreaterThan(800); // text and signature, not just the signature
    expect(ev.evidence).toEqual({
      kind: 'on_screen_signature',
      sm3: sm3(new Uint8Array(png)),
      reference: expect.stringMatching(/^帮办-[0-9a-f]{8}$/),
    });
    expect(ev.sm3).toBe(ev.evidence.sm3);

    await fillApplication('2');
    await shot('03-application');
    await noViolations('agent application form');
    await queued();
  });

  test('offline: 王大伯 with a photo of his signed 委托书, the item found among the guides kept on the phone', async () => {
    const context = page.context();
    if (REAL_OUTBOX) await page.getByTestId('agent-next-resident').click();
    else {
      // the placeholder refused 李阿婆's application: leave it and start the next resident
      await page.getByTestId('agent-to-home').click();
      await page.getByTestId('agent-start').click();
    }
    await context.setOffline(true);
    try {
      await expect.poll(() => page.getByTestId('agent-offline').count()).toBe(1);
      await page.getByTestId('agent-resident-new').check();
      await page.getByTestId('agent-resident-name').fill(WANG.name);
      await page.getByTestId('agent-resident-id').fill(WANG.id);
      await page.getByTestId('agent-resident-next').click();
      await chooseItem('低保', false, true); // found by its everyday name among the guides kept on the phone
      await page.getByTestId('agent-consent-kind-photo').check();
      await page
        .getByTestId('agent-consent-photo')
        .setInputFiles({ name: '委托书.png', mimeType: 'image/png', buffer: photo });
      await page.locator('img.agent-photo').waitFor({ timeout: 20_000 });
      await shot('04-consent-photo-offline');
      await noViolations('agent consent (photo), offline');
      await page.getByTestId('agent-consent-confirm').click();
      await page.getByTestId('agent-application-form').waitFor();
      expect(await page.locator('main').textContent()).toContain('当前使用手机上保存的办事指南');
      const residents = (await readStore('residents')) as { id: string; name: string }[];
      const wang = residents.find((r) => r.name === WANG.name)!;
      const consents = (await readStore('consents')) as { clientRef: string; residentId: string }[];
      const mine = consents.filter((c) => c.residentId === wang.id);
      expect(mine).toHaveLength(1);
      const ev = await consentEvidence(mine[0]!.clientRef);
      // compressed on the phone to JPEG; the SM3 is of the bytes kept (and uploaded)
      expect(ev.type).toBe('image/jpeg');
      expect(ev.evidence).toMatchObject({ kind: 'signed_form', sm3: sm3(new Uint8Array(ev.bytes)) });

      await fillApplication('3');
      await queued();
      await page.getByTestId(REAL_OUTBOX ? 'agent-back-home' : 'agent-to-home').click();
      // both residents are kept on the phone (with their applications once the outbox holds them)
      await expect.poll(() => page.getByTestId('agent-resident').count()).toBe(2);
      if (REAL_OUTBOX) {
        expect(await page.getByTestId('agent-application').count()).toBe(2);
        const badges = await page.getByTestId('agent-badge').allTextContents();
        for (const r of [LI, WANG]) expect(badges.some((b) => b.includes(r.name))).toBe(true);
      }
      await shot('05-residents-offline');
      await noViolations('agent residents list, offline');
    } finally {
      await context.setOffline(false);
    }
  });

  test.runIf(REAL_OUTBOX)(
    'network back: each application is filed exactly once, with the agent and the authorization on it',
    async () => {
      const { cases } = h.server.services!;
      for (const r of [LI, WANG])
        await expect
          .poll(async () => (await cases.applicantCases(r.id)).length, { timeout: 90_000, interval: 1_000 })
          .toBe(1);
      const authorizations = (await page.evaluate(async () =>
        (await fetch('/api/v1/agent-authorizations', { credentials: 'same-origin' })).json(),
      )) as { items: { id: string; status: string; evidence: { kind: string } }[] };
      for (const [r, kind] of [
        [LI, 'on_screen_signature'],
        [WANG, 'signed_form'],
      ] as const) {
        const [c] = await cases.applicantCases(r.id);
        expect(c!.agent).toMatchObject({ kind: 'village_agent', name: '凯里代办员' });
        const a = authorizations.items.find(
          (x) => x.id === (c!.agent as { authorizationRef: string }).authorizationRef,
        );
        expect(a, `authorization of ${r.name}'s case`).toMatchObject({
          status: 'active',
          evidence: { kind },
        });
        // and the case as the API shows it (GET /api/v1/cases/:ref, the agent's session) says so too
        const shown = (await page.evaluate(
          async (n) => (await fetch(`/api/v1/cases/${n}`, { credentials: 'same-origin' })).json(),
          c!.number,
        )) as { channel: string; intakeHallCode: string; agent: unknown };
        expect(shown).toMatchObject({
          channel: 'village_agent',
          intakeHallCode: DEMO_KAILI_HALL,
          agent: { kind: 'village_agent', name: '凯里代办员', authorizationRef: a!.id },
        });
      }
      // the list on the phone shows both as sent, each marked 代办 with the resident's name
      await expect
        .poll(() => page.locator('[data-testid="agent-application"][data-state="sent"]').count(), {
          timeout: 30_000,
        })
        .toBe(2);
      const badges = await page.getByTestId('agent-badge').allTextContents();
      expect(badges.some((b) => b.includes(LI.name))).toBe(true);
      expect(badges.some((b) => b.includes(WANG.name))).toBe(true);
      await shot('06-residents-synced');
      await noViolations('agent home, synced');
      // replays never make a second case
      await page.waitForTimeout(5_000);
      for (const r of [LI, WANG]) expect(await cases.applicantCases(r.id)).toHaveLength(1);
      // every request of the queue carried the CSRF token of the agent's sign-in
      expect(csrfTrouble).toEqual([]);
    },
  );
});
