import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../testing/app-error.ts';
import { WorkingDayCalendar } from './calendar.ts';
import {
  allowedFrom,
  applyCommand,
  CASE_COMMAND_TYPES,
  CASE_STATUSES,
  type CaseActor,
  type CaseCommand,
  CaseCommandSchema,
  type CaseCommandType,
  type CaseState,
  CaseStateSchema,
  deemedAcceptance,
  initialCaseState,
  isTerminalStatus,
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from './case-state.ts';
import { codeListIds, PROCESSING_MODES, type ProcessingMode, SPECIAL_PROCEDURES } from './catalog.ts';

const calendar = new WorkingDayCalendar();
const staff: CaseActor = { kind: 'staff', id: 'u-1', departmentId: '0b6c1e2a-0000-4000-8000-00000000000a' };

/** 09:00 Asia/Shanghai on `date`. */
const at = (date: string, hour = 9) => new Date(`${date}T${String(hour).padStart(2, '0')}:00:00+08:00`);

function newCase(mode: ProcessingMode = 'online', date = '2026-03-02'): CaseState {
  return initialCaseState({
    processingMode: mode,
    competentDepartmentId: '0b6c1e2a-0000-4000-8000-00000000000a',
    submittedAt: at(date),
  });
}

/** Applies commands on the given days; returns the final state and the events. */
function run(state: CaseState, steps: [string, CaseCommand][]) {
  const events = [];
  let s = state;
  for (const [date, command] of steps) {
    const r = applyCommand(s, command, { at: at(date), actor: staff, calendar });
    s = r.state;
    events.push(r.event);
  }
  return { state: s, events };
}

describe('status sets', () => {
  it('partitions statuses: open, terminal, and the closed-but-continuing decided/delivered', () => {
    expect(new Set([...OPEN_STATUSES, ...TERMINAL_STATUSES, 'decided', 'delivered'])).toEqual(
      new Set(CASE_STATUSES),
    );
    expect(OPEN_STATUSES.filter((s) => (TERMINAL_STATUSES as readonly string[]).includes(s))).toEqual([]);
  });

  it('allows no command from a terminal status, and withdraw from exactly the open ones', () => {
    for (const type of CASE_COMMAND_TYPES) {
      for (const status of TERMINAL_STATUSES) expect(allowedFrom(type)).not.toContain(status);
    }
    expect([...allowedFrom('withdraw')].sort()).toEqual([...OPEN_STATUSES].sort());
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...CASE_COMMAND_TYPES].sort());
  });
});

describe('applyCommand: the online story', () => {
  it('runs submitted → received → accepted → under_review → decided → delivered → rated with events', () => {
    const { state, events } = run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-03', { type: 'accept' }],
      ['2026-03-04', { type: 'start_review', step: '初审' }],
      ['2026-03-05', { type: 'review_step', step: '审批' }],
      ['2026-03-06', { type: 'decide', outcome: 'granted' }],
      ['2026-03-09', { type: 'deliver', method: 'mail', reference: 'SF1234567890' }],
      ['2026-03-10', { type: 'rate', level: 1 }],
    ]);
    expect(events.map((e) => `${e.from}>${e.to}`)).toEqual([
      'submitted>received',
      'received>accepted',
      'accepted>under_review',
      'under_review>under_review',
      'under_review>decided',
      'decided>delivered',
      'delivered>rated',
    ]);
    expect(state).toMatchObject({
      status: 'rated',
      receivedOn: '2026-03-02',
      acceptedOn: '2026-03-03',
      deemedAccepted: false,
      reviewStep: '审批',
      decidedOn: '2026-03-06',
      outcome: 'granted',
      closedOn: '2026-03-06',
      delivery: { method: 'mail', reference: 'SF1234567890', deliveredOn: '2026-03-09' },
      rating: { level: 1, ratedOn: '2026-03-10' },
    });
    expect(events[0]).toMatchObject({
      type: 'receive',
      at: '2026-03-02T01:00:00.000Z',
      on: '2026-03-02',
      actor: staff,
      data: { receivedOn: '2026-03-02' },
    });
    expect(CaseStateSchema.parse(state)).toEqual(state);
  });

  it('dates each command in Asia/Shanghai: 23:30 UTC is the next day', () => {
    const r = applyCommand(
      newCase('online', '2026-03-02'),
      { type: 'receive' },
      { at: new Date('2026-03-02T23:30:00Z'), actor: staff, calendar },
    );
    expect(r.state.receivedOn).toBe('2026-03-03');
  });

  it('never dates a command before the previous one (clock skew between nodes)', () => {
    const received = run(newCase(), [['2026-03-05', { type: 'receive' }]]).state;
    const r = applyCommand(received, { type: 'accept' }, { at: at('2026-03-04'), actor: staff, calendar });
    expect(r.state.acceptedOn).toBe('2026-03-05');
    expect(r.event.on).toBe('2026-03-05');
    expect(r.event.at).toBe(at('2026-03-04').toISOString());
  });

  it('does not modify the state it is given', () => {
    const s = run(newCase(), [['2026-03-02', { type: 'receive' }]]).state;
    const copy = structuredClone(s);
    applyCommand(s, { type: 'accept' }, { at: at('2026-03-03'), actor: staff, calendar });
    expect(s).toEqual(copy);
  });
});

