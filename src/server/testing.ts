import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { openTestDatabase } from './db/testing.ts';
import { type RunningServer, startServer } from './main.ts';

/**
 * A whole tongban server (all modules, seeded reference data) on a fresh test database, without a
 * listening port: drive it with `server.app.inject(...)`. Real database (PGlite, or PostgreSQL when
 * DATABASE_URL is set) and a temporary DATA_DIR for files; nothing mocked. `close()` drops both.
 * Background jobs do not run by themselves: call `server.jobs.runOnce()`. `clock` (optional) is the
 * current instant of the case engine and the identity module, e.g. to let a grant expire.
 */
export async function startTestServer(options: { clock?: () => Date } = {}): Promise<RunningServer> {
  const database = await openTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-test-'));
  const server = await startServer(
    loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000', JOBS_INTERVAL_MS: '0', DATA_DIR: dataDir }),
    { listen: false, database, ...(options.clock ? { clock: options.clock } : {}) },
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
