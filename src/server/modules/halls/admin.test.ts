/**
 * Hall administration over HTTP (./policy.ts, ./service.ts): windows, opening hours and service status,
 * by the hall's own administrator or a division administrator over it — never another's hall; every
 * change audited with before/after; bad input changes nothing. Real server and database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';

const TOWNSHIP_HALL = '522601001-bmfw'; // a 便民服务中心 in 凯里
const OTHER_HALL = '520526-zwfw'; // 威宁's centre
let server: RunningServer;
let hallAdmin = '';
let countyAdmin = '';
let otherAdmin = '';

async function put(token: string, url: string, payload: object) {
  const res = await server.app.inject({
    method: 'PUT',
    url,
    headers: { authorization: `Bearer ${token}` },
    payload,
  });
  return { status: res.statusCode, body: res.json() };
}
const hall = async (code: string) =>
  (await server.app.inject({ method: 'GET', url: `/api/v1/halls/${code}` })).json();

beforeAll(async () => {
  server = await startTestServer();
  hallAdmin = (
    await signedInStaff(server, {
      username: 'h-hall-admin',
      hallCode: TOWNSHIP_HALL,
      grant: { role: 'hall_admin', kind: 'hall', value: TOWNSHIP_HALL },
    })
  ).token;
  countyAdmin = (
    await signedInStaff(server, {
      username: 'h-county-admin',
      hallCode: '522601-zwfw',
      grant: { role: 'county_admin', kind: 'division', value: '522601' },
    })
  ).token;
  otherAdmin = (
    await signedInStaff(server, {
      username: 'h-other-admin',
      hallCode: OTHER_HALL,
      grant: { role: 'hall_admin', kind: 'hall', value: OTHER_HALL },
    })
  ).token;
});
afterAll(async () => {
  await server?.close();
});

describe('hall windows', () => {
  it('the hall administrator replaces the windows; the public reads them; the count follows', async () => {
    const windows = [
      { number: 2, name: '社保窗口', itemCodes: null, industries: ['social_insurance'] },
      { number: 1, name: '综合窗口', itemCodes: null, industries: null },
      { number: 3, name: '低保窗口', itemCodes: ['050004001000'], industries: null },
    ];
    const r = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/windows`, { windows, reason: '窗口调整' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items.map((w: { number: number }) => w.number)).toEqual([1, 2, 3]);
    const listed = await server.app.inject({ method: 'GET', url: `/api/v1/halls/${TOWNSHIP_HALL}/windows` });
    expect(listed.json().items[2]).toEqual({
      number: 3,
      name: '低保窗口',
      itemCodes: ['050004001000'],
      industries: null,
    });
    expect((await hall(TOWNSHIP_HALL)).windows).toBe(3);
    const [entry] = (
      await server.services.audit.list({ action: 'hall.windows_update', targetId: TOWNSHIP_HALL })
    ).items;
    expect(entry?.details).toMatchObject({ divisionCode: '522601001', hallCode: TOWNSHIP_HALL, before: [] });
    expect((entry!.details.after as unknown[]).length).toBe(3);
  });

  it('refuses bad windows listing every field, and changes nothing', async () => {
    const r = await put(countyAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/windows`, {
      windows: [
        { number: 1, name: '甲', itemCodes: ['12345'], industries: null },
        { number: 1, name: '', itemCodes: null, industries: ['no_such_industry'] },
        { number: 1000, name: '丙', itemCodes: null, industries: null },
      ],
    });
    expect([r.status, r.body.error.code]).toEqual([400, 'hall.invalid_windows']);
    expect(r.body.error.issues.map((i: { field: string }) => i.field).sort()).toEqual(
      [
        'windows.0.itemCodes.0',
        'windows.1.industries.0',
        'windows.1.name',
        'windows.1.number',
        'windows.2.number',
      ].sort(),
    );
    expect((await hall(TOWNSHIP_HALL)).windows).toBe(3);
  });

  it('a county administrator manages the halls of the county; nobody manages another’s hall', async () => {
    const ok = await put(countyAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/windows`, {
      windows: [{ number: 1, name: '综合窗口', itemCodes: null, industries: null }],
    });
    expect(ok.status).toBe(200);
    const other = await put(otherAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/windows`, { windows: [] });
    expect([other.status, other.body.error.code]).toEqual([403, 'hall.out_of_scope']);
    const county = await put(countyAdmin, `/api/v1/halls/${OTHER_HALL}/status`, {
      status: 'closed',
      reason: '越权',
    });
    expect([county.status, county.body.error.code]).toEqual([403, 'hall.out_of_scope']);
    const anon = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/halls/${TOWNSHIP_HALL}/windows`,
      payload: { windows: [] },
    });
    expect(anon.statusCode).toBe(401);
    const unknown = await put(countyAdmin, '/api/v1/halls/522601-nope/windows', { windows: [] });
    expect(unknown.status).toBe(404);
  });
});

describe('opening hours and status', () => {
  it('sets opening hours; refuses reversed and overlapping ranges', async () => {
    const bad = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/opening-hours`, {
      openingHours: { weekdays: ['09:00-12:00', '11:00-13:00', '18:00-17:00'] },
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'hall.invalid_hours']);
    expect(bad.body.error.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'openingHours.weekdays.1',
      'openingHours.weekdays.2',
    ]);
    const malformed = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/opening-hours`, {
      openingHours: { weekdays: ['9-12'] },
    });
    expect(malformed.status).toBe(400);
    const hours = {
      weekdays: ['08:30-12:00', '14:00-17:30'],
      saturday: ['09:00-12:00'],
      note: '周六上午办理',
    };
    const ok = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/opening-hours`, {
      openingHours: hours,
      reason: '夏季作息',
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await hall(TOWNSHIP_HALL)).openingHours).toEqual(hours);
    const [entry] = (
      await server.services.audit.list({ action: 'hall.hours_update', targetId: TOWNSHIP_HALL })
    ).items;
    expect(entry).toMatchObject({ purpose: '夏季作息', details: { after: hours } });
  });

  it('sets degraded / offline with a reason and expected end, shown to everyone; open clears them', async () => {
    const noReason = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/status`, { status: 'degraded' });
    expect([noReason.status, noReason.body.error.field]).toEqual([400, 'reason']);
    const past = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/status`, {
      status: 'offline',
      reason: '停电',
      expectedEndAt: '2020-01-01T00:00:00+08:00',
    });
    expect([past.status, past.body.error.field]).toEqual([400, 'expectedEndAt']);
    const end = new Date(Date.now() + 4 * 3_600_000).toISOString();
    const offline = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/status`, {
      status: 'offline',
      reason: '线路中断，暂停收件',
      expectedEndAt: end,
    });
    expect(offline.status, JSON.stringify(offline.body)).toBe(200);
    const seen = await hall(TOWNSHIP_HALL);
    expect([seen.status, seen.statusReason, seen.statusExpectedEndAt, seen.openNow]).toEqual([
      'offline',
      '线路中断，暂停收件',
      end,
      false,
    ]);
    const open = await put(hallAdmin, `/api/v1/halls/${TOWNSHIP_HALL}/status`, { status: 'open' });
    expect(open.status).toBe(200);
    const after = await hall(TOWNSHIP_HALL);
    expect([after.status, after.statusReason, after.statusExpectedEndAt]).toEqual(['open', null, null]);
    const entries = (
      await server.services.audit.list({ action: 'hall.status_change', targetId: TOWNSHIP_HALL })
    ).items;
    expect(entries.map((e) => (e.details.after as { status: string }).status)).toEqual(['open', 'offline']);
    expect(entries[1]?.details.before).toEqual({ status: 'open', reason: null, expectedEndAt: null });
  });
});