describe('illegal transitions', () => {
  it('are 409 case.illegal_transition naming the statuses that allow the command', () => {
    const e = errorOf(() =>
      applyCommand(newCase(), { type: 'accept' }, { at: at('2026-03-02'), actor: staff, calendar }),
    );
    expect([e.kind, e.status, e.code]).toEqual(['conflict', 409, 'case.illegal_transition']);
    expect(e.message).toBe('cannot accept a case that is submitted; allowed from: received');
    const decided = run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-03', { type: 'decide', outcome: 'denied', reason: '不符合条件' }],
    ]).state;
    expect(
      errorOf(() =>
        applyCommand(
          decided,
          { type: 'withdraw', reason: 'x' },
          { at: at('2026-03-04'), actor: staff, calendar },
        ),
      ).message,
    ).toBe(
      'cannot withdraw a case that is decided; allowed from: submitted, received, supplement_requested, accepted, under_review, special_procedure',
    );
  });
});

describe('bad payloads', () => {
  const received = () => run(newCase(), [['2026-03-02', { type: 'receive' }]]).state;
  const apply = (command: unknown, s = received()) =>
    applyCommand(s, command as CaseCommand, { at: at('2026-03-03'), actor: staff, calendar });

  it('are 400 case.command_invalid naming the field', () => {
    const cases: [unknown, string][] = [
      [{ type: 'not_accept' }, 'reason'],
      [{ type: 'not_accept', reason: '   ' }, 'reason'],
      [{ type: 'request_supplement', gaps: [] }, 'gaps'],
      [{ type: 'request_supplement', gaps: [{ material: '身份证', reason: '' }] }, 'gaps.0.reason'],
      [{ type: 'accept', extra: 1 }, 'command'],
      [{ type: 'teleport' }, 'type'],
    ];
    for (const [command, field] of cases) {
      const e = errorOf(() => apply(command));
      expect([e.kind, e.code, e.field]).toEqual(['validation', 'case.command_invalid', field]);
    }
  });

  it('refuses a material listed twice in one notice (one line per material)', () => {
    const e = errorOf(() =>
      apply({
        type: 'request_supplement',
        gaps: [
          { material: '身份证', reason: '复印件不清晰' },
          { material: '身份证', reason: '已过期' },
        ],
      }),
    );
    expect([e.code, e.field]).toEqual(['case.command_invalid', 'gaps.1.material']);
  });

  it('needs a reason for a denial, a level 1–5 for a rating, a known special procedure', () => {
    expect(CaseCommandSchema.safeParse({ type: 'decide', outcome: 'denied' }).error?.issues[0]?.path).toEqual(
      ['reason'],
    );
    expect(CaseCommandSchema.safeParse({ type: 'decide', outcome: 'granted' }).success).toBe(true);
    for (const level of [0, 6, 2.5, '3']) {
      expect(CaseCommandSchema.safeParse({ type: 'rate', level }).success).toBe(false);
    }
    expect(CaseCommandSchema.safeParse({ type: 'start_special_procedure', kind: 'hearing' }).success).toBe(
      true,
    );
    expect(CaseCommandSchema.safeParse({ type: 'start_special_procedure', kind: 'prayer' }).success).toBe(
      false,
    );
  });

  it('refuses an invalid instant or actor', () => {
    const s = received();
    expect(
      errorOf(() => applyCommand(s, { type: 'accept' }, { at: new Date(Number.NaN), actor: staff, calendar }))
        .code,
    ).toBe('case.context_invalid');
    expect(
      errorOf(() =>
        applyCommand(
          s,
          { type: 'accept' },
          { at: at('2026-03-03'), actor: { kind: 'staff', id: '' }, calendar },
        ),
      ).field,
    ).toBe('actor');
  });

  it('initialCaseState checks its input', () => {
    const ok = {
      processingMode: 'online' as const,
      competentDepartmentId: 'd',
      submittedAt: at('2026-03-02'),
    };
    expect(initialCaseState(ok)).toMatchObject({
      status: 'submitted',
      submittedOn: '2026-03-02',
      intakeHallCode: null,
    });
    expect(errorOf(() => initialCaseState({ ...ok, processingMode: 'x' as ProcessingMode })).field).toBe(
      'processingMode',
    );
    expect(errorOf(() => initialCaseState({ ...ok, competentDepartmentId: ' ' })).field).toBe(
      'competentDepartmentId',
    );
    expect(errorOf(() => initialCaseState({ ...ok, submittedAt: new Date('nope') })).field).toBe(
      'submittedAt',
    );
  });
});

