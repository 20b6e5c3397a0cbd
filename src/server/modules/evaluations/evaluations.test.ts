/**
 * 好差评 end to end on a real server (PGlite, or PostgreSQL with DATABASE_URL): cases filed by residents
 * (development applicant actors) at the 凯里 hall for 威宁, decided and delivered by mail; then ratings by
 * the applicant, the rating link and the hall tablet; a bad review's rectification with due dates in
 * working days, call-back, outcome, follow-up rating; appeals and their review; public satisfaction; the
 * outbox events of the contract; overdue flagged once by the jobs loop.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const HALL = '522601-zwfw';
let weiningCivil = '';
let seq = 100;

beforeAll(async () => {
  server = await startTestServer({ clock });
  weiningCivil = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
});
afterAll(async () => {
  await server?.close();
});

const idNumber = (s: string) => {
  const first17 = `52052619810101${s}`;
  return first17 + computeIdentityCheckCharacter(first17);
};
const clerk = `staff:kaili-clerk;hall=${HALL}`;
const weining = () => `staff:weining-officer;department=${weiningCivil}`;

async function call(
  method: 'GET' | 'POST',
  url: string,
  options: { actor?: string; body?: unknown; key?: string } = {},
) {
  const res = await server.app.inject({
    method,
    url,
    headers: {
      ...(options.actor ? { 'x-tongban-actor': options.actor } : {}),
      ...(method === 'POST' ? { 'idempotency-key': options.key ?? randomUUID() } : {}),
    },
    ...(options.body !== undefined ? { payload: options.body as object } : {}),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

/** A case of `applicant` (account id), filed online for 威宁 and received at 凯里, taken to `until`. */
async function caseOf(applicant: string, until: 'received' | 'decided' | 'delivered' = 'delivered') {
  const filed = await call('POST', '/api/v1/cases', {
    actor: `applicant:${applicant}`,
    body: {
      itemCode: '050004001000',
      applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber(String(++seq)) },
      channel: 'pc',
      intakeHallCode: HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: {
        method: 'mail',
        recipient: '测试',
        phone: '13800000009',
        address: '贵州省凯里市测试路9号',
      },
      formData: { familySize: 3, monthlyIncome: 1200 },
    },
  });
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  const n = filed.body.case.number as string;
  const steps: [string, unknown][] = [
    [clerk, { type: 'receive' }],
    [clerk, { type: 'forward' }],
    [weining(), { type: 'accept' }],
    [weining(), { type: 'decide', outcome: 'granted' }],
    [weining(), { type: 'deliver', method: 'mail', reference: 'SF100' }],
  ];
  const upto = until === 'received' ? 1 : until === 'decided' ? 4 : 5;
  for (const [actor, body] of steps.slice(0, upto)) {
    const r = await call('POST', `/api/v1/cases/${n}/commands`, { actor, body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  return n;
}

const rate = (body: Record<string, unknown>, actor?: string, key?: string) =>
  call('POST', '/api/v1/evaluations', { body, ...(actor ? { actor } : {}), ...(key ? { key } : {}) });

const outboxOf = async (topic: string) =>
  rowsOf<{ payload: Record<string, unknown> }>(
    await server.database.db.execute(sql`select payload from outbox where topic = ${topic} order by id`),
  ).map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload));

