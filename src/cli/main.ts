#!/usr/bin/env node
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { isAppError } from '../domain/errors.ts';
import { loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/index.ts';
import { startServer } from '../server/main.ts';
import {
  createServices,
  type LoadSummary,
  seedCatalog,
  seedReferenceData,
  summarize,
} from '../server/services.ts';
import { accountCommands, grantCommands } from './commands/account.ts';
import { auditCommands } from './commands/audit.ts';
import { calendarCommands } from './commands/calendar.ts';
import { catalogCommands } from './commands/catalog.ts';
import { formatDemoAccounts, seedDemoStaff } from './commands/demo.ts';
import { piiCommands } from './commands/pii.ts';
import { simulateCommands, simulationEnv } from './commands/simulate.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Human summary of what the database holds (printed by `serve` and `seed`). */
export function formatSummary(s: LoadSummary): string {
  const d = s.divisions;
  const h = s.halls;
  const upper = h.province + h.prefecture + h.county;
  return [
    `divisions:    ${fmt(d.province)} province · ${fmt(d.prefecture)} prefectures · ${fmt(d.county)} counties · ${fmt(d.township)} townships · ${fmt(d.village)} villages`,
    `halls:        ${fmt(upper)} county-and-up (${h.province} province, ${h.prefecture} prefecture, ${h.county} county) + ${fmt(h.township)} 便民服务中心 + ${fmt(h.village)} 服务站`,
    `departments:  ${fmt(s.departments)}`,
    `catalog:      ${fmt(s.catalog.items)} service items · ${fmt(s.catalog.materials)} materials · ${fmt(s.catalog.implementations)} implementations (实施清单)`,
  ].join('\n');
}

async function openServices() {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const services = await createServices(database, config);
  return { config, database, services, close: () => database.close() };
}

export function buildProgram(): Command {
  const program = new Command('tongban')
    .description('通办 — province-wide unified government services')
    .showHelpAfterError();

  program
    .command('serve')
    .description(
      'migrate, seed when empty, and serve the API and web app (PORT, HOST, DATA_DIR, DATABASE_URL)',
    )
    .action(async () => {
      const config = loadConfig();
      const server = await startServer(config);
      console.log(`tongban is listening on ${server.url}  (API docs: ${server.url}/docs)`);
      console.log(`database:     ${server.database.describe}`);
      console.log(formatSummary(server.summary));
      const stop = async (signal: string) => {
        console.log(`\n${signal}: shutting down`);
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('seed')
    .description(
      'load the shipped reference data (divisions, departments, halls, sample catalog); idempotent',
    )
    .option('--demo', 'also create demo staff accounts for the workbench (/staff/) and print their passwords')
    .action(async (opts: { demo?: boolean }) => {
      const { config, database, services, close } = await openServices();
      try {
        await seedReferenceData(database, services);
        await seedCatalog(services);
        console.log(formatSummary(await summarize(services)));
        if (opts.demo) {
          const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/staff/`;
          console.log(formatDemoAccounts(await seedDemoStaff(services), url));
        }
      } finally {
        await close();
      }
    });

  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending SQL migrations (also done on every start); idempotent')
    .action(async () => {
      const config = loadConfig();
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      console.log(`migrations applied: ${database.describe}`);
      await database.close();
    });

  const openCalendar = async () => {
    const { services, close } = await openServices();
    return { calendar: services.calendar, recompute: () => services.cases.recomputeOpenClocks(), close };
  };
  calendarCommands(program, openCalendar);
  catalogCommands(program, async () => {
    const { services, close } = await openServices();
    return { catalog: services.catalog, departments: services.departments, close };
  });
  auditCommands(program, async () => {
    const { services, close } = await openServices();
    return { audit: services.audit, close };
  });

  accountCommands(program, async () => {
    const { services, close } = await openServices();
    return { identity: services.identity, close };
  });

  grantCommands(program, async () => {
    const { services, close } = await openServices();
    return { identity: services.identity, close };
  });

  piiCommands(program, async () => {
    const { services, close } = await openServices();
    return { rotate: (limit) => services.pii.rotate(limit), close };
  });

  simulateCommands(
    program,
    async (clock) => {
      const config = loadConfig();
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      const services = await createServices(database, {
        ...config,
        clock: clock.now,
        env: simulationEnv(process.env),
      });
      await seedReferenceData(database, services);
      await seedCatalog(services);
      return { services, close: () => database.close() };
    },
    undefined,
    () => {
      const config = loadConfig();
      return `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/staff/`;
    },
  );

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (isAppError(e)) {
      console.error(`error [${e.code}]: ${e.message}`);
      for (const i of e.issues ?? []) {
        if (!e.message.includes(i.message)) console.error(`  - ${i.field}: ${i.message}`);
      }
      process.exitCode = 1;
      return;
    }
    // File-system and network errors (ENOENT, EISDIR, EACCES, ECONNREFUSED …): one line, no stack.
    const code = (e as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      console.error(`error [${code}]: ${(e as Error).message}`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}

// Run when executed directly — also through the npm bin link (node_modules/.bin/tongban → src/cli/main.ts).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv);
}
