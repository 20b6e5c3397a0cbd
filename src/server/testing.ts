import { loadConfig } from './config.ts';
import { openTestDatabase } from './db/testing.ts';
import { type RunningServer, startServer } from './main.ts';

/**
 * A whole tongban server (all modules, seeded reference data) on a fresh test database, without a
 * listening port: drive it with `server.app.inject(...)`. Real database (PGlite, or PostgreSQL when
 * DATABASE_URL is set), nothing mocked. `close()` drops the database.
 */
export async function startTestServer(): Promise<RunningServer> {
  const database = await openTestDatabase();
  const server = await startServer(
    loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000', JOBS_INTERVAL_MS: '0' }),
    {
      listen: false,
      database,
    },
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await database.close();
    },
  };
}
