import { parseOptions } from '@node-rs/argon2';
import { sql } from 'drizzle-orm';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { rowsOf } from '../../db/sql.ts';
import { sessionCookieName } from './plugin.ts';
import { type IdentityHarness, startIdentityHarness, testIdNumber } from './test-support.ts';

const PASSWORD = 'Correct-Horse-9';
const PHONE = '13887654321';
const COOKIE = sessionCookieName(false);

let h: IdentityHarness;
beforeAll(async () => {
  h = await startIdentityHarness();
});
afterAll(async () => {
  await h?.close();
});

type Injected = Awaited<ReturnType<IdentityHarness['app']['inject']>>;
const sessionOf = (res: Injected) => res.cookies.find((c) => c.name === COOKIE);
let ipCounter = 0;
/** a fresh client address per scenario, so per-IP limits of one test do not leak into another */
const freshIp = () => `10.0.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function post(
  url: string,
  payload: unknown,
  opts: { cookie?: string; csrf?: string; ip?: string; headers?: Record<string, string> } = {},
) {
  return h.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    remoteAddress: opts.ip ?? '10.9.9.9',
    headers: { ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}), ...opts.headers },
    ...(opts.cookie ? { cookies: { [COOKIE]: opts.cookie } } : {}),
  });
}
async function get(url: string, opts: { cookie?: string; headers?: Record<string, string> } = {}) {
  return h.app.inject({
    method: 'GET',
    url,
    headers: opts.headers ?? {},
    ...(opts.cookie ? { cookies: { [COOKIE]: opts.cookie } } : {}),
  });
}
function lastCode(phone: string): string {
  const msg = [...h.sms.sent].reverse().find((m) => m.to === phone);
  const code = /验证码 (\d{6})/.exec(msg?.text ?? '')?.[1];
  if (!code) throw new Error(`no code sent to ${phone}`);
  return code;
}

describe('resident accounts', () => {
  it('registers a resident, stores ID number and phone only as index + ciphertext, shows them masked', async () => {
    // The phone is proved first: without its code there is no account.
    const noCode = await post('/api/v1/auth/residents', {
      name: '王小芳',
      idNumber: testIdNumber(123),
      phone: PHONE,
      password: PASSWORD,
      code: '000000',
    });
    expect([noCode.statusCode, noCode.json().error.code]).toEqual([401, 'auth.otp_invalid']);
    h.advance(61_000);
    expect(
      (await post('/api/v1/auth/sms-code', { phone: PHONE, purpose: 'register' }, { ip: freshIp() }))
        .statusCode,
    ).toBe(200);
    const res = await post('/api/v1/auth/residents', {
      name: '王小芳',
      idNumber: testIdNumber(123),
      phone: PHONE,
      password: PASSWORD,
      code: lastCode(PHONE),
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.idNumber).toBe(`5201**********${testIdNumber(123).slice(-4)}`);
    expect(body.phone).toBe('138****4321');
    // the register code proved the phone: the new resident is signed in at once (no second code)
    const cookie = sessionOf(res)!;
    expect(cookie.httpOnly).toBe(true);
    expect(body.principal).toMatchObject({
      accountId: body.id,
      kind: 'resident',
      via: 'session',
      mfa: false,
    });
    expect(typeof body.csrfToken).toBe('string');
    const me = await get('/api/v1/auth/me', { cookie: cookie.value });
    expect([me.statusCode, me.json().account.id]).toEqual([200, body.id]);
    // and the session takes writes with its CSRF token (only with it)
    const logoutWithout = await post('/api/v1/auth/logout', {}, { cookie: cookie.value });
    expect(logoutWithout.statusCode).toBe(403);
    const logout = await post('/api/v1/auth/logout', {}, { cookie: cookie.value, csrf: body.csrfToken });
    expect(logout.statusCode, logout.body).toBeLessThan(300);
    expect((await get('/api/v1/auth/me', { cookie: cookie.value })).statusCode).toBe(401);
    const rows = rowsOf<Record<string, unknown>>(
      await h.database.db.execute(sql`select * from identity_accounts`),
    );
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(testIdNumber(123));
    expect(dump).not.toContain(PHONE);
    expect(dump).not.toContain(PASSWORD);
    expect(String(rows[0]!.password_hash)).toMatch(/^\$argon2id\$/);
    expect(parseOptions(String(rows[0]!.password_hash)).algorithm).toBe(2);
  });

  it('refuses a bad ID number, a bad phone, a weak password and a duplicate, naming the field', async () => {
    const bad = testIdNumber(124).slice(0, 17) + (testIdNumber(124).endsWith('0') ? '1' : '0');
    const code = '123456'; // each of these is refused before its code is looked at
    const r1 = await post('/api/v1/auth/residents', { name: 'x', idNumber: bad, phone: '13900000001', code });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error).toMatchObject({ code: 'identity.check_character', field: 'idNumber' });
    const r2 = await post('/api/v1/auth/residents', {
      name: 'x',
      idNumber: testIdNumber(125),
      phone: '12345',
      code,
    });
    expect(r2.json().error).toMatchObject({ code: 'account.phone_invalid', field: 'phone' });
    const r3 = await post('/api/v1/auth/residents', {
      name: 'x',
      idNumber: testIdNumber(125),
      phone: '13900000001',
      password: 'short',
      code,
    });
    expect(r3.json().error).toMatchObject({ code: 'account.password_weak', field: 'password' });
    h.advance(61_000);
    await post('/api/v1/auth/sms-code', { phone: '13900000001', purpose: 'register' }, { ip: freshIp() });
    const r4 = await post('/api/v1/auth/residents', {
      name: 'x',
      idNumber: testIdNumber(123),
      phone: '13900000001',
      code: lastCode('13900000001'),
    });
    expect(r4.statusCode).toBe(409);
    expect(r4.json().error.field).toBe('idNumber');
  });
});

describe('sign-in', () => {
  it('password login sets a fresh httpOnly SameSite cookie; a planted session id is not reused (no fixation)', async () => {
    const planted = 'attacker-chosen-session-id-000000000000000';
    const res = await post(
      '/api/v1/auth/login/password',
      { phone: PHONE, password: PASSWORD },
      { cookie: planted },
    );
    expect(res.statusCode, res.body).toBe(200);
    const cookie = sessionOf(res)!;
    expect(cookie.value).not.toBe(planted);
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(res.json().principal).toMatchObject({ kind: 'resident', via: 'session' });
    const me = await get('/api/v1/auth/me', { cookie: cookie.value });
    expect(me.statusCode).toBe(200);
    expect(me.json().account.phone).toBe('138****4321');
    expect((await get('/api/v1/auth/me', { cookie: planted })).statusCode).toBe(401);
  });

  it('wrong password is 401', async () => {
    const res = await post(
      '/api/v1/auth/login/password',
      { phone: PHONE, password: 'Wrong-Horse-99' },
      { ip: freshIp() },
    );
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('auth.invalid_credentials');
    expect(sessionOf(res)).toBeUndefined();
  });

  it('SMS code login: the development adapter records the code; wrong code denied; the code works once', async () => {
    const ip = freshIp();
    const sent = await post('/api/v1/auth/sms-code', { phone: PHONE }, { ip });
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toEqual({ sentTo: '138****4321', expiresInSeconds: 300 });
    const code = lastCode(PHONE);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const denied = await post('/api/v1/auth/login/sms', { phone: PHONE, code: wrong }, { ip });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().error.code).toBe('auth.otp_invalid');
    const ok = await post('/api/v1/auth/login/sms', { phone: PHONE, code }, { ip });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(sessionOf(ok)?.value).toBeTruthy();
    const again = await post('/api/v1/auth/login/sms', { phone: PHONE, code }, { ip });
    expect(again.statusCode).toBe(401);
  });

  it('SMS codes expire after 5 minutes and are rate-limited per phone', async () => {
    const ip = freshIp();
    h.advance(61_000);
    expect((await post('/api/v1/auth/sms-code', { phone: PHONE }, { ip })).statusCode).toBe(200);
    const code = lastCode(PHONE);
    const tooSoon = await post('/api/v1/auth/sms-code', { phone: PHONE }, { ip });
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().error.code).toBe('auth.otp_rate_limited');
    h.advance(5 * 60_000 + 1000);
    const late = await post('/api/v1/auth/login/sms', { phone: PHONE, code }, { ip });
    expect(late.statusCode).toBe(401);
  });

  it('an unregistered phone gets the same answer and no message', async () => {
    const before = h.sms.sent.length;
    const res = await post('/api/v1/auth/sms-code', { phone: '13700000009' }, { ip: freshIp() });
    expect(res.statusCode).toBe(200);
    expect(h.sms.sent.length).toBe(before);
  });
});

describe('staff and TOTP', () => {
  let adminId: string;
  it('an administrator without TOTP gets a restricted session that can only enrol; enrolment returns otpauth://', async () => {
    const admin = await h.identity.createStaff({
      name: '张主任',
      username: 'zhang.admin',
      password: PASSWORD,
      departmentId: '0b6c1b4e-0000-4000-8000-000000000001',
      hallCode: '520102-zwfw',
      isAdmin: true,
    });
    adminId = admin.id;
    const login = await post(
      '/api/v1/auth/login/password',
      { username: 'zhang.admin', password: PASSWORD },
      { ip: freshIp() },
    );
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json().principal).toMatchObject({ kind: 'staff', restricted: true, mfa: false });
    const cookie = sessionOf(login)!.value;
    const csrf = login.json().csrfToken as string;
    const blocked = await post(
      '/api/v1/auth/api-tokens',
      { name: 'x', scopes: ['cases:read'] },
      { cookie, csrf },
    );
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().error.code).toBe('auth.totp_enrolment_required');

    const enrol = await post('/api/v1/auth/totp/enrol', {}, { cookie, csrf });
    expect(enrol.statusCode, enrol.body).toBe(200);
    const { otpauthUri, secret } = enrol.json();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/.+secret=/);
    const wrong = await post('/api/v1/auth/totp/confirm', { code: '000000' }, { cookie, csrf });
    expect(wrong.statusCode).toBe(401);
    const code = await generate({ secret, epoch: Math.floor(h.now().getTime() / 1000) });
    const confirmed = await post('/api/v1/auth/totp/confirm', { code }, { cookie, csrf });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json().principal).toMatchObject({ mfa: true });
    expect(confirmed.json().principal.restricted).toBeUndefined();
    // privilege change rotated the session id: the old cookie is dead
    expect(sessionOf(confirmed)!.value).not.toBe(cookie);
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(401);

    // from now on the password alone is not enough; a fresh code is; a replayed code is not
    h.advance(30_000);
    const noTotp = await post(
      '/api/v1/auth/login/password',
      { username: 'zhang.admin', password: PASSWORD },
      { ip: freshIp() },
    );
    expect(noTotp.statusCode).toBe(401);
    expect(noTotp.json().error.code).toBe('auth.totp_required');
    const bad = await post(
      '/api/v1/auth/login/password',
      { username: 'zhang.admin', password: PASSWORD, totp: '123456' },
      { ip: freshIp() },
    );
    expect(bad.statusCode).toBe(401);
    const fresh = await generate({ secret, epoch: Math.floor(h.now().getTime() / 1000) });
    const ok = await post(
      '/api/v1/auth/login/password',
      { username: 'zhang.admin', password: PASSWORD, totp: fresh },
      { ip: freshIp() },
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().principal).toMatchObject({
      kind: 'staff',
      mfa: true,
      isAdmin: true,
      hallCode: '520102-zwfw',
    });
    const replay = await post(
      '/api/v1/auth/login/password',
      { username: 'zhang.admin', password: PASSWORD, totp: fresh },
      { ip: freshIp() },
    );
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('auth.totp_invalid');
    expect(adminId).toBeTruthy();
  });
});

/** Signs the resident in afresh and returns cookie + CSRF token. */
async function residentSession() {
  const res = await post(
    '/api/v1/auth/login/password',
    { phone: PHONE, password: PASSWORD },
    { ip: freshIp() },
  );
  expect(res.statusCode, res.body).toBe(200);
  return { cookie: sessionOf(res)!.value, csrf: res.json().csrfToken as string };
}

describe('sessions and CSRF', () => {
  it('a cookie-authenticated POST without or with a wrong CSRF token is 403; with it, it succeeds', async () => {
    const { cookie, csrf } = await residentSession();
    const none = await post('/api/v1/test/whoami', {}, { cookie });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.code).toBe('auth.csrf_failed');
    const wrong = await post('/api/v1/test/whoami', {}, { cookie, csrf: `${csrf.slice(0, -2)}xx` });
    expect(wrong.statusCode).toBe(403);
    const ok = await post('/api/v1/test/whoami', {}, { cookie, csrf });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().actor).toMatchObject({ kind: 'applicant' });
  });

  it('a cross-site Origin or Sec-Fetch-Site is refused even with the token', async () => {
    const { cookie, csrf } = await residentSession();
    const evil = await post(
      '/api/v1/test/whoami',
      {},
      { cookie, csrf, headers: { origin: 'https://evil.example' } },
    );
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error.code).toBe('auth.cross_origin');
    const site = await post(
      '/api/v1/test/whoami',
      {},
      { cookie, csrf, headers: { 'sec-fetch-site': 'cross-site' } },
    );
    expect(site.statusCode).toBe(403);
    const same = await post(
      '/api/v1/test/whoami',
      {},
      {
        cookie,
        csrf,
        headers: { origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' },
      },
    );
    expect(same.statusCode, same.body).toBe(200);
  });

  it('a renewed CSRF token replaces the old one', async () => {
    const { cookie, csrf } = await residentSession();
    const renewed = await get('/api/v1/auth/csrf-token', { cookie });
    expect(renewed.statusCode).toBe(200);
    const next = renewed.json().csrfToken as string;
    expect((await post('/api/v1/test/whoami', {}, { cookie, csrf })).statusCode).toBe(403);
    expect((await post('/api/v1/test/whoami', {}, { cookie, csrf: next })).statusCode).toBe(200);
  });

  it('idle timeout (30 minutes without a request) ends the session; activity keeps it alive', async () => {
    const { cookie } = await residentSession();
    h.advance(20 * 60_000);
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(200);
    h.advance(20 * 60_000);
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(200);
    h.advance(31 * 60_000);
    const ended = await get('/api/v1/auth/me', { cookie });
    expect(ended.statusCode).toBe(401);
    // and the dead cookie is cleared
    expect(sessionOf(ended)?.value).toBe('');
  });

  it('absolute timeout (12 hours) ends even an active session', async () => {
    const { cookie } = await residentSession();
    // 24 requests 29 minutes apart (never idle): 696 minutes, still inside 12 hours
    for (let i = 0; i < 24; i++) {
      h.advance(29 * 60_000);
      expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(200);
    }
    h.advance(29 * 60_000); // 25 × 29 min > 12 h
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(401);
  });

  it('logout invalidates the session', async () => {
    const { cookie, csrf } = await residentSession();
    const out = await post('/api/v1/auth/logout', {}, { cookie, csrf });
    expect(out.statusCode).toBe(204);
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(401);
  });

  it('rotate() gives a new id, the old one stops working', async () => {
    const { cookie } = await residentSession();
    const rotated = await h.identity.rotate(cookie);
    expect(rotated.sessionId).not.toBe(cookie);
    expect((await get('/api/v1/auth/me', { cookie })).statusCode).toBe(401);
    expect((await get('/api/v1/auth/me', { cookie: rotated.sessionId })).statusCode).toBe(200);
  });
});

describe('legal persons', () => {
  it('a resident registers a legal person, acts for it (session rotated) and maps to its CaseActor', async () => {
    const { cookie, csrf } = await residentSession();
    const bad = await post(
      '/api/v1/auth/legal-persons',
      { name: '某公司', creditCode: '91520100MA6DKXXXX0' },
      { cookie, csrf },
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('creditCode');
    const lp = await post(
      '/api/v1/auth/legal-persons',
      { name: '贵州某某科技有限公司', creditCode: '91350100M000100Y43' },
      { cookie, csrf },
    );
    expect(lp.statusCode, lp.body).toBe(201);
    const act = await post('/api/v1/auth/act-as', { legalPersonId: lp.json().id }, { cookie, csrf });
    expect(act.statusCode, act.body).toBe(200);
    expect(sessionOf(act)!.value).not.toBe(cookie);
    const who = await get('/api/v1/test/whoami', { cookie: sessionOf(act)!.value });
    expect(who.json().principal).toMatchObject({
      kind: 'legal_person_operator',
      legalPersonId: lp.json().id,
    });
    expect(who.json().actor).toEqual({ kind: 'applicant', id: lp.json().id });
    const stranger = await post(
      '/api/v1/auth/act-as',
      { legalPersonId: '00000000-0000-4000-8000-000000000000' },
      {
        cookie: sessionOf(act)!.value,
        csrf: act.json().csrfToken,
      },
    );
    expect(stranger.statusCode).toBe(403);
  });
});

describe('abuse limits', () => {
  it('locks an account after 5 failures with exponential backoff, even for the right password', async () => {
    await h.identity.registerResident({
      name: '李四',
      idNumber: testIdNumber(201),
      phone: '13900000201',
      password: PASSWORD,
    });
    const attempt = (password: string) =>
      post('/api/v1/auth/login/password', { phone: '13900000201', password }, { ip: freshIp() });
    for (let i = 0; i < 5; i++) expect((await attempt('Wrong-Pass-123')).statusCode).toBe(401);
    const locked = await attempt(PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('auth.locked');
    expect(locked.json().error.message).toMatch(/60 seconds/);
    h.advance(61_000);
    // one more failure doubles the lock (2 minutes)
    expect((await attempt('Wrong-Pass-123')).statusCode).toBe(401);
    const longer = await attempt(PASSWORD);
    expect(longer.statusCode).toBe(429);
    expect(longer.json().error.message).toMatch(/120 seconds/);
    h.advance(121_000);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
    // success resets the account's count
    expect((await attempt('Wrong-Pass-123')).statusCode).toBe(401);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
  });

  it('locks a client IP after 20 failures across different accounts', async () => {
    const ip = freshIp();
    for (let i = 0; i < 20; i++) {
      const res = await post(
        '/api/v1/auth/login/password',
        { phone: `137000${String(i).padStart(5, '0')}`, password: 'Wrong-Pass-123' },
        { ip },
      );
      expect(res.statusCode).toBe(401);
    }
    const locked = await post('/api/v1/auth/login/password', { phone: PHONE, password: PASSWORD }, { ip });
    expect(locked.statusCode).toBe(429);
    // another IP is not affected
    expect(
      (await post('/api/v1/auth/login/password', { phone: PHONE, password: PASSWORD }, { ip: freshIp() }))
        .statusCode,
    ).toBe(200);
  });

  it('sign-ins, refusals, lockouts and new accounts are in the audit log, without phones or passwords', async () => {
    const { IdentityService } = await import('./service.ts');
    const { PiiVault } = await import('../pii/service.ts');
    const { AuditService } = await import('../audit/service.ts');
    const audit = new AuditService(h.database.db);
    const audited = new IdentityService(h.database.db, {
      piiHashKey: 'test-pii-hash-key-0123456789abcdef',
      cipher: PiiVault.ephemeral(),
      sms: h.sms,
      config: h.config,
      clock: () => h.now(),
      audit,
      limits: { accountFailureThreshold: 2 },
    });
    const resident = await audited.registerResident({
      name: '周九',
      idNumber: testIdNumber(219),
      phone: '13900000219',
      password: PASSWORD,
    });
    const ip = freshIp();
    await audited.loginWithPassword({ phone: '13900000219', password: PASSWORD }, ip);
    for (let i = 0; i < 2; i++)
      await expect(
        audited.loginWithPassword({ phone: '13900000219', password: 'Wrong-Pass-123' }, ip),
      ).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
    const { items } = await audit.list({ limit: 50 });
    const mine = items.filter((e) => e.target?.id === resident.id || e.actor.kind === 'anonymous');
    const actions = mine.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'account.create:ok',
        'auth.login:ok',
        'auth.login_failed:denied',
        'auth.locked:denied',
      ]),
    );
    expect(mine.find((e) => e.action === 'auth.login_failed')?.clientIp).toBe(ip);
    const text = JSON.stringify(items);
    for (const secret of ['13900000219', testIdNumber(219), PASSWORD, 'Wrong-Pass-123'])
      expect(text).not.toContain(secret);
  });

  it('key rotation re-seals ID numbers and phones under the new key; sign-in keeps working', async () => {
    const { IdentityService } = await import('./service.ts');
    const { PiiVault } = await import('../pii/service.ts');
    const { StaticKeyProvider } = await import('../pii/keys.ts');
    const { randomBytes } = await import('node:crypto');
    const { sql } = await import('drizzle-orm');
    const { rowsOf } = await import('../../db/sql.ts');
    // A database of its own: every account in it is sealed under a key this test knows.
    const own = await startIdentityHarness();
    onTestFinished(() => own.close());
    const hashKey = 'test-pii-hash-key-0123456789abcdef';
    const oldKey = { id: 'old', key: randomBytes(32) };
    const make = (vault: InstanceType<typeof PiiVault>) =>
      new IdentityService(own.database.db, {
        piiHashKey: hashKey,
        cipher: vault,
        sms: h.sms,
        config: h.config,
        clock: () => h.now(),
      });
    const before = new PiiVault(new StaticKeyProvider([oldKey]), { hashKey });
    await make(before).registerResident({
      name: '孙九',
      idNumber: testIdNumber(209),
      phone: '13900000209',
      password: PASSWORD,
    });
    const after = new PiiVault(new StaticKeyProvider([{ id: 'new', key: randomBytes(32) }, oldKey]), {
      hashKey,
    });
    const rotated = make(after);
    const row = async () =>
      rowsOf<{ i: string; p: string }>(
        await own.database.db.execute(
          sql`select id_number_enc as i, phone_enc as p from identity_accounts where name = '孙九'`,
        ),
      )[0]!;
    expect((await row()).i).toMatch(/^sm4cbc-sm3:v1:old:/);
    let n = 0;
    for (let k = await rotated.resealPii(after, 50); k > 0; k = await rotated.resealPii(after, 50)) n += k;
    expect(n).toBeGreaterThanOrEqual(1);
    const r = await row();
    expect(r.i).toMatch(/^sm4cbc-sm3:v1:new:/);
    expect(r.p).toMatch(/^sm4cbc-sm3:v1:new:/);
    expect(after.decrypt(r.p)).toBe('13900000209');
    expect(after.decrypt(r.i)).toBe(testIdNumber(209));
    await expect(
      rotated.loginWithPassword({ phone: '13900000209', password: PASSWORD }, freshIp()),
    ).resolves.toBeTruthy();
  });

  it('the lockout is in the database: a second service instance (another node) sees it', async () => {
    const { IdentityService } = await import('./service.ts');
    const { PiiVault } = await import('../pii/service.ts');
    const other = new IdentityService(h.database.db, {
      piiHashKey: 'test-pii-hash-key-0123456789abcdef',
      cipher: PiiVault.ephemeral(),
      sms: h.sms,
      config: h.config,
      clock: () => h.now(),
    });
    await h.identity.registerResident({
      name: '赵六',
      idNumber: testIdNumber(202),
      phone: '13900000202',
      password: PASSWORD,
    });
    for (let i = 0; i < 5; i++)
      await expect(
        h.identity.loginWithPassword({ phone: '13900000202', password: 'Wrong-Pass-123' }, freshIp()),
      ).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
    await expect(
      other.loginWithPassword({ phone: '13900000202', password: PASSWORD }, freshIp()),
    ).rejects.toMatchObject({ code: 'auth.locked' });
  });

  it('an SMS code is void after 5 wrong guesses, and wrong guesses lock the phone', async () => {
    await h.identity.registerResident({ name: '钱七', idNumber: testIdNumber(203), phone: '13900000203' });
    const ip = freshIp();
    expect((await post('/api/v1/auth/sms-code', { phone: '13900000203' }, { ip })).statusCode).toBe(200);
    const code = lastCode('13900000203');
    const wrong = String((Number(code) + 7) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++)
      expect(
        (await post('/api/v1/auth/login/sms', { phone: '13900000203', code: wrong }, { ip })).statusCode,
      ).toBe(401);
    const locked = await post('/api/v1/auth/login/sms', { phone: '13900000203', code }, { ip });
    expect(locked.statusCode).toBe(429);
    h.advance(61_000);
    // lock over, but the code was voided by the guesses
    const voided = await post('/api/v1/auth/login/sms', { phone: '13900000203', code }, { ip: freshIp() });
    expect(voided.statusCode).toBe(401);
  });

  it('concurrent guesses cannot test more than 5 values of one code', async () => {
    await h.identity.registerResident({ name: '孙七', idNumber: testIdNumber(204), phone: '13900000204' });
    expect(
      (await post('/api/v1/auth/sms-code', { phone: '13900000204' }, { ip: freshIp() })).statusCode,
    ).toBe(200);
    const code = lastCode('13900000204');
    const wrong = (k: number) => String((Number(code) + 1 + k) % 1_000_000).padStart(6, '0');
    await Promise.all(
      Array.from({ length: 30 }, (_, k) =>
        post('/api/v1/auth/login/sms', { phone: '13900000204', code: wrong(k) }, { ip: freshIp() }),
      ),
    );
    const { sql } = await import('drizzle-orm');
    const { rowsOf, toInt } = await import('../../db/sql.ts');
    const [row] = rowsOf<{ a: unknown }>(
      await h.database.db.execute(sql`select max(attempts) as a from identity_otp_codes`),
    );
    expect(toInt(row!.a)).toBeLessThanOrEqual(5);
  });
});

describe('API tokens', () => {
  it('are created by staff, shown once, scoped, and revocation is effective on the next request', async () => {
    await h.identity.createStaff({
      name: '窗口一',
      username: 'window1',
      password: PASSWORD,
      hallCode: '520102-zwfw',
    });
    const login = await post(
      '/api/v1/auth/login/password',
      { username: 'window1', password: PASSWORD },
      { ip: freshIp() },
    );
    const cookie = sessionOf(login)!.value;
    const csrf = login.json().csrfToken as string;
    const created = await post(
      '/api/v1/auth/api-tokens',
      { name: '物流接口', scopes: ['custody:write'], expiresInDays: 30 },
      { cookie, csrf },
    );
    expect(created.statusCode, created.body).toBe(201);
    // scopes come from a closed list (API_SCOPES): a free-form one is a 400 naming `scopes`, nothing made
    const freeForm = await post(
      '/api/v1/auth/api-tokens',
      { name: '万能', scopes: ['cases:read', 'everything:*'], expiresInDays: 30 },
      { cookie, csrf },
    );
    expect([freeForm.statusCode, freeForm.json().error.field, freeForm.json().error.code]).toEqual([
      400,
      'scopes',
      'auth.scope_invalid',
    ]);
    expect(freeForm.json().error.message).toContain('everything:*');
    const { token, id } = created.json();
    expect(token).toMatch(/^tbk_/);
    const list = await get('/api/v1/auth/api-tokens', { cookie });
    expect(JSON.stringify(list.json())).not.toContain(token);
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0]).toMatchObject({ id, scopes: ['custody:write'] });

    const bearer = { authorization: `Bearer ${token}` };
    const who = await h.app.inject({
      method: 'POST',
      url: '/api/v1/test/whoami',
      headers: bearer,
      payload: {},
    });
    expect(who.statusCode, who.body).toBe(200); // no CSRF token needed
    expect(who.json().principal).toMatchObject({
      kind: 'staff',
      via: 'api_token',
      scopes: ['custody:write'],
      hallCode: '520102-zwfw',
    });
    // a token cannot manage tokens (scope/session rule)
    const escalate = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/api-tokens',
      headers: bearer,
      payload: { name: 'x', scopes: ['cases:read'] },
    });
    expect(escalate.statusCode).toBe(403);
    const { requireScope } = await import('./policy.ts');
    expect(() => requireScope(who.json().principal, 'cases:read')).toThrow(/scope/);
    expect(() => requireScope(who.json().principal, 'custody:write')).not.toThrow();

    const revoke = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/api-tokens/${id}`,
      cookies: { [COOKIE]: cookie },
      headers: { 'x-csrf-token': csrf },
    });
    expect(revoke.statusCode).toBe(204);
    const after = await h.app.inject({ method: 'GET', url: '/api/v1/test/whoami', headers: bearer });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('auth.token_invalid');
  });

  it('expire', async () => {
    await h.identity.createStaff({
      name: '窗口二',
      username: 'window2',
      password: PASSWORD,
      hallCode: '520102-zwfw',
    });
    const login = await post(
      '/api/v1/auth/login/password',
      { username: 'window2', password: PASSWORD },
      { ip: freshIp() },
    );
    const created = await post(
      '/api/v1/auth/api-tokens',
      { name: 'x', scopes: ['cases:read'], expiresInDays: 1 },
      {
        cookie: sessionOf(login)!.value,
        csrf: login.json().csrfToken,
      },
    );
    const bearer = { authorization: `Bearer ${created.json().token}` };
    expect(
      (await h.app.inject({ method: 'GET', url: '/api/v1/test/whoami', headers: bearer })).statusCode,
    ).toBe(200);
    h.advance(86_400_000 + 1000);
    expect(
      (await h.app.inject({ method: 'GET', url: '/api/v1/test/whoami', headers: bearer })).statusCode,
    ).toBe(401);
  });
});

