/**
 * Staff administration may not reach ABOVE the administrator: an account bound to a place inside an
 * administrator's scope may still hold grants the administrator could never give (a county administrator
 * sitting at the county hall, an auditor appointed by the province). Disabling, enabling or resetting the
 * password of such an account is refused (403 `staff.exceeds_own`) — a password reset hands the
 * administrator the account's credentials. Real server, real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';

const KAILI_HALL = '522601-zwfw';
let server: RunningServer;
let countyAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let hallAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let auditor: Awaited<ReturnType<typeof signedInStaff>>;
let clerk: Awaited<ReturnType<typeof signedInStaff>>;

async function post(token: string, url: string, payload: object) {
  const res = await server.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}` },
    payload,
  });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  server = await startTestServer();
  countyAdmin = await signedInStaff(server, {
    username: 'e-county-admin',
    hallCode: KAILI_HALL,
    grant: { role: 'county_admin', kind: 'division', value: '522601' },
  });
  hallAdmin = await signedInStaff(server, {
    username: 'e-hall-admin',
    hallCode: KAILI_HALL,
    grant: { role: 'hall_admin', kind: 'hall', value: KAILI_HALL },
  });
  auditor = await signedInStaff(server, {
    username: 'e-auditor',
    hallCode: KAILI_HALL,
    grant: { role: 'auditor', kind: 'division', value: '52' },
  });
  clerk = await signedInStaff(server, {
    username: 'e-clerk',
    hallCode: KAILI_HALL,
    grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
  });
});
afterAll(async () => {
  await server?.close();
});

describe('an administrator manages only accounts holding no more than they could grant', () => {
  it('a hall administrator cannot reset the password of a province-appointed auditor at their hall', async () => {
    const reset = await post(hallAdmin.token, `/api/v1/staff/${auditor.accountId}/password-reset`, {
      reason: '忘记密码',
    });
    expect([reset.status, reset.body.error?.code], JSON.stringify(reset.body)).toEqual([
      403,
      'staff.exceeds_own',
    ]);
    expect(reset.body.initialPassword).toBeUndefined();
    // the auditor's session still works (nothing was changed)
    const me = await server.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: auditor.cookie },
    });
    expect(me.statusCode).toBe(200);
  });

  it('a hall administrator cannot disable the county administrator bound to their hall', async () => {
    const disabled = await post(hallAdmin.token, `/api/v1/staff/${countyAdmin.accountId}/disable`, {
      reason: '越权',
    });
    expect([disabled.status, disabled.body.error?.code]).toEqual([403, 'staff.exceeds_own']);
    const row = await server.services.identity.accountRow(countyAdmin.accountId);
    expect(row?.disabledAt).toBeNull();
  });

  it('still manages the staff it could have appointed; the county administrator manages the hall administrator', async () => {
    const reset = await post(hallAdmin.token, `/api/v1/staff/${clerk.accountId}/password-reset`, {
      reason: '忘记密码',
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    const disabled = await post(countyAdmin.token, `/api/v1/staff/${hallAdmin.accountId}/disable`, {
      reason: '调岗',
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
  });
});
