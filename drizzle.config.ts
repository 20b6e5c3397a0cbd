import { defineConfig } from 'drizzle-kit';

/** drizzle-kit generates forward-only SQL migrations into migrations/ from every module's schema.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/server/modules/*/schema.ts',
  out: './migrations',
});
