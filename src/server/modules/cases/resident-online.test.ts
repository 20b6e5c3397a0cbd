/**
 * A resident applies online (全程网办) from the citizen app, end to end on a real server (PGlite, the
 * sample catalog, the development SMS adapter): registers and signs in with phone + SMS code; files
 * 社会保障卡补领 with channel `mobile` and an Idempotency-Key — replayed three times, exactly one case; the
 * same key with another body is refused; uploads photos of the materials to her own case (a retry stores
 * nothing new; another resident cannot); answers the department's supplement request with a new photo and
 * `resubmit`; follows her timeline and "my applications"; reissues her pickup code and gets it back to
 * show as a QR code; the pickup desk hands the result over with it. An agent-filed case shows her the
 * agent's kind and name, never the agent's ID number.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';
import { sessionCookieName } from '../identity/plugin.ts';
import type { DevSmsChannel } from '../notifications/channels.ts';
import { sm3Hex } from '../storage/service.ts';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

const ITEM = '200002002000'; // 社会保障卡补领: online, pickup or mail, decided by the insured place
const NANMING = '520102';
const HALL = '520102-zwfw';
const PHONE = '13912340001';
const OTHER_PHONE = '13912340002';
const ID_NUMBER = syntheticIdNumber('520102', '19560708', '021');
const JPEG = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(label)]);

let department = '';
let resident: Record<string, string> = {};
let other: Record<string, string> = {};
let caseNumber = '';

beforeAll(async () => {
  server = await startTestServer({ clock });
  department = (await server.services.departments.findDepartment(NANMING, 'human_resources_social_security'))!
    .id;
  // she signs in again with a sign-in code; the other resident keeps the session registration gave him
  resident = await signUpAndSignIn('王秀英', ID_NUMBER, PHONE, true);
  other = await signUpAndSignIn('李四', syntheticIdNumber('520102', '19700101', '022'), OTHER_PHONE);
});
afterAll(async () => {
  await server?.close();
});

/** The last SMS code the development adapter recorded for `phone`. */
function smsCode(phone: string): string {
  const sms = server.services.notifications.channel('sms') as DevSmsChannel;
  const text = [...sms.sent].reverse().find((m) => m.to === phone)?.text ?? '';
  const code = /(\d{6})/.exec(text)?.[1];
  if (!code) throw new Error(`no SMS code for ${phone}`);
  return code;
}

let ip = 0;
async function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return server.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers,
    remoteAddress: `10.66.0.${++ip % 250}`,
  });
}

/**
 * Registers a resident with an SMS code — which signs her in (no second code) — and, when `again`, signs
 * in once more with a sign-in code: cookie + CSRF headers of the last session.
 */
async function signUpAndSignIn(
  name: string,
  idNumber: string,
  phone: string,
  again = false,
): Promise<Record<string, string>> {
  expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'register' })).statusCode).toBe(200);
  let grant = await post('/api/v1/auth/residents', { name, idNumber, phone, code: smsCode(phone) });
  expect(grant.statusCode, grant.body).toBe(201);
  if (again) {
    offsetMs += 61_000; // one code per minute per phone
    expect((await post('/api/v1/auth/sms-code', { phone })).statusCode).toBe(200);
    grant = await post('/api/v1/auth/login/sms', { phone, code: smsCode(phone) });
    expect(grant.statusCode, grant.body).toBe(200);
  }
  const cookie = grant.cookies.find(
    (c) => c.name === sessionCookieName(server.services.authConfig.cookieSecure),
  )!;
  return { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': grant.json().csrfToken };
}

const application = (formData: Record<string, unknown> = { reason: 'damaged', contactPhone: PHONE }) => ({
  itemCode: ITEM,
  applicant: { kind: 'natural_person', name: '王秀英', idNumber: ID_NUMBER, phone: PHONE },
  channel: 'mobile',
  processingMode: 'online',
  decidingDivisionCode: NANMING,
  delivery: { method: 'pickup', hallCode: HALL },
  formData,
});

