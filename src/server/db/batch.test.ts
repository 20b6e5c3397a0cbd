import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteBatch } from './batch.ts';
import type { Database } from './index.ts';
import { rowsOf, toInt } from './sql.ts';
import { openTestDatabase } from './testing.ts';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.execute(sql`create table batch_a (id int primary key, note text not null)`);
  await database.db.execute(sql`create table batch_b (id int primary key, a_id int not null)`);
  await database.db.execute(sql`insert into batch_a values (1, 'before')`);
});
afterAll(() => database.close());

const count = async (table: string) =>
  toInt(
    rowsOf<{ n: unknown }>(await database.db.execute(sql.raw(`select count(*) as n from ${table}`)))[0]!.n,
  );

describe('WriteBatch', () => {
  it('sends its writes and notifications in one statement; listeners hear them only on commit', async () => {
    const heard: string[] = [];
    const stop = await database.listen('batch_test', (p) => heard.push(p));
    try {
      await database.db.transaction(async (tx) => {
        const batch = new WriteBatch();
        batch.add(sql`update batch_a set note = 'after' where id = 1`);
        batch.add(sql`insert into batch_b values (10, 1)`);
        batch.add(sql`insert into batch_b values (11, 1)`);
        batch.notify('batch_test', 'one');
        batch.notify('batch_test', 'two');
        expect(batch.size).toBe(5);
        await batch.flush(tx);
        expect(batch.size).toBe(0);
        await new Promise((r) => setTimeout(r, 100));
        expect(heard).toEqual([]); // not yet committed
      });
      for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard.sort()).toEqual(['one', 'two']);
      expect(await count('batch_b')).toBe(2);
      const [a] = rowsOf<{ note: string }>(
        await database.db.execute(sql`select note from batch_a where id = 1`),
      );
      expect(a!.note).toBe('after');
    } finally {
      await stop();
    }
  });

  it('a failing write fails the whole batch: nothing of it is applied', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        const batch = new WriteBatch();
        batch.add(sql`update batch_a set note = 'lost' where id = 1`);
        batch.add(sql`insert into batch_b values (20, 1)`);
        batch.add(sql`insert into batch_b values (10, 1)`); // duplicate key
        await batch.flush(tx);
      }),
    ).rejects.toThrow();
    expect(await count('batch_b')).toBe(2);
    const [a] = rowsOf<{ note: string }>(
      await database.db.execute(sql`select note from batch_a where id = 1`),
    );
    expect(a!.note).toBe('after');
  });

  it('an empty batch sends nothing; a lone write is sent as it is', async () => {
    await database.db.transaction(async (tx) => {
      const batch = new WriteBatch();
      await batch.flush(tx);
      batch.add(sql`insert into batch_b values (30, 1)`);
      await batch.flush(tx);
    });
    expect(await count('batch_b')).toBe(3);
  });
});
