import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../db/sql.ts';
import type { RunningServer } from '../main.ts';
import { startTestServer } from '../testing.ts';
import {
  type MovableClock,
  movableClock,
  runSimulation,
  type SimulationSummary,
  simulationJobs,
} from './run.ts';

/**
 * `tongban simulate` on a real database (PGlite, or PostgreSQL with DATABASE_URL): two working days at a
 * small scale. The runs share one database (starting a seeded server is the slow part): a run depends
 * only on its seed and days — a second run re-draws the people an earlier run registered — so the same
 * seed gives the same summary, another seed another one. The alerts count is left out of the comparison:
 * de-duplicated alerts of the first run are only updated by the second.
 */
let server: RunningServer;
let clock: MovableClock = movableClock(new Date('2025-11-05T07:00:00+08:00'));

beforeAll(async () => {
  server = await startTestServer({ clock: () => clock.now() });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function simulate(seed: string): Promise<SimulationSummary> {
  clock = movableClock(new Date('2025-11-05T07:00:00+08:00'));
  return runSimulation(
    { services: server.services, jobs: simulationJobs(server.services), clock },
    { days: 2, scale: 0.12, seed, start: '2025-11-05' },
  );
}

const comparable = (s: SimulationSummary) => ({ ...s, alerts: undefined });

describe('tongban simulate', () => {
  let first: SimulationSummary;
  it('files cases through the services with every step accepted: channels, agents, supplements, an outage', async () => {
    first = await simulate('alpha');
    expect(first.errors).toEqual({});
    expect(first.from).toBe('2025-11-05');
    expect(first.to).toBe('2025-11-06');
    expect(first.cases.filed).toBeGreaterThan(20);
    expect(Object.keys(first.cases.byChannel).sort()).toEqual([
      'hall_window',
      'mobile',
      'pc',
      'village_agent',
    ]);
    expect(first.cases.byAgent).toBeGreaterThan(0);
    expect(first.cases.supplementNotices).toBeGreaterThan(0);
    expect(first.outage?.day).toBe('2025-11-06');
    const statuses = Object.values(first.cases.byStatus).reduce((a, b) => a + (b ?? 0), 0);
    expect(statuses).toBe(first.cases.filed);
  }, 120_000);

  it('left the traces the services write: timelines, case outbox events with facts, the outage event, agents on their cases', async () => {
    const db = server.database.db;
    const cases = rowsOf<{ number: string; channel: string }>(
      await db.execute(sql`select number, channel from cases order by number`),
    );
    expect(cases.length).toBe(first.cases.filed);
    const timeline = await server.services.cases.timeline(cases[0]!.number);
    expect(timeline[0]!.type).toBe('submit');
    expect(timeline.length).toBeGreaterThan(1);
    const topics = rowsOf<{ topic: string; n: number | string }>(
      await db.execute(sql`select topic, count(*) as n from outbox group by topic order by topic`),
    );
    const names = topics.map((t) => t.topic);
    expect(names).toEqual(
      expect.arrayContaining(['case.receive', 'case.forward', 'case.accept', 'hall.status_changed']),
    );
    const outage = rowsOf<{ payload: { hallCode: string; to: string; at: string } }>(
      await db.execute(sql`select payload from outbox where topic = 'hall.status_changed' order by id`),
    ).map((r) => r.payload);
    expect(outage.map((p) => [p.hallCode, p.to])).toEqual([
      [first.outage!.hallCode, 'offline'],
      [first.outage!.hallCode, 'open'],
    ]);
    // the simulated clock: the outage happened on the simulated day, not today
    expect(outage[0]!.at.startsWith('2025-11-06T02:00')).toBe(true);
    const facts = rowsOf<{ payload: { facts?: { on: string } } }>(
      await db.execute(sql`select payload from outbox where topic = 'case.receive' limit 1`),
    )[0]!.payload.facts;
    expect(['2025-11-05', '2025-11-06']).toContain(facts?.on);
    const agentCase = cases.find((c) => c.channel === 'village_agent')!;
    const view = await server.services.cases.get(agentCase.number);
    expect(view.agent).toMatchObject({ kind: 'village_agent' });
    const submit = (await server.services.cases.timeline(agentCase.number))[0]!;
    expect(submit.actor).toMatchObject({ kind: 'agent' });
    expect((submit.actor as { onBehalfOf?: string }).onBehalfOf).toMatch(/^[0-9a-f-]{36}$/);
    // the jobs loop ran: the outbox is dispatched
    const pending = rowsOf<{ n: number | string }>(
      await db.execute(sql`select count(*) as n from outbox where dispatched_at is null`),
    )[0]!;
    expect(Number(pending.n)).toBe(0);
  });

  it('is deterministic: the same seed gives the same summary, another seed another one', async () => {
    const again = await simulate('alpha');
    expect(comparable(again)).toEqual(comparable(first));
    const other = await simulate('beta');
    expect(other.errors).toEqual({});
    expect(comparable(other)).not.toEqual(comparable(first));
    expect((await server.services.simulation.totals()).cases).toBe(
      first.cases.filed + again.cases.filed + other.cases.filed,
    );
  }, 120_000);
});