async function as(
  who: Record<string, string>,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  extra: Record<string, string> = {},
) {
  return server.app.inject({
    method,
    url,
    headers: { ...who, ...(method !== 'GET' ? { 'idempotency-key': randomUUID() } : {}), ...extra },
    ...(body === undefined ? {} : Buffer.isBuffer(body) ? { payload: body } : { payload: body as object }),
  });
}

async function staff(actor: string, url: string, body: unknown) {
  const res = await server.app.inject({
    method: 'POST',
    url,
    headers: { 'x-tongban-actor': actor, 'idempotency-key': randomUUID() },
    payload: body as object,
  });
  expect(res.statusCode, `${url} ${res.body}`).toBe(200);
  return res.json();
}

const countCases = async () =>
  Number(
    rowsOf<{ n: number }>(await server.database.db.execute(sql`select count(*)::int as n from cases`))[0]!.n,
  );

describe('a resident applies online from the citizen app', () => {
  it('files with channel mobile; the same Idempotency-Key three times gives exactly one case', async () => {
    const before = await countCases();
    const key = randomUUID();
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(
        await server.app.inject({
          method: 'POST',
          url: '/api/v1/cases',
          headers: { ...resident, 'idempotency-key': key },
          payload: application(),
        }),
      );
    for (const a of answers) expect(a.statusCode, a.body).toBe(201);
    const numbers = answers.map((a) => a.json().case.number);
    expect(new Set(numbers).size).toBe(1);
    caseNumber = numbers[0];
    expect(await countCases()).toBe(before + 1);
    expect(answers[0]!.json().case).toMatchObject({
      status: 'submitted',
      channel: 'mobile',
      processingMode: 'online',
      itemName: '社会保障卡补领',
      intakeHallCode: null,
      agent: null,
    });
    // the same key with another body: refused clearly, nothing filed
    const reused = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { ...resident, 'idempotency-key': key },
      payload: application({ reason: 'stolen', contactPhone: PHONE }),
    });
    expect([reused.statusCode, reused.json().error.code, reused.json().error.field]).toEqual([
      409,
      'idempotency.key_reused',
      'Idempotency-Key',
    ]);
    // an item without 全程网办 cannot be filed online (结婚登记: at a hall only)
    const offline = await as(resident, 'POST', '/api/v1/cases', {
      ...application({}),
      itemCode: '070004001000',
    });
    expect(offline.statusCode).toBe(400);
    expect(offline.json().error.issues.map((i: { field: string }) => i.field)).toContain('processingMode');
    expect(await countCases()).toBe(before + 1);
    // my applications: the one case
    const mine = (await as(resident, 'GET', '/api/v1/me/cases')).json().items;
    expect(mine.map((c: { number: string }) => c.number)).toEqual([caseNumber]);
  });

  it('uploads photos of the materials to her own case: retries store nothing new; others cannot', async () => {
    const key = randomUUID();
    const upload = (who: Record<string, string>, bytes: Buffer, k: string, type = 'image/jpeg', seq = 1) =>
      server.app.inject({
        method: 'PUT',
        url: `/api/v1/cases/${caseNumber}/materials/${seq}/file?filename=${encodeURIComponent('身份证正面.jpg')}`,
        headers: { ...who, 'idempotency-key': k, 'content-type': type },
        payload: bytes,
      });
    const first = await upload(resident, JPEG('front'), key);
    expect(first.statusCode, first.body).toBe(201);
    const body = first.json();
    expect(body.event).toMatchObject({ type: 'scanned', actor: { kind: 'applicant' } });
    expect(body.event.data).toMatchObject({ sm3: sm3Hex(JPEG('front')), submittedBy: 'applicant' });
    expect(body.material.received.electronic).toBe(1);
    expect(body.material.allowedNext).toContain('forwarded_electronically');
    const retry = await upload(resident, JPEG('front'), key);
    expect(retry.statusCode).toBe(201);
    expect(retry.json().event.data.fileKey).toBe(body.event.data.fileKey);
    const custody = (await as(resident, 'GET', `/api/v1/cases/${caseNumber}/materials`)).json();
    expect(custody.materials[0].files).toHaveLength(1);
    expect(custody.materials[0].events.map((e: { type: string }) => e.type)).toEqual(['received', 'scanned']);
    // the photo of the second material
    expect((await upload(resident, JPEG('photo'), randomUUID(), 'image/jpeg', 2)).statusCode).toBe(201);
    // untyped bytes, a lie about the type, another resident's case: refused
    const bin = await upload(resident, Buffer.from('abc'), randomUUID(), 'application/octet-stream');
    expect([bin.statusCode, bin.json().error.code]).toEqual([400, 'custody.content_type']);
    const fake = await upload(resident, Buffer.from('not a jpeg'), randomUUID());
    expect([fake.statusCode, fake.json().error.code]).toEqual([400, 'custody.file_type_mismatch']);
    const stranger = await upload(other, JPEG('x'), randomUUID());
    expect([stranger.statusCode, stranger.json().error.code]).toEqual([404, 'case.not_found']);
  });

  it('answers a supplement request from the phone with a new photo and resubmit', async () => {
    const hrss = `staff:nanming-hrss;department=${department}`;
    await staff(hrss, `/api/v1/cases/${caseNumber}/commands`, { type: 'receive' });
    await staff(hrss, `/api/v1/cases/${caseNumber}/commands`, {
      type: 'request_supplement',
      gaps: [{ material: '近期免冠证件照片', reason: '照片模糊，请重新上传' }],
    });
    const mine = (await as(resident, 'GET', '/api/v1/me/cases')).json().items[0];
    expect(mine.nextStep).toMatchObject({
      action: 'resubmit',
      gaps: [{ material: '近期免冠证件照片', reason: '照片模糊，请重新上传' }],
    });
    const photo = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/cases/${caseNumber}/materials/2/file`,
      headers: { ...resident, 'idempotency-key': randomUUID(), 'content-type': 'image/jpeg' },
      payload: JPEG('clear photo'),
    });
    expect(photo.statusCode, photo.body).toBe(201);
    expect(photo.json().material.files).toHaveLength(2);
    const resubmit = await as(resident, 'POST', `/api/v1/cases/${caseNumber}/commands`, { type: 'resubmit' });
    expect(resubmit.statusCode, resubmit.body).toBe(200);
    expect(resubmit.json().case.status).toBe('received');
    // accepted: no more uploads from the phone
    await staff(hrss, `/api/v1/cases/${caseNumber}/commands`, { type: 'accept' });
    const late = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/cases/${caseNumber}/materials/2/file`,
      headers: { ...resident, 'idempotency-key': randomUUID(), 'content-type': 'image/jpeg' },
      payload: JPEG('late'),
    });
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'custody.upload_closed']);
    await staff(hrss, `/api/v1/cases/${caseNumber}/commands`, { type: 'decide', outcome: 'granted' });
  });

  it('sees her timeline, reissues her pickup code (the same on a replay) and collects the result with it', async () => {
    const timeline = (await as(resident, 'GET', `/api/v1/cases/${caseNumber}/timeline`)).json().items;
    expect(timeline.map((e: { type: string }) => e.type)).toEqual([
      'submit',
      'receive',
      'request_supplement',
      'resubmit',
      'accept',
      'decide',
    ]);
    const mine = (await as(resident, 'GET', '/api/v1/me/cases')).json().items[0];
    expect(mine.nextStep).toEqual({ action: 'pickup', hallCode: HALL });
    const key = randomUUID();
    const reissue = () =>
      server.app.inject({
        method: 'POST',
        url: `/api/v1/cases/${caseNumber}/pickup-code`,
        headers: { ...resident, 'idempotency-key': key },
      });
    const first = await reissue();
    expect(first.statusCode, first.body).toBe(200);
    const code = first.json().pickupCode as string;
    expect(code).toMatch(/^\d{6}$/);
    expect((await reissue()).json().pickupCode).toBe(code);
    // the retry record keeps no code in clear
    const stored = JSON.stringify(
      rowsOf(await server.database.db.execute(sql`select response from idempotency_keys`)),
    );
    expect(stored).not.toContain(`"${code}"`);
    // staff reissuing get no code back (it goes to the applicant only)
    const desk = `staff:nanming-desk;hall=${HALL}`;
    const byStaff = await server.app.inject({
      method: 'POST',
      url: `/api/v1/cases/${caseNumber}/pickup-code`,
      headers: { 'x-tongban-actor': desk, 'idempotency-key': randomUUID() },
    });
    expect(byStaff.statusCode, byStaff.body).toBe(200);
    expect(byStaff.json().pickupCode).toBeUndefined();
    // her inbox (站内消息 of her account) has the new code and the case's news: the server recorded her
    // account when she filed — the body named no account (application() sends no applicant.accountId)
    await server.jobs.runOnce();
    const me = (await as(resident, 'GET', '/api/v1/auth/me')).json();
    const inbox = await as(
      resident,
      'GET',
      `/api/v1/notifications/inbox?recipient=applicant:${me.account.id}`,
    );
    expect(inbox.statusCode, inbox.body).toBe(200);
    const mineInInbox = (inbox.json().items as { caseNumber: string | null; subject: string }[]).filter(
      (m) => m.caseNumber === caseNumber,
    );
    expect(mineInInbox.filter((m) => m.subject === '新的取件码').length).toBeGreaterThanOrEqual(1);
    expect(mineInInbox.length).toBeGreaterThan(3);
    // …which replaced hers: she asks again and shows the new one at the desk
    const fresh = (await as(resident, 'POST', `/api/v1/cases/${caseNumber}/pickup-code`)).json()
      .pickupCode as string;
    const handed = await server.app.inject({
      method: 'POST',
      url: `/api/v1/cases/${caseNumber}/pickup`,
      headers: { 'x-tongban-actor': desk, 'idempotency-key': randomUUID() },
      payload: { pickupCode: fresh },
    });
    expect(handed.statusCode, handed.body).toBe(200);
    expect(handed.json().case.status).toBe('delivered');
    // another resident cannot ask for her code
    const stranger = await as(other, 'POST', `/api/v1/cases/${caseNumber}/pickup-code`);
    expect(stranger.statusCode).toBe(404);
  });

  it('a case an agent filed for her names the agent (kind and name), never the agent’s ID number', async () => {
    const agent = await signedInStaff(server, {
      username: 'nanming-agent',
      hallCode: HALL,
      grant: { role: 'village_agent', kind: 'hall', value: HALL },
    });
    const auth = await server.app.inject({
      method: 'POST',
      url: '/api/v1/agent-authorizations',
      headers: { authorization: `Bearer ${agent.token}` },
      payload: {
        resident: { idNumber: ID_NUMBER },
        itemCodes: [ITEM],
        validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        evidence: { kind: 'in_app' },
      },
    });
    expect(auth.statusCode, auth.body).toBe(201);
    const consent = await as(resident, 'POST', `/api/v1/agent-authorizations/${auth.json().id}/consent`);
    expect(consent.statusCode, consent.body).toBe(200);
    const agentId = syntheticIdNumber('520102', '19800808', '023');
    const filed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': randomUUID() },
      payload: {
        ...application(),
        channel: 'village_agent',
        intakeHallCode: HALL,
        processingMode: 'off_site_intake',
        agent: { kind: 'village_agent', name: '张代办', idNumber: agentId, authorizationRef: auth.json().id },
      },
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const number = filed.json().case.number;
    // staff see the agent's masked ID number; she does not
    expect(filed.json().case.agent.idNumber).toMatch(/\*+/);
    const seen = (await as(resident, 'GET', `/api/v1/cases/${number}`)).json();
    expect(seen.agent).toEqual({ kind: 'village_agent', name: '张代办', authorizationRef: auth.json().id });
    const listed = (await as(resident, 'GET', '/api/v1/me/cases')).json().items;
    const mine = listed.find((c: { number: string }) => c.number === number);
    expect(mine.agent).toEqual({ kind: 'village_agent', name: '张代办', authorizationRef: auth.json().id });
    // the agent photographs a material for her under the authorization
    const photo = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/cases/${number}/materials/1/file`,
      headers: {
        authorization: `Bearer ${agent.token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'image/png',
      },
      payload: Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.from('id'),
      ]),
    });
    expect(photo.statusCode, photo.body).toBe(201);
    expect(photo.json().event.actor).toMatchObject({ kind: 'agent', onBehalfOf: expect.any(String) });
    expect(photo.json().event.data.submittedBy).toBe('agent');
  });
});
