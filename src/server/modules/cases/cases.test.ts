import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';

/**
 * 全程通办 end to end through the HTTP API, one scenario per processing mode, on a real database with the
 * real Guizhou divisions, departments, halls and sample catalog.
 */
let server: RunningServer;
const dept: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  const find = async (
    division: string,
    kind: Parameters<RunningServer['services']['departments']['findDepartment']>[1],
  ) => (await server.services.departments.findDepartment(division, kind))!.id;
  dept.weiningCivil = await find('520526', 'civil_affairs'); // 威宁彝族回族苗族自治县民政局
  dept.kailiCivil = await find('522601', 'civil_affairs');
  dept.nanmingPolice = await find('520102', 'public_security');
  dept.yunyanPolice = await find('520103', 'public_security');
  dept.nanmingHrss = await find('520102', 'human_resources_social_security');
  dept.guiyangHrss = await find('5201', 'human_resources_social_security');
});
afterAll(async () => {
  await server?.close();
});

/** A valid synthetic resident identity number (GB 11643) born in `birth` with area code `area`. */
function idNumber(area = '520526', birth = '19800101', seq = '123'): string {
  const first17 = `${area}${birth}${seq}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

async function call(
  method: 'GET' | 'POST',
  url: string,
  options: { actor?: string; body?: unknown; key?: string; version?: number } = {},
) {
  const res = await server.app.inject({
    method,
    url,
    headers: {
      // reads without a declared actor: a development supervisor over the whole province (see principal.ts)
      ...(options.actor || method === 'GET'
        ? { 'x-tongban-actor': options.actor ?? 'staff:supervisor' }
        : {}),
      ...(method === 'POST' ? { 'idempotency-key': options.key ?? randomUUID() } : {}),
      ...(options.version !== undefined ? { 'if-match': `"${options.version}"` } : {}),
    },
    ...(options.body !== undefined ? { payload: options.body as object } : {}),
  });
  return { status: res.statusCode, body: res.json() };
}

/** The pickup code as the applicant receives it: in the notification of the decision (never in an API response). */
async function pickupCodeOf(number: string): Promise<string> {
  await server.jobs.runOnce();
  const c = await server.services.cases.get(number);
  const inbox = await server.services.notifications.inboxOf({ kind: 'applicant', id: `case:${c.id}` });
  const code = /(?:取件码|pickup code)\D*(\d{6})/.exec(JSON.stringify(inbox.items))?.[1];
  if (!code) throw new Error(`no pickup code in the applicant's inbox of ${number}`);
  return code;
}

const staff = (id: string, p: { department?: string; hall?: string }) =>
  `staff:${id}${p.department ? `;department=${p.department}` : ''}${p.hall ? `;hall=${p.hall}` : ''}`;

const command = (ref: string, actor: string, body: unknown, version?: number) =>
  call('POST', `/api/v1/cases/${ref}/commands`, {
    actor,
    body,
    ...(version !== undefined ? { version } : {}),
  });

