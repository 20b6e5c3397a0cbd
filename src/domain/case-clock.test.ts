import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../testing/app-error.ts';
import { addCalendarDays, fromEpochDay, toEpochDay, WorkingDayCalendar } from './calendar.ts';
import {
  addMonths,
  type ClockLimits,
  classifyWarning,
  computeClocks,
  decisionDueFor,
  sameClockInputs,
  WARNING_LEVELS,
  warningLevel,
  warningSchedule,
} from './case-clock.ts';
import {
  applyCommand,
  CASE_COMMAND_TYPES,
  type CaseActor,
  type CaseCommand,
  type CaseState,
  initialCaseState,
  OPEN_STATUSES,
} from './case-state.ts';
import type { TimeLimit } from './catalog.ts';

const calendar = new WorkingDayCalendar();
const staff: CaseActor = { kind: 'staff', id: 'u-1' };
const at = (date: string) => new Date(`${date}T10:00:00+08:00`);
const wd = (value: number): TimeLimit => ({ value, unit: 'working_days' });
const promised20: ClockLimits = { legal: wd(20), promised: wd(20) };
const known = { provisional: false, unknownYears: [] };

function run(steps: [string, CaseCommand][], mode: 'online' | 'multi_site_joint' = 'online'): CaseState {
  let s = initialCaseState({
    processingMode: mode,
    competentDepartmentId: 'dept-a',
    submittedAt: at(steps[0]![0]),
  });
  for (const [date, command] of steps)
    s = applyCommand(s, command, { at: at(date), actor: staff, calendar }).state;
  return s;
}