describe('the development actor header', () => {
  it('maps X-Tongban-Actor to a principal when enabled', async () => {
    const res = await get('/api/v1/test/whoami', {
      headers: { 'x-tongban-actor': 'staff:window1;hall=520102-zwfw' },
    });
    expect(res.json().principal).toMatchObject({ kind: 'staff', via: 'dev_header', hallCode: '520102-zwfw' });
    expect(res.json().actor).toEqual({ kind: 'staff', id: 'window1', hallCode: '520102-zwfw' });
    // It names no stored account: /me says so (it was a 500 on the uuid column).
    const me = await get('/api/v1/auth/me', { headers: { 'x-tongban-actor': 'staff:window1' } });
    expect([me.statusCode, me.json().error.code]).toEqual([404, 'account.not_found']);
  });

  it('is refused when DEV_ACTOR_HEADER is off (production default)', async () => {
    const prod = await startIdentityHarness({ env: { NODE_ENV: 'production' } });
    try {
      expect(prod.config.devActorHeader).toBe(false);
      expect(prod.config.cookieSecure).toBe(true);
      const res = await prod.app.inject({
        method: 'GET',
        url: '/api/v1/test/whoami',
        headers: { 'x-tongban-actor': 'staff:window1' },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('auth.dev_actor_disabled');
      // the secure cookie carries the __Host- prefix and the Secure flag
      await prod.identity.registerResident({
        name: '周八',
        idNumber: testIdNumber(301),
        phone: '13900000301',
        password: PASSWORD,
      });
      const login = await prod.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login/password',
        payload: { phone: '13900000301', password: PASSWORD },
      });
      const c = login.cookies.find((x) => x.name === '__Host-tongban_session');
      expect(c?.secure).toBe(true);
      expect(c?.path).toBe('/');
      // A signed-in resident cannot become staff by adding the header (it is refused, not ignored).
      const asStaff = await prod.app.inject({
        method: 'GET',
        url: '/api/v1/test/whoami',
        headers: { 'x-tongban-actor': 'staff:fake;hall=522601-zwfw' },
        cookies: { '__Host-tongban_session': c!.value },
      });
      expect([asStaff.statusCode, asStaff.json().error.code]).toEqual([401, 'auth.dev_actor_disabled']);
    } finally {
      await prod.close();
    }
  });
});

describe('logs', () => {
  it('carry no password, SMS code, session id, token, full ID number or phone', async () => {
    // everything above ran with pino at trace level and the service log captured into h.logs
    const secrets = [PASSWORD, PHONE, testIdNumber(123), testIdNumber(201), '13900000201', '13900000203'];
    const codes = h.sms.sent.map((m) => /验证码 (\d{6})/.exec(m.text)?.[1]).filter(Boolean) as string[];
    expect(codes.length).toBeGreaterThan(2);
    const { cookie, csrf } = await residentSession();
    const all = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(50);
    // the capture is real: the masked phone does appear
    expect(all).toContain('138****4321');
    for (const s of [...secrets, cookie, csrf]) expect(all).not.toContain(s);
    for (const code of codes) expect(all).not.toMatch(new RegExp(`验证码\\D{0,3}${code}`));
  });
});
