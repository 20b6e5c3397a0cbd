import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from './index.ts';

/**
 * A fresh, migrated database for one test file — real, never mocked:
 * - without DATABASE_URL: an in-memory PGlite;
 * - with DATABASE_URL: a throwaway database `tongban_test_<random>` created on that PostgreSQL server and
 *   dropped again by `close()`, so test files can run in parallel.
 */
export async function openTestDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({});
  const name = `tongban_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: u.toString() });
  const handle: Database = {
    ...database,
    close: async () => {
      await database.close();
      await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  urls.set(handle, u.toString());
  return handle;
}

const urls = new WeakMap<Database, string>();

/**
 * A second, independent handle on a database from {@link openTestDatabase}, as a second API node has: on
 * PostgreSQL its own pool and its own LISTEN connections to the same database (close it before the
 * first); on PGlite — one process, one embedded database — the same instance (its `close` does nothing).
 */
export async function openSecondHandle(database: Database): Promise<Database> {
  const url = urls.get(database);
  if (!url) return { ...database, close: async () => {} };
  return openDatabase({ databaseUrl: url, migrate: false });
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
