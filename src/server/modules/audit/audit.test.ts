import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../testing/app-error.ts';
import type { Database } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { startJobs } from '../../jobs/runner.ts';
import { loadAuditConfig } from './config.ts';
import {
  AUDIT_GENESIS_HASH,
  type AuditEntryInput,
  AuditService,
  assertNoSensitiveDetails,
} from './service.ts';

let database: Database;
let audit: AuditService;
beforeAll(async () => {
  database = await openTestDatabase();
  audit = new AuditService(database.db);
});
afterAll(() => database?.close());

const exec = (q: ReturnType<typeof sql>) => database.db.execute(q);
const count = async (where = sql`true`) =>
  toInt(
    rowsOf<{ n: unknown }>(await exec(sql`select count(*) as n from audit_entries where ${where}`))[0]!.n,
  );

const entry = (i: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  actor: { kind: 'staff', id: `staff-${i % 3}` },
  action: i % 2 === 0 ? 'case.accept' : 'case.forward',
  target: { type: 'case', id: `case-${i}` },
  details: { n: i, note: `第${i}件` },
  ...extra,
});

/** Empties the log and builds a fresh chain of `n` entries; returns their ids in chain order. */
async function freshChain(n: number): Promise<string[]> {
  await exec(sql`delete from audit_entries`);
  await exec(sql`delete from audit_chain`);
  for (let i = 1; i <= n; i++) {
    // One transaction per entry: distinct `at`, so chain order is append order.
    await database.db.transaction((tx) => audit.append(tx, entry(i)));
  }
  expect(await audit.chainAll()).toBe(n);
  const rows = rowsOf<{ id: string }>(
    await exec(sql`select id::text as id from audit_entries order by chain_seq`),
  );
  return rows.map((r) => r.id);
}

describe('append and chain', () => {
  beforeEach(async () => {
    await exec(sql`delete from audit_entries`);
    await exec(sql`delete from audit_chain`);
  });

  it('an entry appended in a transaction that rolls back never appears', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await audit.append(tx, entry(1));
        throw new Error('the audited change failed');
      }),
    ).rejects.toThrow('the audited change failed');
    await database.db.transaction((tx) => audit.append(tx, entry(2)));
    expect(await count()).toBe(1);
    expect(await audit.pending()).toBe(1);
    expect(await audit.chain()).toBe(1);
    const [row] = rowsOf<{ target_id: string }>(await exec(sql`select target_id from audit_entries`));
    expect(row!.target_id).toBe('case-2');
  });

  it('chain assigns consecutive positions from 1, continuing across calls, and verify is green', async () => {
    for (let i = 0; i < 7; i++) await audit.record(entry(i));
    expect(await audit.chain(3)).toBe(3);
    expect(await audit.chain(3)).toBe(3);
    await audit.record(entry(7));
    expect(await audit.chain(100)).toBe(2);
    expect(await audit.chain()).toBe(0);
    const seqs = rowsOf<{ s: unknown }>(
      await exec(sql`select chain_seq as s from audit_entries order by chain_seq`),
    );
    expect(seqs.map((r) => toInt(r.s))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = await audit.verify({ batchSize: 3 });
    expect(r).toMatchObject({ ok: true, checked: 8, from: 0, pending: 0, head: { chainSeq: 8 } });
    expect(r.head.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.head.hash).not.toBe(AUDIT_GENESIS_HASH);
  });

  it('an empty log verifies', async () => {
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 0, pending: 0, head: { chainSeq: 0 } });
  });

  it('two chainers racing (and writers appending meanwhile) never fork or duplicate positions', async () => {
    const writers = Array.from({ length: 4 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 40; i++)
          await database.db.transaction((tx) => audit.append(tx, entry(w * 100 + i)));
      })(),
    );
    const other = new AuditService(database.db);
    let done = false;
    const chainer = async (s: AuditService) => {
      let total = 0;
      while (!done) total += await s.chain(7);
      return total;
    };
    const racing = Promise.all([chainer(audit), chainer(other), audit.chain(5), other.chain(5)]);
    await Promise.all(writers);
    done = true;
    const [a, b, c, d] = await racing;
    const rest = await audit.chainAll();
    expect(a + b + c + d + rest).toBe(160);
    const stats = rowsOf<{ n: unknown; d: unknown; mx: unknown; mn: unknown }>(
      await exec(
        sql`select count(*) as n, count(distinct chain_seq) as d, max(chain_seq) as mx, min(chain_seq) as mn from audit_entries`,
      ),
    )[0]!;
    expect([toInt(stats.n), toInt(stats.d), toInt(stats.mn), toInt(stats.mx)]).toEqual([160, 160, 1, 160]);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 160, pending: 0 });
  });
});

