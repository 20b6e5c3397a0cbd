/**
 * Public tracking (办件进度查询) by the QR code on every notice, on a real server: the number plus the last 4
 * digits of the applicant's phone or the last 6 characters of the ID number; unknown numbers and wrong
 * checks answer the same 404; no personal data in the answer; every lookup audited; rate-limited per IP;
 * full-width digits (a Chinese IME) accepted; wrong checks lock one number for an hour, from any address;
 * cases written before tracking get their keys from the PII rotation job; /track/<number> serves the
 * resident page.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kailiToWeiningApplication } from '../../../testing/applications.ts';
import { rowsOf } from '../../db/sql.ts';
import { buildHttpApp } from '../../http/app.ts';
import { ROUTE_POLICIES } from '../../http/route-policies.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { TRACK_LOOKUPS_PER_MINUTE, TRACK_WRONG_CHECKS } from './service.ts';

let server: RunningServer;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
let number = '';
const PHONE = '13800245678';
const application = {
  ...kailiToWeiningApplication('511'),
  applicant: { ...kailiToWeiningApplication('511').applicant, phone: PHONE },
};
const ID_NUMBER = application.applicant.idNumber;
const INTAKE = 'staff:kaili-window;hall=522601-zwfw';

let ipSeq = 0;
const track = (url: string, ip = `10.77.1.${++ipSeq % 250}`) =>
  server.app.inject({ method: 'GET', url, remoteAddress: ip });

async function command(actor: string, body: unknown) {
  const res = await server.app.inject({
    method: 'POST',
    url: `/api/v1/cases/${number}/commands`,
    headers: { 'x-tongban-actor': actor, 'idempotency-key': randomUUID() },
    payload: body as object,
  });
  expect(res.statusCode, res.body).toBe(200);
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/v1/cases',
    headers: { 'x-tongban-actor': INTAKE, 'idempotency-key': randomUUID() },
    payload: application,
  });
  expect(res.statusCode, res.body).toBe(201);
  number = res.json().case.number;
});
afterAll(async () => {
  await server?.close();
});

describe('GET /api/v1/track/:number', () => {
  it('answers with the last 4 phone digits or the last 6 ID characters — and no personal data', async () => {
    const byPhone = await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`);
    expect(byPhone.statusCode, byPhone.body).toBe(200);
    expect(byPhone.headers['cache-control']).toBe('no-store');
    const body = byPhone.json();
    expect(body).toEqual({
      number,
      itemCode: '050004001000',
      itemName: '最低生活保障申请',
      status: 'received',
      statusLabel: '收件',
      submittedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      receivedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      intakeHall: { code: '522601-zwfw', name: expect.stringContaining('凯里') },
      pickupHall: { code: '522601-zwfw', name: expect.stringContaining('凯里') },
      readyForPickup: false,
    });
    for (const secret of ['王小芳', ID_NUMBER, PHONE, ID_NUMBER.slice(-6), PHONE.slice(-4)])
      expect(byPhone.body).not.toContain(secret);
    const byId = await track(`/api/v1/track/${number}?check=${ID_NUMBER.slice(-6).toLowerCase()}`);
    expect(byId.statusCode, byId.body).toBe(200);
    expect(byId.json()).toEqual(body);
  });

  it('answers an unknown number and a wrong check with the same 404; malformed input 400 naming the field', async () => {
    const wrong = await track(`/api/v1/track/${number}?check=0000`);
    const unknown = await track(
      `/api/v1/track/${number.slice(0, -1)}${(Number(number.at(-1)) + 1) % 10}?check=${PHONE.slice(-4)}`,
    );
    const wrongId = await track(`/api/v1/track/${number}?check=123456`);
    for (const r of [wrong, unknown, wrongId]) {
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('track.not_found');
    }
    expect(unknown.body).toBe(wrong.body);
    for (const [url, field] of [
      [`/api/v1/track/${number}`, 'check'],
      [`/api/v1/track/${number}?check=12`, 'check'],
      [`/api/v1/track/12345?check=${PHONE.slice(-4)}`, 'number'],
    ] as const) {
      const r = await track(url);
      expect([url, r.statusCode, r.json().error.field]).toEqual([url, 400, field]);
    }
  });

  it('records every lookup in the audit log (ok and denied, with the client address)', async () => {
    const rows = rowsOf<{ outcome: string; target_type: string; client_ip: string | null }>(
      await server.database.db.execute(
        sql`select outcome, target_type, client_ip from audit_entries where action = 'case.track'`,
      ),
    );
    expect(rows.filter((r) => r.outcome === 'ok')).toHaveLength(2);
    expect(rows.filter((r) => r.outcome === 'denied')).toHaveLength(3);
    expect(rows.every((r) => r.client_ip?.startsWith('10.77.1.'))).toBe(true);
  });

  it('follows the case: deadline and working days left once accepted; ready for pickup once decided', async () => {
    const dept = await server.services.departments.findDepartment('520526', 'civil_affairs');
    const weining = `staff:weining;department=${dept!.id}`;
    await command(INTAKE, { type: 'forward' });
    await command(weining, { type: 'accept' });
    const accepted = (await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`)).json();
    expect(accepted).toMatchObject({ status: 'accepted', statusLabel: '受理', readyForPickup: false });
    expect(accepted.acceptedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(accepted.deadline).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(accepted.workingDaysLeft).toBeGreaterThan(0);
    await command(weining, { type: 'decide', outcome: 'granted' });
    const decided = (await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`)).json();
    expect(decided).toMatchObject({
      status: 'decided',
      readyForPickup: true,
      pickupHall: { code: '522601-zwfw' },
    });
    expect(decided.deadline).toBeUndefined();
    expect(decided.decidedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('reads number and check as typed on a phone: full-width digits, spaces, a lower-case x', async () => {
    const fullWidth = (s: string) => [...s].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
    const tail = PHONE.slice(-4);
    for (const [n, check] of [
      [number, fullWidth(tail)],
      [number, ` ${tail}\u3000`],
      [fullWidth(number), tail],
      [number, ID_NUMBER.slice(-6).toLowerCase()],
    ]) {
      const r = await track(`/api/v1/track/${encodeURIComponent(n!)}?check=${encodeURIComponent(check!)}`);
      expect([check, r.statusCode]).toEqual([check, 200]);
    }
  });

  it(`locks a number for an hour after ${TRACK_WRONG_CHECKS.threshold} wrong checks within an hour, from any address`, async () => {
    const filed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/cases',
      headers: { 'x-tongban-actor': INTAKE, 'idempotency-key': randomUUID() },
      payload: {
        ...kailiToWeiningApplication('512'),
        applicant: { ...kailiToWeiningApplication('512').applicant, phone: PHONE },
      },
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const target = filed.json().case.number as string;
    // the "unknown number" above may have been this one before it was filed: those checks count too
    const failures = async () =>
      rowsOf<{ failures: number }>(
        await server.database.db.execute(
          sql`select failures from identity_lockouts where key = ${`track:${target}`}`,
        ),
      )[0]?.failures ?? 0;
    const left = TRACK_WRONG_CHECKS.threshold - (await failures());
    expect(left).toBeGreaterThan(10);
    const statuses: number[] = [];
    for (let i = 0; i < left; i++)
      statuses.push((await track(`/api/v1/track/${target}?check=${String(9000 + i)}`)).statusCode);
    expect(statuses).toEqual(Array(left).fill(404));
    // now even the right check, from a fresh address, is refused — and the answer names no case
    const locked = await track(`/api/v1/track/${target}?check=${PHONE.slice(-4)}`, '10.79.0.1');
    expect([locked.statusCode, locked.json().error.code, locked.json().error.field]).toEqual([
      429,
      'track.locked',
      'number',
    ]);
    // another number is not affected; the lock holds in the database (every node sees it)
    expect((await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`)).statusCode).toBe(200);
    expect(await failures()).toBe(TRACK_WRONG_CHECKS.threshold);
    offsetMs += TRACK_WRONG_CHECKS.lockMs + 1000;
    expect((await track(`/api/v1/track/${target}?check=${PHONE.slice(-4)}`)).statusCode).toBe(200);
    offsetMs = 0;
  });

  it(`limits lookups to ${TRACK_LOOKUPS_PER_MINUTE} a minute per client address`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= TRACK_LOOKUPS_PER_MINUTE; i++)
      statuses.push(
        (await track(`/api/v1/track/${number}?check=${String(i).padStart(4, '0')}`, '10.78.0.1')).statusCode,
      );
    expect(statuses.slice(0, TRACK_LOOKUPS_PER_MINUTE).every((s) => s === 404)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // another address is not affected
    expect((await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`, '10.78.0.2')).statusCode).toBe(
      200,
    );
  });

  it('cases written before tracking get their keys from the PII rotation job', async () => {
    await server.database.db.execute(sql`update cases set tracking_keys = null`);
    expect((await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`)).statusCode).toBe(404);
    await server.services.pii.rotate();
    expect((await track(`/api/v1/track/${number}?check=${PHONE.slice(-4)}`)).statusCode).toBe(200);
    const keys = rowsOf<{ tracking_keys: string[] }>(
      await server.database.db.execute(sql`select tracking_keys from cases`),
    );
    expect(
      keys.every(
        (k) => k.tracking_keys.length === 2 && k.tracking_keys.every((h) => /^[0-9a-f]{64}$/.test(h)),
      ),
    ).toBe(true);
  });
});

describe('GET /track/<number>', () => {
  it('serves the resident page (the QR link of the notices), revalidated', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-track-'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>citizen</title>');
    const app = await buildHttpApp({
      logLevel: false,
      routes: [],
      webRoot: root,
      routePolicies: ROUTE_POLICIES,
    });
    try {
      const res = await app.inject({ url: `/track/${number}` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<title>citizen</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
    } finally {
      await app.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
