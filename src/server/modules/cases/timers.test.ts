import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCalendarDays } from '../../../domain/calendar.ts';
import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import { rowsOf } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { startTestServer } from '../../testing.ts';
import { CASE_CHANGES_CHANNEL, CasesService } from './service.ts';

/**
 * Clock timers (红黄牌, 超期, 视为受理) on the database: fired exactly once even when two nodes (two service
 * instances on one database) run the timer job at the same moment; and case changes announced with
 * LISTEN/NOTIFY.
 */
let server: RunningServer;
let now = new Date('2026-03-02T02:00:00Z'); // Monday 10:00 Asia/Shanghai
const nodes: CasesService[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const s = server.services;
  for (let i = 0; i < 2; i++) {
    nodes.push(
      new CasesService(
        server.database.db,
        {
          catalog: s.catalog,
          halls: s.halls,
          departments: s.departments,
          calendar: s.calendar,
          outbox: s.outbox,
          idempotency: s.idempotency,
          audit: s.audit,
          pii: s.pii,
        },
        { piiHashKey: 'k'.repeat(32), clock: () => now },
      ),
    );
  }
});
afterAll(async () => {
  await server?.close();
});

const idNumber = (seq: string) => {
  const first17 = `520102198801${seq}`;
  return first17 + computeIdentityCheckCharacter(first17);
};
const at = (day: string) => new Date(`${day}T02:00:00Z`); // 10:00 in Shanghai

async function onlineCase(seq: string) {
  const [node] = nodes;
  const { case: c } = await node!.submit(
    {
      itemCode: '200015001000', // 退役军人优待证申领: 30 working days promised
      applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber(seq) },
      channel: 'pc',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: {
        method: 'mail',
        recipient: '测试',
        phone: '13800000000',
        address: '贵州省贵阳市南明区测试路1号',
      },
    },
    { actor: { kind: 'applicant', id: `a${seq}` }, idempotencyKey: randomUUID() },
  );
  const staff = { kind: 'staff' as const, id: 'vet-1', departmentId: c.competentDepartmentId! };
  return { c, staff };
}

