import { defineConfig } from 'vitest/config';

/**
 * Unit + integration tests (src/**). They run on embedded PGlite by default and on PostgreSQL when
 * DATABASE_URL is set (each test file gets its own throwaway database; see src/server/db/testing.ts).
 * Browser tests live in e2e/ and have their own config.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every file's stdout/stderr/console is scanned for ID numbers and phone numbers (fails the file).
    setupFiles: ['src/testing/log-scan.setup.ts'],
  },
});