describe('一次性告知: supplement notices', () => {
  it('lists every gap at once, resumes on resubmission, restarts the 5-day window', () => {
    const { state, events } = run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      [
        '2026-03-04',
        {
          type: 'request_supplement',
          gaps: [
            { material: '身份证复印件', reason: '不清晰，请提供清晰复印件' },
            { material: '营业执照', reason: '缺少' },
          ],
        },
      ],
      ['2026-03-10', { type: 'resubmit' }],
    ]);
    expect(events[1]!.data).toMatchObject({ notice: 1, from: 'received', supplementDue: '2026-03-09' });
    expect(events[1]!.to).toBe('supplement_requested');
    expect(state).toMatchObject({ status: 'received', supplementNotices: 1, supplement: null });
    expect(state.materialsReceivedOn).toBe('2026-03-10');
  });

  it('needs secondNoticeReason for a second notice, and counts it', () => {
    const s = run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-03', { type: 'request_supplement', gaps: [{ material: 'A', reason: '缺少' }] }],
      ['2026-03-04', { type: 'resubmit' }],
    ]).state;
    const second = { type: 'request_supplement' as const, gaps: [{ material: 'B', reason: '缺少' }] };
    const e = errorOf(() => applyCommand(s, second, { at: at('2026-03-05'), actor: staff, calendar }));
    expect([e.kind, e.code, e.field]).toEqual([
      'validation',
      'case.second_notice_reason_required',
      'secondNoticeReason',
    ]);
    const r = applyCommand(
      s,
      { ...second, secondNoticeReason: '补正材料中的B与原件不一致' },
      { at: at('2026-03-05'), actor: staff, calendar },
    );
    expect(r.state.supplementNotices).toBe(2);
    expect(r.event.data).toMatchObject({ notice: 2, secondNoticeReason: '补正材料中的B与原件不一致' });
  });

  it('is refused after the 5-working-day window: the case already counts as accepted (art. 32)', () => {
    const s = run(newCase('online', '2026-02-10'), [['2026-02-10', { type: 'receive' }]]).state;
    // 5 working days after 2026-02-10: 11, 12, 13, 14 (make-up Saturday), 24 (after Spring Festival).
    const notice = { type: 'request_supplement' as const, gaps: [{ material: 'A', reason: '缺少' }] };
    expect(applyCommand(s, notice, { at: at('2026-02-24'), actor: staff, calendar }).state.status).toBe(
      'supplement_requested',
    );
    const e = errorOf(() => applyCommand(s, notice, { at: at('2026-02-25'), actor: staff, calendar }));
    expect([e.kind, e.code]).toEqual(['conflict', 'case.supplement_notice_late']);
    expect(e.message).toContain('2026-02-24');
  });

  it('pauses the clock when requested during review, and resumes under review', () => {
    const { state } = run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-03', { type: 'start_review', step: '初审' }],
      ['2026-03-04', { type: 'request_supplement', gaps: [{ material: 'A', reason: '缺少' }] }],
      ['2026-03-09', { type: 'resubmit' }],
    ]);
    expect(state.status).toBe('under_review');
    expect(state.pauses).toEqual([
      { kind: 'supplement', procedure: null, startedOn: '2026-03-04', endedOn: '2026-03-09' },
    ]);
  });
});

