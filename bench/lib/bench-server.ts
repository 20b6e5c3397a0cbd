/**
 * A throwaway PostgreSQL database with a tongban server on it, for benchmarks: created from
 * DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), seeded by the server's
 * start, and always dropped afterwards — also on failure, SIGINT or SIGTERM.
 */
import pg from 'pg';
import type { RunningServer } from '../../src/server/main.ts';

export async function withBenchServer(
  run: (server: RunningServer, dbUrl: string) => Promise<void>,
  cleanup: () => Promise<void> | void = () => {},
): Promise<void> {
  const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `tongban_bench_${process.pid}`;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  let server: RunningServer | undefined;
  const drop = async () => {
    await Promise.resolve(cleanup()).catch(() => {});
    await server?.close().catch(() => {});
    server = undefined;
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  };
  const onSignal = () => {
    drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Imported here so that a load worker importing a bench file does not load the server.
    const { loadConfig } = await import('../../src/server/config.ts');
    const { startServer } = await import('../../src/server/main.ts');
    server = await startServer(
      loadConfig({
        DATABASE_URL: dbUrl.toString(),
        PORT: '0',
        LOG_LEVEL: 'silent',
        RATE_LIMIT_MAX: '100000000',
        JOBS_INTERVAL_MS: '0',
      }),
      { listen: true },
    );
    await run(server, dbUrl.toString());
  } finally {
    await drop();
    await admin.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