describe('calendar-exact deadlines on real 2026 dates', () => {
  // Spring Festival 2026: holidays Sun Feb 15 – Mon Feb 23; make-up workdays Sat Feb 14 and Sat Feb 28.
  const springCase = run([
    ['2026-02-10', { type: 'receive' }],
    ['2026-02-10', { type: 'accept' }],
  ]);

  it('supplement notice due 5 working days after receipt, across Spring Festival (art. 32)', () => {
    // Feb 11 (1), 12 (2), 13 (3), Sat 14 make-up (4), [15–23 holiday], Tue 24 (5).
    expect(computeClocks(springCase, promised20, calendar, '2026-02-10').supplementDue).toEqual({
      date: '2026-02-24',
      ...known,
    });
  });

  it('a 20-working-day promise received 2026-02-10 is due 2026-03-16', () => {
    // 11, 12, 13, Sat 14 (4); 24, 25, 26, 27, Sat 28 (9); Mar 2–6 (14); Mar 9–13 (19); Mon Mar 16 (20).
    const c = computeClocks(springCase, promised20, calendar, '2026-02-10');
    expect(c.decisionDue).toEqual({ date: '2026-03-16', ...known });
    expect(c.legalDecisionDue).toEqual({ date: '2026-03-16', ...known });
    expect(c.clockStartedOn).toBe('2026-02-10');
    expect(c.workingDaysLeft).toBe(20);
    expect(c.warning).toBe('none');
    expect(c.provisional).toBe(false);
  });

  it('a shorter promise wins over the legal limit (承诺时限 ≤ 法定时限)', () => {
    const c = computeClocks(springCase, { legal: wd(20), promised: wd(5) }, calendar, '2026-02-10');
    expect(c.decisionDue?.date).toBe('2026-02-24');
    expect(c.legalDecisionDue?.date).toBe('2026-03-16');
    expect(c.limit).toEqual(wd(5));
  });

  it('counts yellow, red and overdue on the Spring Festival case (defaults: yellow ≤ 3, red ≤ 1)', () => {
    const level = (today: string) => warningLevel(springCase, promised20, calendar, today);
    expect(level('2026-03-10')).toBe('none'); // 4 working days left: 11, 12, 13, 16
    expect(level('2026-03-11')).toBe('yellow'); // 3 left
    expect(level('2026-03-13')).toBe('red'); // 1 left
    expect(level('2026-03-14')).toBe('red'); // Saturday: still 1 left (Mon 16)
    expect(level('2026-03-16')).toBe('red'); // due today: 0 left
    expect(level('2026-03-17')).toBe('overdue'); // 超期
    expect(computeClocks(springCase, promised20, calendar, '2026-03-18').workingDaysLeft).toBe(-2);
    expect(
      warningLevel(springCase, promised20, calendar, '2026-03-06', {
        yellowWorkingDaysLeft: 6,
        redWorkingDaysLeft: 6,
      }),
    ).toBe('red'); // 6 left: 9, 10, 11, 12, 13, 16
  });

  it('certificate due 10 working days after a grant (art. 44); none after a denial', () => {
    const granted = run([
      ['2026-02-10', { type: 'receive' }],
      ['2026-02-10', { type: 'accept' }],
      ['2026-03-16', { type: 'decide', outcome: 'granted' }],
    ]);
    const c = computeClocks(granted, promised20, calendar, '2026-03-16');
    // Mar 17, 18, 19, 20, 23, 24, 25, 26, 27, 30.
    expect(c.certificateDue).toEqual({ date: '2026-03-30', ...known });
    expect(c.decidedWithinLimit).toBe(true);
    expect(c.warning).toBe('none');
    expect(c.workingDaysLeft).toBeNull();
    // Across Qingming (Apr 4–6, Sat–Mon): decided Fri Mar 27 → Mar 30, 31, Apr 1, 2, 3, 7, 8, 9, 10, 13.
    const late = run([
      ['2026-02-10', { type: 'receive' }],
      ['2026-02-10', { type: 'accept' }],
      ['2026-03-27', { type: 'decide', outcome: 'granted' }],
    ]);
    expect(computeClocks(late, promised20, calendar, '2026-04-20').certificateDue?.date).toBe('2026-04-13');
    expect(computeClocks(late, promised20, calendar, '2026-04-20').decidedWithinLimit).toBe(false);
    const denied = run([
      ['2026-02-10', { type: 'receive' }],
      ['2026-02-10', { type: 'accept' }],
      ['2026-03-16', { type: 'decide', outcome: 'denied', reason: '不符合条件' }],
    ]);
    expect(computeClocks(denied, promised20, calendar, '2026-03-16').certificateDue).toBeNull();
  });

  it('National Day: accepted Fri 2026-09-18, 20 working days → 2026-10-22', () => {
    // Sun Sep 20 make-up (1); 21–24 (5); [Mid-Autumn 25–27]; 28, 29, 30 (8); [Oct 1–7];
    // 8, 9, Sat Oct 10 make-up (11); 12–16 (16); 19, 20, 21, 22 (20).
    const s = run([
      ['2026-09-18', { type: 'receive' }],
      ['2026-09-18', { type: 'accept' }],
    ]);
    const c = computeClocks(s, promised20, calendar, '2026-09-18');
    expect(c.decisionDue).toEqual({ date: '2026-10-22', ...known });
    expect(c.supplementDue?.date).toBe('2026-09-24'); // 20, 21, 22, 23, 24
    // On the National Day holiday the clock does not move: 8 working days were counted by Sep 30.
    expect(computeClocks(s, promised20, calendar, '2026-10-03').workingDaysLeft).toBe(12);
    expect(computeClocks(s, promised20, calendar, '2026-09-30').workingDaysLeft).toBe(12);
  });

  it('a special procedure inside the window moves the due date by its working days (art. 45)', () => {
    const base: [string, CaseCommand][] = [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-03', { type: 'start_review', step: '初审' }],
    ];
    // Without a pause: Mar 3–6 (4), 9–13 (9), 16–20 (14), 23–27 (19), Mon Mar 30 (20).
    expect(computeClocks(run(base), promised20, calendar, '2026-03-03').decisionDue?.date).toBe('2026-03-30');
    // Expert review Mon Mar 9 → Thu Mar 12: 10, 11, 12 do not count (3) → Mar 31, Apr 1, Apr 2.
    const three = run([
      ...base,
      ['2026-03-09', { type: 'start_special_procedure', kind: 'expert_review' }],
      ['2026-03-12', { type: 'end_special_procedure' }],
    ]);
    const c3 = computeClocks(three, promised20, calendar, '2026-03-12');
    expect(c3.pausedWorkingDays).toBe(3);
    expect(c3.decisionDue).toEqual({ date: '2026-04-02', ...known });
    expect(c3.paused).toBe(false);
    // Testing Mon Mar 9 → Mon Mar 16: 5 working days → across Qingming (Apr 4–6) to Tue Apr 7.
    const five = run([
      ...base,
      ['2026-03-09', { type: 'start_special_procedure', kind: 'testing' }],
      ['2026-03-16', { type: 'end_special_procedure' }],
    ]);
    expect(computeClocks(five, promised20, calendar, '2026-03-16').decisionDue?.date).toBe('2026-04-07');
  });

  it('a running special procedure freezes the working days left and the warning', () => {
    const s = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-09', { type: 'start_special_procedure', kind: 'hearing' }],
    ]);
    const on = (today: string) => computeClocks(s, promised20, calendar, today);
    expect(on('2026-03-09')).toMatchObject({
      paused: true,
      workingDaysLeft: 15,
      decisionDue: { date: '2026-03-30' },
    });
    expect(on('2026-03-11')).toMatchObject({
      paused: true,
      workingDaysLeft: 15,
      decisionDue: { date: '2026-04-01' },
    });
    // Months later, still paused: not overdue, still 15 left.
    expect(on('2026-06-30')).toMatchObject({ paused: true, workingDaysLeft: 15, warning: 'none' });
  });

  it('adds the extension once: +10 working days, +15 for 多地联办 (art. 42)', () => {
    const extended = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-20', { type: 'extend', reason: '需现场核查' }],
    ]);
    // Mar 30 + 10: Mar 31, Apr 1, 2, 3, 7, 8, 9, 10, 13, 14.
    expect(computeClocks(extended, promised20, calendar, '2026-03-20').decisionDue?.date).toBe('2026-04-14');
    const joint = run(
      [
        ['2026-03-02', { type: 'receive' }],
        ['2026-03-02', { type: 'accept' }],
        ['2026-03-20', { type: 'extend', reason: '多部门联合审查' }],
      ],
      'multi_site_joint',
    );
    const limits = { legal: wd(45), promised: null };
    // 45 working days after Mar 2: Mar 3–31 (21), Apr 1–3 (24), Apr 7–30 (42), [May 1–5], May 6, 7, 8 (45).
    expect(decisionDueFor('2026-03-02', wd(45), 0, calendar).date).toBe('2026-05-08');
    // + 15: Sat May 9 make-up (1), 11–15 (6), 18–22 (11), 25–28 (15).
    expect(computeClocks(joint, limits, calendar, '2026-03-20').decisionDue?.date).toBe('2026-05-28');
  });

  it('flags a deadline reaching 2027 provisional (no published 2027 schedule yet)', () => {
    const s = run([
      ['2026-12-10', { type: 'receive' }],
      ['2026-12-10', { type: 'accept' }],
    ]);
    const c = computeClocks(s, promised20, calendar, '2026-12-10');
    expect(c.decisionDue).toMatchObject({ provisional: true, unknownYears: [2027] });
    expect(c.supplementDue).toEqual({ date: '2026-12-17', ...known });
    expect(c).toMatchObject({ provisional: true, unknownYears: [2027] });
    // Once a 2027 schedule is registered, the same case is exact (here a hypothetical one, for the test).
    const with2027 = new WorkingDayCalendar({
      publishedYears: [{ year: 2027, entries: [{ date: '2027-01-01', kind: 'holiday', name: '元旦' }] }],
    });
    const exact = computeClocks(s, promised20, with2027, '2026-12-10');
    expect(exact.decisionDue?.provisional).toBe(false);
    expect(exact.provisional).toBe(false);
    expect(exact.decisionDue!.date > c.decisionDue!.date).toBe(true); // 1 January is now a holiday
  });
});

