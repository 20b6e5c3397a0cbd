import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseActor } from '../../../domain/case-state.ts';
import type { KpiDashboard, KpiId } from '../../../domain/kpi.ts';
import { syntheticIdNumber } from '../../../testing/pii-flow.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';
import { principalFromDevActor } from '../identity/principal.ts';
import { OutboxService } from '../outbox/service.ts';

/**
 * Each KPI of docs/metrics.md on a hand-built set of five cases with known answers, driven through the
 * real case engine with a movable clock; the outbox dispatched by the jobs loop (so the kpi handler folds
 * the real payloads); ratings and staff feedback as the outbox events of the contract; a hall outage
 * through HallsService.setStatus. Then: a replayed dispatch changes nothing; the dashboard route checks
 * dashboard.read over the scope.
 *
 * The five cases (week of Mon 2026-03-02):
 * - A 最低生活保障 at the 凯里 hall (522601) for a 威宁 (520526) resident aged 40, decided in 威宁: forwarded
 *   Mon 10:30, accepted Tue 10:30 (7 working hours), two supplement notices, decided Thu (2 of 30 legal
 *   working days), mailed Thu (1 visit, traditional 1).
 * - B 公共租赁住房 online (pc) by a 南明 (520102) resident aged 76, decided Wed, mailed (0 visits, traditional 1).
 * - C 最低生活保障 at the 凯里 hall by a 威宁 resident aged 76, withdrawn Tue (cross-county, not decided).
 * - D 居住证 online (mobile) by a 凯里 resident, accepted Mon in 南明, left open: overdue on 03-17, decided 03-20.
 * - E 最低生活保障 at the 威宁 hall by a 威宁 resident, received Fri, left open.
 */
let server: RunningServer;
let now = new Date('2026-03-02T01:30:00Z');
const at = (day: string, hhmm: string) => {
  now = new Date(`${day}T${hhmm}:00+08:00`);
};
const dept: Record<string, string> = {};
const KAILI_HALL = '522601-zwfw';
const WEINING_HALL = '520526-zwfw';
const numbers: Record<string, string> = {};

const mail = { method: 'mail', recipient: '测试', phone: '13800000000', address: '贵州省测试路1号' };
const kailiStaff: CaseActor = { kind: 'staff', id: 'kaili-1', hallCode: KAILI_HALL };
const weiningHallStaff: CaseActor = { kind: 'staff', id: 'weining-hall-1', hallCode: WEINING_HALL };
const staffOf = (d: string): CaseActor => ({ kind: 'staff', id: `staff-${d}`, departmentId: dept[d]! });

async function submit(name: string, app: Record<string, unknown>, actor: CaseActor) {
  const { case: c } = await server.services.cases.submit(app, { actor, idempotencyKey: randomUUID() });
  numbers[name] = c.number;
  return c;
}
async function cmd(name: string, actor: CaseActor, command: Record<string, unknown>) {
  return server.services.cases.command(numbers[name]!, command, { actor, idempotencyKey: randomUUID() });
}
/** Appends an outbox event as the producing module would (in a transaction of its own). */
async function emit(topic: string, aggregateId: string, payload: Record<string, unknown>) {
  await server.database.db.transaction((tx) =>
    server.services.outbox.append(tx, [{ topic, aggregateType: topic.split('.')[0]!, aggregateId, payload }]),
  );
}
async function settle() {
  for (let i = 0; i < 3; i++) await server.jobs.runOnce();
}

const supervisor = principalFromDevActor({ kind: 'staff', id: 'supervisor' });
const dashboard = (scope: { division?: string; hall?: string }, from: string, to: string) =>
  server.services.kpi.dashboard(supervisor, { ...scope, from, to });
const fig = (d: KpiDashboard, id: KpiId) => d.kpis.find((k) => k.id === id)!;
const values = (d: KpiDashboard) => Object.fromEntries(d.kpis.map((k) => [k.id, k.value]));

