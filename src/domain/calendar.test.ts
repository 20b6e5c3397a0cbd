import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../testing/app-error.ts';
import {
  addCalendarDays,
  CalendarOverrideSchema,
  CHINESE_DAYS_YEARS,
  dayOfWeek,
  fromEpochDay,
  PublishedYearSchema,
  parseIsoDate,
  todayInShanghai,
  toEpochDay,
  WorkingDayCalendar,
} from './calendar.ts';

function datesFrom(first: string, last: string): string[] {
  const out: string[] = [];
  for (let e = toEpochDay(first); e <= toEpochDay(last); e++) out.push(fromEpochDay(e));
  return out;
}

/**
 * A HYPOTHETICAL 2027 schedule for tests only — not the State Council's notice (not yet published when
 * this was written). 元旦 2027-01-01 is a Friday; 春节 (lunar new year 2027-02-06).
 */
const HYPOTHETICAL_2027 = [
  { date: '2027-01-01', kind: 'holiday', name: '元旦' },
  ...datesFrom('2027-02-05', '2027-02-13').map((date) => ({ date, kind: 'holiday' as const, name: '春节' })),
  { date: '2027-02-20', kind: 'workday', name: '春节' },
] as const;

describe('date helpers', () => {
  it('converts dates to day numbers and back, agreeing with Date.UTC (property)', () => {
    expect(toEpochDay('1970-01-01')).toBe(0);
    expect(toEpochDay('1969-12-31')).toBe(-1);
    expect(toEpochDay('2026-02-14')).toBe(Date.UTC(2026, 1, 14) / 86_400_000);
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (e) => {
        const date = fromEpochDay(e);
        return toEpochDay(date) === e && date === new Date(e * 86_400_000).toISOString().slice(0, 10);
      }),
    );
  });

  it('adds calendar days across month ends and leap days', () => {
    expect(addCalendarDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('knows the day of the week', () => {
    expect(dayOfWeek('2026-02-14')).toBe(6); // Saturday
    expect(dayOfWeek('2026-09-20')).toBe(0); // Sunday
    expect(dayOfWeek('2026-02-02')).toBe(1); // Monday
  });

  it('gives today in Asia/Shanghai whatever the host time zone', () => {
    expect(todayInShanghai(new Date('2026-02-14T15:59:59Z'))).toBe('2026-02-14');
    expect(todayInShanghai(new Date('2026-02-14T16:00:00Z'))).toBe('2026-02-15');
  });

  it('parses YYYY-MM-DD and refuses other forms and unreal dates, naming the field', () => {
    expect(parseIsoDate(' 2026-02-14 ')).toBe('2026-02-14');
    for (const bad of ['2026-2-14', '2026/02/14', '20260214', '', '2026-02-29', '2026-13-01', '2026-04-31']) {
      const e = errorOf(() => parseIsoDate(bad, 'receivedOn'));
      expect(e.code, bad).toBe('calendar.date_invalid');
      expect(e.field).toBe('receivedOn');
    }
    expect(errorOf(() => parseIsoDate(undefined)).message).toContain('YYYY-MM-DD');
  });
});

describe('chinese-days data', () => {
  it('covers exactly 2004–2026', () => {
    expect(CHINESE_DAYS_YEARS).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
    const calendar = new WorkingDayCalendar();
    expect(calendar.knownYears).toEqual(CHINESE_DAYS_YEARS);
    expect(calendar.isKnownYear(2027)).toBe(false);
    expect(calendar.isKnownYear(2003)).toBe(false);
  });

  it('agrees with chinese-days’ own isWorkday on every day of 2004–2026', async () => {
    // The package's functions depend on the host time zone (wrong by a day west of UTC), so ask them
    // in Asia/Shanghai, where they are right; ours must not care.
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    try {
      const { default: cd } = await import('chinese-days'); // loaded after the switch: it caches the zone
      const calendar = new WorkingDayCalendar();
      const disagreements: string[] = [];
      for (const date of datesFrom('2004-01-01', '2026-12-31')) {
        const ours = calendar.isWorkingDay(date);
        if (ours.working !== cd.isWorkday(date) || ours.provisional) disagreements.push(date);
      }
      expect(disagreements).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('isWorkingDay with real 2026 dates', () => {
  const calendar = new WorkingDayCalendar();

  it('Spring Festival 2026: 2026-02-15 … 2026-02-23 are holidays', () => {
    for (const date of datesFrom('2026-02-15', '2026-02-23')) {
      expect(calendar.isWorkingDay(date), date).toMatchObject({
        working: false,
        dayType: 'holiday',
        name: '春节',
        source: 'chinese-days',
        provisional: false,
        unknownYears: [],
      });
    }
    expect(calendar.isWorkingDay('2026-02-13')).toMatchObject({ working: true, dayType: 'weekday' });
    expect(calendar.isWorkingDay('2026-02-24')).toMatchObject({ working: true, dayType: 'weekday' });
  });

  it('the make-up Saturdays 2026-02-14 and 2026-02-28 are working days', () => {
    for (const date of ['2026-02-14', '2026-02-28']) {
      expect(dayOfWeek(date)).toBe(6);
      expect(calendar.isWorkingDay(date), date).toMatchObject({
        working: true,
        dayType: 'adjusted_workday',
        name: '春节',
        provisional: false,
      });
    }
    expect(calendar.isWorkingDay('2026-03-01')).toMatchObject({
      working: false,
      dayType: 'weekend',
      source: 'weekly_rule',
    });
  });

  it('Mid-Autumn (2026-09-25 … 27) and National Day (2026-10-01 … 07) are holidays', () => {
    for (const date of datesFrom('2026-09-25', '2026-09-27')) {
      expect(calendar.isWorkingDay(date), date).toMatchObject({ working: false, name: '中秋' });
    }
    for (const date of datesFrom('2026-10-01', '2026-10-07')) {
      expect(calendar.isWorkingDay(date), date).toMatchObject({ working: false, name: '国庆节' });
    }
    expect(calendar.isWorkingDay('2026-10-08').working).toBe(true);
  });

  it('the make-up Sunday 2026-09-20 and Saturday 2026-10-10 are working days', () => {
    expect(dayOfWeek('2026-09-20')).toBe(0);
    expect(calendar.isWorkingDay('2026-09-20')).toMatchObject({
      working: true,
      dayType: 'adjusted_workday',
      name: '国庆节',
    });
    expect(dayOfWeek('2026-10-10')).toBe(6);
    expect(calendar.isWorkingDay('2026-10-10')).toMatchObject({ working: true, dayType: 'adjusted_workday' });
    expect(calendar.isWorkingDay('2026-10-11')).toMatchObject({ working: false, dayType: 'weekend' });
  });
});

describe('addWorkingDays', () => {
  const calendar = new WorkingDayCalendar();

  it('does not count the start day (行政许可法 art. 82)', () => {
    expect(calendar.addWorkingDays('2026-03-02', 1).date).toBe('2026-03-03');
    expect(calendar.addWorkingDays('2026-03-02', 5).date).toBe('2026-03-09');
    expect(calendar.addWorkingDays('2026-03-02', 0)).toEqual({
      date: '2026-03-02',
      provisional: false,
      unknownYears: [],
    });
  });

  it('counts a make-up Saturday: 1 working day after Friday 2026-02-13 is Saturday 2026-02-14', () => {
    expect(calendar.addWorkingDays('2026-02-13', 1).date).toBe('2026-02-14');
    expect(calendar.addWorkingDays('2026-09-18', 1).date).toBe('2026-09-20'); // Sunday make-up day
  });

  it('skips the Spring Festival: 20 working days after Monday 2026-02-02 is Friday 2026-03-06', () => {
    // Feb 3–6 (4), Feb 9–13 (9), Sat Feb 14 (10), holiday Feb 15–23, Feb 24–27 (14), Sat Feb 28 (15),
    // Mar 2–6 (20).
    expect(calendar.addWorkingDays('2026-02-02', 20)).toEqual({
      date: '2026-03-06',
      provisional: false,
      unknownYears: [],
    });
    expect(calendar.addWorkingDays('2026-02-14', 1).date).toBe('2026-02-24');
    expect(calendar.addWorkingDays('2026-02-16', 1).date).toBe('2026-02-24'); // starting on a holiday
  });

  it('skips National Day: after 2026-09-30 come 2026-10-08, 10-09 and the make-up Saturday 10-10', () => {
    expect(calendar.addWorkingDays('2026-09-30', 1).date).toBe('2026-10-08');
    expect(calendar.addWorkingDays('2026-09-30', 3).date).toBe('2026-10-10');
    expect(calendar.addWorkingDays('2026-09-24', 1).date).toBe('2026-09-28');
  });

  it('flags a deadline running into 2027 as provisional with unknownYears [2027]', () => {
    // Dec 21–25 (5), Dec 28–31 (9); then 2027 by the weekly rule only: Jan 1 (10), Jan 4–8 (15), Jan 11–15 (20).
    expect(calendar.addWorkingDays('2026-12-20', 20)).toEqual({
      date: '2027-01-15',
      provisional: true,
      unknownYears: [2027],
    });
    expect(calendar.addWorkingDays('2026-12-20', 9)).toEqual({
      date: '2026-12-31',
      provisional: false,
      unknownYears: [],
    });
  });

  it('refuses bad input naming the field', () => {
    expect(errorOf(() => calendar.addWorkingDays('2026-02-30', 1))).toMatchObject({
      code: 'calendar.date_invalid',
      field: 'start',
    });
    for (const n of [-1, 1.5, Number.NaN, 10_001]) {
      expect(errorOf(() => calendar.addWorkingDays('2026-02-02', n))).toMatchObject({
        code: 'calendar.working_days_invalid',
        field: 'n',
      });
    }
  });
});

describe('workingDaysBetween', () => {
  const calendar = new WorkingDayCalendar();

  it('counts working days after from, up to and including to', () => {
    expect(calendar.workingDaysBetween('2026-02-02', '2026-03-06')).toEqual({
      days: 20,
      provisional: false,
      unknownYears: [],
    });
    expect(calendar.workingDaysBetween('2026-02-13', '2026-02-24').days).toBe(2); // Sat 14th and Tue 24th
    expect(calendar.workingDaysBetween('2026-02-14', '2026-02-23').days).toBe(0); // all holidays
    expect(calendar.workingDaysBetween('2026-03-02', '2026-03-02').days).toBe(0);
  });

  it('is negative when to is before from (e.g. days overdue)', () => {
    expect(calendar.workingDaysBetween('2026-03-06', '2026-02-02').days).toBe(-20);
    expect(calendar.workingDaysBetween('2026-03-03', '2026-03-02').days).toBe(-1);
  });

  it('inverts addWorkingDays (property over 2025–2026)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 60 }), (offset, n) => {
        const start = addCalendarDays('2025-01-01', offset);
        const end = calendar.addWorkingDays(start, n);
        return calendar.workingDaysBetween(start, end.date).days === n && !end.provisional;
      }),
    );
  });

  it('lists every unknown year it crossed', () => {
    expect(calendar.workingDaysBetween('2026-12-01', '2028-01-05')).toMatchObject({
      provisional: true,
      unknownYears: [2027, 2028],
    });
    expect(calendar.workingDaysBetween('2027-01-05', '2026-12-30')).toMatchObject({
      days: -4, // Dec 31, Jan 1 (weekly rule), Jan 4, Jan 5
      provisional: true,
      unknownYears: [2027],
    });
  });
});

describe('unknown years', () => {
  const calendar = new WorkingDayCalendar();

  it('never answers for a day of 2027 without flagging it', () => {
    expect(calendar.isWorkingDay('2027-03-01')).toMatchObject({
      working: true,
      provisional: true,
      unknownYears: [2027],
    });
    expect(calendar.isWorkingDay('2027-03-06')).toMatchObject({
      working: false,
      provisional: true,
      unknownYears: [2027],
    });
    expect(calendar.isWorkingDay('2003-06-02')).toMatchObject({ provisional: true, unknownYears: [2003] });
  });

  it('strict mode throws calendar.year_unknown naming the year and what to do', () => {
    const e = errorOf(() => calendar.addWorkingDays('2026-12-20', 20, { strict: true }));
    expect(e.kind).toBe('validation');
    expect(e.code).toBe('calendar.year_unknown');
    expect(e.message).toContain('2027');
    expect(e.message).toMatch(/add the State Council's 2027 schedule/);
    expect(errorOf(() => calendar.isWorkingDay('2027-01-04', { strict: true })).code).toBe(
      'calendar.year_unknown',
    );
    expect(
      errorOf(() => calendar.workingDaysBetween('2026-12-30', '2027-01-04', { strict: true })).code,
    ).toBe('calendar.year_unknown');
  });

  it('strict mode answers normally inside known years', () => {
    expect(calendar.addWorkingDays('2026-12-20', 9, { strict: true }).date).toBe('2026-12-31');
    expect(calendar.isWorkingDay('2026-02-14', { strict: true }).working).toBe(true);
  });
});

describe('addYear: publishing a new year', () => {
  it('makes 2027 known and its listed days count, so the deadline is no longer provisional', () => {
    const calendar = new WorkingDayCalendar();
    calendar.addYear(2027, [...HYPOTHETICAL_2027]);
    expect(calendar.knownYears.at(-1)).toBe(2027);
    // 元旦 2027-01-01 is now a holiday: Dec 21–31 (9), Jan 4–8 (14), Jan 11–15 (19), Jan 18 (20).
    expect(calendar.addWorkingDays('2026-12-20', 20)).toEqual({
      date: '2027-01-18',
      provisional: false,
      unknownYears: [],
    });
    expect(calendar.addWorkingDays('2026-12-20', 20, { strict: true }).date).toBe('2027-01-18');
    expect(calendar.isWorkingDay('2027-02-08')).toMatchObject({
      working: false,
      name: '春节',
      source: 'published_year',
    });
    expect(calendar.isWorkingDay('2027-02-20')).toMatchObject({ working: true, dayType: 'adjusted_workday' });
    // Days the notice does not list follow the weekly rule, and are not provisional.
    expect(calendar.isWorkingDay('2027-03-06')).toMatchObject({
      working: false,
      dayType: 'weekend',
      provisional: false,
    });
    // 2028 is still unknown.
    expect(calendar.isWorkingDay('2028-01-03').unknownYears).toEqual([2028]);
  });

  it('accepts the year through the constructor too', () => {
    const calendar = new WorkingDayCalendar({
      publishedYears: [{ year: 2027, entries: [...HYPOTHETICAL_2027] }],
    });
    expect(calendar.isKnownYear(2027)).toBe(true);
    expect(calendar.isWorkingDay('2027-01-01').working).toBe(false);
  });

  it('replaces an earlier schedule for the same year', () => {
    const calendar = new WorkingDayCalendar();
    calendar.addYear(2027, [{ date: '2027-01-04', kind: 'holiday' }]);
    calendar.addYear(2027, [{ date: '2027-01-01', kind: 'holiday' }]);
    expect(calendar.isWorkingDay('2027-01-04').working).toBe(true);
    expect(calendar.isWorkingDay('2027-01-01').working).toBe(false);
  });

  it('allows the neighbouring December/January, as the 2023 notice did', () => {
    const calendar = new WorkingDayCalendar();
    calendar.addYear(2028, [{ date: '2027-12-31', kind: 'holiday', name: '元旦' }]);
    expect(calendar.isWorkingDay('2027-12-31')).toMatchObject({ working: false, provisional: true }); // 2027 still unknown
  });

  it('refuses bad input, naming every bad field, and changes nothing', () => {
    const calendar = new WorkingDayCalendar();
    const e = errorOf(() =>
      calendar.addYear(2027, [
        { date: '2027-01-01', kind: 'holiday' },
        { date: '2027-02-30', kind: 'holiday' },
        { date: '2027-02-06', kind: 'rest' as 'holiday' },
      ]),
    );
    expect(e.code).toBe('calendar.override_invalid');
    expect(e.issues?.map((i) => i.field)).toEqual(['entries.1.date', 'entries.2.kind']);
    expect(e.message).toContain('entries.1.date');
    expect(calendar.isKnownYear(2027)).toBe(false);
    expect(calendar.isWorkingDay('2027-01-01').working).toBe(true);

    expect(errorOf(() => calendar.addYear(2027, [])).code).toBe('calendar.override_invalid');
    expect(errorOf(() => calendar.addYear(2027.5, [...HYPOTHETICAL_2027]))).toMatchObject({
      code: 'calendar.year_invalid',
      field: 'year',
    });
    const outside = errorOf(() => calendar.addYear(2027, [{ date: '2028-03-01', kind: 'holiday' }]));
    expect(outside.issues?.[0]?.field).toBe('entries.0.date');
    expect(outside.message).toContain('2028-03-01');
    const twice = errorOf(() =>
      calendar.addYear(2027, [
        { date: '2027-01-01', kind: 'holiday' },
        { date: '2027-01-01', kind: 'workday' },
      ]),
    );
    expect(twice.issues?.[0]).toMatchObject({ field: 'entries.1.date' });
    expect(twice.message).toContain('twice');
    expect(calendar.isKnownYear(2027)).toBe(false);
  });
});

describe('overrides (single-day corrections)', () => {
  it('beat chinese-days in both directions', () => {
    const calendar = new WorkingDayCalendar({
      overrides: [{ date: '2026-02-24', kind: 'holiday', name: '春节延长' }],
    });
    expect(calendar.isWorkingDay('2026-02-24')).toMatchObject({
      working: false,
      source: 'override',
      name: '春节延长',
    });
    expect(calendar.addWorkingDays('2026-02-14', 1).date).toBe('2026-02-25');
    calendar.addOverrides([{ date: '2026-02-21', kind: 'workday' }]);
    expect(calendar.isWorkingDay('2026-02-21')).toMatchObject({
      working: true,
      dayType: 'adjusted_workday',
      source: 'override',
    });
    expect(calendar.addWorkingDays('2026-02-14', 1).date).toBe('2026-02-21');
  });

  it('beat a published year and survive its replacement', () => {
    const calendar = new WorkingDayCalendar();
    calendar.addOverrides([{ date: '2027-01-01', kind: 'workday' }]);
    calendar.addYear(2027, [...HYPOTHETICAL_2027]);
    expect(calendar.isWorkingDay('2027-01-01')).toMatchObject({ working: true, source: 'override' });
  });

  it('apply in an unknown year but do not make it known', () => {
    const calendar = new WorkingDayCalendar();
    calendar.addOverrides([{ date: '2027-01-01', kind: 'holiday', name: '元旦' }]);
    expect(calendar.isWorkingDay('2027-01-01')).toMatchObject({
      working: false,
      provisional: true,
      unknownYears: [2027],
    });
  });

  it('refuses bad entries naming the field, all or nothing', () => {
    const calendar = new WorkingDayCalendar();
    const e = errorOf(() =>
      calendar.addOverrides([
        { date: '2026-03-02', kind: 'holiday' },
        { date: '2026/03/03', kind: 'holiday' },
      ]),
    );
    expect(e.issues?.map((i) => i.field)).toEqual(['overrides.1.date']);
    expect(e.issues?.[0]?.message).toContain('YYYY-MM-DD');
    expect(calendar.isWorkingDay('2026-03-02').working).toBe(true);
    expect(errorOf(() => calendar.addOverrides('x' as never)).field).toBe('overrides');
    expect(
      errorOf(() => new WorkingDayCalendar({ overrides: [{ date: '2026-02-29', kind: 'holiday' }] })).field,
    ).toBe('overrides.0.date');
  });
});

describe('zod schemas for admin input', () => {
  it('CalendarOverrideSchema accepts a good entry and trims the name', () => {
    expect(CalendarOverrideSchema.parse({ date: '2027-02-06', kind: 'holiday', name: ' 春节 ' })).toEqual({
      date: '2027-02-06',
      kind: 'holiday',
      name: '春节',
    });
  });

  it('CalendarOverrideSchema refuses unreal dates, unknown kinds and unknown keys', () => {
    const paths = (input: unknown) =>
      CalendarOverrideSchema.safeParse(input).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths({ date: '2027-02-29', kind: 'holiday' })).toEqual(['date']);
    expect(paths({ date: '2027-02-06', kind: 'off' })).toEqual(['kind']);
    expect(paths({ date: '2027-02-06', kind: 'holiday', extra: 1 })).toEqual(['']);
    expect(paths({ date: '2027-02-06', kind: 'holiday', name: '  ' })).toEqual(['name']);
  });

  it('PublishedYearSchema applies the year-range and duplicate checks', () => {
    expect(PublishedYearSchema.safeParse({ year: 2027, entries: [...HYPOTHETICAL_2027] }).success).toBe(true);
    const bad = PublishedYearSchema.safeParse({
      year: 2027,
      entries: [{ date: '2029-01-01', kind: 'holiday' }],
    });
    expect(bad.error?.issues[0]?.path).toEqual(['entries', 0, 'date']);
    expect(PublishedYearSchema.safeParse({ year: 2027, entries: [] }).success).toBe(false);
  });
});
