import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, redactUrl, runMigrations } from './index.ts';
import { countAll, rowsOf, toInt } from './sql.ts';
import { openTestDatabase } from './testing.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-db-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('database layer', () => {
  it('migrations are idempotent: running them again changes nothing', async () => {
    const database = await openTestDatabase();
    try {
      const before = rowsOf<{ n: unknown }>(
        await database.db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`),
      );
      await runMigrations(database);
      const after = rowsOf<{ n: unknown }>(
        await database.db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`),
      );
      expect(toInt(after[0]!.n)).toBe(toInt(before[0]!.n));
      expect(toInt(before[0]!.n)).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });

  it('normalises count(*) to a JS number on both drivers', async () => {
    const database = await openTestDatabase();
    try {
      const { divisions } = await import('../modules/regions/schema.ts');
      await database.db
        .insert(divisions)
        .values({ code: '52', name: '贵州省', level: 'province', parentCode: null, countyCode: null });
      const [row] = await database.db.select({ n: countAll() }).from(divisions);
      expect(row?.n).toBe(1);
      expect(typeof row?.n).toBe('number');
    } finally {
      await database.close();
    }
  });

  it('creates the PGlite data folder on first open and keeps data across restarts', async () => {
    const dir = path.join(tmp, 'persist');
    const a = await openDatabase({ dataDir: dir });
    await a.db.execute(sql`create table if not exists t_keep (x int)`);
    await a.db.execute(sql`insert into t_keep values (42)`);
    await a.close();
    expect(fs.existsSync(path.join(dir, 'pgdata'))).toBe(true);
    const b = await openDatabase({ dataDir: dir });
    const rows = rowsOf<{ x: number }>(await b.db.execute(sql`select x from t_keep`));
    expect(rows.map((r) => r.x)).toEqual([42]);
    await b.close();
  });

  it('refuses a second opener of the same PGlite folder with a clear error, and frees it on close', async () => {
    const dir = path.join(tmp, 'locked');
    const first = await openDatabase({ dataDir: dir });
    await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({
      code: 'db.data_dir_locked',
      field: 'DATA_DIR',
      message: expect.stringContaining('in use by another tongban process'),
    });
    await first.close();
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  });

  it('delivers notifications sent inside a transaction only when it commits (LISTEN/NOTIFY)', async () => {
    const database = await openTestDatabase();
    const got: string[] = [];
    const stop = await database.listen('tongban_test', (p) => got.push(p));
    try {
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_notify('tongban_test', 'committed')`);
      });
      await expect(
        database.db.transaction(async (tx) => {
          await tx.execute(sql`select pg_notify('tongban_test', 'rolled back')`);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual(['committed']);
    } finally {
      await stop();
      await database.close();
    }
  });

  it('reports an unreachable PostgreSQL clearly and never prints the password', async () => {
    await expect(openDatabase({ databaseUrl: 'postgres://u:secret@127.0.0.1:1/x' })).rejects.toMatchObject({
      code: 'db.connect_failed',
      message: expect.not.stringContaining('secret'),
    });
    expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });
});
