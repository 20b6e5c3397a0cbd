/**
 * 撤回 / 补正提交 on a resident's behalf by STAFF is desk work of those who process the case — the intake
 * window (收件员: case.receive) or the competent department's acceptance staff (受理员: case.accept). An
 * administrator (hall / county admin: case.read for oversight) bound to the intake hall or the competent
 * department processes nothing (roles.ts: 三员分立) and may not end a resident's application. Real server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kailiToWeiningApplication } from '../../../testing/applications.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';

const KAILI_HALL = '522601-zwfw';
let server: RunningServer;
let clerk: Awaited<ReturnType<typeof signedInStaff>>;
let hallAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let countyAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let caseNumber = '';

async function post(token: string, url: string, payload: object) {
  const res = await server.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
    payload,
  });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  server = await startTestServer();
  const weiningDept = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  clerk = await signedInStaff(server, {
    username: 'w-clerk',
    hallCode: KAILI_HALL,
    grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
  });
  hallAdmin = await signedInStaff(server, {
    username: 'w-hall-admin',
    hallCode: KAILI_HALL,
    grant: { role: 'hall_admin', kind: 'hall', value: KAILI_HALL },
  });
  countyAdmin = await signedInStaff(server, {
    username: 'w-county-admin',
    departmentId: weiningDept,
    grant: { role: 'county_admin', kind: 'division', value: '520526' },
  });
  const filed = await post(clerk.token, '/api/v1/cases', kailiToWeiningApplication());
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
  caseNumber = filed.body.case.number;
});
afterAll(async () => {
  await server?.close();
});

describe('staff withdrawing a resident’s case', () => {
  it('an administrator at the intake hall or the competent department may not withdraw it', async () => {
    for (const admin of [hallAdmin, countyAdmin]) {
      const r = await post(admin.token, `/api/v1/cases/${caseNumber}/commands`, {
        type: 'withdraw',
        reason: '申请人口头要求撤回',
      });
      expect([r.status, r.body.error?.code], JSON.stringify(r.body)).toEqual([403, 'case.role_missing']);
    }
    const c = await server.services.cases.get(caseNumber);
    expect(c.status).toBe('received');
  });

  it('the intake window clerk takes the withdrawal at the desk', async () => {
    const r = await post(clerk.token, `/api/v1/cases/${caseNumber}/commands`, {
      type: 'withdraw',
      reason: '申请人到窗口申请撤回',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.case.status).toBe('withdrawn');
  });
});