describe('verify names exactly the tampered entry', () => {
  it('an edited details field', async () => {
    const ids = await freshChain(6);
    await exec(sql`update audit_entries set details = '{"n":3,"note":"改过"}' where id = ${ids[2]}`);
    const r = await audit.verify({ batchSize: 2 });
    expect(r.ok).toBe(false);
    expect(r.checked).toBe(2);
    expect(r.firstBroken).toEqual({
      chainSeq: 3,
      id: ids[2],
      reason: expect.stringMatching(/was changed after it was chained/),
    });
  });

  it('an edited actor', async () => {
    const ids = await freshChain(6);
    await exec(sql`update audit_entries set actor_id = 'someone-else' where id = ${ids[1]}`);
    expect((await audit.verify()).firstBroken).toMatchObject({ chainSeq: 2, id: ids[1] });
  });

  it('an `at` moved by one microsecond', async () => {
    const ids = await freshChain(4);
    await exec(sql`update audit_entries set at = at + interval '1 microsecond' where id = ${ids[3]}`);
    expect((await audit.verify()).firstBroken).toMatchObject({ chainSeq: 4, id: ids[3] });
  });

  it('a deleted entry (a gap in positions)', async () => {
    const ids = await freshChain(6);
    await exec(sql`delete from audit_entries where id = ${ids[3]}`);
    const r = await audit.verify({ batchSize: 2 });
    expect(r.checked).toBe(3);
    expect(r.firstBroken).toEqual({
      chainSeq: 4,
      id: ids[4],
      reason: expect.stringMatching(/position 4 is missing: deleted/),
    });
  });

  it('the newest entries deleted (the end cut off)', async () => {
    const ids = await freshChain(5);
    await exec(sql`delete from audit_entries where id in (${ids[3]}, ${ids[4]})`);
    expect((await audit.verify()).firstBroken).toEqual({
      chainSeq: 4,
      id: null,
      reason: expect.stringMatching(/positions 4–5 are missing: the newest entries were deleted/),
    });
  });

  it('an edited hash (in the middle, across a batch boundary, and at the end)', async () => {
    const ids = await freshChain(6);
    await exec(sql`update audit_entries set hash = ${'a'.repeat(64)} where id = ${ids[1]}`);
    const r = await audit.verify({ batchSize: 2 });
    expect(r.firstBroken).toEqual({
      chainSeq: 2,
      id: ids[1],
      reason: expect.stringMatching(/stored hash of entry .* was changed/),
    });
    const ids2 = await freshChain(3);
    await exec(sql`update audit_entries set hash = ${'b'.repeat(64)} where id = ${ids2[2]}`);
    expect((await audit.verify()).firstBroken).toMatchObject({
      chainSeq: 3,
      id: ids2[2],
      reason: expect.stringMatching(/stored hash/),
    });
  });

  it('a reordered entry (two positions swapped)', async () => {
    const ids = await freshChain(5);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`update audit_entries set chain_seq = -1 where id = ${ids[1]}`);
      await tx.execute(sql`update audit_entries set chain_seq = 2 where id = ${ids[2]}`);
      await tx.execute(sql`update audit_entries set chain_seq = 3 where id = ${ids[1]}`);
    });
    expect((await audit.verify()).firstBroken).toMatchObject({
      chainSeq: 2,
      id: ids[2],
      reason: expect.stringMatching(/contents or position no longer match/),
    });
  });

  it('an edited chain head', async () => {
    const ids = await freshChain(3);
    await exec(sql`update audit_chain set head_hash = ${'c'.repeat(64)}`);
    expect((await audit.verify()).firstBroken).toMatchObject({
      chainSeq: 3,
      id: ids[2],
      reason: expect.stringMatching(/head record \(audit_chain\) was changed/),
    });
  });
});

