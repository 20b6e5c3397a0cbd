/**
 * Staff administration over HTTP (工作人员管理, ./staff.ts): an administrator lists, creates, disables and
 * enables the staff of their own scope only, sees what they may grant, and every change is audited with
 * its division. Real server, real database (PGlite or PostgreSQL by DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';

const KAILI_HALL = '522601-zwfw';
const KAILI_TOWNSHIP_HALL = '522601001-bmfw';
let server: RunningServer;
let kailiAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let weiningAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let hallAdmin: Awaited<ReturnType<typeof signedInStaff>>;
let clerk: Awaited<ReturnType<typeof signedInStaff>>;
let weiningDept = '';

const as = (token: string) => ({ authorization: `Bearer ${token}` });
async function api(token: string, method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await server.app.inject({ method, url, headers: as(token), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  server = await startTestServer();
  weiningDept = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  kailiAdmin = await signedInStaff(server, {
    username: 's-kaili-admin',
    hallCode: KAILI_HALL,
    grant: { role: 'county_admin', kind: 'division', value: '522601' },
  });
  weiningAdmin = await signedInStaff(server, {
    username: 's-weining-admin',
    departmentId: weiningDept,
    grant: { role: 'county_admin', kind: 'division', value: '520526' },
  });
  hallAdmin = await signedInStaff(server, {
    username: 's-hall-admin',
    hallCode: KAILI_TOWNSHIP_HALL,
    grant: { role: 'hall_admin', kind: 'hall', value: KAILI_TOWNSHIP_HALL },
  });
  clerk = await signedInStaff(server, {
    username: 's-kaili-clerk',
    hallCode: KAILI_TOWNSHIP_HALL,
    grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_TOWNSHIP_HALL },
  });
});
afterAll(async () => {
  await server?.close();
});

describe('staff of my scope', () => {
  it('lists only the staff bound inside the administrator’s scope, searchable and paged', async () => {
    const kaili = await api(kailiAdmin.token, 'GET', '/api/v1/staff?limit=50');
    expect(kaili.status, JSON.stringify(kaili.body)).toBe(200);
    const names = kaili.body.items.map((s: { username: string }) => s.username).sort();
    expect(names).toEqual(['s-hall-admin', 's-kaili-admin', 's-kaili-clerk']);
    const clerkRow = kaili.body.items.find((s: { username: string }) => s.username === 's-kaili-clerk');
    expect(clerkRow).toMatchObject({ hallDivision: '522601001', roles: ['intake_clerk'], disabledAt: null });
    // 威宁's administrator sees only 威宁's (bound to the department there)
    const weining = await api(weiningAdmin.token, 'GET', '/api/v1/staff');
    expect(weining.body.items.map((s: { username: string }) => s.username)).toEqual(['s-weining-admin']);
    // the hall administrator: their hall only
    const hall = await api(hallAdmin.token, 'GET', '/api/v1/staff?q=clerk');
    expect([hall.body.total, hall.body.items[0].username]).toEqual([1, 's-kaili-clerk']);
    const page = await api(kailiAdmin.token, 'GET', '/api/v1/staff?limit=1&offset=1');
    expect([page.body.total, page.body.items.length]).toEqual([3, 1]);
    // not an administrator
    const refused = await api(clerk.token, 'GET', '/api/v1/staff');
    expect([refused.status, refused.body.error.code]).toEqual([403, 'grant.not_admin']);
    // outside the scope: as unknown
    const other = await api(weiningAdmin.token, 'GET', `/api/v1/staff/${clerk.accountId}`);
    expect([other.status, other.body.error.code]).toEqual([404, 'account.not_found']);
  });

  it('creates an account in scope with a once-shown initial password that signs in; refuses out of scope', async () => {
    const created = await api(kailiAdmin.token, 'POST', '/api/v1/staff', {
      name: '新窗口',
      username: 's-new-window',
      hallCode: KAILI_TOWNSHIP_HALL,
      reason: '新入职',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.account).toMatchObject({
      username: 's-new-window',
      hallDivision: '522601001',
      roles: [],
    });
    const password = created.body.initialPassword as string;
    expect(password).toMatch(/^[A-Za-z0-9-]{16}$/);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/password',
      payload: { username: 's-new-window', password },
    });
    expect(login.statusCode, login.body).toBe(200);
    // the audit entry names the administrator and the division, never the password
    const entries = await server.services.audit.list({
      action: 'account.create',
      targetId: created.body.account.id,
    });
    expect(entries.items[0]).toMatchObject({
      actor: { id: kailiAdmin.accountId },
      details: { divisionCode: '522601001' },
    });
    expect(JSON.stringify(entries.items)).not.toContain(password);

    // a hall in another county; a department in another county; no binding at all
    for (const [body, field] of [
      [{ hallCode: '520526-zwfw' }, 'hallCode'],
      [{ departmentId: weiningDept }, 'departmentId'],
    ] as const) {
      const r = await api(kailiAdmin.token, 'POST', '/api/v1/staff', {
        name: 'x',
        username: `s-x-${field}`,
        ...body,
      });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([403, 'staff.out_of_scope', field]);
    }
    const unbound = await api(kailiAdmin.token, 'POST', '/api/v1/staff', { name: 'x', username: 's-x' });
    expect([unbound.status, unbound.body.error.code]).toEqual([400, 'account.binding_required']);
    const unknown = await api(kailiAdmin.token, 'POST', '/api/v1/staff', {
      name: 'x',
      username: 's-x',
      hallCode: '522601-nope',
    });
    expect([unknown.status, unknown.body.error.field]).toEqual([400, 'hallCode']);
    const taken = await api(kailiAdmin.token, 'POST', '/api/v1/staff', {
      name: 'x',
      username: 's-new-window',
      hallCode: KAILI_HALL,
    });
    expect(taken.status).toBe(409);
    // a token without staff:write
    const readOnly = await signedInStaff(server, {
      username: 's-ro-admin',
      hallCode: KAILI_HALL,
      grant: { role: 'county_admin', kind: 'division', value: '522601' },
      scopes: ['staff:read'],
    });
    const scoped = await api(readOnly.token, 'POST', '/api/v1/staff', {
      name: 'x',
      username: 's-y',
      hallCode: KAILI_HALL,
    });
    expect([scoped.status, scoped.body.error.code]).toEqual([403, 'auth.scope_missing']);
  });

  it('disabling ends the sessions and tokens at once; enabling lets the account sign in again', async () => {
    const victim = await signedInStaff(server, {
      username: 's-leaving',
      hallCode: KAILI_HALL,
      grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
    });
    const me = (headers: Record<string, string>) =>
      server.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers });
    expect((await me({ cookie: victim.cookie })).statusCode).toBe(200);
    expect((await me(as(victim.token))).statusCode).toBe(200);
    const noReason = await api(kailiAdmin.token, 'POST', `/api/v1/staff/${victim.accountId}/disable`, {
      reason: '',
    });
    expect([noReason.status, noReason.body.error.field]).toEqual([400, 'reason']);
    const outOfScope = await api(weiningAdmin.token, 'POST', `/api/v1/staff/${victim.accountId}/disable`, {
      reason: '越权',
    });
    expect(outOfScope.status).toBe(404);
    const self = await api(kailiAdmin.token, 'POST', `/api/v1/staff/${kailiAdmin.accountId}/disable`, {
      reason: '自己',
    });
    expect([self.status, self.body.error.code]).toEqual([403, 'staff.self']);

    const disabled = await api(kailiAdmin.token, 'POST', `/api/v1/staff/${victim.accountId}/disable`, {
      reason: '离职',
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body.sessionsEnded).toBe(1);
    expect(disabled.body.disabledAt).not.toBeNull();
    expect((await me({ cookie: victim.cookie })).statusCode).toBe(401);
    expect((await me(as(victim.token))).statusCode).toBe(401);

    const enabled = await api(kailiAdmin.token, 'POST', `/api/v1/staff/${victim.accountId}/enable`, {
      reason: '返岗',
    });
    expect([enabled.status, enabled.body.disabledAt, enabled.body.roles]).toEqual([
      200,
      null,
      ['intake_clerk'],
    ]);
    const reset = await api(kailiAdmin.token, 'POST', `/api/v1/staff/${victim.accountId}/password-reset`, {
      reason: '忘记密码',
    });
    expect(reset.status).toBe(200);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/password',
      payload: { username: 's-leaving', password: reset.body.initialPassword },
    });
    expect(login.statusCode, login.body).toBe(200);
    const actions = (await server.services.audit.list({ targetId: victim.accountId })).items.map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['account.disable', 'account.enable', 'account.password_reset']),
    );
  });
});

describe('what I may grant', () => {
  it('lists roles at or below each administrator grant, with its scope root, and the 无差别办理 items', async () => {
    const r = await api(kailiAdmin.token, 'GET', '/api/v1/grants/grantable');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.grants).toHaveLength(1);
    const g = r.body.grants[0];
    expect(g.scope).toEqual({ kind: 'division', value: '522601', divisionCode: '522601' });
    const roles = g.roles.map((x: { role: string }) => x.role).sort();
    expect(roles).toEqual(
      [
        'acceptance_officer',
        'approver',
        'county_admin',
        'duty_officer',
        'hall_admin',
        'helper',
        'intake_clerk',
        'leader',
        'village_agent',
      ].sort(),
    );
    expect(roles).not.toContain('prefecture_admin');
    expect(r.body.anyHallItems.length).toBeGreaterThan(0);
    for (const item of r.body.anyHallItems) {
      const full = await server.services.catalog.getItem(item.code);
      expect(full.processingModes).toContain('any_hall');
    }
    const hall = await api(hallAdmin.token, 'GET', '/api/v1/grants/grantable');
    expect(hall.body.grants[0].roles.map((x: { role: string }) => x.role)).not.toContain('county_admin');
    const refused = await api(clerk.token, 'GET', '/api/v1/grants/grantable');
    expect(refused.status).toBe(403);
  });

  it('granting an administrator role makes the account an administrator (TOTP at the next sign-in)', async () => {
    const created = await api(kailiAdmin.token, 'POST', '/api/v1/staff', {
      name: '乡镇管理员',
      username: 's-township-admin',
      hallCode: KAILI_TOWNSHIP_HALL,
    });
    expect(created.body.account.isAdmin).toBe(false);
    const granted = await api(kailiAdmin.token, 'POST', '/api/v1/grants', {
      accountId: created.body.account.id,
      role: 'hall_admin',
      scope: { kind: 'hall', value: KAILI_TOWNSHIP_HALL },
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      reason: '任命大厅管理员',
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    const view = await api(kailiAdmin.token, 'GET', `/api/v1/staff/${created.body.account.id}`);
    expect([view.body.isAdmin, view.body.roles]).toEqual([true, ['hall_admin']]);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/password',
      payload: { username: 's-township-admin', password: created.body.initialPassword },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const staffList = await server.app.inject({ method: 'GET', url: '/api/v1/staff', headers: { cookie } });
    expect([staffList.statusCode, staffList.json().error.code]).toEqual([
      403,
      'auth.totp_enrolment_required',
    ]);
  });
});
