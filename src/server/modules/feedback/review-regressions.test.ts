/** Regression tests from the adversarial review of the staff feedback channel and alerts over HTTP (issue 7). */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { callAs, signedInStaff, startTestServer } from '../../testing.ts';

const KAILI_HALL = '522601-zwfw';
let server: RunningServer;
let clerk = '';
let clerkId = '';
let admin = '';
let admin2 = '';
let otherAdmin = '';

const call = (token: string, method: 'GET' | 'POST', url: string, payload?: unknown, key?: string | null) =>
  callAs(server, token, method, url, payload, key);
const GOOD = { category: 'system', summary: '扫描仪卡住', details: '第三页', screen: '/inbox' };

beforeAll(async () => {
  server = await startTestServer();
  const c = await signedInStaff(server, {
    username: 'rv-clerk',
    hallCode: KAILI_HALL,
    grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
  });
  clerk = c.token;
  clerkId = c.accountId;
  admin = (
    await signedInStaff(server, {
      username: 'rv-admin',
      hallCode: KAILI_HALL,
      grant: { role: 'county_admin', kind: 'division', value: '522601' },
    })
  ).token;
  admin2 = (
    await signedInStaff(server, {
      username: 'rv-admin2',
      hallCode: KAILI_HALL,
      grant: { role: 'county_admin', kind: 'division', value: '522601' },
    })
  ).token;
  otherAdmin = (
    await signedInStaff(server, {
      username: 'rv-wn-admin',
      hallCode: '520526-zwfw',
      grant: { role: 'county_admin', kind: 'division', value: '520526' },
    })
  ).token;
});
afterAll(async () => {
  await server?.close();
});

const newReport = async () => {
  const r = await call(clerk, 'POST', '/api/v1/feedback', GOOD, randomUUID());
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
};