describe('rating a case (好差评)', () => {
  it('the applicant rates her delivered case once; the case goes to rated; the same key replays', async () => {
    const n = await caseOf('rater-a');
    const key = randomUUID();
    const first = await rate(
      { caseNumber: n, channel: 'mobile', level: 1, comment: '很好' },
      'applicant:rater-a',
      key,
    );
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.rectificationId).toBeNull();
    const replay = await rate(
      { caseNumber: n, channel: 'mobile', level: 1, comment: '很好' },
      'applicant:rater-a',
      key,
    );
    expect([replay.status, replay.body.id]).toEqual([201, first.body.id]);
    const again = await rate({ caseNumber: n, channel: 'mobile', level: 2 }, 'applicant:rater-a');
    expect([again.status, again.body.error.code]).toEqual([409, 'evaluation.already_rated']);
    expect((await server.services.cases.get(n)).status).toBe('rated');
    const [event] = (await outboxOf('evaluation.submitted')).filter((p) => p.evaluationId === first.body.id);
    expect(event).toMatchObject({
      caseNumber: n,
      itemCode: '050004001000',
      level: 1,
      channel: 'mobile',
      hallCode: HALL,
      departmentId: weiningCivil,
      staffAccountId: 'weining-officer', // who delivered the result
      intakeCountyCode: '522601',
      decidingCountyCode: '520526',
    });
    expect(event!.on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(JSON.stringify(event)).not.toContain('13800000009');
  });

  it('refuses bad input and callers who may not rate, changing nothing', async () => {
    const n = await caseOf('rater-b');
    const token = server.services.evaluations.ratingToken(n);
    for (const level of [0, 6, 2.5]) {
      const r = await rate({ caseNumber: n, channel: 'sms', level, token });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([
        400,
        'validation.invalid_field',
        'level',
      ]);
    }
    const anonymous = await rate({ caseNumber: n, channel: 'sms', level: 1 });
    expect(anonymous.status).toBe(401);
    const wrongToken = await rate({
      caseNumber: n,
      channel: 'sms',
      level: 1,
      token: `${token.slice(0, -1)}x`,
    });
    expect([wrongToken.status, wrongToken.body.error.code]).toEqual([403, 'evaluation.token_invalid']);
    const otherCaseToken = await rate({
      caseNumber: n,
      channel: 'sms',
      level: 1,
      token: server.services.evaluations.ratingToken('522601202600000000001'),
    });
    expect(otherCaseToken.status).toBe(403);
    const unknown = '522601209900009999991';
    const none = await rate({
      caseNumber: unknown,
      channel: 'sms',
      level: 1,
      token: server.services.evaluations.ratingToken(unknown),
    });
    expect([none.status, none.body.error.code]).toEqual([404, 'case.not_found']);
    const someoneElse = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:stranger');
    expect([someoneElse.status, someoneElse.body.error.code]).toEqual([404, 'case.not_found']);
    const staffOnPhone = await rate({ caseNumber: n, channel: 'mobile', level: 1 }, clerk);
    expect([staffOnPhone.status, staffOnPhone.body.error.code]).toEqual([
      403,
      'evaluation.channel_not_allowed',
    ]);
    const otherHall = await rate(
      { caseNumber: n, channel: 'hall_tablet', level: 1 },
      'staff:gy;hall=520102-zwfw',
    );
    expect(otherHall.status).toBe(404); // not a case they see (the 404 rule)
    const deptAtTablet = await rate({ caseNumber: n, channel: 'hall_tablet', level: 1 }, weining());
    expect([deptAtTablet.status, deptAtTablet.body.error.code]).toEqual([403, 'evaluation.other_hall']);
    const open = await caseOf('rater-b2', 'received');
    const early = await rate({ caseNumber: open, channel: 'mobile', level: 1 }, 'applicant:rater-b2');
    expect([early.status, early.body.error.code]).toEqual([409, 'evaluation.not_ratable']);
    const rows = rowsOf(
      await server.database.db.execute(sql`select 1 from evaluations where case_number in (${n}, ${open})`),
    );
    expect(rows).toHaveLength(0);
  });

  it('the hall tablet rates a case of its hall (channel hall_tablet); that is the case’s one rating', async () => {
    const n = await caseOf('rater-c', 'decided');
    const tablet = await rate({ caseNumber: n, channel: 'hall_tablet', level: 2 }, clerk);
    expect(tablet.status, JSON.stringify(tablet.body)).toBe(201);
    const status = await call('GET', `/api/v1/evaluations/rating-status/${n}`, { actor: clerk });
    expect(status.body).toMatchObject({ caseNumber: n, ratable: false, mine: { level: 2 } });
    const mine = await call('GET', `/api/v1/evaluations/rating-status/${n}`, { actor: 'applicant:rater-c' });
    expect(mine.body).toMatchObject({ ratable: false, mine: { level: 2 }, status: 'decided' });
    const again = await rate({ caseNumber: n, channel: 'pc', level: 1 }, 'applicant:rater-c');
    expect([again.status, again.body.error.code]).toEqual([409, 'evaluation.already_rated']);
    expect((await server.services.cases.get(n)).status).toBe('decided'); // only a delivered case moves to rated
  });
});

