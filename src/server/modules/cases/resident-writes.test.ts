/**
 * A signed-in resident's writes: POST /api/v1/cases with an Idempotency-Key (per resident, replays, a
 * reused key), only in her own name (实名: another person's ID number is 403 `case.applicant_not_self`,
 * nothing filed; an agent filing for her under her authorization is unaffected), her uploads
 * PUT /api/v1/cases/:ref/materials/:seq/file (bad seq, someone else's case, size, type, idempotency,
 * concurrency), and CSRF on both.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { recordInAppAuthorization, signedInStaff, startTestServer } from '../../testing.ts';
import { sessionCookieName } from '../identity/plugin.ts';
import type { DevSmsChannel } from '../notifications/channels.ts';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const ITEM = '200002002000'; // 社会保障卡补领, online
const NANMING = '520102';
const HALL = '520102-zwfw';
const ME = { name: '王秀英', idNumber: syntheticIdNumber('520102', '19560708', '031'), phone: '13912360001' };
const YOU = { name: '李四', idNumber: syntheticIdNumber('520102', '19700101', '032'), phone: '13912360002' };
const STRANGER = {
  name: '赵六',
  idNumber: syntheticIdNumber('520102', '19800101', '033'),
  phone: '13912360003',
};
const JPEG = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(label)]);

let me: Record<string, string> = {};
let you: Record<string, string> = {};
let ip = 0;

function smsCode(phone: string): string {
  const sms = server.services.notifications.channel('sms') as DevSmsChannel;
  const text = [...sms.sent].reverse().find((m) => m.to === phone)?.text ?? '';
  return /(\d{6})/.exec(text)![1]!;
}
async function signUp(p: { name: string; idNumber: string; phone: string }) {
  const post = (url: string, payload: object) =>
    server.app.inject({ method: 'POST', url, payload, remoteAddress: `10.62.0.${++ip}` });
  expect((await post('/api/v1/auth/sms-code', { phone: p.phone, purpose: 'register' })).statusCode).toBe(200);
  const grant = await post('/api/v1/auth/residents', { ...p, code: smsCode(p.phone) });
  expect(grant.statusCode, grant.body).toBe(201);
  const c = grant.cookies.find((c) => c.name === sessionCookieName(server.services.authConfig.cookieSecure))!;
  return { cookie: `${c.name}=${c.value}`, 'x-csrf-token': grant.json().csrfToken as string };
}

const application = (who = ME, reason = 'damaged') => ({
  itemCode: ITEM,
  applicant: { kind: 'natural_person', ...who },
  channel: 'mobile',
  processingMode: 'online',
  decidingDivisionCode: NANMING,
  delivery: { method: 'pickup', hallCode: HALL },
  formData: { reason, contactPhone: who.phone },
});
const submit = (who: Record<string, string>, key: string, body: object) =>
  server.app.inject({
    method: 'POST',
    url: '/api/v1/cases',
    headers: { ...who, 'idempotency-key': key },
    payload: body,
  });
const upload = (
  who: Record<string, string>,
  number: string,
  seq: string | number,
  bytes: Buffer | Readable,
  key = randomUUID(),
  type = 'image/jpeg',
) =>
  server.app.inject({
    method: 'PUT',
    url: `/api/v1/cases/${number}/materials/${seq}/file`,
    headers: { ...who, 'idempotency-key': key, 'content-type': type },
    payload: bytes,
  });
const count = async (q: ReturnType<typeof sql>) =>
  Number(rowsOf<{ n: number }>(await server.database.db.execute(q))[0]!.n);
const countCases = () => count(sql`select count(*)::int as n from cases`);
const scansOf = async (number: string, seq: number) =>
  count(
    sql`select count(*)::int as n from custody_events e join cases c on c.id = e.case_id where c.number = ${number} and e.material_seq = ${seq} and e.type = 'scanned'`,
  );

beforeAll(async () => {
  server = await startTestServer({ clock });
  me = await signUp(ME);
  offsetMs += 61_000;
  you = await signUp(YOU);
});
afterAll(async () => server?.close());

describe('POST /api/v1/cases with an Idempotency-Key', () => {
  it('the same key from two residents: two cases, neither sees the other’s', async () => {
    const key = randomUUID();
    const a = await submit(me, key, application(ME));
    const b = await submit(you, key, application(YOU));
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().case.number).not.toBe(b.json().case.number);
    expect(b.body).not.toContain(ME.name);
  });

  it('five concurrent replays of one key: exactly one case, five identical answers', async () => {
    const before = await countCases();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => submit(me, key, application(ME))));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.json().case.number)).size).toBe(1);
    expect(await countCases()).toBe(before + 1);
  });

  it('the key reused with a different body: 409, nothing filed', async () => {
    const key = randomUUID();
    expect((await submit(me, key, application(ME))).statusCode).toBe(201);
    const before = await countCases();
    const again = await submit(me, key, application(ME, 'stolen'));
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'idempotency.key_reused']);
    expect(await countCases()).toBe(before);
  });

  it('a resident cannot file as someone else (another person’s name, ID number and phone): 403, nothing filed', async () => {
    const before = await countCases();
    const r = await submit(me, randomUUID(), application(STRANGER));
    expect([r.statusCode, r.json().error.code, r.json().error.field]).toEqual([
      403,
      'case.applicant_not_self',
      'applicant.idNumber',
    ]);
    // her own name with a stranger's ID number is the same refusal
    const mixed = await submit(me, randomUUID(), application({ ...ME, idNumber: STRANGER.idNumber }));
    expect([mixed.statusCode, mixed.json().error.code]).toEqual([403, 'case.applicant_not_self']);
    // nor as a legal person she does not act for
    const company = await submit(me, randomUUID(), {
      ...application(ME),
      applicant: { kind: 'legal_person', name: '某公司', creditCode: '91350100M000100Y43' },
    });
    expect([company.statusCode, company.json().error.code, company.json().error.field]).toEqual([
      403,
      'case.applicant_not_self',
      'applicant.creditCode',
    ]);
    expect(await countCases()).toBe(before);
    // her own application still files
    expect((await submit(me, randomUUID(), application(ME))).statusCode).toBe(201);
  });
});

describe('PUT /api/v1/cases/:ref/materials/:seq/file by the resident', () => {
  let number = '';
  beforeAll(async () => {
    const r = await submit(me, randomUUID(), application(ME));
    expect(r.statusCode).toBe(201);
    number = r.json().case.number;
  });

  it('seq out of range or malformed (0, -1, 99, 1.5, abc): refused, nothing stored', async () => {
    const before = await scansOf(number, 1);
    for (const seq of ['0', '-1', '99', '1.5', 'abc'])
      expect((await upload(me, number, seq, JPEG(seq))).statusCode, seq).toBeGreaterThanOrEqual(400);
    expect(await scansOf(number, 1)).toBe(before);
  });

  it('another resident’s case: 404, nothing stored', async () => {
    const before = await scansOf(number, 1);
    const r = await upload(you, number, 1, JPEG('x'));
    expect([r.statusCode, r.json().error.code]).toEqual([404, 'case.not_found']);
    expect(await scansOf(number, 1)).toBe(before);
  });

  it('over FILES_MAX_BYTES (20 MiB), with and without Content-Length: 413, nothing stored', async () => {
    const before = await scansOf(number, 1);
    const big = Buffer.concat([JPEG('big'), Buffer.alloc(21 * 1024 * 1024)]);
    const r = await upload(me, number, 1, big);
    expect([r.statusCode, r.json().error?.code]).toEqual([413, 'file.too_large']);
    const streamed = await upload(
      me,
      number,
      1,
      Readable.from([big.subarray(0, 8 << 20), big.subarray(8 << 20)]),
    );
    expect([streamed.statusCode, streamed.json().error?.code]).toEqual([413, 'file.too_large']);
    expect(await scansOf(number, 1)).toBe(before);
  });

  it('a wrong type: HTML and untyped bytes refused; a JPEG header + HTML passes as a JPEG (magic bytes only)', async () => {
    expect((await upload(me, number, 1, Buffer.from('<html>'), randomUUID(), 'text/html')).statusCode).toBe(
      415,
    );
    const poly = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('<script>alert(1)</script>')]);
    expect((await upload(me, number, 1, poly)).statusCode).toBe(201);
  });

  it('the same key with a different body: 409 and the second file is not kept', async () => {
    const key = randomUUID();
    expect((await upload(me, number, 2, JPEG('first'), key)).statusCode).toBe(201);
    const scans = await scansOf(number, 2);
    const second = await upload(me, number, 2, JPEG('second'), key);
    expect([second.statusCode, second.json().error.code]).toEqual([409, 'idempotency.key_reused']);
    expect(await scansOf(number, 2)).toBe(scans);
  });

  it('two uploads at once with the same key: one scan; with two keys: two scans, consistent seqs', async () => {
    const before = await scansOf(number, 1);
    const key = randomUUID();
    const same = await Promise.all([
      upload(me, number, 1, JPEG('a'), key),
      upload(me, number, 1, JPEG('a'), key),
    ]);
    expect(same.map((s) => s.statusCode)).toEqual([201, 201]);
    expect(await scansOf(number, 1)).toBe(before + 1);
    const two = await Promise.all([upload(me, number, 1, JPEG('b')), upload(me, number, 1, JPEG('c'))]);
    expect(two.map((s) => s.statusCode)).toEqual([201, 201]);
    expect(await scansOf(number, 1)).toBe(before + 3);
  });
});

describe('an agent filing for the resident', () => {
  it('files in her name under her authorization (the real-name check is the authorization’s)', async () => {
    const agent = await signedInStaff(server, {
      username: 'nm-agent',
      hallCode: HALL,
      grant: { role: 'village_agent', kind: 'hall', value: HALL },
    });
    const id = await recordInAppAuthorization(server, agent.token, ME.idNumber, ITEM);
    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: `/api/v1/agent-authorizations/${id}/consent`,
          headers: { ...me, 'idempotency-key': randomUUID() },
        })
      ).statusCode,
    ).toBe(200);
    const body = {
      ...application(ME),
      channel: 'village_agent',
      intakeHallCode: HALL,
      processingMode: 'off_site_intake',
      agent: { kind: 'village_agent', name: '张代办', authorizationRef: id },
    };
    const filed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': randomUUID() },
      payload: body,
    });
    expect(filed.statusCode, filed.body).toBe(201);
    expect(filed.json().case.applicant.name).toBe(ME.name);
  });
});

describe('CSRF on the resident writes (cookie session)', () => {
  it('POST /cases and PUT …/file without X-CSRF-Token are refused', async () => {
    const cookieOnly = { cookie: me.cookie! };
    const filed = await submit(cookieOnly, randomUUID(), application(ME));
    const r = await submit(me, randomUUID(), application(ME));
    const up = await upload(cookieOnly, r.json().case.number, 1, JPEG('csrf'));
    expect([filed.statusCode, up.statusCode]).toEqual([403, 403]);
  });
});
