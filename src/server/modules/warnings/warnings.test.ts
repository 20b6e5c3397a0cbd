/**
 * 预警 on a whole server (real database: PGlite, or PostgreSQL with DATABASE_URL): hall_down raised from
 * real hall status changes and resolved by the system when the hall opens again; bad-review clusters from
 * `evaluation.submitted` outbox rows; scope (an admin of another county sees nothing and acting is 404,
 * a leader sees but may not act); acknowledge / resolve and their bad input; de-duplication under two
 * concurrent evaluations; the sweep claimed by one of two nodes; periodic alerts per day.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KPI_IDS, type KpiDaily, type KpiId } from '../../../domain/kpi.ts';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';
import type { AlertView } from './service.ts';
import { WarningsService } from './service.ts';

const KAILI_HALL = '522601-zwfw';
let server: RunningServer;
const tokens: Record<string, string> = {};

async function api(who: string, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, key?: string) {
  const res = await server.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      ...(method !== 'GET' ? { 'idempotency-key': key ?? randomUUID() } : {}),
    },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return {
    status: res.statusCode,
    body: res.json() as Record<string, unknown> & { error?: { code: string; field?: string } },
  };
}

async function alertsOf(who: string, query = ''): Promise<AlertView[]> {
  const r = await api(who, 'GET', `/api/v1/alerts${query}`);
  expect(r.status).toBe(200);
  return r.body.items as AlertView[];
}

async function setHallStatus(status: string, reason?: string) {
  const r = await api('qdnAdmin', 'PUT', `/api/v1/halls/${KAILI_HALL}/status`, {
    status,
    ...(reason ? { reason } : {}),
  });
  expect(r.status).toBe(200);
  await server.jobs.runOnce();
}

/** Appends `evaluation.submitted` (or excluded) rows as the evaluations module will, then dispatches. */
async function review(
  level: number,
  opts: {
    hallCode?: string | null;
    departmentId?: string | null;
    at?: Date;
    topic?: string;
    id?: string;
    caseId?: string;
  } = {},
) {
  const evaluationId = opts.id ?? randomUUID();
  const at = (opts.at ?? new Date()).toISOString();
  await server.database.db.transaction((tx) =>
    server.services.outbox.append(tx, [
      {
        topic: opts.topic ?? 'evaluation.submitted',
        aggregateType: 'evaluation',
        aggregateId: evaluationId,
        payload: {
          evaluationId,
          caseId: opts.caseId ?? randomUUID(),
          caseNumber: '522601000000000000001',
          itemCode: '050004001000',
          level,
          channel: 'hall_tablet',
          hallCode: opts.hallCode === undefined ? KAILI_HALL : opts.hallCode,
          departmentId: opts.departmentId ?? null,
          staffAccountId: null,
          intakeCountyCode: '522601',
          decidingCountyCode: '520526',
          at,
          on: at.slice(0, 10),
        },
      },
    ]),
  );
  await server.jobs.runOnce();
  return evaluationId;
}

beforeAll(async () => {
  server = await startTestServer();
  const specs: [string, { role: string; kind: 'division' | 'hall'; value: string }, string?][] = [
    ['qdnAdmin', { role: 'prefecture_admin', kind: 'division', value: '5226' }, KAILI_HALL],
    ['weiningAdmin', { role: 'county_admin', kind: 'division', value: '520526' }],
    ['kailiHallAdmin', { role: 'hall_admin', kind: 'hall', value: KAILI_HALL }, KAILI_HALL],
    ['qdnLeader', { role: 'leader', kind: 'division', value: '5226' }],
    ['duty', { role: 'duty_officer', kind: 'division', value: '52' }],
    ['clerk', { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL }, KAILI_HALL],
  ];
  for (const [name, grant, hallCode] of specs)
    tokens[name] = (
      await signedInStaff(server, { username: `w-${name}`, grant, hallCode: hallCode ?? '520102-zwfw' })
    ).token;
});
afterAll(async () => {
  await server?.close();
});

