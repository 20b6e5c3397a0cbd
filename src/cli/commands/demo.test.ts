import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main.ts';
import { startTestServer } from '../../server/testing.ts';
import { formatDemoAccounts, seedDemoStaff } from './demo.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function login(body: Record<string, string>) {
  return server.app.inject({ method: 'POST', url: '/api/v1/auth/login/password', payload: body });
}

describe('tongban seed --demo', () => {
  it('creates the demo staff with their grants; operational ones sign in with the password, the admin with TOTP', async () => {
    const accounts = await seedDemoStaff(server.services);
    expect(accounts.map((a) => a.username)).toEqual([
      'kaili.intake',
      'kaili.pickup',
      'weining.officer',
      'nanming.intake',
      'weining.admin',
      'kaili.admin',
      'guizhou.leader',
      'kaili.village',
    ]);
    const clerk = accounts[0]!;
    const res = await login({ username: clerk.username, password: clerk.password });
    expect(res.statusCode).toBe(200);
    const cookie = res.headers['set-cookie'];
    const me = await server.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: String(cookie) },
    });
    const grants = await server.app.inject({
      method: 'GET',
      url: `/api/v1/accounts/${me.json().account.id}/grants`,
      headers: { cookie: String(cookie) },
    });
    expect(
      grants
        .json()
        .items.map((g: { role: string; scope: { value: string } }) => `${g.role}@${g.scope.value}`),
    ).toEqual(['intake_clerk@522601-zwfw']);

    const admin = accounts.find((a) => a.username === 'weining.admin')!;
    expect(admin.totp?.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect((await login({ username: admin.username, password: admin.password })).json().error.code).toBe(
      'auth.totp_required',
    );
    const ok = await login({
      username: admin.username,
      password: admin.password,
      totp: await generate({ secret: admin.totp!.secret }),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().principal.mfa).toBe(true);
    expect(formatDemoAccounts(accounts)).toContain(admin.totp!.secret);
  });

  it('run again: the same accounts, new passwords (the old ones stop working), no duplicate grants', async () => {
    const before = await seedDemoStaff(server.services);
    const after = await seedDemoStaff(server.services);
    const officer = (list: typeof before) => list.find((a) => a.username === 'weining.officer')!;
    expect(officer(after).password).not.toBe(officer(before).password);
    expect(
      (await login({ username: 'weining.officer', password: officer(before).password })).statusCode,
    ).toBe(401);
    expect((await login({ username: 'weining.officer', password: officer(after).password })).statusCode).toBe(
      200,
    );
    const id = (await server.services.identity.staffIdByUsername('weining.officer'))!;
    const grants = await server.services.identity.grants.grantsOf(id);
    expect(grants.map((g) => g.role).sort()).toEqual(['acceptance_officer', 'approver']);
  });
});