describe('units other than working days (民法典 arts. 201–203)', () => {
  it('counts calendar days, moving a rest-day end to the next working day', () => {
    // 2026-09-25 + 10 calendar days = Mon Oct 5 (National Day) → Thu Oct 8.
    expect(decisionDueFor('2026-09-25', { value: 10, unit: 'calendar_days' }, 0, calendar).date).toBe(
      '2026-10-08',
    );
    // 2026-03-02 + 30 = Wed Apr 1 (a working day).
    expect(decisionDueFor('2026-03-02', { value: 30, unit: 'calendar_days' }, 0, calendar).date).toBe(
      '2026-04-01',
    );
    // + 2 working days of pause: Apr 2, 3.
    expect(decisionDueFor('2026-03-02', { value: 30, unit: 'calendar_days' }, 2, calendar).date).toBe(
      '2026-04-03',
    );
  });

  it('counts months to the corresponding day, or the month end', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-11-15', 3)).toBe('2027-02-15');
    // 2026-03-04 + 3 months = Thu 2026-06-04, a working day.
    expect(decisionDueFor('2026-03-04', { value: 3, unit: 'months' }, 0, calendar).date).toBe('2026-06-04');
    // 2026-03-19 + 3 months = Fri 2026-06-19, 端午 → Mon 2026-06-22.
    expect(decisionDueFor('2026-03-19', { value: 3, unit: 'months' }, 0, calendar).date).toBe('2026-06-22');
  });

  it('gives the acceptance day itself for a limit of 0 (当场办结)', () => {
    expect(decisionDueFor('2026-02-14', wd(0), 0, calendar).date).toBe('2026-02-14');
    expect(decisionDueFor('2026-02-14', { value: 0, unit: 'months' }, 0, calendar).date).toBe('2026-02-14');
  });
});