describe('hall_down', () => {
  it('raises a critical alert when a hall goes offline, adds to it while down, resolves itself when open again', async () => {
    await setHallStatus('offline', '停电，预计下午恢复');
    let [a] = await alertsOf('qdnAdmin', '?rule=hall_down');
    expect(a).toMatchObject({
      rule: 'hall_down',
      severity: 'critical',
      status: 'open',
      hallCode: KAILI_HALL,
      divisionCode: '522601',
      occurrences: 1,
      details: { status: 'offline', reason: '停电，预计下午恢复' },
    });
    expect(a!.title).toContain('离线');
    // the hall's own administrator sees it; the county administrator of 威宁 does not
    expect((await alertsOf('kailiHallAdmin')).map((x) => x.id)).toContain(a!.id);
    expect(await alertsOf('weiningAdmin')).toEqual([]);

    await setHallStatus('degraded', '网络时断时续');
    const again = await alertsOf('qdnAdmin', '?rule=hall_down');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: a!.id, occurrences: 2, severity: 'critical' }); // never drops back

    await setHallStatus('open');
    [a] = await alertsOf('qdnAdmin', '?rule=hall_down');
    expect(a).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    expect(a!.resolution).toContain('恢复开放');

    // down again later: a new alert, the resolved one stays as it was
    await setHallStatus('degraded', '叫号机故障');
    const both = await alertsOf('qdnAdmin', '?rule=hall_down');
    expect(both).toHaveLength(2);
    expect(both[0]).toMatchObject({ status: 'open', severity: 'warning', occurrences: 1 });
    expect(both[1]).toMatchObject({ id: a!.id, status: 'resolved' });
    await setHallStatus('open');
  });

  it('a closed hall is a fault only in its opening hours (checked by the sweep)', async () => {
    await setHallStatus('closed', '内部装修');
    expect(await alertsOf('qdnAdmin', '?rule=hall_down&status=active')).toEqual([]);
    const { halls, regions, idempotency } = server.services;
    const node = (openNow: boolean) =>
      new WarningsService(server.database.db, {
        kpi: { daily: async () => [] },
        regions,
        idempotency,
        halls: { getHall: async (code) => ({ ...(await halls.getHall(code)), openNow }) },
      });
    expect(await node(false).evaluate({ force: true })).toBe(0);
    expect(await alertsOf('qdnAdmin', '?rule=hall_down&status=active')).toEqual([]);
    expect(await node(true).evaluate({ force: true })).toBe(1);
    const [a] = await alertsOf('qdnAdmin', '?rule=hall_down&status=active');
    expect(a).toMatchObject({ severity: 'critical', details: { status: 'closed', reason: '内部装修' } });
    expect(a!.title).toContain('开放时间内关闭');
    // resolved by an admin during the closure: the sweep does not raise it again for this closure
    expect(
      (
        await api('qdnAdmin', 'POST', `/api/v1/alerts/${a!.id}/resolve`, {
          resolution: '已张贴临时公告并引导至附近大厅',
        })
      ).status,
    ).toBe(200);
    expect(await node(true).evaluate({ force: true })).toBe(0);
    await setHallStatus('open');
    expect(await node(true).evaluate({ force: true })).toBe(0); // no longer watched
  });
});

