import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { addCalendarDays, parseIsoDate, todayInShanghai } from '../../domain/calendar.ts';
import type { Services } from '../../server/services.ts';
import {
  assertMaySimulate,
  type MovableClock,
  movableClock,
  runSimulation,
  type SimulationSummary,
  simulationJobs,
} from '../../server/simulation/run.ts';

/** What `tongban simulate` needs: services built with the given clock (reference data seeded), and a close. */
export type OpenSimulation = (clock: MovableClock) => Promise<{ services: Services; close(): Promise<void> }>;

/** Where the command writes (stdout/stderr by default; tests pass their own). */
export interface SimulateOutput {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Draw a progress bar (default: stdout is a terminal). */
  tty: boolean;
}

const defaultOutput = (): SimulateOutput => ({
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  tty: Boolean(process.stdout.isTTY),
});

/**
 * The environment a simulation runs its services in: no real SMS gateway or mail server, whatever the
 * shell says — thousands of synthetic residents must not be texted or mailed. Messages are recorded by
 * the development adapter (and DATA_DIR/dev-sms.jsonl) instead.
 */
export function simulationEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SMS_GATEWAY_URL: _sms, SMS_GATEWAY_TOKEN: _token, SMTP_URL: _smtp, ...rest } = env;
  return rest;
}

const counts = (r: Record<string, number | undefined>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v ?? 0}`)
    .join(' · ');

/** The lines printed after a run: what was simulated, how fast, and how to look at it. */
export function formatSimulationSummary(s: SimulationSummary, elapsedMs: number, url: string): string {
  const perSecond = elapsedMs > 0 ? (s.cases.filed / (elapsedMs / 1000)).toFixed(1) : '–';
  const lines = [
    `simulated ${s.days} day(s), ${s.from} … ${s.to}, seed "${s.seed}", scale ${s.scale}: ${s.cases.filed} cases in ${(elapsedMs / 1000).toFixed(1)} s (${perSecond} cases/s)`,
    `  status:     ${counts(s.cases.byStatus)}`,
    `  channels:   ${counts(s.cases.byChannel)}`,
    `  modes:      ${counts(s.cases.byMode)}`,
    `  帮办代办 ${s.cases.byAgent} · legal persons ${s.cases.legalPersons} · 异地 (received outside the deciding county) ${s.cases.crossCounty}`,
    `  supplements ${s.cases.supplementNotices} notices (${s.cases.secondSupplements} second) · decisions planned late ${s.cases.lateDecisions}`,
    `  ratings:    given ${s.ratings.given} (bad ${s.ratings.bad}) · skipped ${s.ratings.skipped} · refused ${s.ratings.refused}`,
    `  hall outage: ${s.outage ? `${s.outage.hallCode} on ${s.outage.day} 10:00–14:30` : 'none (no working day after the first)'}`,
    `  被网办 (older residents pushed online): ${s.pushedOnline ? `${s.pushedOnline.countyCode} from ${s.pushedOnline.from}` : 'none (runs of 14 days or more)'}`,
    `  alerts raised or updated: ${s.alerts}`,
  ];
  const errors = Object.entries(s.errors);
  if (errors.length > 0) lines.push(`  refused steps: ${counts(s.errors)}`);
  lines.push(
    '',
    'to look at it: `tongban seed --demo` (demo staff accounts and passwords), then `tongban serve` and sign in at',
    `  ${url} — 看板 (/staff/dashboard, e.g. as guizhou.leader) shows the last 30 days.`,
  );
  return lines.join('\n');
}

/**
 * `tongban simulate --days N [--scale S] [--seed X] [--start YYYY-MM-DD] [--force]`: fills the database
 * with a living demo province (src/server/simulation, docs/simulation.md) through the real services.
 * The simulated days end yesterday unless `--start` is given. Refused with NODE_ENV=production, and on a
 * database holding cases no simulation filed unless `--force`. Exit code 1 on refusal or bad options.
 */
export function simulateCommands(
  program: Command,
  open: OpenSimulation,
  output: SimulateOutput = defaultOutput(),
  url: () => string = () => 'http://127.0.0.1:3000/staff/',
): void {
  program
    .command('simulate')
    .description(
      'generate N days of province-wide demand through the real services (demo data: KPIs, warnings, dashboards)',
    )
    .option('--days <n>', 'simulated days, ending yesterday', '30')
    .option('--scale <s>', 'volume multiplier (1 ≈ 150 cases per working day)', '1')
    .option('--seed <x>', 'seed of the pseudo-random demand (same seed, same demand)', 'tongban')
    .option(
      '--start <date>',
      'first simulated day (YYYY-MM-DD, Asia/Shanghai) instead of N days before today',
    )
    .option('--force', 'simulate even though the database holds cases no simulation filed')
    .action(async (opts: { days: string; scale: string; seed: string; start?: string; force?: boolean }) => {
      const days = Number(opts.days);
      const scale = Number(opts.scale);
      if (!Number.isInteger(days) || days < 1 || days > 3660) {
        output.err('error: --days must be a whole number from 1 to 3660.');
        process.exitCode = 1;
        return;
      }
      if (!(scale > 0 && scale <= 100)) {
        output.err('error: --scale must be a number above 0 and at most 100.');
        process.exitCode = 1;
        return;
      }
      let start: string;
      try {
        start = opts.start ? parseIsoDate(opts.start, 'start') : addCalendarDays(todayInShanghai(), -days);
      } catch {
        output.err(`error: --start must be a date YYYY-MM-DD; got "${opts.start}".`);
        process.exitCode = 1;
        return;
      }
      if (process.env.NODE_ENV === 'production') {
        output.err(
          'error: tongban simulate fills the database with demo cases, residents and staff: refused with NODE_ENV=production.',
        );
        process.exitCode = 1;
        return;
      }
      const clock = movableClock(new Date(`${start}T07:00:00+08:00`));
      const { services, close } = await open(clock);
      try {
        try {
          await assertMaySimulate(services, { ...(opts.force ? { force: true } : {}) });
        } catch (e) {
          output.err(`error: ${(e as Error).message}`);
          process.exitCode = 1;
          return;
        }
        const bar = output.tty
          ? new cliProgress.SingleBar(
              {
                format: 'simulate [{bar}] {value}/{total} days | {date} | {cases} cases',
                hideCursor: true,
                clearOnComplete: false,
              },
              cliProgress.Presets.shades_classic,
            )
          : null;
        bar?.start(days, 0, { date: start, cases: 0 });
        const started = performance.now();
        const summary = await runSimulation(
          { services, jobs: simulationJobs(services), clock },
          {
            days,
            scale,
            seed: opts.seed,
            start,
            onDay: (p) => {
              if (bar) bar.update(p.day, { date: p.date, cases: p.cases });
              else output.out(`day ${p.day}/${p.days} ${p.date}: ${p.cases} cases so far`);
            },
          },
        );
        bar?.stop();
        output.out(formatSimulationSummary(summary, performance.now() - started, url()));
      } finally {
        await close();
      }
    });
}