describe('a bad review: rectification, call-back, outcome, appeal, review, follow-up', () => {
  it('runs through the whole life, with due dates in working days and every step recorded', async () => {
    const n = await caseOf('rater-d');
    const token = server.services.evaluations.ratingToken(n);
    const bad = await rate({ caseNumber: n, channel: 'sms', level: 5, comment: '等了很久', token });
    expect(bad.status, JSON.stringify(bad.body)).toBe(201);
    const rectId = bad.body.rectificationId as string;
    expect(rectId).toBeTruthy();
    const calendar = await server.services.calendar.calendar();
    const list = await call('GET', '/api/v1/rectifications', { actor: weining() });
    const rect = (list.body.items as { id: string }[]).find((r) => r.id === rectId) as Record<
      string,
      unknown
    >;
    const today = rect.openedOn as string;
    expect(rect).toMatchObject({
      status: 'open',
      departmentId: weiningCivil,
      countyCode: '520526',
      callBackDue: calendar.addWorkingDays(today, 1).date,
      rectifyDue: calendar.addWorkingDays(today, 15).date,
      workingDaysLeft: 1,
      overdue: null,
      can: { rectify: true, appeal: true },
      evaluation: { level: 5, comment: '等了很久', channel: 'sms' },
    });
    // another department's staff neither see nor handle it
    const other = 'staff:nanming;department=00000000-0000-4000-8000-000000000000';
    expect((await call('GET', '/api/v1/rectifications', { actor: other })).body.items).toEqual([]);
    const outsider = await call('POST', `/api/v1/rectifications/${rectId}/call-back`, {
      actor: other,
      body: { summary: '已回访' },
    });
    expect([outsider.status, outsider.body.error.code]).toEqual([404, 'rectification.not_found']); // the 404 rule
    const tooEarly = await call('POST', `/api/v1/rectifications/${rectId}/outcome`, {
      actor: weining(),
      body: { outcome: '已整改' },
    });
    expect([tooEarly.status, tooEarly.body.error.code]).toEqual([409, 'rectification.wrong_status']);
    const called = await call('POST', `/api/v1/rectifications/${rectId}/call-back`, {
      actor: weining(),
      body: { summary: '电话回访，申请人反映等待时间过长' },
    });
    expect(called.status, JSON.stringify(called.body)).toBe(200);
    expect(called.body).toMatchObject({
      status: 'called_back',
      callBack: { by: 'weining-officer' },
      workingDaysLeft: 15,
    });
    const done = await call('POST', `/api/v1/rectifications/${rectId}/outcome`, {
      actor: weining(),
      body: { outcome: '增设窗口，缩短等待' },
    });
    expect(done.body).toMatchObject({ status: 'rectified', outcome: { text: '增设窗口，缩短等待' } });

    // the intake clerk appeals; a second appeal is refused; the appellant cannot decide it
    const evaluationId = rect.evaluationId as string;
    const appeal = await call('POST', `/api/v1/evaluations/${evaluationId}/appeal`, {
      actor: 'staff:boss',
      body: { ground: 'mistaken', reason: '申请人评价的是另一件事' },
    });
    expect(appeal.status, JSON.stringify(appeal.body)).toBe(201);
    const twice = await call('POST', `/api/v1/evaluations/${evaluationId}/appeal`, {
      actor: clerk,
      body: { ground: 'malicious', reason: '再次申诉' },
    });
    expect([twice.status, twice.body.error.code]).toEqual([409, 'evaluation.already_appealed']);
    const own = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: 'staff:boss',
      body: { decision: 'uphold', reason: '自己复核' },
    });
    expect([own.status, own.body.error.code]).toEqual([403, 'evaluation.own_appeal']);
    const notReviewer = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: 'staff:gy-admin;hall=520102-zwfw',
      body: { decision: 'uphold', reason: '不在辖区' },
    });
    // another county's staff: the same 404 as an unknown appeal (the 404 rule)
    expect([notReviewer.status, notReviewer.body.error.code]).toEqual([404, 'evaluation_appeal.not_found']);
    const seesNoRole = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: clerk,
      body: { decision: 'uphold', reason: '不是复核人' },
    });
    expect([seesNoRole.status, seesNoRole.body.error.code]).toEqual([403, 'evaluation.review_forbidden']);
    const queue = await call('GET', '/api/v1/evaluation-appeals', { actor: 'staff:reviewer' });
    expect(queue.body.items.find((a: { id: string }) => a.id === appeal.body.id)).toMatchObject({
      canDecide: true,
      status: 'pending',
    });
    const rejected = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: 'staff:reviewer',
      body: { decision: 'reject', reason: '回访录音证实评价针对本件' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', reviewerAccountId: 'reviewer' });
    const again = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: 'staff:reviewer2',
      body: { decision: 'uphold', reason: '改判' },
    });
    expect(again.status).toBe(409);
    const audited = rowsOf<{ action: string }>(
      await server.database.db.execute(
        sql`select action from audit_entries where target_id = ${evaluationId} order by at, action`,
      ),
    ).map((r) => r.action);
    expect(audited).toEqual(['evaluation.appeal', 'evaluation.review']);

    // the resident's follow-up rating closes it (by the same link)
    const status = await call('GET', `/api/v1/evaluations/rating-status/${n}?t=${token}`);
    expect(status.body.followUp).toMatchObject({ rectificationId: rectId, status: 'rectified' });
    const badToken = await call('POST', `/api/v1/rectifications/${rectId}/follow-up`, {
      body: { level: 2, token: 'x'.repeat(22) },
    });
    expect(badToken.status).toBe(403);
    const follow = await call('POST', `/api/v1/rectifications/${rectId}/follow-up`, {
      body: { level: 2, comment: '改进了', token },
    });
    expect(follow.body).toEqual({ id: rectId, status: 'closed' });
    const topics = rowsOf<{ topic: string }>(
      await server.database.db.execute(
        sql`select topic from outbox where aggregate_id = ${rectId} order by id`,
      ),
    ).map((r) => r.topic);
    expect(topics).toEqual([
      'rectification.opened',
      'rectification.called_back',
      'rectification.rectified',
      'rectification.closed',
    ]);
    // the review stands in the satisfaction figures
    const hall = await call('GET', `/api/v1/satisfaction/halls/${HALL}`);
    expect(hall.body.perLevel['5']).toBeGreaterThanOrEqual(1);
    expect(hall.headers['cache-control']).toContain('public');
  });

  it('an upheld appeal excludes the review from satisfaction and cancels its rectification', async () => {
    const item = '050004001000';
    const before = (await call('GET', `/api/v1/satisfaction/items/${item}`)).body;
    const n = await caseOf('rater-e');
    const bad = await rate({ caseNumber: n, channel: 'mobile', level: 4 }, 'applicant:rater-e');
    const afterRating = (await call('GET', `/api/v1/satisfaction/items/${item}`)).body;
    expect(afterRating.count).toBe(before.count + 1);
    expect(afterRating.perLevel['4']).toBe(before.perLevel['4'] + 1);
    const ev = rowsOf<{ id: string }>(
      await server.database.db.execute(sql`select id from evaluations where case_number = ${n}`),
    )[0]!.id;
    const appeal = await call('POST', `/api/v1/evaluations/${ev}/appeal`, {
      actor: clerk,
      body: { ground: 'malicious', reason: '恶意差评，有录像' },
    });
    expect(appeal.status).toBe(201);
    const upheld = await call('POST', `/api/v1/evaluation-appeals/${appeal.body.id}/decision`, {
      actor: 'staff:reviewer',
      body: { decision: 'uphold', reason: '录像证实恶意' },
    });
    expect(upheld.body.status).toBe('upheld');
    const after = (await call('GET', `/api/v1/satisfaction/items/${item}`)).body;
    expect(after.count).toBe(before.count);
    const rect = (
      await server.services.evaluations.rectifications(
        (await import('../identity/principal.ts')).principalFromDevActor({ kind: 'staff', id: 'x' }),
      )
    ).find((r) => r.id === bad.body.rectificationId)!;
    expect(rect).toMatchObject({
      status: 'cancelled',
      evaluation: { excluded: true },
      appeal: { status: 'upheld' },
    });
    const excluded = (await outboxOf('evaluation.excluded')).find((p) => p.evaluationId === ev);
    expect(excluded).toMatchObject({ appealId: appeal.body.id, caseNumber: n, level: 4 });
  });

  it('flags an overdue rectification once (rectification.overdue) and shows it overdue', async () => {
    const n = await caseOf('rater-f');
    const bad = await rate({ caseNumber: n, channel: 'mobile', level: 5 }, 'applicant:rater-f');
    const rectId = bad.body.rectificationId as string;
    await server.jobs.runOnce();
    offsetMs += 7 * 86_400_000; // a week later: past the 1-working-day call-back limit
    try {
      expect(await server.services.evaluations.flagOverdue()).toBeGreaterThanOrEqual(1);
      expect(await server.services.evaluations.flagOverdue()).toBe(0);
      const overdue = (await outboxOf('rectification.overdue')).filter((p) => p.rectificationId === rectId);
      expect(overdue).toHaveLength(1);
      const view = (
        await call('GET', '/api/v1/rectifications?status=open', { actor: weining() })
      ).body.items.find((r: { id: string }) => r.id === rectId);
      expect(view.overdue).toBe('call_back');
      expect(view.workingDaysLeft).toBeLessThan(0);
    } finally {
      offsetMs = 0;
    }
  });
});

describe('configuration', () => {
  it('reads the rectification limits in working days from the environment, refusing nonsense', async () => {
    const { loadRectificationLimits } = await import('./service.ts');
    expect(loadRectificationLimits({})).toEqual({ callBackWorkingDays: 1, rectifyWorkingDays: 15 });
    expect(
      loadRectificationLimits({
        EVALUATION_CALLBACK_WORKING_DAYS: '2',
        EVALUATION_RECTIFY_WORKING_DAYS: '10',
      }),
    ).toEqual({
      callBackWorkingDays: 2,
      rectifyWorkingDays: 10,
    });
    expect(() => loadRectificationLimits({ EVALUATION_RECTIFY_WORKING_DAYS: '0' })).toThrow(
      /EVALUATION_RECTIFY_WORKING_DAYS/,
    );
  });
});
