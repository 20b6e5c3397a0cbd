import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCalendarEntries } from '../../../cli/commands/calendar.ts';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { buildHttpApp, type HttpApp } from '../../http/app.ts';
import { calendarRoutes } from './routes.ts';
import { CalendarService } from './service.ts';

let database: Database;
let app: HttpApp;
let calendar: CalendarService;
beforeAll(async () => {
  database = await openTestDatabase();
  calendar = new CalendarService(database.db);
  app = await buildHttpApp({ logLevel: false, routes: [calendarRoutes({ calendar })] });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

const get = async (url: string) => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
};

// An invented 2027 schedule for the tests (the real one is not published yet): 元旦 2027-01-01..03.
const invented2027 = [
  { date: '2027-01-01', kind: 'holiday', name: '元旦' },
  { date: '2027-01-02', kind: 'holiday', name: '元旦' },
  { date: '2027-01-03', kind: 'holiday', name: '元旦' },
];

describe('calendar module: stored published years and corrections', () => {
  it('answers 2026 days from chinese-days: Spring Festival holiday and a make-up Saturday', async () => {
    const festival = await get('/api/v1/calendar/days/2026-02-17');
    expect(festival.body).toMatchObject({ working: false, dayType: 'holiday', provisional: false });
    const makeUp = await get('/api/v1/calendar/days/2026-02-14');
    expect(makeUp.body).toMatchObject({ working: true, dayType: 'adjusted_workday' });
  });

  it('adds working days across Spring Festival 2026, start day not counted', async () => {
    const r = await get('/api/v1/calendar/working-days?from=2026-02-02&add=20');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ date: '2026-03-06', provisional: false, unknownYears: [] });
    const count = await get('/api/v1/calendar/working-days?from=2026-02-02&to=2026-03-06');
    expect(count.body.days).toBe(20);
  });

  it('flags a deadline reaching 2027 as provisional until 2027 is published, then stores it durably', async () => {
    const before = await get('/api/v1/calendar/working-days?from=2026-12-20&add=20');
    expect(before.body).toMatchObject({ provisional: true, unknownYears: [2027] });
    await calendar.publishYear({ year: 2027, entries: invented2027 }, 'test notice (invented)');
    const after = await get('/api/v1/calendar/working-days?from=2026-12-20&add=20');
    expect(after.body.provisional).toBe(false);
    expect(after.body.date).not.toBe(before.body.date);
    // A fresh service on the same database sees the stored year.
    const again = new CalendarService(database.db);
    expect(await again.knownYears()).toContain(2027);
    expect((await get('/api/v1/calendar/years')).body.knownYears).toContain(2027);
  });

  it('refuses a bad schedule, naming the field, and stores nothing', async () => {
    await expect(
      calendar.publishYear({ year: 2028, entries: [{ date: '2028-02-30', kind: 'holiday' }] }, 'x'),
    ).rejects.toMatchObject({ code: 'calendar.year_invalid', field: 'entries.0.date' });
    await expect(calendar.publishYear({ year: 2028, entries: invented2027 }, 'x')).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(calendar.publishYear({ year: 2028, entries: [] }, '')).rejects.toMatchObject({
      field: 'source',
    });
    expect(await new CalendarService(database.db).knownYears()).not.toContain(2028);
  });

  it('applies a single-day correction without making its year known', async () => {
    await calendar.addOverrides([{ date: '2026-06-01', kind: 'holiday', name: '本地调整' }], 'test');
    expect((await get('/api/v1/calendar/days/2026-06-01')).body).toMatchObject({
      working: false,
      source: 'override',
    });
    await expect(calendar.addOverrides([{ date: 'tomorrow', kind: 'holiday' }], 'x')).rejects.toMatchObject({
      code: 'calendar.override_invalid',
      field: 'entries.0.date',
    });
  });

  it('bounds the work a request can ask for: years 1949–2199, spans up to 40 years', async () => {
    const huge = await get('/api/v1/calendar/working-days?from=0000-01-01&to=9999-12-31');
    expect([huge.status, huge.body.error.code, huge.body.error.field]).toEqual([
      400,
      'calendar.date_invalid',
      'from',
    ]);
    const long = await get('/api/v1/calendar/working-days?from=1949-01-01&to=2199-12-31');
    expect([long.status, long.body.error.code]).toEqual([400, 'calendar.span_too_long']);
    expect((await get('/api/v1/calendar/days/10000-01-03')).status).toBe(400);
    const bad = await get('/api/v1/calendar/working-days?from=bad&add=1');
    expect(bad.body.error.field).toBe('from');
    expect((await get('/api/v1/calendar/working-days?from=%202026-01-05%20&add=1')).body.from).toBe(
      '2026-01-05',
    );
  });

  it('gives 400 for malformed queries', async () => {
    expect((await get('/api/v1/calendar/days/2026-13-01')).status).toBe(400);
    expect((await get('/api/v1/calendar/working-days?from=2026-02-02')).status).toBe(400);
    expect((await get('/api/v1/calendar/working-days?from=2026-02-02&add=-1')).status).toBe(400);
  });

  it('reads a schedule file as CSV or JSON for the CLI', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-cal-'));
    const csv = path.join(dir, 'y.csv');
    fs.writeFileSync(csv, '# invented\ndate,kind,name\n2027-01-01,holiday,元旦\n');
    expect(readCalendarEntries(csv)).toEqual([{ date: '2027-01-01', kind: 'holiday', name: '元旦' }]);
    const json = path.join(dir, 'y.json');
    fs.writeFileSync(json, JSON.stringify({ entries: invented2027 }));
    expect(readCalendarEntries(json)).toHaveLength(3);
    expect(() => readCalendarEntries(path.join(dir, 'missing.csv'))).toThrow(/No such file/);
    fs.rmSync(dir, { recursive: true });
  });
});