describe('review: feedback', () => {
  it('a retried comment (same Idempotency-Key) is recorded once', async () => {
    const id = await newReport();
    const key = randomUUID();
    const a = await call(clerk, 'POST', `/api/v1/feedback/${id}/comments`, { text: '补充：重启无效' }, key);
    const b = await call(clerk, 'POST', `/api/v1/feedback/${id}/comments`, { text: '补充：重启无效' }, key);
    expect([a.status, b.status]).toEqual([201, 201]);
    // was: two comments — the route took no Idempotency-Key (house rule: client writes do)
    expect(b.body.comments).toHaveLength(1);
    const reused = await call(clerk, 'POST', `/api/v1/feedback/${id}/comments`, { text: '另一条' }, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency.key_reused']);
    for (const [url, body] of [
      [`/api/v1/feedback/${id}/comments`, { text: '无键' }],
      [`/api/v1/feedback/${id}/triage`, { owner: { kind: 'staff', id: clerkId }, priority: 'low' }],
      [`/api/v1/feedback/${id}/close`, { resolution: '无键' }],
    ] as const) {
      const r = await call(admin, 'POST', url, body, null);
      expect(r.status, `${url} ${JSON.stringify(r.body)}`).toBe(400);
    }
    const closeKey = randomUUID();
    const c1 = await call(admin, 'POST', `/api/v1/feedback/${id}/close`, { resolution: '已修复' }, closeKey);
    const c2 = await call(admin, 'POST', `/api/v1/feedback/${id}/close`, { resolution: '已修复' }, closeKey);
    expect([c1.status, c2.status, c2.body.status], JSON.stringify(c2.body)).toEqual([200, 200, 'closed']);
    const after = await call(clerk, 'GET', `/api/v1/feedback/${id}`);
    expect(after.body.comments).toHaveLength(1);
  });

  it('concurrent triage and close by two admins: no 500, closed is final', async () => {
    const id = await newReport();
    const rs = await Promise.all([
      call(admin, 'POST', `/api/v1/feedback/${id}/triage`, {
        owner: { kind: 'staff', id: clerkId },
        priority: 'high',
      }),
      call(admin2, 'POST', `/api/v1/feedback/${id}/close`, { resolution: '已修复' }),
      call(admin2, 'POST', `/api/v1/feedback/${id}/comments`, { text: '跟进' }),
    ]);
    for (const r of rs) expect([200, 201, 409], JSON.stringify(r.body)).toContain(r.status);
    const after = await call(admin, 'GET', `/api/v1/feedback/${id}`);
    expect(after.body.status).toBe('closed');
  });

  it('bad input is 400 not 500: NUL, huge, wrong types, huge paging cursor', async () => {
    const bodies: unknown[] = [
      { ...GOOD, summary: 'a\u0000b' },
      { ...GOOD, summary: 'x'.repeat(10_000) },
      { ...GOOD, category: 'other' },
      { ...GOOD, screen: 'inbox' },
      { ...GOOD, summary: 5 },
      { ...GOOD, caseNumber: '1'.repeat(21) },
      [],
    ];
    for (const b of bodies) {
      const r = await call(clerk, 'POST', '/api/v1/feedback', b, randomUUID());
      expect(r.status, JSON.stringify([b, r.body]).slice(0, 300)).toBe(400);
    }
    for (const q of ['before=2147483648', 'before=99999999999999999999']) {
      const r = await call(clerk, 'GET', `/api/v1/feedback/mine?${q}`);
      expect([r.status, r.body.error?.field], JSON.stringify(r.body)).toEqual([400, 'before']);
    }
    expect((await call(clerk, 'GET', '/api/v1/feedback/mine?before=2147483647')).status).toBe(200);
    for (const q of [
      'before=99999999999999999999',
      'before=2147483648',
      'before=1e300',
      'limit=0',
      'status=x',
    ]) {
      const mine = await call(clerk, 'GET', `/api/v1/feedback/mine?${q}`);
      expect(mine.status, `${q} ${JSON.stringify(mine.body)}`).toBeLessThan(500);
      const queue = await call(admin, 'GET', `/api/v1/feedback?${q}`);
      expect(queue.status, `${q} ${JSON.stringify(queue.body)}`).toBeLessThan(500);
    }
  });

  it('another county’s admin gets 404 for triage, close, comment, read', async () => {
    const id = await newReport();
    for (const [url, body] of [
      [`/api/v1/feedback/${id}/triage`, { owner: { kind: 'staff', id: clerkId }, priority: 'low' }],
      [`/api/v1/feedback/${id}/close`, { resolution: 'x' }],
      [`/api/v1/feedback/${id}/comments`, { text: 'x' }],
    ] as const) {
      expect((await call(otherAdmin, 'POST', url, body)).status).toBe(404);
    }
    expect((await call(otherAdmin, 'GET', `/api/v1/feedback/${id}`)).status).toBe(404);
  });

  it('the triager cannot hand the report (and its case link) to a staff member outside their scope', async () => {
    const id = await newReport();
    const outsider = await signedInStaff(server, {
      username: 'rv-gy-clerk',
      hallCode: '520102-zwfw',
      grant: { role: 'intake_clerk', kind: 'hall', value: '520102-zwfw' },
    });
    const r = await call(admin, 'POST', `/api/v1/feedback/${id}/triage`, {
      owner: { kind: 'staff', id: outsider.accountId },
      priority: 'low',
    });
    const seen = await call(outsider.token, 'GET', `/api/v1/feedback/${id}`);
    expect([r.status, r.body.error?.code, r.body.error?.field]).toEqual([
      400,
      'feedback.owner_unknown',
      'owner.id',
    ]);
    expect(seen.status).toBe(404);
    const dept = await server.services.departments.findDepartment('520526', 'civil_affairs');
    const farDept = await call(admin, 'POST', `/api/v1/feedback/${id}/triage`, {
      owner: { kind: 'department', id: dept!.id },
      priority: 'low',
    });
    expect([farDept.status, farDept.body.error?.code]).toEqual([400, 'feedback.owner_unknown']);
    const inScope = await call(admin, 'POST', `/api/v1/feedback/${id}/triage`, {
      owner: { kind: 'staff', id: clerkId },
      priority: 'low',
    });
    expect(inScope.status, JSON.stringify(inScope.body)).toBe(200);
  });
});

describe('review: alerts', () => {
  it('bad ids and filters: 4xx, never 500', async () => {
    for (const q of ['division=abc', 'division=52%00', 'limit=1000', 'rule=nope', 'status=x']) {
      const r = await call(admin, 'GET', `/api/v1/alerts?${q}`);
      expect(r.status, `${q} ${JSON.stringify(r.body)}`).toBeLessThan(500);
    }
    for (const id of [randomUUID(), 'not-a-uuid', '%00']) {
      const r = await call(admin, 'POST', `/api/v1/alerts/${id}/acknowledge`, { note: 'x' }, randomUUID());
      expect([400, 404], JSON.stringify(r.body)).toContain(r.status);
    }
    const r = await call(
      admin,
      'POST',
      `/api/v1/alerts/${randomUUID()}/resolve`,
      { resolution: 5 },
      randomUUID(),
    );
    expect(r.status).toBe(400);
    const rows = rowsOf(await server.database.db.execute(sql`select 1`));
    expect(rows).toHaveLength(1);
  });
});