describe('deemed acceptance (行政许可法 art. 32)', () => {
  const received = run(newCase('online', '2026-02-10'), [['2026-02-10', { type: 'receive' }]]).state;

  it('is not due on or before the 5th working day after receipt', () => {
    expect(deemedAcceptance(received, '2026-02-24', calendar)).toBeNull();
  });

  it('applies from the next day, dated back to the day of receipt', () => {
    expect(deemedAcceptance(received, '2026-02-25', calendar)).toEqual({
      acceptedOn: '2026-02-10',
      supplementDue: { date: '2026-02-24', provisional: false, unknownYears: [] },
    });
    const r = applyCommand(
      received,
      { type: 'accept' },
      { at: at('2026-02-26'), actor: { kind: 'system', id: 'timer' }, calendar },
    );
    expect(r.state).toMatchObject({ status: 'accepted', acceptedOn: '2026-02-10', deemedAccepted: true });
    expect(r.event.data).toEqual({ acceptedOn: '2026-02-10', deemed: true, supplementDue: '2026-02-24' });
  });

  it('an acceptance within the window is dated on its own day', () => {
    const r = applyCommand(received, { type: 'accept' }, { at: at('2026-02-24'), actor: staff, calendar });
    expect(r.state).toMatchObject({ acceptedOn: '2026-02-24', deemedAccepted: false });
  });

  it('only concerns received cases', () => {
    expect(deemedAcceptance(newCase('online', '2026-02-10'), '2026-06-01', calendar)).toBeNull();
  });
});

describe('异地代收代办: forward, reassign', () => {
  it('needs the intake hall to forward before the competent department accepts', () => {
    const received = run(newCase('off_site_intake'), [
      ['2026-03-02', { type: 'receive', hallCode: 'hall-1' }],
    ]).state;
    expect(received.intakeHallCode).toBe('hall-1');
    const e = errorOf(() =>
      applyCommand(received, { type: 'accept' }, { at: at('2026-03-02'), actor: staff, calendar }),
    );
    expect([e.kind, e.code]).toEqual(['conflict', 'case.not_forwarded']);
    const { state } = run(received, [
      ['2026-03-02', { type: 'forward' }],
      ['2026-03-03', { type: 'accept' }],
    ]);
    expect(state).toMatchObject({ status: 'accepted', forwardedAt: at('2026-03-02').toISOString() });
  });

  it('forwards once; reassigning (with a reason) allows forwarding again', () => {
    const forwarded = run(newCase('off_site_intake'), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'forward' }],
    ]).state;
    const e = errorOf(() =>
      applyCommand(forwarded, { type: 'forward' }, { at: at('2026-03-03'), actor: staff, calendar }),
    );
    expect(e.code).toBe('case.already_forwarded');
    const { state, events } = run(forwarded, [
      [
        '2026-03-03',
        {
          type: 'reassign',
          departmentId: '0b6c1e2a-0000-4000-8000-00000000000b',
          reason: '不动产所在地在观山湖区',
        },
      ],
      ['2026-03-03', { type: 'forward' }],
    ]);
    expect(state.competentDepartmentId).toBe('0b6c1e2a-0000-4000-8000-00000000000b');
    expect(events[0]!.data).toEqual({
      fromDepartmentId: '0b6c1e2a-0000-4000-8000-00000000000a',
      toDepartmentId: '0b6c1e2a-0000-4000-8000-00000000000b',
    });
    expect(events[0]!.reason).toBe('不动产所在地在观山湖区');
    expect(events[1]!.data).toMatchObject({ competentDepartmentId: '0b6c1e2a-0000-4000-8000-00000000000b' });
    expect(
      errorOf(() =>
        applyCommand(
          state,
          { type: 'reassign', departmentId: '0b6c1e2a-0000-4000-8000-00000000000b', reason: 'x' },
          { at: at('2026-03-04'), actor: staff, calendar },
        ),
      ).code,
    ).toBe('case.same_department');
  });
});

