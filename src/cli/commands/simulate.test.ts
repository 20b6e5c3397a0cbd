import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main.ts';
import { movableClock } from '../../server/simulation/run.ts';
import { startTestServer } from '../../server/testing.ts';
import { kailiToWeiningApplication } from '../../testing/applications.ts';
import { cliHarness } from '../../testing/cli.ts';
import { simulateCommands, simulationEnv } from './simulate.ts';

let server: RunningServer;
let clock = movableClock(new Date('2025-11-05T07:00:00+08:00'));

beforeAll(async () => {
  server = await startTestServer({ clock: () => clock.now() });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const cli = cliHarness((program, io, close) =>
  simulateCommands(
    program,
    async (c) => {
      clock = c;
      return { services: server.services, close };
    },
    { ...io, tty: false },
  ),
);

describe('tongban simulate (CLI)', () => {
  it('simulates a day and prints the summary, the cases/s and how to look at it', async () => {
    const code = await cli.run(
      'simulate',
      '--days',
      '1',
      '--scale',
      '0.05',
      '--seed',
      'cli',
      '--start',
      '2025-11-05',
    );
    expect(cli.err).toEqual([]);
    expect(code).toBe(0);
    const text = cli.out.join('\n');
    expect(text).toContain('day 1/1 2025-11-05');
    expect(text).toMatch(
      /simulated 1 day\(s\), 2025-11-05 … 2025-11-05, seed "cli", scale 0\.05: \d+ cases in [\d.]+ s \([\d.]+ cases\/s\)/,
    );
    expect(text).toMatch(/channels: {3}hall_window \d+/);
    expect(text).toContain('tongban seed --demo');
    expect(text).toContain('tongban serve');
    expect(text).not.toContain('refused steps');
    expect(cli.closed).toBe(1);
  }, 120_000);

  it('refuses bad options, production, and a database with cases no simulation filed (unless --force)', async () => {
    expect(await cli.run('simulate', '--days', '0')).toBe(1);
    expect(cli.err.join('')).toMatch(/--days must be a whole number/);
    expect(await cli.run('simulate', '--days', '2', '--start', '2025-02-30')).toBe(1);
    expect(cli.err.join('')).toMatch(/--start must be a date/);
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(await cli.run('simulate', '--days', '1')).toBe(1);
      expect(cli.err.join('')).toMatch(/refused with NODE_ENV=production/);
    } finally {
      process.env.NODE_ENV = env;
    }
    // a real walk-in case, filed outside any simulation's days (the services' clock is the movable one the
    // first run left at the end of its day: a case filed then lies inside that run's days)
    clock = movableClock(new Date('2025-11-20T10:00:00+08:00'));
    await server.services.cases.submit(kailiToWeiningApplication('311'), {
      actor: { kind: 'staff', id: 'kaili-window', hallCode: '522601-zwfw' },
      idempotencyKey: randomUUID(),
    });
    expect(await cli.run('simulate', '--days', '1', '--scale', '0.02', '--start', '2025-11-06')).toBe(1);
    expect(cli.err.join('')).toMatch(/holds 1 case\(s\) that no simulation filed.*--force/);
    expect(
      await cli.run('simulate', '--days', '1', '--scale', '0.02', '--start', '2025-11-06', '--force'),
    ).toBe(0);
  }, 120_000);

  it('never lets the simulation text or mail anyone: the gateway settings are dropped', () => {
    expect(
      simulationEnv({ SMS_GATEWAY_URL: 'https://sms.example', SMTP_URL: 'smtp://x', DATA_DIR: '/d' }),
    ).toEqual({ DATA_DIR: '/d' });
  });
});
