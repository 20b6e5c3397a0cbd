import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../testing/app-error.ts';
import type { Database } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { OutboxService } from '../outbox/service.ts';
import { IdempotencyService } from './service.ts';

let database: Database;
let idem: IdempotencyService;
let outbox: OutboxService;
beforeAll(async () => {
  database = await openTestDatabase();
  idem = new IdempotencyService(database.db);
  outbox = new OutboxService(database.db);
});
afterAll(() => database?.close());

const countOutbox = async () =>
  toInt(rowsOf<{ n: unknown }>(await database.db.execute(sql`select count(*) as n from outbox`))[0]!.n);

describe('idempotency keys and the outbox', () => {
  it('runs the effect once; a replay returns the first result and creates nothing', async () => {
    let runs = 0;
    const effect = async (tx: Parameters<Parameters<IdempotencyService['run']>[3]>[0]) => {
      runs++;
      await outbox.append(tx, [
        { topic: 't.created', aggregateType: 't', aggregateId: 'a1', payload: { n: runs } },
      ]);
      return { id: 'a1', at: new Date('2026-11-29T00:00:00Z') };
    };
    const first = await idem.run('POST /t|u1', 'key-00000001', { x: 1, y: [1, 2] }, effect);
    const again = await idem.run('POST /t|u1', 'key-00000001', { y: [1, 2], x: 1 }, effect);
    expect(first).toEqual({ replayed: false, value: { id: 'a1', at: '2026-11-29T00:00:00.000Z' } });
    expect(again).toEqual({ replayed: true, value: first.value });
    expect(runs).toBe(1);
    expect(await countOutbox()).toBe(1);
  });

  it('refuses the same key for a different request, and a malformed key, changing nothing', async () => {
    const e = await rejectionOf(idem.run('POST /t|u1', 'key-00000001', { x: 2 }, async () => 'other'));
    expect([e.code, e.status, e.field]).toEqual(['idempotency.key_reused', 409, 'Idempotency-Key']);
    expect((await rejectionOf(idem.run('POST /t|u1', 'short', {}, async () => 1))).code).toBe(
      'idempotency.key_malformed',
    );
    // The same key in another scope (another client or endpoint) is independent.
    expect((await idem.run('POST /t|u2', 'key-00000001', { x: 2 }, async () => 'mine')).value).toBe('mine');
  });

  it('a failed effect leaves neither the key nor its events, so a retry runs again', async () => {
    const before = await countOutbox();
    const failing = idem.run('POST /t|u1', 'key-00000002', {}, async (tx) => {
      await outbox.append(tx, [{ topic: 't.created', aggregateType: 't', aggregateId: 'a2', payload: {} }]);
      throw new Error('crash mid-request');
    });
    await expect(failing).rejects.toThrow('crash mid-request');
    expect(await countOutbox()).toBe(before);
    expect((await idem.run('POST /t|u1', 'key-00000002', {}, async () => 'ok')).replayed).toBe(false);
  });

  it('dispatches each outbox event once to every handler, in order', async () => {
    const seen: string[] = [];
    outbox.subscribe(async (_tx, e) => {
      seen.push(`${e.aggregateId}:${e.topic}`);
    });
    expect(await outbox.dispatch()).toBe(await countOutbox());
    expect(await outbox.dispatch()).toBe(0);
    expect(seen).toEqual(['a1:t.created']);
  });

  it('a handler failure rolls the batch back; the next dispatch retries it', async () => {
    await database.db.transaction((tx) =>
      outbox.append(tx, [{ topic: 't.x', aggregateType: 't', aggregateId: 'a3', payload: {} }]),
    );
    const flaky = new OutboxService(database.db);
    let fail = true;
    const got: string[] = [];
    flaky.subscribe(async (_tx, e) => {
      if (fail) throw new Error('handler down');
      got.push(e.aggregateId);
    });
    await expect(flaky.dispatch()).rejects.toThrow('handler down');
    fail = false;
    expect(await flaky.dispatch()).toBe(1);
    expect(got).toEqual(['a3']);
  });
});