describe('warning timers', () => {
  it('raise yellow, red and overdue once each, on the right working days, with two nodes racing', async () => {
    now = at('2026-03-02');
    const { c, staff } = await onlineCase('01991');
    await nodes[0]!.command(c.number, { type: 'receive' }, { actor: staff, idempotencyKey: randomUUID() });
    const accepted = await nodes[0]!.command(
      c.number,
      { type: 'accept' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    const due = accepted.case.clocks.decisionDue!.date;
    const fired: { day: string; count: number }[] = [];
    for (let day = '2026-03-02'; day <= addCalendarDays(due, 3); day = addCalendarDays(day, 1)) {
      now = at(day);
      const counts = await Promise.all(nodes.map((n) => n.fireDueTimers()));
      const total = counts.reduce((a, b) => a + b, 0);
      if (total > 0) fired.push({ day, count: total });
    }
    const timeline = await server.services.cases.timeline(c.number);
    const warnings = timeline.filter((e) => e.type === 'warning').map((e) => e.data.level);
    expect(warnings).toEqual(['yellow', 'red', 'overdue']);
    expect(fired.reduce((a, f) => a + f.count, 0)).toBe(3);
    // Each level on the day the clocks say it begins.
    const calendar = await server.services.calendar.calendar();
    const yellowDay = fired[0]!.day;
    expect(calendar.workingDaysBetween(yellowDay, due).days).toBe(3);
    expect(fired[2]!.day).toBe(addCalendarDays(due, 1));
    expect((await server.services.cases.get(c.number)).warning).toBe('overdue');
    const events = await server.services.outbox.eventsOf('case', c.id);
    expect(events.filter((e) => e.topic === 'case.warning')).toHaveLength(3);
    // Nothing fires twice.
    expect(await nodes[1]!.fireDueTimers()).toBe(0);
  });

  it('a special procedure pauses the clock: no warning while paused, and the due date moves', async () => {
    now = at('2026-03-02');
    const { c, staff } = await onlineCase('02992');
    await nodes[0]!.command(c.number, { type: 'receive' }, { actor: staff, idempotencyKey: randomUUID() });
    const a = await nodes[0]!.command(
      c.number,
      { type: 'accept' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    const dueBefore = a.case.clocks.decisionDue!.date;
    await nodes[0]!.command(
      c.number,
      { type: 'start_special_procedure', kind: 'expert_review' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    now = at(addCalendarDays(dueBefore, 5));
    expect(await nodes[0]!.fireDueTimers()).toBe(0);
    const paused = await server.services.cases.get(c.number);
    expect(paused.clocks.paused).toBe(true);
    expect(paused.warning).toBe('none');
    const resumed = await nodes[0]!.command(
      c.number,
      { type: 'end_special_procedure' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    expect(resumed.case.clocks.decisionDue!.date > dueBefore).toBe(true);
  });
});

describe('timers follow the clocks, and only them', () => {
  it('a review step leaves the stored timers untouched; an extension rewrites them to the new due date', async () => {
    now = at('2026-03-02');
    const { c, staff } = await onlineCase('02992');
    for (const cmd of [{ type: 'receive' }, { type: 'accept' }, { type: 'start_review', step: '初审' }]) {
      await nodes[0]!.command(c.number, cmd, { actor: staff, idempotencyKey: randomUUID() });
    }
    // xmin changes whenever a row is rewritten (or deleted and inserted again).
    const timers = async () =>
      rowsOf<{ kind: string; due: string; x: string }>(
        await server.database.db.execute(
          sql`select kind, due_at::text as due, xmin::text as x from case_timers where case_id = ${c.id} order by kind`,
        ),
      );
    const before = await timers();
    expect(before.map((t) => t.kind)).toEqual(['overdue', 'red', 'yellow']);
    now = at('2026-03-04');
    const stepped = await nodes[0]!.command(
      c.number,
      { type: 'review_step', step: '复核' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    expect(stepped.case.version).toBe(5);
    expect(await timers()).toEqual(before);
    const extended = await nodes[1]!.command(
      c.number,
      { type: 'extend', reason: '情况复杂' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    const after = await timers();
    expect(after.map((t) => t.x)).not.toEqual(before.map((t) => t.x));
    const overdue = after.find((t) => t.kind === 'overdue')!;
    // Overdue from 00:00 Asia/Shanghai of the day after the (moved) decision due date.
    const day = addCalendarDays(extended.case.clocks.decisionDue!.date, 1);
    expect(new Date(overdue.due).getTime()).toBe(new Date(`${day}T00:00:00+08:00`).getTime());
    expect(overdue.due).not.toBe(before.find((t) => t.kind === 'overdue')!.due);
    // The timeline numbers events one after another, whichever way they were written.
    const seqs = (await server.services.cases.timeline(c.number)).map((e) => e.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('deemed acceptance (行政许可法 art. 32)', () => {
  it('accepts a received case on its receipt day when no supplement was requested within 5 working days', async () => {
    now = at('2026-03-02');
    const { c, staff } = await onlineCase('03993');
    const received = await nodes[0]!.command(
      c.number,
      { type: 'receive' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    const supplementDue = received.case.clocks.supplementDue!.date;
    now = at(supplementDue);
    await nodes[0]!.fireDueTimers();
    expect((await server.services.cases.get(c.number)).status).toBe('received');
    now = at(addCalendarDays(supplementDue, 1));
    await Promise.all(nodes.map((n) => n.fireDueTimers()));
    const after = await server.services.cases.get(c.number);
    expect(after.status).toBe('accepted');
    expect(after.clocks.clockStartedOn).toBe('2026-03-02');
    const accepts = (await server.services.cases.timeline(c.number)).filter((e) => e.type === 'accept');
    expect(accepts).toHaveLength(1);
    expect(accepts[0]!.actor).toEqual({ kind: 'system', id: 'clock' });
  });

  it('an off-site case forwarded after its notice deadline is still deemed accepted (never dropped)', async () => {
    now = at('2026-03-02');
    const intake = { kind: 'staff' as const, id: 'kaili-1', hallCode: '522601-zwfw' };
    const { case: c } = await nodes[0]!.submit(
      {
        itemCode: '050004001000',
        applicant: { kind: 'natural_person', name: '测试', idNumber: idNumber('04994') },
        channel: 'hall_window',
        intakeHallCode: '522601-zwfw',
        processingMode: 'off_site_intake',
        decidingDivisionCode: '520526',
        delivery: { method: 'pickup', hallCode: '522601-zwfw' },
      },
      { actor: intake, idempotencyKey: randomUUID() },
    );
    expect(c.status).toBe('received');
    const due = c.clocks.supplementDue!.date;
    // The deadline passes before the hall forwards: the clock cannot accept an unforwarded case yet.
    now = at(addCalendarDays(due, 1));
    await nodes[0]!.fireDueTimers();
    expect((await server.services.cases.get(c.number)).status).toBe('received');
    now = at(addCalendarDays(due, 2));
    await nodes[0]!.command(c.number, { type: 'forward' }, { actor: intake, idempotencyKey: randomUUID() });
    await Promise.all(nodes.map((n) => n.fireDueTimers()));
    const after = await server.services.cases.get(c.number);
    expect(after.status).toBe('accepted');
    expect(after.clocks.clockStartedOn).toBe('2026-03-02');
  });
});

describe('live announcements', () => {
  it('announces each committed change on the case channel (LISTEN/NOTIFY), and nothing for a refused one', async () => {
    const got: { number: string; status: string; version: number }[] = [];
    const stop = await server.database.listen(CASE_CHANGES_CHANNEL, (p) => got.push(JSON.parse(p)));
    try {
      now = at('2026-03-03');
      const { c, staff } = await onlineCase('04994');
      await nodes[0]!.command(c.number, { type: 'receive' }, { actor: staff, idempotencyKey: randomUUID() });
      await expect(
        nodes[0]!.command(
          c.number,
          { type: 'deliver', method: 'mail' },
          { actor: staff, idempotencyKey: randomUUID() },
        ),
      ).rejects.toMatchObject({ code: 'case.illegal_transition' });
      for (let i = 0; i < 50 && got.filter((g) => g.number === c.number).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(got.filter((g) => g.number === c.number).map((g) => g.status)).toEqual([
        'submitted',
        'received',
      ]);
    } finally {
      await stop();
    }
  });
});

describe('a newly published year', () => {
  it('reaches every node (LISTEN/NOTIFY) and makes stored provisional due dates final', async () => {
    const { CalendarService } = await import('../calendar/service.ts');
    now = at('2026-12-21');
    const { c, staff } = await onlineCase('05995');
    await nodes[0]!.command(c.number, { type: 'receive' }, { actor: staff, idempotencyKey: randomUUID() });
    const accepted = await nodes[0]!.command(
      c.number,
      { type: 'accept' },
      { actor: staff, idempotencyKey: randomUUID() },
    );
    expect(accepted.case.clocks.decisionDue).toMatchObject({ provisional: true, unknownYears: [2027] });
    const stored = async () =>
      rowsOf<{ p: boolean; d: string }>(
        await server.database.db.execute(
          sql`select due_provisional as p, decision_due as d from cases where id = ${c.id}`,
        ),
      )[0]!;
    expect((await stored()).p).toBe(true);
    // Another process (the CLI) publishes 2027 — an invented schedule for the test.
    const cli = new CalendarService(server.database.db);
    await cli.publishYear(
      {
        year: 2027,
        entries: [
          { date: '2027-01-01', kind: 'holiday', name: '元旦' },
          { date: '2027-02-08', kind: 'holiday', name: '春节' },
        ],
      },
      'test notice (invented)',
    );
    for (let i = 0; i < 100 && !(await server.services.calendar.knownYears()).includes(2027); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await server.services.calendar.knownYears()).toContain(2027);
    expect(await server.services.cases.recomputeOpenClocks()).toBeGreaterThan(0);
    const after = await stored();
    expect(after.p).toBe(false);
    expect((await server.services.cases.get(c.number)).clocks.decisionDue).toMatchObject({
      provisional: false,
      date: after.d,
    });
  });
});