describe('异地代收代办: received in 凯里, decided in 威宁, picked up back in 凯里, one visit to collect', () => {
  const intake = staff('kaili-window-1', { hall: '522601-zwfw' });
  let number = '';
  let pickupCode = '';

  it('receives the application at the 凯里 hall window and routes it to the 威宁 civil affairs bureau', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: intake,
      body: {
        itemCode: '050004001000', // 最低生活保障申请 (户籍地 decides)
        applicant: { kind: 'natural_person', name: '王小芳', idNumber: idNumber(), phone: '13800000001' },
        channel: 'hall_window',
        intakeHallCode: '522601-zwfw',
        processingMode: 'off_site_intake',
        decidingDivisionCode: '520526',
        delivery: { method: 'pickup', hallCode: '522601-zwfw' },
        formData: { familySize: 3 },
      },
    });
    expect(r.status).toBe(201);
    const c = r.body.case;
    number = c.number;
    expect(number).toMatch(/^522601\d{8}\d{7}$/);
    expect(c.status).toBe('received');
    expect(c.competentDepartmentId).toBe(dept.weiningCivil);
    expect(c.applicant.idNumber).toMatch(/^5205\*+\d{3}[\dX]$/);
    expect(c.applicant.phone).toBe('138****0001');
    expect(c.clocks.supplementDue.date).toBeDefined();
    expect(c.materials.map((m: { name: string }) => m.name)).toContain('最低生活保障申请书');
    expect(c.visits).toBe(1);
  });

  it('lets only the competent department accept, after the intake hall forwarded it', async () => {
    const early = await command(number, staff('weining-1', { department: dept.weiningCivil }), {
      type: 'accept',
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('case.not_forwarded');
    // a hall that did not receive the case does not see it: 404, as if it did not exist
    const wrongHall = await command(number, staff('guiyang-1', { hall: '520102-zwfw' }), { type: 'forward' });
    expect(wrongHall.status).toBe(404);
    const fwd = await command(number, intake, { type: 'forward' });
    expect(fwd.status).toBe(200);
    const other = await command(number, staff('kaili-civil', { department: dept.kailiCivil }), {
      type: 'accept',
    });
    // another county's bureau does not see the case at all (404), see cases/policy.ts
    expect([other.status, other.body.error.code]).toEqual([404, 'case.not_found']);
  });

  it('asks for every missing material at once (一次性告知), then the supplement is handed in at the window', async () => {
    const req = await command(number, staff('weining-1', { department: dept.weiningCivil }), {
      type: 'request_supplement',
      gaps: [
        { material: '家庭经济状况核对授权书', reason: '缺少家庭成员签字' },
        { material: '申请人居民户口簿', reason: '复印件不清晰' },
      ],
    });
    expect(req.status).toBe(200);
    expect(req.body.case.status).toBe('supplement_requested');
    const again = await command(number, staff('weining-1', { department: dept.weiningCivil }), {
      type: 'request_supplement',
      gaps: [{ material: 'x', reason: 'y' }],
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/allowed from: received, under_review/);
    // a walk-in's case belongs to no resident account: another resident does not see it (404); the
    // applicant hands the supplement in at the intake window
    const stranger = await command(number, 'applicant:wang', { type: 'resubmit' });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'case.not_found']);
    const back = await command(number, intake, { type: 'resubmit' });
    expect(back.body.case.status).toBe('received');
  });

  it('accepts, decides within the promised limit in working days, and issues a pickup code once', async () => {
    const weining = staff('weining-1', { department: dept.weiningCivil });
    const acc = await command(number, weining, { type: 'accept' });
    expect(acc.status).toBe(200);
    const calendar = await server.services.calendar.calendar();
    const expected = calendar.addWorkingDays(acc.body.case.clocks.clockStartedOn, 20).date;
    expect(acc.body.case.clocks.decisionDue.date).toBe(expected);
    const stale = await command(
      number,
      weining,
      { type: 'start_review', step: '入户调查' },
      acc.body.case.version - 1,
    );
    expect([stale.status, stale.body.error.code]).toEqual([409, 'case.version_conflict']);
    await command(number, weining, { type: 'start_review', step: '入户调查' }, acc.body.case.version);
    const decided = await command(number, weining, { type: 'decide', outcome: 'granted' });
    expect(decided.status).toBe(200);
    expect(decided.body.case.status).toBe('decided');
    expect(decided.body.pickupCode).toBeUndefined();
    pickupCode = await pickupCodeOf(number);
    expect(pickupCode).toMatch(/^\d{6}$/);
    expect(JSON.stringify(decided.body)).not.toContain(pickupCode);
    expect(decided.body.case.clocks.certificateDue.date).toBeDefined();
    const view = await call('GET', `/api/v1/cases/${number}`);
    expect(JSON.stringify(view.body)).not.toContain(pickupCode);
  });

  it('hands over at the 凯里 desk with the right code only, counting the visit', async () => {
    const desk = staff('kaili-desk', { hall: '522601-zwfw' });
    const wrong = await call('POST', `/api/v1/cases/${number}/pickup`, {
      actor: desk,
      body: { pickupCode: pickupCode === '000000' ? '111111' : '000000' },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([400, 'case.pickup_code_wrong']);
    const elsewhere = await call('POST', `/api/v1/cases/${number}/pickup`, {
      actor: staff('guiyang-desk', { hall: '520102-zwfw' }),
      body: { pickupCode },
    });
    expect(elsewhere.status).toBe(404);
    const ok = await call('POST', `/api/v1/cases/${number}/pickup`, { actor: desk, body: { pickupCode } });
    expect(ok.status).toBe(200);
    expect(ok.body.case.status).toBe('delivered');
    expect(ok.body.case.visits).toBe(2); // intake + pickup
  });

  it('keeps the whole story in the timeline and notifies the applicant', async () => {
    const t = await call('GET', `/api/v1/cases/${number}/timeline`);
    expect(t.body.items.map((e: { type: string }) => e.type)).toEqual([
      'submit',
      'receive',
      'forward',
      'request_supplement',
      'resubmit',
      'accept',
      'start_review',
      'decide',
      'deliver',
    ]);
    expect(t.body.items[3].data.gaps).toHaveLength(2);
    await server.jobs.runOnce();
    const c = await server.services.cases.get(number);
    const inbox = await server.services.notifications.inboxOf({ kind: 'applicant', id: `case:${c.id}` });
    expect(inbox.items.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(inbox.items)).toContain(number);
  });
});

describe('全程网办: online, decided by the competent department, delivered as an e-licence, zero visits', () => {
  it('runs from submission to delivery without a visit', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: 'applicant:li',
      body: {
        itemCode: '050002001000', // 失业保险金申领 (参保地)
        applicant: { kind: 'natural_person', name: '李明', idNumber: idNumber('520102', '19900202', '221') },
        channel: 'mobile',
        processingMode: 'online',
        decidingDivisionCode: '520102',
        delivery: { method: 'e_licence' },
      },
    });
    expect(r.status).toBe(201);
    const n = r.body.case.number;
    expect(r.body.case.status).toBe('submitted');
    const competent = r.body.case.competentDepartmentId;
    expect([dept.nanmingHrss, dept.guiyangHrss]).toContain(competent);
    const s = staff('hr-1', { department: competent });
    for (const body of [{ type: 'receive' }, { type: 'accept' }, { type: 'decide', outcome: 'granted' }]) {
      const step = await command(n, s, body);
      expect(step.status, JSON.stringify(step.body)).toBe(200);
    }
    const done = await command(n, s, { type: 'deliver', method: 'e_licence', reference: 'EL-2026-0001' });
    expect(done.body.case.status).toBe('delivered');
    expect(done.body.case.visits).toBe(0);
    const pickupByCommand = await command(n, s, { type: 'deliver', method: 'pickup' });
    expect(pickupByCommand.body.error.code).toBe('case.pickup_needs_code');
  });
});