beforeAll(async () => {
  server = await startTestServer({ clock: () => now });
  const find = async (division: string, kind: string) =>
    (await server.services.departments.findDepartment(division, kind as never))!.id;
  dept.weining = await find('520526', 'civil_affairs');

  // ---- Mon 2026-03-02
  at('2026-03-02', '09:30');
  const d = await submit(
    'D',
    {
      itemCode: '200001004000', // 居住证申领: promised 10 working days
      applicant: {
        kind: 'natural_person',
        name: '丁',
        idNumber: syntheticIdNumber('522601', '19960101', '004'),
      },
      channel: 'mobile',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: mail,
    },
    { kind: 'applicant', id: 'resident-d' },
  );
  dept.d = d.competentDepartmentId!;
  at('2026-03-02', '10:00');
  await cmd('D', staffOf('d'), { type: 'receive' });
  at('2026-03-02', '10:05');
  await cmd('D', staffOf('d'), { type: 'accept' });

  at('2026-03-02', '10:00');
  await submit(
    'A',
    {
      itemCode: '050004001000', // 最低生活保障申请: legal 30 working days, 到现场 1
      applicant: {
        kind: 'natural_person',
        name: '甲',
        idNumber: syntheticIdNumber('520526', '19850312', '001'),
      },
      channel: 'hall_window',
      intakeHallCode: KAILI_HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: mail,
      formData: { familySize: 3, monthlyIncome: 1200 },
    },
    kailiStaff,
  );
  at('2026-03-02', '10:30');
  await cmd('A', kailiStaff, { type: 'forward' });
  at('2026-03-02', '14:00');
  await cmd('A', staffOf('weining'), {
    type: 'request_supplement',
    gaps: [{ material: '家庭经济状况核对授权书', reason: '缺少签字' }],
  });
  at('2026-03-02', '15:00');
  await cmd('A', kailiStaff, { type: 'resubmit' });

  at('2026-03-02', '11:00');
  const b = await submit(
    'B',
    {
      itemCode: '200006001000', // 公共租赁住房申请: 到现场 1, no legal limit
      applicant: {
        kind: 'natural_person',
        name: '乙',
        idNumber: syntheticIdNumber('520102', '19500101', '002'),
      },
      channel: 'pc',
      processingMode: 'online',
      decidingDivisionCode: '520102',
      delivery: mail,
    },
    { kind: 'applicant', id: 'resident-b' },
  );
  dept.b = b.competentDepartmentId!;
  at('2026-03-02', '11:30');
  await cmd('B', staffOf('b'), { type: 'receive' });
  at('2026-03-02', '12:00');
  await cmd('B', staffOf('b'), { type: 'accept' });

  at('2026-03-02', '16:00');
  await submit(
    'C',
    {
      itemCode: '050004001000',
      applicant: {
        kind: 'natural_person',
        name: '丙',
        idNumber: syntheticIdNumber('520526', '19500505', '003'),
      },
      channel: 'hall_window',
      intakeHallCode: KAILI_HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: mail,
      formData: { familySize: 1, monthlyIncome: 800 },
    },
    kailiStaff,
  );

  // ---- Tue 03-03: the 凯里 hall closed 09:00–11:00 (120 of its 420 opening minutes)
  at('2026-03-03', '09:00');
  await server.services.halls.setStatus(supervisor, KAILI_HALL, { status: 'closed', reason: '停电检修' });
  at('2026-03-03', '09:30');
  await cmd('C', kailiStaff, { type: 'withdraw', reason: '申请人撤回' });
  at('2026-03-03', '10:30');
  await cmd('A', staffOf('weining'), { type: 'accept' });
  at('2026-03-03', '11:00');
  await server.services.halls.setStatus(supervisor, KAILI_HALL, { status: 'open' });
  await cmd('A', staffOf('weining'), { type: 'start_review', step: '入户调查' });
  await emit('feedback.reported', 'fb-1', {
    feedbackId: 'fb-1',
    category: 'system',
    hallCode: KAILI_HALL,
    divisionCode: '522601',
    at: now.toISOString(),
    on: '2026-03-03',
  });

  // ---- Wed 03-04
  at('2026-03-04', '10:00');
  await cmd('A', staffOf('weining'), {
    type: 'request_supplement',
    gaps: [{ material: '申请人居民户口簿', reason: '复印件不清晰' }],
    secondNoticeReason: '入户调查发现新的情况',
  });
  await cmd('B', staffOf('b'), { type: 'decide', outcome: 'granted' });
  at('2026-03-04', '11:00');
  await cmd('A', kailiStaff, { type: 'resubmit' });
  await cmd('B', staffOf('b'), { type: 'deliver', method: 'mail', reference: 'EMS-B' });

  // ---- Thu 03-05
  at('2026-03-05', '10:00');
  await cmd('A', staffOf('weining'), { type: 'decide', outcome: 'granted' });
  at('2026-03-05', '11:00');
  await cmd('A', staffOf('weining'), { type: 'deliver', method: 'mail', reference: 'EMS-A' });
  const evaluation = (
    id: string,
    caseName: string,
    level: number,
    on: string,
    extra: Record<string, unknown>,
  ) =>
    emit('evaluation.submitted', id, {
      evaluationId: id,
      caseId: `case-${caseName}`,
      caseNumber: numbers[caseName],
      level,
      channel: 'mobile',
      staffAccountId: null,
      at: `${on}T12:00:00+08:00`,
      on,
      ...extra,
    });
  await evaluation('ev-a', 'A', 1, '2026-03-05', {
    itemCode: '050004001000',
    hallCode: KAILI_HALL,
    departmentId: dept.weining,
    intakeCountyCode: '522601',
    decidingCountyCode: '520526',
  });
  await evaluation('ev-b', 'B', 5, '2026-03-05', {
    itemCode: '200006001000',
    hallCode: null,
    departmentId: dept.b,
    intakeCountyCode: '520102',
    decidingCountyCode: '520102',
  });

  // ---- Fri 03-06
  at('2026-03-06', '10:00');
  await submit(
    'E',
    {
      itemCode: '050004001000',
      applicant: {
        kind: 'natural_person',
        name: '戊',
        idNumber: syntheticIdNumber('520526', '19900101', '005'),
      },
      channel: 'hall_window',
      intakeHallCode: WEINING_HALL,
      processingMode: 'off_site_intake',
      decidingDivisionCode: '520526',
      delivery: mail,
      formData: { familySize: 2, monthlyIncome: 900 },
    },
    weiningHallStaff,
  );
  await settle();
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const WEEK = ['2026-03-02', '2026-03-06'] as const;

describe('KPI formulas on five hand-built cases (docs/metrics.md)', () => {
  it('province 52, Mon–Fri: every KPI with its exact numerator and denominator', async () => {
    const d = await dashboard({ division: '52' }, ...WEEK);
    const parts = (id: KpiId) => [fig(d, id).numerator, fig(d, id).denominator];
    expect(parts('online_share')).toEqual([2, 5]); // B, D of A–E
    expect(parts('nearby_rate')).toEqual([3, 5]); // B, D online; E in its home county; A, C in 凯里
    expect(parts('offline_share_65_plus')).toEqual([1, 2]); // C at a window of B, C
    expect(parts('one_visit_rate')).toEqual([2, 2]); // A (1 visit), B (0)
    expect(parts('trips_saved')).toEqual([1, 2]); // B: 1 − 0; A: 1 − 1
    expect(parts('cross_level_response_hours')).toEqual([7, 1]); // A: Mon 10:30 → Tue 10:30
    expect(fig(d, 'cross_level_response_hours').value).toBe(7);
    expect(parts('remote_success_rate')).toEqual([1, 2]); // A decided, C withdrawn
    expect(parts('time_compression')).toEqual([28, 30]); // A: 2 of 30 legal working days
    expect(parts('second_supplement_rate')).toEqual([1, 1]); // A had a second notice
    expect(parts('overdue_rate')).toEqual([0, 4]); // A, B decided in time; D, E open, not overdue
    expect(parts('satisfaction_rate')).toEqual([1, 2]); // levels 1 and 5
    expect(fig(d, 'staff_feedback_reports').value).toBe(1);
    // previous period (02-23…02-27): nothing happened
    expect(fig(d, 'online_share').previous).toBeNull();
    // daily trend: one entry per day, the received counts land on their days
    expect(d.daily.map((x) => x.day)).toEqual([
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
    ]);
    expect(d.daily.map((x) => x.values.online_share)).toEqual([0.5, null, null, null, 0]);
    // drill-down: 9 prefectures with names; the cases sit in 贵阳 (B, D), 毕节 (E), 黔东南 (A, C)
    expect(d.children).toHaveLength(9);
    const byCode = Object.fromEntries(d.children.map((c) => [c.code, c]));
    expect([byCode['5201']!.received, byCode['5205']!.received, byCode['5226']!.received]).toEqual([2, 1, 2]);
    expect(byCode['5226']!.name).toBe('黔东南苗族侗族自治州');
    expect(d.scope).toEqual({ kind: 'division', code: '52', name: '贵州省', level: 'province' });
  });

  it('halls open in opening hours: the 凯里 hall lost 120 of 2,100 minutes; the county and province see the same loss', async () => {
    const hall = await dashboard({ hall: KAILI_HALL }, ...WEEK);
    expect([fig(hall, 'halls_open_rate').numerator, fig(hall, 'halls_open_rate').denominator]).toEqual([
      1980, 2100,
    ]);
    expect(hall.daily[1]!.values.halls_open_rate).toBeCloseTo(300 / 420, 10);
    const county = fig(await dashboard({ division: '522601' }, ...WEEK), 'halls_open_rate');
    expect(county.denominator - county.numerator).toBe(120);
    const province = fig(await dashboard({ division: '52' }, ...WEEK), 'halls_open_rate');
    expect(province.denominator - province.numerator).toBe(120);
    expect(province.denominator).toBeGreaterThan(county.denominator);
  });

  it('sides: intake counts go to the receiving county and hall, decision counts to the deciding county', async () => {
    const kaili = await dashboard({ division: '522601' }, ...WEEK);
    expect(fig(kaili, 'online_share').denominator).toBe(2); // A, C received here
    expect(fig(kaili, 'remote_success_rate').denominator).toBe(0); // decided elsewhere
    expect(kaili.children.map((c) => c.code)).toEqual([KAILI_HALL]);
    const weining = await dashboard({ division: '520526' }, ...WEEK);
    expect(fig(weining, 'online_share').denominator).toBe(1); // E
    expect(values(weining)).toMatchObject({
      cross_level_response_hours: 7,
      remote_success_rate: 0.5,
      satisfaction_rate: 1, // A's rating (level 1); B's is 南明's
      overdue_rate: 0,
    });
    expect(fig(weining, 'overdue_rate').denominator).toBe(2); // A decided with a limit + E open
    const hall = await dashboard({ hall: KAILI_HALL }, ...WEEK);
    expect(values(hall)).toMatchObject({
      online_share: 0,
      nearby_rate: 0,
      offline_share_65_plus: 1,
      one_visit_rate: 1,
      cross_level_response_hours: 7,
      second_supplement_rate: 1,
      satisfaction_rate: 1,
      staff_feedback_reports: 1,
    });
    expect(hall.children).toEqual([]);
  });

  it('KpiService.daily: received per day, backlog and overdue at the end of each day, ratings', async () => {
    const days = await server.services.kpi.daily({ divisionCode: '52' }, ...WEEK);
    expect(days.map((x) => x.counts.received)).toEqual([4, 0, 0, 0, 1]);
    // Mon: A, B, C, D open → Tue C withdrawn → Wed B decided → Thu A decided → Fri E received
    expect(days.map((x) => x.counts.open)).toEqual([4, 3, 2, 1, 2]);
    expect(days.map((x) => x.counts.ratings)).toEqual([0, 0, 0, 2, 0]);
    expect(days[3]!.counts.badReviews).toBe(1);
  });

  it('an overdue case: counted overdue while open, then as a late decision', async () => {
    at('2026-03-17', '10:00'); // D was due 10 working days after Mon 03-02 (03-16)
    await settle();
    const [mid] = await server.services.kpi.daily({ divisionCode: '520102' }, '2026-03-17', '2026-03-17');
    expect(mid!.counts).toMatchObject({ open: 1, overdue: 1 });
    expect(mid!.values.overdue_rate).toBe(1);
    at('2026-03-20', '10:00');
    await cmd('D', staffOf('d'), { type: 'decide', outcome: 'granted' });
    await settle();
    const d = await dashboard({ division: '520102' }, '2026-03-16', '2026-03-20');
    expect([fig(d, 'overdue_rate').numerator, fig(d, 'overdue_rate').denominator]).toEqual([1, 1]);
    expect(fig(d, 'overdue_rate').previous).toBe(0); // 03-11…03-15: D open, not yet overdue
    const [end] = await server.services.kpi.daily({ divisionCode: '520102' }, '2026-03-20', '2026-03-20');
    expect(end!.counts).toMatchObject({ open: 0, overdue: 0 });
  });

  it('an appeal upheld (evaluation.excluded) takes the rating back on its own day', async () => {
    await emit('evaluation.excluded', 'ev-b', {
      evaluationId: 'ev-b',
      appealId: 'ap-1',
      level: 5,
      decidingCountyCode: '520102',
      intakeCountyCode: '520102',
      on: '2026-03-21',
    });
    await settle();
    const d = await dashboard({ division: '52' }, ...WEEK);
    expect([fig(d, 'satisfaction_rate').numerator, fig(d, 'satisfaction_rate').denominator]).toEqual([1, 1]);
  });

  it('a replayed dispatch (every event again, and the handler called twice) changes nothing', async () => {
    const before = await dashboard({ division: '52' }, '2026-03-02', '2026-03-20');
    const db = server.database.db;
    // every event dispatched again to the kpi handler alone (other modules' handlers are not under test)
    const replay = new OutboxService(db);
    replay.subscribe(server.services.kpi.handler);
    await db.execute(sql`update outbox set dispatched_at = null`);
    let replayed = 0;
    for (let n = await replay.dispatch(500); n > 0; n = await replay.dispatch(500)) replayed += n;
    const [{ n }] = rowsOf<{ n: unknown }>(await db.execute(sql`select count(*) as n from outbox`)) as [
      { n: unknown },
    ];
    expect(replayed).toBe(toInt(n));
    expect(replayed).toBeGreaterThan(30);
    // and the handler twice on the same rows in one transaction (reads first: PGlite has one connection)
    const caseA = await server.services.cases.get(numbers.A!);
    const rows = await server.services.outbox.eventsOf('case', caseA.id);
    await db.transaction(async (tx) => {
      for (const r of [...rows, ...rows]) await server.services.kpi.handler(tx, r);
    });
    const after = await dashboard({ division: '52' }, '2026-03-02', '2026-03-20');
    expect(after).toEqual(before);
    expect(fig(after, 'online_share').denominator).toBe(5);
  });
});

describe('GET /api/v1/kpi/dashboard: dashboard.read over the scope', () => {
  it('a leader of 黔东南 reads 5226 and its halls, not the province or another prefecture; a clerk reads none', async () => {
    const leader = await signedInStaff(server, {
      username: 'kpi-leader',
      hallCode: KAILI_HALL,
      grant: { role: 'leader', kind: 'division', value: '5226' },
    });
    const clerk = await signedInStaff(server, {
      username: 'kpi-clerk',
      hallCode: KAILI_HALL,
      grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
    });
    const get = async (token: string, query: string) => {
      const r = await server.app.inject({
        method: 'GET',
        url: `/api/v1/kpi/dashboard?${query}`,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: r.statusCode, body: r.json() };
    };
    const week = 'from=2026-03-02&to=2026-03-06';
    const ok = await get(leader.token, `division=5226&${week}`);
    expect(ok.status).toBe(200);
    expect(ok.body.kpis.find((k: { id: string }) => k.id === 'online_share').denominator).toBe(2);
    expect((await get(leader.token, `hall=${KAILI_HALL}&${week}`)).status).toBe(200);
    const province = await get(leader.token, `division=52&${week}`);
    expect([province.status, province.body.error.code]).toEqual([403, 'kpi.scope_missing']);
    expect((await get(leader.token, `division=5201&${week}`)).status).toBe(403);
    expect((await get(clerk.token, `hall=${KAILI_HALL}&${week}`)).status).toBe(403);
    const bad = await get(leader.token, `division=5226&from=2026-03-06&to=2026-03-02`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'kpi.period_invalid']);
    const anonymous = await server.app.inject({
      method: 'GET',
      url: `/api/v1/kpi/dashboard?division=52&${week}`,
    });
    expect(anonymous.statusCode).toBe(401);
    const defs = await server.app.inject({
      method: 'GET',
      url: '/api/v1/kpi/definitions',
      headers: { authorization: `Bearer ${clerk.token}` },
    });
    expect(defs.statusCode).toBe(200);
    expect(defs.json().items).toHaveLength(13);
  });
});