describe('bad_review_cluster', () => {
  it('raises at 3 bad reviews within 7 days at one hall, counts excluded reviews out, and starts afresh after a resolution', async () => {
    const hall = '522601001-bmfw';
    const day = 86_400_000;
    const now = Date.now();
    await review(5, { hallCode: hall, at: new Date(now - 8 * day) }); // outside the window
    const appealed = await review(4, { hallCode: hall, at: new Date(now - 2 * day) });
    await review(1, { hallCode: hall }); // a good review does not count
    await review(4, { hallCode: hall, at: new Date(now - day) });
    expect(await alertsOf('qdnAdmin', '?rule=bad_review_cluster')).toEqual([]);
    // an upheld appeal: that review no longer counts
    await review(4, { hallCode: hall, topic: 'evaluation.excluded', id: appealed });
    await review(5, { hallCode: hall });
    expect(await alertsOf('qdnAdmin', '?rule=bad_review_cluster')).toEqual([]);
    await review(5, { hallCode: hall });
    const [a] = await alertsOf('qdnAdmin', '?rule=bad_review_cluster');
    expect(a).toMatchObject({
      severity: 'warning',
      hallCode: hall,
      divisionCode: '522601001',
      place: `hall:${hall}`,
      details: { badReviews: 3, windowDays: 7 },
    });
    await review(4, { hallCode: hall });
    const [b] = await alertsOf('qdnAdmin', '?rule=bad_review_cluster');
    expect(b).toMatchObject({ id: a!.id, occurrences: 2, details: { badReviews: 4 } });
    expect(
      (await api('qdnAdmin', 'POST', `/api/v1/alerts/${a!.id}/resolve`, { resolution: '已回访并整改' }))
        .status,
    ).toBe(200);
    // after the resolution only new bad reviews count: 2 more do not fire, the third does
    await review(5, { hallCode: hall });
    await review(5, { hallCode: hall });
    expect(await alertsOf('qdnAdmin', '?rule=bad_review_cluster&status=active')).toEqual([]);
    await review(5, { hallCode: hall });
    expect(await alertsOf('qdnAdmin', '?rule=bad_review_cluster&status=active')).toHaveLength(1);
  });

  it('counts DISTINCT cases: three bad reviews of one case are no cluster, a third case is', async () => {
    const hall = '522601002-bmfw';
    const caseId = randomUUID();
    const mine = async () =>
      (await alertsOf('qdnAdmin', '?rule=bad_review_cluster')).filter((a) => a.hallCode === hall);
    for (let i = 0; i < 3; i++) await review(5, { hallCode: hall, caseId });
    await review(4, { hallCode: hall });
    expect(await mine()).toEqual([]);
    await review(4, { hallCode: hall });
    const [a] = await mine();
    expect(a).toMatchObject({ hallCode: hall, details: { badReviews: 3 } });
  });

  it('counts a department’s bad reviews at its deciding county', async () => {
    const dept = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
    for (let i = 0; i < 3; i++) await review(5, { hallCode: null, departmentId: dept });
    const [a] = await alertsOf('weiningAdmin', '?rule=bad_review_cluster');
    expect(a).toMatchObject({ departmentId: dept, divisionCode: '520526', place: `department:${dept}` });
    expect((await alertsOf('qdnAdmin', '?rule=bad_review_cluster')).map((x) => x.id)).not.toContain(a!.id);
  });
});