describe('retention and pruning', () => {
  const now = new Date('2027-06-30T00:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

  async function chainOf(ages: number[]): Promise<string[]> {
    await exec(sql`delete from audit_entries`);
    await exec(sql`delete from audit_chain`);
    const ids: string[] = [];
    for (const [i, age] of ages.entries()) {
      ids.push((await audit.record(entry(i, { at: daysAgo(age) }))).id);
      await audit.chain(); // one by one: chain order = the order given
    }
    return ids;
  }

  it('prunes the chained prefix past retention; verify stays green from the checkpoint', async () => {
    const ids = await chainOf([400, 300, 185, 183, 10, 1]);
    await audit.record(entry(99, { at: daysAgo(500) })); // pending: never pruned
    const r = await audit.prune({ now, batchSize: 2 });
    expect(r.pruned).toBe(3);
    expect(r.cutoff).toEqual(daysAgo(184));
    expect(r.checkpoint).toMatchObject({ chainSeq: 3 });
    expect(await count(sql`id in (${ids[0]}, ${ids[1]}, ${ids[2]})`)).toBe(0);
    expect(await count()).toBe(4);
    expect(await audit.verify({ now })).toMatchObject({ ok: true, checked: 3, from: 3, pending: 1 });
    await audit.chainAll();
    expect(await audit.verify({ now })).toMatchObject({ ok: true, checked: 4, from: 3, pending: 0 });
    // Again: nothing more is past retention; the checkpoint stays.
    expect(await audit.prune({ now })).toMatchObject({ pruned: 0, checkpoint: { chainSeq: 3 } });
    // After pruning, tampering is still found.
    await exec(sql`update audit_entries set outcome = 'denied' where id = ${ids[4]}`);
    expect((await audit.verify({ now })).firstBroken).toMatchObject({ chainSeq: 5, id: ids[4] });
  });

  it('a checkpoint moved over entries still present, or dated within retention, is a broken link', async () => {
    const { sql: q } = await import('drizzle-orm');
    await chainOf([400, 300, 10, 1]);
    await audit.prune({ now });
    expect((await audit.verify({ now })).ok).toBe(true);
    const rows = await database.db.execute(q`select chain_seq, hash from audit_entries order by chain_seq`);
    const live =
      (rows as unknown as { rows?: { chain_seq: unknown; hash: string }[] }).rows ??
      (rows as unknown as { chain_seq: unknown; hash: string }[]);
    const third = live[0]!;
    // Move the checkpoint over entry 3 (still present): hides it from verification.
    await exec(
      q`update audit_chain set checkpoint_seq = ${Number(third.chain_seq)}, checkpoint_hash = ${third.hash}`,
    );
    expect((await audit.verify({ now })).firstBroken?.reason).toMatch(/at or before the pruning checkpoint/);
    // A checkpoint dated yesterday: entries were deleted within the legal retention.
    await exec(
      q`update audit_chain set checkpoint_seq = 2, checkpoint_at = ${new Date(now.getTime() - 86_400_000).toISOString()}::timestamptz`,
    );
    expect((await audit.verify({ now })).firstBroken?.reason).toMatch(/within the legal retention/);
  });

  it('stops at the first entry within retention even when older ones follow it in the chain', async () => {
    await chainOf([300, 20, 300]);
    expect((await audit.prune({ now })).pruned).toBe(1);
    expect(await audit.verify({ now })).toMatchObject({ ok: true, from: 1, checked: 2 });
  });

  it('refuses to prune (deleting nothing) an entry that fails verification', async () => {
    const ids = await chainOf([300, 250, 200]);
    await exec(sql`update audit_entries set details = '{}' where id = ${ids[1]}`);
    const e = await rejectionOf(audit.prune({ now }));
    expect([e.code, e.kind]).toEqual(['audit.chain_broken', 'conflict']);
    expect(e.message).toMatch(/position 2 \(entry /);
    expect(await count()).toBe(3);
  });

  it('retention below 184 days is refused, naming AUDIT_RETENTION_DAYS', async () => {
    for (const v of ['183', '180', '90', '0', 'abc', '184.5']) {
      const e = await rejectionOf(async () => loadAuditConfig({ AUDIT_RETENTION_DAYS: v }));
      expect([e.code, e.field]).toEqual(['config.invalid', 'AUDIT_RETENTION_DAYS']);
    }
    expect(loadAuditConfig({}).retentionDays).toBe(184);
    expect(loadAuditConfig({ AUDIT_RETENTION_DAYS: '365' }).retentionDays).toBe(365);
    const e = await rejectionOf(async () => new AuditService(database.db, { retentionDays: 30 }));
    expect([e.code, e.field]).toEqual(['config.invalid', 'AUDIT_RETENTION_DAYS']);
    const longer = new AuditService(database.db, { retentionDays: 365 });
    await chainOf([300]);
    expect((await longer.prune({ now })).pruned).toBe(0);
    expect((await audit.prune({ now })).pruned).toBe(1);
  });
});

describe('entry checks and the sensitive-details guard', () => {
  it.each([
    [{ password: 'hunter2' }, 'details.password'],
    [{ login: { newPassword: 'x' } }, 'details.login.newPassword'],
    [{ otp: '123456' }, 'details.otp'],
    [{ accessToken: 'abc' }, 'details.accessToken'],
    [{ id_number: '52010219900101001X' }, 'details.id_number'],
    [{ applicant: { phone: '139****5678' } }, 'details.applicant.phone'],
    [{ pickupCode: '8812' }, 'details.pickupCode'],
    [{ steps: [{ sms_code: '1234' }] }, 'details.steps.0.sms_code'],
    [{ note: '申请人 110101199003074477 来电' }, 'details.note'],
    [{ contact: '联系 13912345678' }, 'details.contact'],
    [{ contact: 13912345678 }, 'details.contact'],
  ])('rejects %j at %s, and appends nothing', async (details, field) => {
    const before = await count();
    const e = await rejectionOf(audit.record(entry(1, { details })));
    expect([e.code, e.field]).toEqual(['audit.sensitive_details', field]);
    expect(e.message).toMatch(/must not/);
    expect(await count()).toBe(before);
  });

  it('allows masked values, internal ids and case numbers', () => {
    expect(() =>
      assertNoSensitiveDetails({
        phoneMasked: '139****5678',
        idNumberMasked: '5201**********001X',
        caseNumber: '520102202603010000123',
        departmentId: '0b6c8e2a-1111-4222-8333-944455556666',
        itemCode: '050004001000',
        gaps: ['身份证复印件'],
        // digests and keys that happen to hold an 11- or 18-digit decimal run
        sm3: 'ab13912345678cd0f00e7a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abc',
        fileKey: 'scans/8f2e110101199003074477e9-4c1d',
      }),
    ).not.toThrow();
    // … but a number standing on its own next to hex text is still refused
    expect(() => assertNoSensitiveDetails({ note: 'ref ab 13912345678' })).toThrow(/mobile/);
  });

  it('names the bad field of an entry, and pii.read_full needs a purpose', async () => {
    const bad: [Partial<AuditEntryInput>, string, string][] = [
      [{ action: 'Accept' }, 'entry.action', 'audit.invalid_entry'],
      [{ actor: { kind: 'staff', id: '' } }, 'entry.actor.id', 'audit.invalid_entry'],
      [{ clientIp: 'not-an-ip' }, 'entry.clientIp', 'audit.invalid_entry'],
      [{ outcome: 'maybe' as 'ok' }, 'entry.outcome', 'audit.invalid_entry'],
      [{ action: 'pii.read_full' }, 'entry.purpose', 'audit.purpose_required'],
      [{ details: { blob: 'x'.repeat(9000) } }, 'entry.details', 'audit.details_too_large'],
    ];
    for (const [extra, field, code] of bad) {
      const e = await rejectionOf(audit.record(entry(1, extra)));
      expect([e.code, e.field]).toEqual([code, field]);
    }
    const ok = await audit.record(
      entry(1, {
        action: 'pii.read_full',
        purpose: '核验申请人身份',
        actor: { kind: 'agent', id: 'agent-7', onBehalfOf: 'applicant-9' },
        clientIp: '::1',
        requestId: 'req-1',
        outcome: 'denied',
      }),
    );
    const page = await audit.list({ action: 'pii.read_full', limit: 5 });
    expect(page.items[0]).toMatchObject({
      id: ok.id,
      actor: { kind: 'agent', id: 'agent-7', onBehalfOf: 'applicant-9' },
      purpose: '核验申请人身份',
      outcome: 'denied',
      clientIp: '::1',
      requestId: 'req-1',
      chainSeq: null,
    });
  });
});

describe('list for auditors', () => {
  it('filters and pages newest first without duplicates or gaps', async () => {
    await exec(sql`delete from audit_entries`);
    const base = Date.parse('2026-05-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      // Entries 3 and 4 share the same instant: the id breaks the tie.
      const at = new Date(base + (i === 4 ? 3 : i) * 60_000);
      ids.push((await audit.record(entry(i, { at }))).id);
    }
    await audit.chain(4); // a mix of chained and pending entries
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list({ limit: 2, cursor });
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(9);
    expect(new Set(seen)).toEqual(new Set(ids));
    const all = (await audit.list({ limit: 200 })).items;
    expect(all.map((e) => e.id)).toEqual(seen);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.at >= all[i]!.at).toBe(true);

    const byActor = await audit.list({ actorId: 'staff-1', limit: 50 });
    expect(byActor.items.map((e) => e.target?.id).sort()).toEqual(['case-1', 'case-4', 'case-7']);
    expect((await audit.list({ action: 'case.forward' })).items).toHaveLength(4);
    expect((await audit.list({ targetType: 'case', targetId: 'case-5' })).items.map((e) => e.id)).toEqual([
      ids[5],
    ]);
    const window = await audit.list({ from: new Date(base + 2 * 60_000), to: new Date(base + 5 * 60_000) });
    expect(window.items.map((e) => e.target?.id).sort()).toEqual(['case-2', 'case-3', 'case-4']);
  });

  it('refuses a forged cursor and a bad limit', async () => {
    expect((await rejectionOf(audit.list({ cursor: 'bm9wZQ' }))).code).toBe('audit.cursor_invalid');
    expect((await rejectionOf(audit.list({ limit: 0 }))).field).toBe('limit');
    expect((await rejectionOf(audit.list({ from: new Date('x') }))).field).toBe('from');
  });
});

describe('the jobs loop', () => {
  it('chains pending entries in each round', async () => {
    await audit.record(entry(1));
    const pending = await audit.pending();
    expect(pending).toBeGreaterThan(0);
    const jobs = startJobs(
      {
        cases: { fireDueTimers: async () => 0 },
        outbox: { dispatch: async () => 0 },
        notifications: { sendDue: async () => ({ claimed: 0, delivered: 0 }) },
        audit,
      } as never,
      { intervalMs: 0 },
    );
    expect((await jobs.runOnce()).auditChained).toBe(pending);
    expect(await audit.pending()).toBe(0);
    await jobs.stop();
  });
});
