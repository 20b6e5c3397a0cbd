/**
 * The staff feedback channel (一线反馈) over HTTP on a real server and database: an intake clerk of the
 * 凯里 hall reports a problem about a case she handles; the 凯里 county administrator triages, comments
 * and closes it; the clerk follows it in "my reports". Bad input is named by field and changes nothing;
 * a case the reporter cannot see is refused without saying whether it exists; an administrator of
 * another county neither sees nor triages it; a replayed creation answers the first report; every
 * change is audited and has its outbox row in the same transaction (no text, no names).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { callAs, signedInStaff, startTestServer } from '../../testing.ts';

const KAILI_HALL = '522601-zwfw';
const GUIYANG_HALL = '520102-zwfw';
let server: RunningServer;
const t = {} as Record<
  'clerk' | 'otherClerk' | 'kailiAdmin' | 'weiningAdmin' | 'leader' | 'readOnly',
  string
>;
let clerkId = '';
let caseNumber = '';
let kailiDept = '';
let reportId = '';

const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object, key?: string | null) =>
  callAs(server, token, method, url, payload, key);
const report = (token: string, body: object, key = randomUUID()) =>
  call(token, 'POST', '/api/v1/feedback', body, key);
const count = async (table: string) =>
  toInt(
    rowsOf<{ n: unknown }>(await server.database.db.execute(sql.raw(`select count(*) n from ${table}`)))[0]!
      .n,
  );

const GOOD = {
  category: 'system',
  summary: '扫描仪上传后页面卡住',
  details: '上传第三页时转圈超过一分钟',
  screen: '/inbox',
};

beforeAll(async () => {
  server = await startTestServer();
  const clerk = await signedInStaff(server, {
    username: 'fb-clerk',
    hallCode: KAILI_HALL,
    grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
  });
  t.clerk = clerk.token;
  clerkId = clerk.accountId;
  t.otherClerk = (
    await signedInStaff(server, {
      username: 'fb-other-clerk',
      hallCode: GUIYANG_HALL,
      grant: { role: 'intake_clerk', kind: 'hall', value: GUIYANG_HALL },
    })
  ).token;
  t.kailiAdmin = (
    await signedInStaff(server, {
      username: 'fb-kaili-admin',
      hallCode: KAILI_HALL,
      grant: { role: 'county_admin', kind: 'division', value: '522601' },
    })
  ).token;
  t.weiningAdmin = (
    await signedInStaff(server, {
      username: 'fb-weining-admin',
      hallCode: '520526-zwfw',
      grant: { role: 'county_admin', kind: 'division', value: '520526' },
    })
  ).token;
  t.leader = (
    await signedInStaff(server, {
      username: 'fb-leader',
      hallCode: KAILI_HALL,
      grant: { role: 'leader', kind: 'division', value: '52' },
    })
  ).token;
  t.readOnly = (
    await signedInStaff(server, {
      username: 'fb-clerk-ro',
      hallCode: KAILI_HALL,
      grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
      scopes: ['feedback:read'],
    })
  ).token;
  kailiDept = (await server.services.departments.listDepartments({ divisionCode: '522601' }))[0]!.id;
  const filed = await call(
    t.clerk,
    'POST',
    '/api/v1/cases',
    {
      itemCode: '050004001000',
      applicant: {
        kind: 'natural_person',
        name: '王小芳',
        idNumber: syntheticIdNumber('522601', '19850505', '431'),
        phone: '13800138431',
      },
      channel: 'hall_window',
      intakeHallCode: KAILI_HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: { method: 'pickup', hallCode: KAILI_HALL },
      formData: { familySize: 3 },
    },
    randomUUID(),
  );
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  caseNumber = filed.body.case.number;
});
afterAll(async () => {
  await server?.close();
});

describe('reporting', () => {
  it('a clerk reports from a screen, about a case she sees: her hall and county, status new, audited, one outbox row without text', async () => {
    const key = randomUUID();
    const r = await report(t.clerk, { ...GOOD, caseNumber }, key);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({
      number: expect.stringMatching(/^FK\d{6}$/),
      category: 'system',
      summary: GOOD.summary,
      screen: '/inbox',
      caseNumber,
      status: 'new',
      priority: null,
      owner: null,
      hallCode: KAILI_HALL,
      divisionCode: '522601',
      reporter: { id: clerkId, name: '测试fb-clerk' },
      mayTriage: false,
    });
    reportId = r.body.id;
    const events = await server.services.outbox.eventsOf('feedback', reportId);
    expect(events.map((e) => e.topic)).toEqual(['feedback.reported']);
    expect(Object.keys(events[0]!.payload).sort()).toEqual(
      ['at', 'category', 'departmentId', 'divisionCode', 'feedbackId', 'hallCode', 'on'].sort(),
    );
    expect(events[0]!.payload).toMatchObject({
      feedbackId: reportId,
      category: 'system',
      hallCode: KAILI_HALL,
    });
    expect(JSON.stringify(events[0]!.payload)).not.toContain('扫描仪');
    const audit = await server.services.audit.list({ action: 'feedback.report', targetId: reportId });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]!.actor.id).toBe(clerkId);

    // a replay answers the first report and writes nothing; the same key for another body is refused
    const before = await count('feedback_reports');
    const again = await report(t.clerk, { ...GOOD, caseNumber }, key);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(reportId);
    expect(await count('feedback_reports')).toBe(before);
    expect(await server.services.outbox.eventsOf('feedback', reportId)).toHaveLength(1);
    const reused = await report(t.clerk, { ...GOOD, summary: '另一个问题' }, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency.key_reused']);
  });

  it('bad input is named by field and writes nothing', async () => {
    const before = await count('feedback_reports');
    const cases: [object, string][] = [
      [{ ...GOOD, category: 'weather' }, 'category'],
      [{ ...GOOD, summary: '   ' }, 'summary'],
      [{ ...GOOD, summary: '长'.repeat(201) }, 'summary'],
      [{ ...GOOD, details: 'x'.repeat(4001) }, 'details'],
      [{ ...GOOD, screen: 'inbox' }, 'screen'],
      [{ ...GOOD, caseNumber: '12345' }, 'caseNumber'],
      [{ ...GOOD, extra: 1 }, 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await report(t.clerk, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field !== 'body') expect(r.body.error.field, JSON.stringify(r.body)).toBe(field);
    }
    const noKey = await call(t.clerk, 'POST', '/api/v1/feedback', GOOD, null);
    expect(noKey.status).toBe(400);
    expect(await count('feedback_reports')).toBe(before);
  });

  it('a case the reporter cannot see is refused with the same answer as one that does not exist', async () => {
    const hidden = await report(t.otherClerk, { ...GOOD, caseNumber });
    const missing = await report(t.otherClerk, { ...GOOD, caseNumber: '522601202601019999999' });
    expect([hidden.status, hidden.body.error.code, hidden.body.error.field]).toEqual([
      400,
      'feedback.case_unknown',
      'caseNumber',
    ]);
    expect(missing.body.error).toEqual(hidden.body.error);
    expect(hidden.body.error.message).not.toContain(caseNumber);
  });

  it('leaders and tokens without feedback:write do not report; anonymous callers are 401', async () => {
    const leader = await report(t.leader, GOOD);
    expect([leader.status, leader.body.error.code]).toEqual([403, 'feedback.reporter_only']);
    const ro = await report(t.readOnly, GOOD);
    expect([ro.status, ro.body.error.code]).toEqual([403, 'auth.scope_missing']);
    const anon = await server.app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: { 'idempotency-key': randomUUID() },
      payload: GOOD,
    });
    expect(anon.statusCode).toBe(401);
  });
});

describe('triage, comments and closing', () => {
  it('the county administrator sees it in the queue; another county’s administrator neither sees nor triages it', async () => {
    const q = await call(t.kailiAdmin, 'GET', '/api/v1/feedback?status=new');
    expect(q.status).toBe(200);
    expect(q.body.items.map((i: { id: string }) => i.id)).toContain(reportId);
    expect(q.body.items.find((i: { id: string }) => i.id === reportId).mayTriage).toBe(true);
    const otherCategory = await call(t.kailiAdmin, 'GET', '/api/v1/feedback?category=permission');
    expect(otherCategory.body.items).toEqual([]);

    const far = await call(t.weiningAdmin, 'GET', '/api/v1/feedback');
    expect(far.body.items).toEqual([]);
    const farGet = await call(t.weiningAdmin, 'GET', `/api/v1/feedback/${reportId}`);
    expect([farGet.status, farGet.body.error.code]).toEqual([404, 'feedback.not_found']);
    const farTriage = await call(t.weiningAdmin, 'POST', `/api/v1/feedback/${reportId}/triage`, {
      owner: { kind: 'department', id: kailiDept },
      priority: 'high',
    });
    expect([farTriage.status, farTriage.body.error.code]).toEqual([404, 'feedback.not_found']);
    const farClose = await call(t.weiningAdmin, 'POST', `/api/v1/feedback/${reportId}/close`, {
      resolution: '越权关闭',
    });
    expect(farClose.status).toBe(404);

    // the clerk has no triage queue, and may not triage her own report
    const clerkQueue = await call(t.clerk, 'GET', '/api/v1/feedback');
    expect([clerkQueue.status, clerkQueue.body.error.code]).toEqual([403, 'feedback.triager_only']);
    const selfTriage = await call(t.clerk, 'POST', `/api/v1/feedback/${reportId}/triage`, {
      owner: { kind: 'staff', id: clerkId },
      priority: 'urgent',
    });
    expect([selfTriage.status, selfTriage.body.error.code]).toEqual([403, 'feedback.triage_forbidden']);
    const other = await call(t.otherClerk, 'GET', `/api/v1/feedback/${reportId}`);
    expect(other.status).toBe(404);
  });

  it('triage names a real owner and a priority; bad owners and priorities are refused by field', async () => {
    const url = `/api/v1/feedback/${reportId}/triage`;
    const unknownOwner = await call(t.kailiAdmin, 'POST', url, {
      owner: { kind: 'department', id: randomUUID() },
      priority: 'high',
    });
    expect([unknownOwner.status, unknownOwner.body.error.code, unknownOwner.body.error.field]).toEqual([
      400,
      'feedback.owner_unknown',
      'owner.id',
    ]);
    const badPriority = await call(t.kailiAdmin, 'POST', url, {
      owner: { kind: 'department', id: kailiDept },
      priority: 'asap',
    });
    expect([badPriority.status, badPriority.body.error.field]).toEqual([400, 'priority']);

    const r = await call(t.kailiAdmin, 'POST', url, {
      owner: { kind: 'department', id: kailiDept },
      priority: 'high',
      note: '已转信息中心排查',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      status: 'triaged',
      priority: 'high',
      owner: { kind: 'department', id: kailiDept, name: expect.any(String) },
      commentCount: 1,
      comments: [{ seq: 1, text: '已转信息中心排查' }],
    });
    const started = await call(t.kailiAdmin, 'POST', url, {
      owner: { kind: 'staff', id: clerkId },
      priority: 'urgent',
      status: 'in_progress',
    });
    expect(started.body).toMatchObject({ status: 'in_progress', owner: { kind: 'staff', id: clerkId } });
    const audit = await server.services.audit.list({ action: 'feedback.triage', targetId: reportId });
    expect(audit.items).toHaveLength(2);
    expect(audit.items.map((e) => (e.details.after as { status: string }).status).sort()).toEqual([
      'in_progress',
      'triaged',
    ]);
  });

  it('reporter and triager comment in turn; closing gives the reporter the resolution; a closed report is final', async () => {
    const c1 = await call(t.clerk, 'POST', `/api/v1/feedback/${reportId}/comments`, {
      text: '今天上午又出现一次',
    });
    expect(c1.status, JSON.stringify(c1.body)).toBe(201);
    const empty = await call(t.clerk, 'POST', `/api/v1/feedback/${reportId}/comments`, { text: '' });
    expect([empty.status, empty.body.error.field]).toEqual([400, 'text']);
    const c2 = await call(t.kailiAdmin, 'POST', `/api/v1/feedback/${reportId}/comments`, {
      text: '已更换驱动',
    });
    expect(c2.body.comments.map((c: { seq: number; text: string }) => [c.seq, c.text])).toEqual([
      [1, '已转信息中心排查'],
      [2, '今天上午又出现一次'],
      [3, '已更换驱动'],
    ]);

    const noResolution = await call(t.kailiAdmin, 'POST', `/api/v1/feedback/${reportId}/close`, {});
    expect([noResolution.status, noResolution.body.error.field]).toEqual([400, 'resolution']);
    const closed = await call(t.kailiAdmin, 'POST', `/api/v1/feedback/${reportId}/close`, {
      resolution: '扫描仪驱动已升级，问题解决',
    });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', resolution: '扫描仪驱动已升级，问题解决' });
    expect(closed.body.closedAt).toEqual(expect.any(String));

    const mine = await call(t.clerk, 'GET', '/api/v1/feedback/mine');
    expect(mine.body.items.find((i: { id: string }) => i.id === reportId)).toMatchObject({
      status: 'closed',
      resolution: '扫描仪驱动已升级，问题解决',
    });
    const again = await call(t.kailiAdmin, 'POST', `/api/v1/feedback/${reportId}/close`, {
      resolution: '再关',
    });
    expect([again.status, again.body.error.code]).toEqual([409, 'feedback.closed']);
    const late = await call(t.clerk, 'POST', `/api/v1/feedback/${reportId}/comments`, { text: '补充' });
    expect([late.status, late.body.error.code]).toEqual([409, 'feedback.closed']);

    const topics = (await server.services.outbox.eventsOf('feedback', reportId)).map((e) => e.topic);
    expect(topics).toEqual(['feedback.reported', 'feedback.triaged', 'feedback.triaged', 'feedback.closed']);
    const closeAudit = await server.services.audit.list({ action: 'feedback.close', targetId: reportId });
    expect(closeAudit.items).toHaveLength(1);
  });

  it('a hall administrator triages the reports of their hall; concurrent comments get consecutive numbers', async () => {
    const hallAdmin = (
      await signedInStaff(server, {
        username: 'fb-hall-admin',
        hallCode: KAILI_HALL,
        grant: { role: 'hall_admin', kind: 'hall', value: KAILI_HALL },
      })
    ).token;
    const r = await report(t.clerk, { ...GOOD, category: 'permission', summary: '无法查看本厅转办件' });
    expect(r.status).toBe(201);
    const q = await call(hallAdmin, 'GET', '/api/v1/feedback?category=permission');
    expect(q.body.items.map((i: { id: string }) => i.id)).toEqual([r.body.id]);
    const sent = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        call(i % 2 ? t.clerk : hallAdmin, 'POST', `/api/v1/feedback/${r.body.id}/comments`, {
          text: `第${i}条`,
        }),
      ),
    );
    expect(sent.map((x) => x.status)).toEqual([201, 201, 201, 201, 201]);
    const detail = await call(hallAdmin, 'GET', `/api/v1/feedback/${r.body.id}`);
    expect(detail.body.comments.map((c: { seq: number }) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(detail.body.commentCount).toBe(5);
    expect(new Set(detail.body.comments.map((c: { text: string }) => c.text)).size).toBe(5);
  });

  it('paging "my reports" by running number', async () => {
    for (const s of ['一', '二', '三']) {
      const r = await report(t.clerk, { ...GOOD, category: 'process', summary: `流程问题${s}` });
      expect(r.status).toBe(201);
    }
    const first = await call(t.clerk, 'GET', '/api/v1/feedback/mine?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).toEqual(expect.any(Number));
    const second = await call(t.clerk, 'GET', `/api/v1/feedback/mine?limit=2&before=${first.body.next}`);
    expect(second.body.items.map((i: { summary: string }) => i.summary)).toEqual([
      '流程问题一',
      '无法查看本厅转办件',
    ]);
    const third = await call(t.clerk, 'GET', `/api/v1/feedback/mine?limit=2&before=${second.body.next}`);
    expect(third.body.items.map((i: { summary: string }) => i.summary)).toEqual([GOOD.summary]);
    expect(third.body.next).toBe(null);
  });
});