describe('scope, acknowledge and resolve', () => {
  let id = '';
  beforeAll(async () => {
    const r = await server.services.warnings.raise({
      rule: 'overdue_spike',
      severity: 'warning',
      divisionCode: '522601',
      period: '2026-06-30',
      title: '凯里市 超期办件 12 件',
    });
    id = r.alert.id;
  });

  it('shows an alert only to those whose scope covers it; acting out of scope is 404, a leader may not act', async () => {
    expect((await alertsOf('qdnLeader')).map((a) => a.id)).toContain(id);
    expect((await alertsOf('duty')).map((a) => a.id)).toContain(id);
    expect((await alertsOf('weiningAdmin')).map((a) => a.id)).not.toContain(id);
    expect((await alertsOf('kailiHallAdmin')).map((a) => a.id)).not.toContain(id); // county-wide, not the hall's
    for (const [action, body] of [
      ['acknowledge', {}],
      ['resolve', { resolution: '越权处置' }],
    ] as const)
      expect(
        (await api('weiningAdmin', 'POST', `/api/v1/alerts/${id}/${action}`, body)).body.error?.code,
      ).toBe('alert.not_found');
    expect(
      (await api('weiningAdmin', 'POST', `/api/v1/alerts/${randomUUID()}/acknowledge`, {})).body.error?.code,
    ).toBe('alert.not_found');
    expect((await api('qdnLeader', 'POST', `/api/v1/alerts/${id}/acknowledge`, {})).status).toBe(403);
    expect((await api('clerk', 'GET', '/api/v1/alerts')).body.error?.code).toBe('alert.role_missing');
    expect((await api('qdnAdmin', 'GET', '/api/v1/alerts?division=5201')).body.error?.code).toBe(
      'alert.scope_missing',
    );
    expect((await alertsOf('qdnAdmin', '?division=522601&rule=overdue_spike')).map((a) => a.id)).toEqual([
      id,
    ]);
    expect((await api('qdnAdmin', 'GET', '/api/v1/alerts?division=52x')).status).toBe(400);
    expect((await api('qdnAdmin', 'GET', '/api/v1/alerts?status=closed')).status).toBe(400);
  });

  it('acknowledges once (with a note, replayable), refuses bad input, resolves with a resolution', async () => {
    const long = 'x'.repeat(501);
    expect(
      (await api('qdnAdmin', 'POST', `/api/v1/alerts/${id}/acknowledge`, { note: long })).body.error,
    ).toMatchObject({
      field: 'note',
    });
    const noKey = await server.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/acknowledge`,
      headers: { authorization: `Bearer ${tokens.qdnAdmin}` },
      payload: {},
    });
    expect(noKey.statusCode).toBe(400);
    const key = randomUUID();
    const ack = await api(
      'qdnAdmin',
      'POST',
      `/api/v1/alerts/${id}/acknowledge`,
      { note: '已通知县政务服务中心核查' },
      key,
    );
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledgeNote: '已通知县政务服务中心核查' });
    expect(ack.body.acknowledgedBy).toBeTruthy();
    const replay = await api(
      'qdnAdmin',
      'POST',
      `/api/v1/alerts/${id}/acknowledge`,
      { note: '已通知县政务服务中心核查' },
      key,
    );
    expect(replay.body).toEqual(ack.body);
    expect((await api('duty', 'POST', `/api/v1/alerts/${id}/acknowledge`, {})).body.error?.code).toBe(
      'alert.already_acknowledged',
    );

    for (const body of [{}, { resolution: ' x ' }, { resolution: 'y'.repeat(501) }, { resolution: 3 }]) {
      const r = await api('qdnAdmin', 'POST', `/api/v1/alerts/${id}/resolve`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.field ?? '', JSON.stringify(body)).toMatch(/resolution/);
    }
    const [still] = await alertsOf('qdnAdmin', '?rule=overdue_spike');
    expect(still).toMatchObject({ status: 'acknowledged', resolvedAt: null }); // nothing changed

    const done = await api('duty', 'POST', `/api/v1/alerts/${id}/resolve`, {
      resolution: '超期件已全部办结',
    });
    expect(done.body).toMatchObject({ status: 'resolved', resolution: '超期件已全部办结' });
    expect(
      (await api('qdnAdmin', 'POST', `/api/v1/alerts/${id}/resolve`, { resolution: '再次处置' })).body.error
        ?.code,
    ).toBe('alert.already_resolved');
    expect((await api('qdnAdmin', 'POST', `/api/v1/alerts/${id}/acknowledge`, {})).body.error?.code).toBe(
      'alert.already_resolved',
    );
    expect((await alertsOf('qdnAdmin', '?status=active')).map((a) => a.id)).not.toContain(id);
  });

  it('lists the rules with their thresholds', async () => {
    const r = await api('qdnLeader', 'GET', '/api/v1/alerts/rules');
    expect(r.status).toBe(200);
    expect((r.body.rules as { id: string }[]).map((x) => x.id)).toContain('offline_share_drop_65_plus');
    expect(r.body.thresholds).toMatchObject({
      overdue_spike: { factor: 2 },
      bad_review_cluster: { minBadReviews: 3 },
    });
  });
});

describe('periodic sweep', () => {
  /** A series of 8 days ending `last` whose latest day has 20 overdue cases (vs 2 before): overdue_spike. */
  function spikeSeries(last: string, scope: string): KpiDaily[] {
    const values = Object.fromEntries(KPI_IDS.map((k) => [k, null])) as Record<KpiId, number | null>;
    return Array.from({ length: 8 }, (_, i) => {
      const d = new Date(`${last}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - 7 + i);
      return {
        day: d.toISOString().slice(0, 10),
        values,
        counts: {
          received: 5,
          open: 100,
          overdue: i === 7 && scope === '522601' ? 20 : 2,
          ratings: 0,
          badReviews: 0,
        },
      };
    });
  }

  function node(clock: () => Date, calls: string[]) {
    const { regions, idempotency } = server.services;
    return new WarningsService(server.database.db, {
      kpi: {
        daily: async (scope, _from, to) => {
          const code = 'divisionCode' in scope ? scope.divisionCode : scope.hallCode;
          calls.push(code);
          return spikeSeries(to, code);
        },
      },
      regions,
      idempotency,
      clock,
    });
  }

  it('de-duplicates two concurrent evaluations into one alert; only one of two nodes claims the sweep', async () => {
    const at = new Date('2031-07-01T02:00:00Z'); // 10:00 in Shanghai
    const calls: string[] = [];
    const [a, b] = [node(() => at, calls), node(() => at, calls)];
    // forced (no claim): both run, the alert is raised once and added to once
    await Promise.all([a.evaluate({ force: true }), b.evaluate({ force: true })]);
    const spikes = (await alertsOf('qdnAdmin', '?rule=overdue_spike&status=active')).filter(
      (x) => x.period === '2031-07-01',
    );
    expect(spikes).toHaveLength(1);
    expect(spikes[0]).toMatchObject({ divisionCode: '522601', occurrences: 2, details: { overdue: 20 } });
    expect(spikes[0]!.title).toMatch(/^凯里市 超期办件 20 件/);
    expect(calls).toContain('52');
    expect(calls).toContain('5226');

    // claimed: of two nodes evaluating at once one sweeps, the other skips; not due again within the interval
    const counted: string[] = [];
    const [c, d] = [node(() => at, counted), node(() => at, counted)];
    const results = await Promise.all([c.evaluate(), d.evaluate()]);
    expect(results.filter((n) => n > 0)).toHaveLength(1);
    expect(counted.filter((x) => x === '522601')).toHaveLength(1);
    const later = new Date(at.getTime() + 60_000);
    expect(await node(() => later, counted).evaluate()).toBe(0);
    expect(counted.filter((x) => x === '522601')).toHaveLength(1);
    const next = new Date(at.getTime() + 5 * 60_000);
    expect(await node(() => next, counted).evaluate()).toBe(1);
    expect(
      (await alertsOf('qdnAdmin', '?rule=overdue_spike&status=active')).find((x) => x.period === '2031-07-01')
        ?.occurrences,
    ).toBe(4);
  });

  it('checks every place even when one place’s KPIs cannot be read, then reports the failure', async () => {
    const at = new Date('2031-05-01T02:00:00Z');
    const { regions, idempotency } = server.services;
    const failing = new WarningsService(server.database.db, {
      kpi: {
        daily: async (scope, _from, to) => {
          const code = 'divisionCode' in scope ? scope.divisionCode : '';
          if (code === '52') throw new Error('rollups unavailable');
          return spikeSeries(to, code);
        },
      },
      regions,
      idempotency,
      clock: () => at,
    });
    await expect(failing.evaluate({ force: true })).rejects.toThrow('rollups unavailable');
    const raised = (await alertsOf('qdnAdmin', '?rule=overdue_spike')).filter(
      (x) => x.period === '2031-05-01',
    );
    expect(raised).toHaveLength(1);
  });

  it('ten raises of one key at once make one alert with ten occurrences', async () => {
    const raise = () =>
      server.services.warnings.raise({
        rule: 'backlog_growth',
        severity: 'warning',
        divisionCode: '522601',
        period: '2031-06-01',
        title: '凯里市 在办积压增长',
      });
    const results = await Promise.all(Array.from({ length: 10 }, raise));
    expect(new Set(results.map((r) => r.alert.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [a] = (await alertsOf('qdnAdmin', '?rule=backlog_growth')).filter((x) => x.period === '2031-06-01');
    expect(a?.occurrences).toBe(10);
  });

  it('does not raise a resolved alert again for the same day; the next day opens a new one', async () => {
    const day1 = new Date('2031-07-01T03:00:00Z');
    const [open] = (await alertsOf('qdnAdmin', '?rule=overdue_spike&status=active')).filter(
      (x) => x.period === '2031-07-01',
    );
    expect(
      (await api('qdnAdmin', 'POST', `/api/v1/alerts/${open!.id}/resolve`, { resolution: '已督办' })).status,
    ).toBe(200);
    expect(await node(() => day1, []).evaluate({ force: true })).toBe(0);
    const day2 = new Date('2031-07-02T03:00:00Z');
    expect(await node(() => day2, []).evaluate({ force: true })).toBe(1);
    const active = await alertsOf('qdnAdmin', '?rule=overdue_spike&status=active');
    expect(active.map((x) => x.period).filter((d) => d.startsWith('2031-07'))).toEqual(['2031-07-02']);
  });
});
