import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { AppError } from '../../domain/errors.ts';

/**
 * The database layer. One type, {@link Db}, for both drivers:
 * - embedded PGlite (default): a data folder (`DATA_DIR/pgdata`) created on first start, locked so a
 *   second process gets a clear error instead of corrupting it (PGlite does not lock by itself);
 * - PostgreSQL ≥ 15 when a `postgres://` URL is given.
 *
 * Driver differences are normalised here and in ./sql.ts only (e.g. `count(*)` is a number in PGlite
 * and a string in node-postgres).
 */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** A transaction handle has the same query API as {@link Db}. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Human description for logs: folder or host/database (never the password). */
  describe: string;
  /**
   * Subscribes to PostgreSQL notifications on `channel` (sent with `pg_notify` inside a transaction:
   * delivered only when it commits, to every node listening). PGlite delivers them in-process.
   * @returns a function that stops listening.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`listen: "${channel}" is not a valid channel name`);
}

function pgliteListen(client: PGlite): Database['listen'] {
  return async (channel, onPayload) => {
    checkChannel(channel);
    const unsubscribe = await client.listen(channel, onPayload);
    return async () => {
      await unsubscribe();
    };
  };
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Key of the PostgreSQL advisory lock that serialises migrations across API nodes. */
const MIGRATION_LOCK_KEY = 7_241_0001;

export interface OpenOptions {
  /** postgres://… — when absent, embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data folder parent (the database lives in `<dataDir>/pgdata`). Absent: in memory. */
  dataDir?: string | undefined;
  /** Run pending migrations after connecting (default true). Idempotent. */
  migrate?: boolean;
}

/**
 * Opens the database and (by default) applies pending migrations.
 * @throws AppError(unavailable, `db.data_dir_locked`) when another process holds the PGlite folder.
 * @throws AppError(unavailable, `db.connect_failed`) when PostgreSQL cannot be reached.
 */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const database = options.databaseUrl
    ? await openPostgres(options.databaseUrl)
    : await openPglite(options.dataDir);
  if (options.migrate !== false) {
    try {
      await runMigrations(database);
    } catch (e) {
      await database.close();
      throw e;
    }
  }
  return database;
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir === undefined) {
    const client = new PGlite();
    await client.waitReady;
    const db = drizzlePglite({ client }) as unknown as Db;
    pgliteClients.set(db, client);
    return {
      db,
      kind: 'pglite',
      describe: 'PGlite (in memory)',
      listen: pgliteListen(client),
      close: () => client.close(),
    };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const pgdata = path.join(dataDir, 'pgdata');
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: path.join(dataDir, 'tongban.lock'),
      stale: 10_000,
      update: 2_000,
      retries: 0,
      realpath: false,
    });
  } catch (cause) {
    throw new AppError(
      'unavailable',
      'db.data_dir_locked',
      `The embedded database in ${dataDir} is in use by another tongban process ` +
        '(or by one that stopped abruptly less than 10 seconds ago: then wait and retry). ' +
        'Stop that process, or set DATA_DIR to another folder, or use DATABASE_URL for a shared PostgreSQL.',
      { field: 'DATA_DIR', cause },
    );
  }
  try {
    const client = new PGlite(pgdata);
    await client.waitReady;
    const db = drizzlePglite({ client }) as unknown as Db;
    pgliteClients.set(db, client);
    return {
      db,
      kind: 'pglite',
      describe: `PGlite at ${pgdata}`,
      listen: pgliteListen(client),
      close: async () => {
        await client.close();
        await release();
      },
    };
  } catch (e) {
    await release();
    throw e;
  }
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection dropped by the server (restart, DROP DATABASE … FORCE in tests) must not crash the
  // process: the pool replaces it on the next query.
  pool.on('error', (e) => {
    if ((e as { code?: string }).code !== '57P01')
      console.error('PostgreSQL idle connection error:', e.message);
  });
  try {
    const c = await pool.connect();
    c.release();
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new AppError(
      'unavailable',
      'db.connect_failed',
      `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${(cause as Error).message}. ` +
        'Check DATABASE_URL, or unset it to use the embedded database.',
      { field: 'DATABASE_URL', cause },
    );
  }
  const db = drizzlePg({ client: pool }) as unknown as Db;
  pgPools.set(db, pool);
  const listeners = new Set<pg.Client>();
  const listen: Database['listen'] = async (channel, onPayload) => {
    checkChannel(channel);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    client.on('notification', (n) => {
      if (n.channel === channel) onPayload(n.payload ?? '');
    });
    await client.query(`LISTEN ${channel}`);
    listeners.add(client);
    return async () => {
      listeners.delete(client);
      await client.end().catch(() => {});
    };
  };
  return {
    db,
    kind: 'postgres',
    describe: `PostgreSQL ${redactUrl(url)}`,
    listen,
    close: async () => {
      await Promise.all([...listeners].map((c) => c.end().catch(() => {})));
      await pool.end();
    },
  };
}

const pgliteClients = new WeakMap<Db, PGlite>();
const pgPools = new WeakMap<Db, pg.Pool>();

/**
 * Applies pending SQL migrations from migrations/ (forward-only, idempotent). On PostgreSQL an advisory
 * lock serialises concurrent starts of several API nodes.
 */
export async function runMigrations(database: Database): Promise<void> {
  const client = pgliteClients.get(database.db);
  if (client) {
    await migratePglite(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  const pool = pgPools.get(database.db);
  if (!pool) throw new Error('runMigrations: unknown database handle');
  const conn = await pool.connect();
  try {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migratePg(drizzlePg({ client: conn }) as never, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    conn.release();
  }
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