describe('多地联办: parts decided by two competent departments; the case completes when both do', () => {
  it('decides the case only after every part is decided', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: staff('nanming-window', { hall: '520102-zwfw' }),
      body: {
        itemCode: '070001002000', // 户口迁移
        applicant: { kind: 'natural_person', name: '赵强', idNumber: idNumber('520103', '19850505', '331') },
        channel: 'hall_window',
        intakeHallCode: '520102-zwfw',
        processingMode: 'multi_site_joint',
        decidingDivisionCode: '520102',
        parts: [{ decidingDivisionCode: '520103' }],
        delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const n = r.body.case.number;
    expect(r.body.case.parts.map((p: { departmentId: string }) => p.departmentId)).toEqual([
      dept.nanmingPolice,
      dept.yunyanPolice,
    ]);
    expect(r.body.case.limits.legal).toEqual({ value: 45, unit: 'working_days' });
    const nanming = staff('nm-police', { department: dept.nanmingPolice });
    const yunyan = staff('yy-police', { department: dept.yunyanPolice });
    expect((await command(n, nanming, { type: 'accept' })).status).toBe(200);
    const wrongPart = await call('POST', `/api/v1/cases/${n}/parts/1/decision`, {
      actor: yunyan,
      body: { outcome: 'granted' },
    });
    expect(wrongPart.status).toBe(403);
    const p1 = await call('POST', `/api/v1/cases/${n}/parts/1/decision`, {
      actor: nanming,
      body: { outcome: 'granted' },
    });
    expect(p1.body.case.status).toBe('accepted');
    const p2 = await call('POST', `/api/v1/cases/${n}/parts/2/decision`, {
      actor: yunyan,
      body: { outcome: 'granted' },
    });
    expect(p2.body.case.status).toBe('decided');
    expect(p2.body.case.outcome).toBe('granted');
    expect(await pickupCodeOf(n)).toMatch(/^\d{6}$/);
    const ext = await command(n, nanming, { type: 'extend', reason: 'x' });
    expect(ext.status).toBe(409);
  });
});

