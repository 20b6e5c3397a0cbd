/**
 * Registration with an SMS code (POST /api/v1/auth/residents, which signs the new resident in): a code
 * cannot be replayed; concurrent registrations of one ID number answer 201 and 409 (never a 500 — the
 * unique index's refusal is the same 409, also on PostgreSQL: run with DATABASE_URL); one code registers
 * once; an existing account cannot be taken over, and that refusal does not spend the code; a "register"
 * code asked for a registered phone sends nothing and leaves the owner's live sign-in code usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import type { DevSmsChannel } from '../notifications/channels.ts';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(async () => server?.close());

let ip = 0;
const post = (url: string, payload: object, addr?: string) =>
  server.app.inject({ method: 'POST', url, payload, remoteAddress: addr ?? `10.61.${++ip % 250}.1` });

function smsCode(phone: string): string {
  const sms = server.services.notifications.channel('sms') as DevSmsChannel;
  const text = [...sms.sent].reverse().find((m) => m.to === phone)?.text ?? '';
  const code = /(\d{6})/.exec(text)?.[1];
  if (!code) throw new Error('no SMS code');
  return code;
}
const sentCount = (phone: string) =>
  (server.services.notifications.channel('sms') as DevSmsChannel).sent.filter((m) => m.to === phone).length;

describe('registration with an SMS code', () => {
  it('the same code cannot register twice (replay) nor sign in afterwards', async () => {
    const phone = '13912350001';
    expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'register' })).statusCode).toBe(200);
    const code = smsCode(phone);
    const body = { name: '甲', idNumber: syntheticIdNumber('520102', '19600101', '101'), phone, code };
    const first = await post('/api/v1/auth/residents', body);
    expect(first.statusCode, first.body).toBe(201);
    const replay = await post('/api/v1/auth/residents', body);
    expect(replay.statusCode).not.toBe(201);
    const signIn = await post('/api/v1/auth/login/sms', { phone, code });
    expect(signIn.statusCode).toBe(401);
  });

  it('two concurrent registrations, same ID number, two phones: one 201 and one 409 — never a 500', async () => {
    offsetMs += 61_000;
    const id = syntheticIdNumber('520102', '19600202', '102');
    const phones = ['13912350002', '13912350003'];
    for (const phone of phones)
      expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'register' })).statusCode).toBe(200);
    const answers = await Promise.all(
      phones.map((phone) =>
        post('/api/v1/auth/residents', { name: '乙', idNumber: id, phone, code: smsCode(phone) }),
      ),
    );
    expect(answers.map((a) => [a.statusCode, a.json().error?.code]).sort()).toEqual([
      [201, undefined],
      [409, 'account.already_registered'],
    ]);
  });

  it('two concurrent registrations with ONE code (same phone, two ID numbers): exactly one account', async () => {
    offsetMs += 61_000;
    const phone = '13912350004';
    expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'register' })).statusCode).toBe(200);
    const code = smsCode(phone);
    const answers = await Promise.all(
      ['103', '104'].map((seq) =>
        post('/api/v1/auth/residents', {
          name: '丙',
          idNumber: syntheticIdNumber('520102', '19600303', seq),
          phone,
          code,
        }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 401]);
  });

  it('an existing account cannot be taken over: its phone or ID number with a fresh register code → 409, no session', async () => {
    offsetMs += 61_000;
    const victimPhone = '13912350005';
    const victimId = syntheticIdNumber('520102', '19600404', '105');
    expect(
      (await post('/api/v1/auth/sms-code', { phone: victimPhone, purpose: 'register' })).statusCode,
    ).toBe(200);
    expect(
      (
        await post('/api/v1/auth/residents', {
          name: '丁',
          idNumber: victimId,
          phone: victimPhone,
          code: smsCode(victimPhone),
        })
      ).statusCode,
    ).toBe(201);
    offsetMs += 61_000;
    // the attacker's own phone, the victim's ID number
    const attackerPhone = '13912350006';
    expect(
      (await post('/api/v1/auth/sms-code', { phone: attackerPhone, purpose: 'register' })).statusCode,
    ).toBe(200);
    const attackerCode = smsCode(attackerPhone);
    const take = await post('/api/v1/auth/residents', {
      name: '丁',
      idNumber: victimId,
      phone: attackerPhone,
      code: attackerCode,
    });
    expect([take.statusCode, take.json().error.code]).toEqual([409, 'account.already_registered']);
    expect(take.cookies.length).toBe(0);
    // the refusal did not spend the code: it still registers her own ID number
    const retry = await post('/api/v1/auth/residents', {
      name: '戊',
      idNumber: syntheticIdNumber('520102', '19600505', '106'),
      phone: attackerPhone,
      code: attackerCode,
    });
    expect([retry.statusCode, retry.json().error?.code]).toEqual([201, undefined]);
  });

  it('purpose=register for a REGISTERED phone sends nothing — and must not void the owner’s live sign-in code', async () => {
    offsetMs += 61_000;
    const phone = '13912350007';
    expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'register' })).statusCode).toBe(200);
    expect(
      (
        await post('/api/v1/auth/residents', {
          name: '己',
          idNumber: syntheticIdNumber('520102', '19600606', '107'),
          phone,
          code: smsCode(phone),
        })
      ).statusCode,
    ).toBe(201);
    offsetMs += 61_000;
    // the owner asks for a sign-in code (valid 5 minutes)
    expect((await post('/api/v1/auth/sms-code', { phone, purpose: 'sign_in' })).statusCode).toBe(200);
    const ownersCode = smsCode(phone);
    const sent = sentCount(phone);
    // 61 s later someone else asks a "register" code for her phone: no SMS is sent…
    offsetMs += 61_000;
    const meddler = await post('/api/v1/auth/sms-code', { phone, purpose: 'register' }, '192.0.2.77');
    expect(meddler.statusCode).toBe(200);
    expect(sentCount(phone)).toBe(sent);
    // …and her code (4 minutes left) still works
    const signIn = await post('/api/v1/auth/login/sms', { phone, code: ownersCode });
    expect([signIn.statusCode, signIn.json().error?.code]).toEqual([200, undefined]);
  });
});
