import { defineConfig } from 'vitest/config';

/**
 * Browser end-to-end tests (e2e/**\/*.e2e.ts): the real server on a throwaway embedded database, the
 * built web client (run `npm run build:web` first), Debian's Chromium driven by playwright-core.
 * One worker, one file after another: each file starts its own server and browser.
 */
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