describe('which cases have which clocks', () => {
  it('no decision clock before acceptance, and none without limits', () => {
    const received = run([['2026-03-02', { type: 'receive' }]]);
    const c = computeClocks(received, promised20, calendar, '2026-03-03');
    expect(c).toMatchObject({
      decisionDue: null,
      clockStartedOn: null,
      warning: 'none',
      workingDaysLeft: null,
    });
    expect(c.supplementDue?.date).toBe('2026-03-09');
    const accepted = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
    ]);
    expect(
      computeClocks(accepted, { legal: null, promised: null }, calendar, '2026-03-03').decisionDue,
    ).toBeNull();
    expect(
      computeClocks(accepted, { legal: wd(20), promised: null }, calendar, '2026-03-03').decisionDue?.date,
    ).toBe('2026-03-30');
    expect(
      computeClocks(accepted, { legal: null, promised: wd(3) }, calendar, '2026-03-03').decisionDue?.date,
    ).toBe('2026-03-05');
  });

  it('a received case past its notice deadline runs the clock from receipt (deemed acceptance pending)', () => {
    const received = run([['2026-03-02', { type: 'receive' }]]);
    expect(computeClocks(received, promised20, calendar, '2026-03-09').deemedAcceptancePending).toBe(false);
    const c = computeClocks(received, promised20, calendar, '2026-03-10');
    expect(c).toMatchObject({ deemedAcceptancePending: true, clockStartedOn: '2026-03-02' });
    expect(c.decisionDue?.date).toBe('2026-03-30');
  });

  it('a withdrawn or refused case has no warning', () => {
    const withdrawn = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-05', { type: 'withdraw', reason: '不再需要' }],
    ]);
    expect(computeClocks(withdrawn, promised20, calendar, '2026-12-01')).toMatchObject({
      warning: 'none',
      workingDaysLeft: null,
    });
  });

  it('refuses bad limits, thresholds and days', () => {
    const s = run([['2026-03-02', { type: 'receive' }]]);
    const bad = (limits: unknown) =>
      errorOf(() => computeClocks(s, limits as ClockLimits, calendar, '2026-03-02'));
    expect([bad({ legal: { value: -1, unit: 'working_days' }, promised: null }).field]).toEqual([
      'limits.legal',
    ]);
    expect(bad({ legal: null, promised: { value: 3, unit: 'weeks' } }).code).toBe('case.limits_invalid');
    const t = errorOf(() =>
      computeClocks(s, promised20, calendar, '2026-03-02', {
        yellowWorkingDaysLeft: 1,
        redWorkingDaysLeft: 2,
      }),
    );
    expect([t.code, t.field]).toEqual(['case.thresholds_invalid', 'thresholds.redWorkingDaysLeft']);
    expect(errorOf(() => computeClocks(s, promised20, calendar, '2026-02-30')).code).toBe(
      'calendar.date_invalid',
    );
  });

  it('classifies working days left', () => {
    const t = { yellowWorkingDaysLeft: 3, redWorkingDaysLeft: 1 };
    expect([4, 3, 2, 1, 0, -1].map((n) => classifyWarning(n, false, t))).toEqual([
      'none',
      'yellow',
      'yellow',
      'red',
      'red',
      'overdue',
    ]);
    expect(classifyWarning(0, true, t)).toBe('overdue');
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const limitArb: fc.Arbitrary<TimeLimit> = fc.oneof(
  fc.integer({ min: 0, max: 60 }).map(wd),
  fc.integer({ min: 0, max: 90 }).map((value) => ({ value, unit: 'calendar_days' as const })),
  fc.integer({ min: 0, max: 6 }).map((value) => ({ value, unit: 'months' as const })),
);
const limitsArb: fc.Arbitrary<ClockLimits> = fc.record({
  legal: fc.option(limitArb, { nil: null }),
  promised: fc.option(limitArb, { nil: null }),
});
const FIRST = toEpochDay('2026-01-05');
const dayArb = (min: number, max: number) => fc.integer({ min, max }).map((n) => fromEpochDay(FIRST + n));

/** A random case life: each command on the day after `gap` calendar days, stopping at the first refusal. */
const lifeArb = fc.record({
  start: fc.integer({ min: 0, max: 250 }),
  mode: fc.constantFrom('online' as const, 'multi_site_joint' as const),
  gaps: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 8, maxLength: 8 }),
  plan: fc.array(
    fc.constantFrom<CaseCommand>(
      { type: 'start_review', step: '初审' },
      { type: 'start_special_procedure', kind: 'testing' },
      { type: 'end_special_procedure' },
      { type: 'request_supplement', gaps: [{ material: 'A', reason: '缺少' }], secondNoticeReason: '再次' },
      { type: 'resubmit' },
      { type: 'extend', reason: '复杂' },
      { type: 'decide', outcome: 'granted' },
    ),
    { maxLength: 6 },
  ),
  accept: fc.boolean(),
});