describe('special procedures and extension', () => {
  const accepted = () =>
    run(newCase(), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-03', { type: 'start_review', step: '初审' }],
    ]).state;

  it('returns to the status it came from and records the pause', () => {
    const { state, events } = run(accepted(), [
      ['2026-03-09', { type: 'start_special_procedure', kind: 'expert_review', reason: '需专家评审' }],
      ['2026-03-12', { type: 'end_special_procedure' }],
    ]);
    expect(state.status).toBe('under_review');
    expect(state.specialProcedure).toBeNull();
    expect(state.pauses).toEqual([
      {
        kind: 'special_procedure',
        procedure: 'expert_review',
        startedOn: '2026-03-09',
        endedOn: '2026-03-12',
      },
    ]);
    expect(events[1]!.data).toEqual({ kind: 'expert_review', startedOn: '2026-03-09', to: 'under_review' });
  });

  it('extends once by 10 working days, by 15 for 多地联办 (art. 42)', () => {
    const extend = { type: 'extend' as const, reason: '需现场核查', approvedBy: '张局长' };
    const once = applyCommand(accepted(), extend, { at: at('2026-03-10'), actor: staff, calendar }).state;
    expect(once.extension).toEqual({
      workingDays: 10,
      reason: '需现场核查',
      approvedBy: '张局长',
      grantedOn: '2026-03-10',
    });
    const e = errorOf(() => applyCommand(once, extend, { at: at('2026-03-11'), actor: staff, calendar }));
    expect([e.kind, e.code]).toEqual(['conflict', 'case.already_extended']);
    const joint = run(newCase('multi_site_joint'), [
      ['2026-03-02', { type: 'receive' }],
      ['2026-03-02', { type: 'accept' }],
      ['2026-03-05', extend],
    ]).state;
    expect(joint.extension?.workingDays).toBe(15);
  });

  it('withdrawal during a special procedure ends the pause', () => {
    const { state } = run(accepted(), [
      ['2026-03-09', { type: 'start_special_procedure', kind: 'hearing' }],
      ['2026-03-11', { type: 'withdraw', reason: '申请人主动撤回' }],
    ]);
    expect(state).toMatchObject({ status: 'withdrawn', closedOn: '2026-03-11', specialProcedure: null });
    expect(state.pauses.at(-1)?.endedOn).toBe('2026-03-11');
  });
});

// ---------------------------------------------------------------------------------------------------
// Property-based: random command sequences

const MODES = codeListIds(PROCESSING_MODES);
const KINDS = codeListIds(SPECIAL_PROCEDURES);

const stepArb = fc.record({
  /** Pick a command the status allows (most of the time) or any command. */
  legal: fc.boolean(),
  pick: fc.nat(1000),
  daysLater: fc.integer({ min: 0, max: 4 }),
  hour: fc.integer({ min: 0, max: 23 }),
  text: fc.constantFrom('材料不全', '申请人要求', '  需要核查  ', '原因'),
  gaps: fc.uniqueArray(
    fc.record({
      material: fc.constantFrom('身份证', '户口簿', '营业执照', '申请表'),
      reason: fc.constant('缺少'),
    }),
    {
      minLength: 1,
      maxLength: 4,
      selector: (g) => g.material,
    },
  ),
  withSecondReason: fc.boolean(),
  kind: fc.constantFrom(...KINDS),
  outcome: fc.constantFrom('granted', 'denied'),
  method: fc.constantFrom('pickup', 'mail', 'e_licence'),
  level: fc.integer({ min: 1, max: 5 }),
  department: fc.constantFrom(
    '0b6c1e2a-0000-4000-8000-00000000000a',
    '0b6c1e2a-0000-4000-8000-00000000000b',
    '0b6c1e2a-0000-4000-8000-00000000000c',
  ),
});
type StepSeed = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function commandFor(type: CaseCommandType, seed: StepSeed): CaseCommand {
  switch (type) {
    case 'receive':
    case 'forward':
    case 'resubmit':
    case 'accept':
    case 'end_special_procedure':
      return { type };
    case 'request_supplement':
      return {
        type,
        gaps: seed.gaps,
        ...(seed.withSecondReason ? { secondNoticeReason: seed.text.trim() } : {}),
      };
    case 'not_accept':
    case 'withdraw':
    case 'extend':
      return { type, reason: seed.text.trim() };
    case 'start_review':
    case 'review_step':
      return { type, step: '初审' };
    case 'start_special_procedure':
      return { type, kind: seed.kind };
    case 'decide':
      return { type, outcome: seed.outcome as 'granted' | 'denied', reason: seed.text.trim() };
    case 'deliver':
      return { type, method: seed.method as 'pickup' | 'mail' | 'e_licence' };
    case 'rate':
      return { type, level: seed.level };
    case 'reassign':
      return { type, departmentId: seed.department, reason: seed.text.trim() };
  }
}