describe('无差别办理: the intake hall decides itself under a delegation that is checked on every action', () => {
  it('needs a delegation in force; a revoked one stops the next action', async () => {
    const hall = '520102-zwfw';
    const window = staff('nm-any', { hall });
    const r = await call('POST', '/api/v1/cases', {
      actor: window,
      body: {
        itemCode: '200001001000', // 居民身份证换领 (户籍地 云岩区)
        applicant: { kind: 'natural_person', name: '陈静', idNumber: idNumber('520103', '19920303', '442') },
        channel: 'hall_window',
        intakeHallCode: hall,
        processingMode: 'any_hall',
        decidingDivisionCode: '520103',
        delivery: {
          method: 'mail',
          recipient: '陈静',
          phone: '13900000002',
          address: '贵州省贵阳市云岩区中华北路1号',
        },
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const n = r.body.case.number;
    expect(r.body.case.competentDepartmentId).toBe(dept.yunyanPolice);
    const refused = await command(n, window, { type: 'accept' });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'case.not_competent']);
    const grant = await call('POST', '/api/v1/delegations', {
      actor: staff('yy-chief', { department: dept.yunyanPolice }),
      body: {
        itemCode: '200001001000',
        departmentId: dept.yunyanPolice,
        hallCode: hall,
        validUntil: '2027-12-31T00:00:00+08:00',
        reason: '全省通办试点',
      },
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    expect((await command(n, window, { type: 'accept' })).status).toBe(200);
    const notGrantor = await call('POST', `/api/v1/delegations/${grant.body.id}/revoke`, {
      actor: window,
      body: { reason: '想撤就撤' },
    });
    expect(notGrantor.status).toBe(403);
    const revoked = await call('POST', `/api/v1/delegations/${grant.body.id}/revoke`, {
      actor: staff('yy-chief', { department: dept.yunyanPolice }),
      body: { reason: '试点结束' },
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    const after = await command(n, window, { type: 'decide', outcome: 'granted' });
    expect(after.status).toBe(403);
    const own = await command(n, staff('yy-1', { department: dept.yunyanPolice }), {
      type: 'decide',
      outcome: 'granted',
    });
    expect(own.status).toBe(200);
  });
});

describe('safety for clients that retry', () => {
  it('a replayed submission returns the first case and creates nothing; a reused key for another body is a 409', async () => {
    const body = {
      itemCode: '050002001000',
      applicant: { kind: 'natural_person', name: '周一', idNumber: idNumber('520102', '19950101', '551') },
      channel: 'pc',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: { method: 'e_licence' },
    };
    const key = randomUUID();
    const a = await call('POST', '/api/v1/cases', { actor: 'applicant:zhou', body, key });
    const b = await call('POST', '/api/v1/cases', { actor: 'applicant:zhou', body, key });
    expect(a.status).toBe(201);
    expect(b.body.case.number).toBe(a.body.case.number);
    const mine = await call('POST', '/api/v1/applicant-cases', {
      actor: 'staff:supervisor',
      body: { identifier: body.applicant.idNumber },
    });
    expect(mine.body.items).toHaveLength(1);
    const c = await call('POST', '/api/v1/cases', {
      actor: 'applicant:zhou',
      body: { ...body, channel: 'mobile' },
      key,
    });
    expect([c.status, c.body.error.code]).toEqual([409, 'idempotency.key_reused']);
  });

  it('two concurrent writes with the same version: one wins, the other is a 409, nothing is lost', async () => {
    const s = await call('POST', '/api/v1/cases', {
      actor: 'applicant:wu',
      body: {
        itemCode: '050002001000',
        applicant: { kind: 'natural_person', name: '吴二', idNumber: idNumber('520102', '19960101', '661') },
        channel: 'pc',
        processingMode: 'online',
        decidingDivisionCode: '520102',
        delivery: { method: 'e_licence' },
      },
    });
    const n = s.body.case.number;
    const hr = staff('hr-2', { department: s.body.case.competentDepartmentId });
    await command(n, hr, { type: 'receive' });
    const v = (await call('GET', `/api/v1/cases/${n}`)).body.version;
    const [x, y] = await Promise.all([
      command(n, hr, { type: 'accept' }, v),
      command(n, 'applicant:wu', { type: 'withdraw', reason: '不办了' }, v),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    const final = await call('GET', `/api/v1/cases/${n}`);
    expect(final.body.version).toBe(v + 1);
    const timeline = await call('GET', `/api/v1/cases/${n}/timeline`);
    expect(timeline.body.items).toHaveLength(3);
  });

  it('refuses bad input naming the field, and creates nothing', async () => {
    const before = (
      await call('POST', '/api/v1/applicant-cases', {
        actor: 'staff:supervisor',
        body: { identifier: idNumber('520102', '19970101', '771') },
      })
    ).body.items.length;
    const request = {
      itemCode: '050002001000',
      applicant: { kind: 'natural_person', name: '某', idNumber: '520102199701017710' },
      channel: 'pc',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: { method: 'e_licence' },
    };
    const bad = {
      ...(await call('POST', '/api/v1/cases', { actor: 'applicant:x', body: request })),
      request,
    };
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('applicant.idNumber');
    const noActor = await call('POST', '/api/v1/cases', {
      body: {
        ...bad.request,
        applicant: { kind: 'natural_person', name: '某', idNumber: idNumber('520102', '19970101', '771') },
      },
    });
    expect([noActor.status, noActor.body.error.code]).toEqual([401, 'auth.required']);
    const mode = await call('POST', '/api/v1/cases', {
      actor: 'applicant:x',
      body: {
        itemCode: '070004001000', // 结婚登记: 无差别办理 only
        applicant: { kind: 'natural_person', name: '某', idNumber: idNumber('520102', '19970101', '771') },
        channel: 'pc',
        processingMode: 'online',
        decidingDivisionCode: '520102',
        delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      },
    });
    expect([mode.status, mode.body.error.field]).toEqual([400, 'processingMode']);
    const after = (
      await call('POST', '/api/v1/applicant-cases', {
        actor: 'staff:supervisor',
        body: { identifier: idNumber('520102', '19970101', '771') },
      })
    ).body.items.length;
    expect(after).toBe(before);
    expect((await call('GET', '/api/v1/cases/520102202611299999999')).status).toBe(404);
  });
});

describe('the department inbox', () => {
  it('lists open cases by decision due date with cursor pages', async () => {
    const first = await call('GET', `/api/v1/departments/${dept.weiningCivil}/inbox?limit=1`);
    expect(first.status).toBe(200);
    const page = await call('GET', `/api/v1/departments/${dept.yunyanPolice}/inbox?limit=50`);
    const dues = page.body.items.map(
      (c: { decisionDue: string | null; clocks: { decisionDue: { date: string } | null } }) =>
        c.clocks.decisionDue?.date ?? '9999',
    );
    expect([...dues].sort()).toEqual(dues);
    expect((await call('GET', `/api/v1/departments/${dept.yunyanPolice}/inbox?cursor=nonsense`)).status).toBe(
      400,
    );
    const forged = Buffer.from(JSON.stringify({ decisionDue: null, id: '-'.repeat(36) })).toString(
      'base64url',
    );
    expect(
      (await call('GET', `/api/v1/departments/${dept.yunyanPolice}/inbox?cursor=${forged}`)).status,
    ).toBe(400);
  });

  it('walks every page with the cursor and sees each open case once, in order (undated cases last)', async () => {
    for (const d of [dept.nanmingHrss, dept.guiyangHrss, dept.weiningCivil, dept.yunyanPolice]) {
      const all = (await call('GET', `/api/v1/departments/${d}/inbox?limit=100`)).body.items.map(
        (c: { number: string }) => c.number,
      );
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { number: string }[]; next: string | null } } =
          await call('GET', `/api/v1/departments/${d}/inbox?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        walked.push(...page.body.items.map((c) => c.number));
        cursor = page.body.next;
      } while (cursor && walked.length < 200);
      expect(walked).toEqual(all);
    }
  });
});

describe('policy holes found by an adversarial review stay closed', () => {
  async function offSite(seq: string, delivery: unknown = { method: 'pickup', hallCode: '522601-zwfw' }) {
    const r = await call('POST', '/api/v1/cases', {
      actor: staff('kaili-window-9', { hall: '522601-zwfw' }),
      body: {
        itemCode: '050004001000',
        applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber('520526', '19810101', seq) },
        channel: 'hall_window',
        intakeHallCode: '522601-zwfw',
        processingMode: 'off_site_intake',
        decidingDivisionCode: '520526',
        delivery,
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.case.number as string;
  }
  const intake = staff('kaili-window-9', { hall: '522601-zwfw' });
  const weining = () => staff('weining-9', { department: dept.weiningCivil });

  it('nobody rates through the case command: 好差评 (POST /api/v1/evaluations) rates the case', async () => {
    // filed online by the signed-in applicant (so the case is theirs), received at the 凯里 hall
    const filed = await call('POST', '/api/v1/cases', {
      actor: 'applicant:tester',
      body: {
        itemCode: '050004001000',
        applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber('520526', '19810101', '901') },
        channel: 'pc',
        intakeHallCode: '522601-zwfw',
        processingMode: 'off_site_intake',
        decidingDivisionCode: '520526',
        delivery: {
          method: 'mail',
          recipient: '测试',
          phone: '13800000009',
          address: '贵州省凯里市测试路9号',
        },
      },
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    const n = filed.body.case.number as string;
    await command(n, intake, { type: 'receive' });
    await command(n, intake, { type: 'forward' });
    for (const body of [{ type: 'accept' }, { type: 'decide', outcome: 'granted' }])
      await command(n, weining(), body);
    const pickupInstead = await command(n, weining(), { type: 'deliver', method: 'e_licence' });
    expect([pickupInstead.status, pickupInstead.body.error.code]).toEqual([
      409,
      'case.delivery_method_mismatch',
    ]);
    expect(
      (await command(n, weining(), { type: 'deliver', method: 'mail', reference: 'SF100' })).status,
    ).toBe(200);
    for (const who of [weining(), 'applicant:other', 'applicant:tester']) {
      const r = await command(n, who, { type: 'rate', level: 1 });
      expect([r.status, r.body.error.code]).toEqual([409, 'case.rate_through_evaluations']);
    }
    expect((await server.services.cases.get(n)).status).toBe('delivered');
    const rated = await call('POST', '/api/v1/evaluations', {
      actor: 'applicant:tester',
      body: { caseNumber: n, channel: 'mobile', level: 1 },
    });
    expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    expect((await server.services.cases.get(n)).status).toBe('rated');
  });

  it('reassign needs a department that implements the item, and after acceptance only the competent one', async () => {
    const n = await offSite('902');
    const bogus = await command(n, intake, { type: 'reassign', departmentId: randomUUID(), reason: 'x' });
    expect([bogus.status, bogus.body.error.field]).toEqual([404, 'departmentId']);
    const notImplementing = await command(n, intake, {
      type: 'reassign',
      departmentId: dept.nanmingPolice,
      reason: 'x',
    });
    expect([notImplementing.status, notImplementing.body.error.code]).toEqual([
      409,
      'case.department_not_implementing',
    ]);
    expect(
      (await command(n, intake, { type: 'reassign', departmentId: 'not-a-uuid', reason: 'x' })).status,
    ).toBe(400);
    await command(n, intake, { type: 'forward' });
    await command(n, weining(), { type: 'accept' });
    const grab = await command(n, intake, {
      type: 'reassign',
      departmentId: dept.kailiCivil,
      reason: '我们来办',
    });
    expect(grab.status).toBe(403);
  });

  it('nobody but the pickup hall can burn pickup attempts', async () => {
    const n = await offSite('903');
    await command(n, intake, { type: 'forward' });
    for (const body of [{ type: 'accept' }, { type: 'decide', outcome: 'denied', reason: '收入超过标准' }]) {
      expect((await command(n, weining(), body)).status).toBe(200);
    }
    const code = await pickupCodeOf(n); // a denial is collected at the desk too
    for (let i = 0; i < 6; i++) {
      const r = await call('POST', `/api/v1/cases/${n}/pickup`, {
        actor: 'applicant:stranger',
        body: { pickupCode: '000000' },
      });
      expect(r.status).toBe(404); // a resident does not see someone else's case
    }
    const v = (await call('GET', `/api/v1/cases/${n}`)).body.version;
    const wrong = await call('POST', `/api/v1/cases/${n}/pickup`, {
      actor: intake,
      body: { pickupCode: code === '123456' ? '654321' : '123456' },
    });
    expect(wrong.status).toBe(400);
    expect((await call('GET', `/api/v1/cases/${n}`)).body.version).toBe(v);
    expect(
      (await call('POST', `/api/v1/cases/${n}/pickup`, { actor: intake, body: { pickupCode: code } })).status,
    ).toBe(200);
  });

  it('a locked pickup code is reissued to the applicant alone; the old code stops working', async () => {
    const n = await offSite('905');
    await command(n, intake, { type: 'forward' });
    for (const body of [{ type: 'accept' }, { type: 'decide', outcome: 'granted' }]) {
      expect((await command(n, weining(), body)).status).toBe(200);
    }
    const first = await pickupCodeOf(n);
    const other = first === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const r = await call('POST', `/api/v1/cases/${n}/pickup`, {
        actor: intake,
        body: { pickupCode: other },
      });
      expect(r.status).toBe(400);
    }
    const locked = await call('POST', `/api/v1/cases/${n}/pickup`, {
      actor: intake,
      body: { pickupCode: first },
    });
    expect([locked.status, locked.body.error.code]).toEqual([409, 'case.pickup_locked']);
    // A department that has nothing to do with the case cannot reissue (it would spam the applicant).
    const stranger = await call('POST', `/api/v1/cases/${n}/pickup-code`, {
      actor: staff('nm-police', { department: dept.nanmingPolice }),
    });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'case.not_found']);
    const key = randomUUID();
    const reissued = await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: intake, key });
    expect(reissued.status, JSON.stringify(reissued.body)).toBe(200);
    // A retry of the same request issues no second code.
    const replay = await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: intake, key });
    expect(replay.body.case.version).toBe(reissued.body.case.version);
    await server.jobs.runOnce();
    const c = await server.services.cases.get(n);
    const inbox = await server.services.notifications.inboxOf({ kind: 'applicant', id: `case:${c.id}` });
    const notices = inbox.items.filter((m) => m.subject === '新的取件码');
    expect(notices).toHaveLength(1);
    const code = /取件码为 (\d{6})/.exec(notices[0]!.body)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(reissued.body)).not.toContain(code);
    const timeline = (await call('GET', `/api/v1/cases/${n}/timeline`)).body;
    expect(JSON.stringify(timeline)).toContain('reissue_pickup_code');
    if (code !== first) {
      const old = await call('POST', `/api/v1/cases/${n}/pickup`, {
        actor: intake,
        body: { pickupCode: first },
      });
      expect([old.status, old.body.error.code]).toEqual([400, 'case.pickup_code_wrong']);
    }
    const ok = await call('POST', `/api/v1/cases/${n}/pickup`, { actor: intake, body: { pickupCode: code } });
    expect(ok.status).toBe(200);
    const again = await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: intake });
    expect([again.status, again.body.error.code]).toEqual([409, 'case.no_pickup']);
  });

  it('every transition and every refusal is in the hash-chained audit log', async () => {
    const n = await offSite('907');
    const c = await server.services.cases.get(n);
    await command(n, intake, { type: 'forward' });
    // a caller who does not see the case is refused before the engine (404, nothing to audit on the case)
    const unseen = await command(n, staff('nm-police', { department: dept.nanmingPolice }), {
      type: 'accept',
    });
    expect(unseen.status).toBe(404);
    // one who sees it (the intake hall) but is not competent is refused by the engine, and audited
    const refused = await command(n, staff('nm-police', { hall: '522601-zwfw' }), { type: 'accept' });
    expect(refused.status).toBe(403);
    await command(n, weining(), { type: 'accept' });
    const audit = server.services.audit;
    const { items } = await audit.list({ targetType: 'case', targetId: c.id, limit: 50 });
    // submit and receive share one instant (a hall window receives at once): compare as a set.
    const actions = items.map((e) => `${e.action}:${e.outcome}`).sort();
    expect(actions).toEqual(['case.accept:ok', 'case.forward:ok', 'case.receive:ok', 'case.submit:ok']);
    const denied = await audit.list({ action: 'case.accept', targetId: n, limit: 5 });
    expect(denied.items.map((e) => [e.outcome, e.actor.id, e.details.code])).toEqual([
      ['denied', 'nm-police', 'case.not_competent'],
    ]);
    const accept = items.find((e) => e.action === 'case.accept')!;
    expect(accept.details).toMatchObject({ caseNumber: n, from: 'received', to: 'accepted' });
    expect(JSON.stringify(items)).not.toContain(idNumber('520526', '19810101', '907'));
    await audit.chainAll();
    expect((await audit.verify()).ok).toBe(true);
  });

  it('one idempotency key is one command, whether the case is named by its number or its id', async () => {
    const n = await offSite('908');
    const c = await server.services.cases.get(n);
    const key = randomUUID();
    const byId = await call('POST', `/api/v1/cases/${c.id.toUpperCase()}/commands`, {
      actor: intake,
      key,
      body: { type: 'forward' },
    });
    expect(byId.status, JSON.stringify(byId.body)).toBe(200);
    const byNumber = await call('POST', `/api/v1/cases/${n}/commands`, {
      actor: intake,
      key,
      body: { type: 'forward' },
    });
    expect(byNumber.status).toBe(200);
    expect(byNumber.body.case.version).toBe(byId.body.case.version);
    expect((await server.services.cases.timeline(n)).filter((e) => e.type === 'forward')).toHaveLength(1);
  });

  it('a pickup code is reissued at most three times', async () => {
    const n = await offSite('906');
    await command(n, intake, { type: 'forward' });
    for (const body of [{ type: 'accept' }, { type: 'decide', outcome: 'granted' }]) {
      await command(n, weining(), body);
    }
    // Any applicant is not this case's applicant (it was filed at a window, under no account): to a
    // resident, someone else's case does not exist (404, see cases/policy.ts).
    const stranger = await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: 'applicant:me' });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'case.not_found']);
    for (let i = 0; i < 3; i++) {
      expect((await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: intake })).status).toBe(200);
    }
    const fourth = await call('POST', `/api/v1/cases/${n}/pickup-code`, { actor: intake });
    expect([fourth.status, fourth.body.error.code]).toEqual([409, 'case.pickup_reissue_limit']);
  });

  it('多地联办: two departments deciding their parts at the same moment decide the case (no stale parts)', async () => {
    for (let round = 0; round < 3; round++) {
      const r = await call('POST', '/api/v1/cases', {
        actor: staff('nanming-window', { hall: '520102-zwfw' }),
        body: {
          itemCode: '070001002000',
          applicant: {
            kind: 'natural_person',
            name: '赵六',
            idNumber: idNumber('520103', '19850505', `91${round}`),
          },
          channel: 'hall_window',
          intakeHallCode: '520102-zwfw',
          processingMode: 'multi_site_joint',
          decidingDivisionCode: '520102',
          parts: [{ decidingDivisionCode: '520103' }],
          delivery: { method: 'pickup', hallCode: '520102-zwfw' },
        },
      });
      const n = r.body.case.number;
      const nanming = staff('nm-police', { department: dept.nanmingPolice });
      expect((await command(n, nanming, { type: 'accept' })).status).toBe(200);
      const [a, b] = await Promise.all([
        call('POST', `/api/v1/cases/${n}/parts/1/decision`, { actor: nanming, body: { outcome: 'granted' } }),
        call('POST', `/api/v1/cases/${n}/parts/2/decision`, {
          actor: staff('yy-police', { department: dept.yunyanPolice }),
          body: { outcome: 'granted' },
        }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const c = await server.services.cases.get(n);
      expect([c.status, c.outcome]).toEqual(['decided', 'granted']);
    }
  });

  it('多地联办 is decided by its parts, by staff of each part’s department', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: staff('nanming-window', { hall: '520102-zwfw' }),
      body: {
        itemCode: '070001002000',
        applicant: { kind: 'natural_person', name: '赵六', idNumber: idNumber('520103', '19850505', '904') },
        channel: 'hall_window',
        intakeHallCode: '520102-zwfw',
        processingMode: 'multi_site_joint',
        decidingDivisionCode: '520102',
        parts: [{ decidingDivisionCode: '520103' }],
        delivery: { method: 'pickup', hallCode: '520102-zwfw' },
      },
    });
    const n = r.body.case.number;
    const nanming = staff('nm-police', { department: dept.nanmingPolice });
    await command(n, nanming, { type: 'accept' });
    const skip = await command(n, nanming, { type: 'decide', outcome: 'granted' });
    expect([skip.status, skip.body.error.code]).toEqual([409, 'case.decide_by_parts']);
    const applicantPart = await call('POST', `/api/v1/cases/${n}/parts/2/decision`, {
      actor: `applicant:x;department=${dept.yunyanPolice}`,
      body: { outcome: 'granted' },
    });
    expect(applicantPart.status).toBe(404); // not x's case: a resident sees only their own
  });
});

describe('申请表单: form data is checked against the item’s form', () => {
  // 社会保障卡补领: reason (select, required), lossDate and reportedLoss (required when reason = lost),
  // contactPhone (phone, required) — see data/catalog/sample-catalog.json.
  const applicantId = idNumber('520102', '19880808', '881');
  const body = (formData: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    itemCode: '200002002000',
    applicant: { kind: 'natural_person', name: '钱八', idNumber: applicantId },
    channel: 'mobile',
    processingMode: 'online',
    decidingDivisionCode: '520102',
    delivery: { method: 'pickup', hallCode: '520102-zwfw' },
    formData,
    ...extra,
  });
  const casesOfApplicant = async () =>
    (
      await call('POST', '/api/v1/applicant-cases', {
        actor: 'staff:supervisor',
        body: { identifier: applicantId },
      })
    ).body.items.length as number;

  it('a bad form is a 400 case.application_invalid naming every bad formData.<key> at once, and creates no case', async () => {
    const before = await casesOfApplicant();
    const r = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: body({ colour: 'red', reason: 'lost', lossDate: '2025-02-30', contactPhone: '12345' }),
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('case.application_invalid');
    expect(r.body.error.field).toBe('formData.colour');
    const issues = r.body.error.issues as { field: string; message: string }[];
    expect(issues.map((i) => i.field)).toEqual([
      'formData.colour',
      'formData.lossDate',
      'formData.reportedLoss',
      'formData.contactPhone',
    ]);
    expect(issues[1]?.message).toMatch(/遗失日期: enter a real date as YYYY-MM-DD/);
    expect(issues[2]?.message).toMatch(/是否已办理挂失 is required/);
    expect(issues[3]?.message).toMatch(/联系手机: enter a mainland mobile number/);
    // with the application's other problems, in the same answer
    const both = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: body({ reason: 'stolen' }, { delivery: { method: 'e_licence' } }),
    });
    expect(both.status).toBe(400);
    expect(both.body.error.issues.map((i: { field: string }) => i.field)).toEqual([
      'delivery.method',
      'formData.contactPhone',
    ]);
    // a value for a field the form hides (lossDate applies only to reason = lost)
    const hidden = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: body({ reason: 'damaged', lossDate: '2025-03-01', contactPhone: '13800000009' }),
    });
    expect([hidden.status, hidden.body.error.field]).toEqual([400, 'formData.lossDate']);
    expect(await casesOfApplicant()).toBe(before);
  });

  it('good form data is stored cleaned and shown with the case', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: body({
        reason: 'lost',
        lossDate: '2025-03-01',
        reportedLoss: true,
        contactPhone: ' 13800000009 ',
      }),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    // The phone is an identifier field: shown masked, stored sealed (SM4), never in clear.
    const shown = {
      reason: 'lost',
      lossDate: '2025-03-01',
      reportedLoss: true,
      contactPhone: '138****0009',
    };
    expect(r.body.case.formData).toEqual(shown);
    const again = await call('GET', `/api/v1/cases/${r.body.case.number}`);
    expect(again.status).toBe(200);
    expect(again.body.formData).toEqual(shown);
    const [raw] = rowsOf<{ f: Record<string, unknown> }>(
      await server.database.db.execute(sql`select form_data as f from cases where id = ${r.body.case.id}`),
    );
    expect(raw!.f.reason).toBe('lost');
    expect(String(raw!.f.contactPhone)).toMatch(/^sm4cbc-sm3:v1:/);
    expect(JSON.stringify(raw)).not.toContain('13800000009');
  });

  it('a bank account (失业保险金申领) is sealed at rest and shown by its last four digits', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: {
        ...body({ payout: 'bank', bankName: '农业银行', bankAccount: '6228 4804 0256 4890 018' }),
        itemCode: '050002001000',
        delivery: { method: 'e_licence' },
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.case.formData).toMatchObject({ bankName: '农业银行', bankAccount: '****0018' });
    const [raw] = rowsOf<{ f: Record<string, unknown> }>(
      await server.database.db.execute(sql`select form_data as f from cases where id = ${r.body.case.id}`),
    );
    expect(String(raw!.f.bankAccount)).toMatch(/^sm4cbc-sm3:v1:/);
    expect(JSON.stringify(raw)).not.toContain('6228480402564890018');
  });

  it('a bad value of an optional field is refused too (最低生活保障申请 familySize)', async () => {
    const r = await call('POST', '/api/v1/cases', {
      actor: 'applicant:qian',
      body: {
        ...body({}),
        itemCode: '050004001000', // 最低生活保障申请: optional fields only
        processingMode: 'off_site_intake',
        intakeHallCode: '520102-zwfw',
        decidingDivisionCode: '520102',
        formData: { familySize: 'three' },
      },
    });
    expect([r.status, r.body.error?.field]).toEqual([400, 'formData.familySize']);
  });
});