function live(life: typeof lifeArb extends fc.Arbitrary<infer T> ? T : never): CaseState {
  let day = fromEpochDay(FIRST + life.start);
  let s = initialCaseState({ processingMode: life.mode, competentDepartmentId: 'd', submittedAt: at(day) });
  const commands: CaseCommand[] = [
    { type: 'receive' },
    ...(life.accept ? [{ type: 'accept' as const }] : []),
    ...life.plan,
  ];
  commands.forEach((command, i) => {
    day = addCalendarDays(day, life.gaps[i % life.gaps.length]!);
    try {
      s = applyCommand(s, command, { at: at(day), actor: staff, calendar }).state;
    } catch {
      // refused in this status: skip it
    }
  });
  return s;
}

describe('clock properties', () => {
  it('clocks never run backwards as today advances', () => {
    fc.assert(
      fc.property(
        lifeArb,
        limitsArb,
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (life, limits, a, step) => {
          const s = live(life);
          const t1 = addCalendarDays(s.lastEventOn, a);
          const t2 = addCalendarDays(t1, step);
          const c1 = computeClocks(s, limits, calendar, t1);
          const c2 = computeClocks(s, limits, calendar, t2);
          if (c1.decisionDue !== null) expect(c2.decisionDue!.date >= c1.decisionDue.date).toBe(true);
          if (c1.workingDaysLeft !== null)
            expect(c2.workingDaysLeft!).toBeLessThanOrEqual(c1.workingDaysLeft);
          expect(WARNING_LEVELS.indexOf(c2.warning)).toBeGreaterThanOrEqual(
            WARNING_LEVELS.indexOf(c1.warning),
          );
          expect(c2.pausedWorkingDays).toBeGreaterThanOrEqual(c1.pausedWorkingDays);
          if (!(OPEN_STATUSES as readonly string[]).includes(s.status)) expect(c2.warning).toBe('none');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a paused clock does not advance: left and warning stay, the due date moves by the paused working days', () => {
    fc.assert(
      fc.property(
        lifeArb,
        limitsArb,
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (life, limits, a, step) => {
          const s = live({
            ...life,
            accept: true,
            plan: [{ type: 'start_special_procedure', kind: 'hearing' }],
          });
          expect(s.status).toBe('special_procedure');
          const t1 = addCalendarDays(s.lastEventOn, a);
          const t2 = addCalendarDays(t1, step);
          const c1 = computeClocks(s, limits, calendar, t1);
          const c2 = computeClocks(s, limits, calendar, t2);
          expect(c2.paused).toBe(true);
          expect(c2.workingDaysLeft).toBe(c1.workingDaysLeft);
          expect(c2.warning).toBe(c1.warning);
          if (c1.decisionDue !== null) {
            const moved = calendar.workingDaysBetween(t1, t2).days;
            expect(c2.pausedWorkingDays - c1.pausedWorkingDays).toBe(moved);
            // The due date moved exactly by the working days that passed during the pause.
            expect(calendar.workingDaysBetween(c1.decisionDue.date, c2.decisionDue!.date).days).toBe(moved);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an ended pause moves the decision due by exactly its working days', () => {
    fc.assert(
      fc.property(
        dayArb(0, 200),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 40 }),
        (acceptedOn, startAfter, length, limit) => {
          const accepted = run([
            [acceptedOn, { type: 'receive' }],
            [acceptedOn, { type: 'accept' }],
          ]);
          const start = addCalendarDays(acceptedOn, startAfter);
          const end = addCalendarDays(start, length);
          let paused = applyCommand(
            accepted,
            { type: 'start_special_procedure', kind: 'inspection' },
            { at: at(start), actor: staff, calendar },
          ).state;
          paused = applyCommand(
            paused,
            { type: 'end_special_procedure' },
            { at: at(end), actor: staff, calendar },
          ).state;
          const limits = { legal: wd(limit), promised: null };
          const without = computeClocks(accepted, limits, calendar, end).decisionDue!;
          const withPause = computeClocks(paused, limits, calendar, end).decisionDue!;
          const k = calendar.workingDaysBetween(start, end).days;
          expect(withPause.date).toBe(calendar.addWorkingDays(without.date, k).date);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('warningSchedule (for exactly-once timers)', () => {
  it('gives the first day of yellow, red and overdue on the Spring Festival case (due Mon 2026-03-16)', () => {
    const s = run([
      ['2026-02-10', { type: 'receive' }],
      ['2026-02-10', { type: 'accept' }],
    ]);
    // 3 left on Wed Mar 11 (12, 13, 16); 1 left from Fri Mar 13 (the weekend too); overdue from Tue Mar 17.
    expect(warningSchedule(s, promised20, calendar, '2026-02-10')).toEqual({
      yellow: '2026-03-11',
      red: '2026-03-13',
      overdue: '2026-03-17',
      ...known,
    });
  });

  it('agrees with computeClocks day by day (property)', () => {
    fc.assert(
      fc.property(lifeArb, limitsArb, fc.integer({ min: 0, max: 90 }), (life, limits, a) => {
        const s = live(life);
        const schedule = warningSchedule(s, limits, calendar, s.lastEventOn);
        const day = addCalendarDays(s.lastEventOn, a);
        const level = computeClocks(s, limits, calendar, day).warning;
        if (schedule.overdue === null) {
          if (!computeClocks(s, limits, calendar, day).paused) expect(level).toBe('none');
          return;
        }
        const expected =
          day >= schedule.overdue
            ? 'overdue'
            : day >= schedule.red!
              ? 'red'
              : day >= schedule.yellow!
                ? 'yellow'
                : 'none';
        expect(level).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('schedules nothing while paused or closed', () => {
    const paused = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-05', { type: 'start_special_procedure', kind: 'hearing' }],
    ]);
    expect(warningSchedule(paused, promised20, calendar, '2026-03-05')).toMatchObject({
      yellow: null,
      red: null,
      overdue: null,
    });
  });
});

describe('sameClockInputs (the server leaves timers alone when it holds)', () => {
  const commands: CaseCommand[] = [
    { type: 'review_step', step: '复核' },
    { type: 'start_review', step: '初审' },
    { type: 'start_special_procedure', kind: 'testing' },
    { type: 'end_special_procedure' },
    { type: 'request_supplement', gaps: [{ material: 'A', reason: '缺少' }], secondNoticeReason: '再次' },
    { type: 'resubmit' },
    { type: 'extend', reason: '复杂' },
    { type: 'decide', outcome: 'granted' },
    { type: 'withdraw', reason: '申请人撤回' },
  ];
  it('holds only when every clock and the warning schedule are the same, on any later day (property)', () => {
    let held = 0;
    fc.assert(
      fc.property(
        lifeArb,
        limitsArb,
        fc.constantFrom(...commands),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 60 }),
        (life, limits, command, gap, later) => {
          const before = live(life);
          const on = addCalendarDays(before.lastEventOn, gap);
          let after: CaseState;
          try {
            after = applyCommand(before, command, { at: at(on), actor: staff, calendar }).state;
          } catch {
            return;
          }
          if (!sameClockInputs(before, after)) return;
          held++;
          const day = addCalendarDays(on, later);
          expect(computeClocks(after, limits, calendar, day)).toEqual(
            computeClocks(before, limits, calendar, day),
          );
          expect(warningSchedule(after, limits, calendar, day)).toEqual(
            warningSchedule(before, limits, calendar, day),
          );
        },
      ),
      { numRuns: 500, seed: 20_261_201 },
    );
    expect(held).toBeGreaterThan(0);
  });

  it('holds for a review step and fails for every command that moves a clock input', () => {
    const s = run([
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-03', { type: 'start_review', step: '初审' }],
    ]);
    const step = applyCommand(
      s,
      { type: 'review_step', step: '复核' },
      { at: at('2026-03-09'), actor: staff, calendar },
    );
    expect(sameClockInputs(s, step.state)).toBe(true);
    const fromReview = ['start_special_procedure', 'request_supplement', 'extend', 'decide', 'withdraw'];
    for (const command of commands.filter((c) => fromReview.includes(c.type))) {
      const moved = applyCommand(s, command, { at: at('2026-03-09'), actor: staff, calendar }).state;
      expect(sameClockInputs(s, moved), command.type).toBe(false);
    }
    expect(sameClockInputs(s, { ...s, acceptedOn: '2026-03-03' })).toBe(false);
    expect(sameClockInputs(s, { ...s, pauses: [{ ...({} as CaseState['pauses'][number]) }] })).toBe(false);
    expect(CASE_COMMAND_TYPES).toContain('review_step');
  });
});