/** Status-dependent invariants every reachable state keeps. */
function checkInvariants(s: CaseState): void {
  expect(CASE_STATUSES).toContain(s.status);
  expect(CaseStateSchema.safeParse(s).success).toBe(true);
  expect(s.specialProcedure !== null).toBe(s.status === 'special_procedure');
  expect(s.supplement !== null).toBe(s.status === 'supplement_requested');
  const running = s.pauses.filter((p) => p.endedOn === null);
  expect(running.length).toBe(
    s.status === 'special_procedure' ||
      (s.status === 'supplement_requested' && s.supplement?.from === 'under_review')
      ? 1
      : 0,
  );
  for (const p of s.pauses) if (p.endedOn !== null) expect(p.endedOn >= p.startedOn).toBe(true);
  if (['accepted', 'under_review', 'special_procedure', 'decided', 'delivered', 'rated'].includes(s.status)) {
    expect(s.acceptedOn).not.toBeNull();
  }
  if (['decided', 'delivered', 'rated'].includes(s.status)) {
    expect(s.outcome).not.toBeNull();
    expect(s.decidedOn).not.toBeNull();
  }
  if (s.status !== 'submitted' && s.status !== 'withdrawn') expect(s.receivedOn).not.toBeNull();
  if (s.acceptedOn !== null) expect(s.acceptedOn >= (s.receivedOn ?? '')).toBe(true);
}

describe('state machine properties', () => {
  it('random command sequences never reach an invalid state; illegal commands change nothing', () => {
    let reachedRated = 0;
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom(...MODES),
        fc.integer({ min: 0, max: 300 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        (mode, startOffset, steps) => {
          let state = initialCaseState({
            processingMode: mode,
            competentDepartmentId: '0b6c1e2a-0000-4000-8000-00000000000a',
            submittedAt: new Date(Date.UTC(2026, 0, 1, 1) + startOffset * 86_400_000),
          });
          let now = Date.UTC(2026, 0, 1, 1) + startOffset * 86_400_000;
          for (const seed of steps) {
            now += seed.daysLater * 86_400_000 + seed.hour * 60_000;
            const legalTypes = CASE_COMMAND_TYPES.filter((t) => allowedFrom(t).includes(state.status));
            const pool = seed.legal && legalTypes.length > 0 ? legalTypes : CASE_COMMAND_TYPES;
            const type = pool[seed.pick % pool.length]!;
            const command = commandFor(type, seed);
            const before = structuredClone(state);
            let result: ReturnType<typeof applyCommand> | undefined;
            try {
              result = applyCommand(state, command, { at: new Date(now), actor: staff, calendar });
            } catch (e) {
              const error = errorOf(() => {
                throw e;
              });
              expect(state).toEqual(before);
              if (!allowedFrom(type).includes(state.status)) {
                expect(error.code).toBe('case.illegal_transition');
                expect(error.kind).toBe('conflict');
              } else {
                expect([
                  'case.already_forwarded',
                  'case.not_forwarded',
                  'case.supplement_notice_late',
                  'case.already_extended',
                  'case.same_department',
                  'case.second_notice_reason_required',
                ]).toContain(error.code);
              }
              continue;
            }
            expect(state).toEqual(before);
            const next = result.state;
            expect(isTerminalStatus(before.status)).toBe(false);
            expect(allowedFrom(type)).toContain(before.status);
            expect(result.event).toMatchObject({ type, from: before.status, to: next.status });
            expect(next.lastEventOn >= before.lastEventOn).toBe(true);
            // supplementNotices moves only on request_supplement, by one.
            expect(next.supplementNotices - before.supplementNotices).toBe(
              type === 'request_supplement' ? 1 : 0,
            );
            // The extension is granted once and never changes afterwards.
            if (before.extension !== null) expect(next.extension).toEqual(before.extension);
            if (type === 'extend') expect(before.extension).toBeNull();
            // Clock facts, once set, stay.
            for (const key of ['receivedOn', 'acceptedOn', 'decidedOn', 'outcome'] as const) {
              if (before[key] !== null) expect(next[key]).toBe(before[key]);
            }
            expect(next.pauses.slice(0, before.pauses.length).map((p) => p.startedOn)).toEqual(
              before.pauses.map((p) => p.startedOn),
            );
            checkInvariants(next);
            seen.add(next.status);
            state = next;
          }
          if (state.status === 'rated') reachedRated++;
        },
      ),
      // A fixed seed keeps CI reproducible (the coverage checks below depend on the draw); explore other
      // draws locally with FC_SEED=<n>.
      { numRuns: 1000, seed: Number(process.env.FC_SEED ?? 20_261_129) },
    );
    // The generator is useful only if it reaches the end of the story sometimes.
    expect(reachedRated).toBeGreaterThan(0);
    expect([...seen].sort()).toEqual([...CASE_STATUSES].sort());
  });
});
