import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../server/db/index.ts';
import { rowsOf } from '../../server/db/sql.ts';
import { openTestDatabase } from '../../server/db/testing.ts';
import { AuditService } from '../../server/modules/audit/service.ts';
import { cliHarness } from '../../testing/cli.ts';
import { auditCommands } from './audit.ts';

let database: Database;
let audit: AuditService;
const cli = cliHarness((program, io, close) =>
  auditCommands(program, async () => ({ audit, close }), { ...io }),
);
const { out, err } = cli;
const run = cli.run;

const append = (i: number, at?: Date) =>
  audit.record({
    actor: { kind: 'staff', id: 'zhang' },
    action: 'case.accept',
    target: { type: 'case', id: `case-${i}` },
    ...(at ? { at } : {}),
  });

beforeAll(async () => {
  database = await openTestDatabase();
  audit = new AuditService(database.db);
});
afterAll(() => database?.close());

describe('tongban audit verify|prune', () => {
  it('chains pending entries, then reports an intact log with exit code 0', async () => {
    for (let i = 0; i < 5; i++) await append(i);
    expect(await run('audit', 'verify')).toBe(0);
    expect(out[0]).toBe('chained 5 pending entries');
    expect(out[1]).toBe('audit log intact: 5 entries verified');
    expect(out[2]).toMatch(/^chain head: position 5, SM3 [0-9a-f]{64}$/);
    expect(err).toEqual([]);
  });

  it('--no-chain reports pending entries instead of chaining them', async () => {
    await append(5);
    expect(await run('audit', 'verify', '--no-chain')).toBe(0);
    expect(out[0]).toBe('audit log intact: 5 entries verified; 1 pending, not yet chained');
  });

  it('editing one row directly in the database: exit code 1, naming its position and id', async () => {
    const [row] = rowsOf<{ id: string }>(
      await database.db.execute(sql`select id::text as id from audit_entries where chain_seq = 3`),
    );
    await database.db.execute(
      sql`update audit_entries set details = '{"note":"rewritten"}' where id = ${row!.id}`,
    );
    expect(await run('audit', 'verify')).toBe(1);
    expect(err[0]).toBe(
      `audit log BROKEN at chain position 3, entry ${row!.id}: entry ${row!.id} at position 3 was changed after it was chained: its contents or position no longer match its hash`,
    );
    expect(err[1]).toBe('2 entries before it verified');
    expect(out).toEqual(['chained 1 pending entries']);
  });

  it('prune refuses to delete a broken chain, exit code 1', async () => {
    const old = new Date(Date.now() - 400 * 86_400_000);
    await database.db.execute(sql`update audit_entries set at = ${old.toISOString()}::timestamptz`);
    expect(await run('audit', 'prune')).toBe(1);
    expect(err[0]).toMatch(
      /^error \[audit\.chain_broken\]: Pruning stopped: the audit chain is broken at position 1/,
    );
  });

  it('prune deletes entries past retention and verify then starts from the checkpoint', async () => {
    await database.db.execute(sql`delete from audit_entries`);
    await database.db.execute(sql`delete from audit_chain`);
    const old = new Date(Date.now() - 200 * 86_400_000);
    await append(1, old);
    await append(2, old);
    await audit.chainAll();
    await append(3);
    expect(await run('audit', 'prune')).toBe(0);
    expect(out[0]).toMatch(/^pruned 2 entries older than 184 days \(before \d{4}-/);
    expect(out[1]).toMatch(/^checkpoint: position 2, SM3 [0-9a-f]{64}$/);
    expect(await run('audit', 'verify')).toBe(0);
    expect(out).toContain('audit log intact: 1 entries verified (from the pruning checkpoint at position 2)');
    expect(cli.closed).toBeGreaterThan(0);
  });
});

describe('the real `tongban` process', () => {
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-cli-audit-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const tongban = async (...args: string[]) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      DATABASE_URL: '',
    };
    try {
      const r = await promisify(execFile)(process.execPath, [main, ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };

  it('exits 1 and prints the edited entry; refuses AUDIT_RETENTION_DAYS below 184', async () => {
    const db = await openDatabase({ dataDir });
    const s = new AuditService(db.db);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await s.record({ actor: { kind: 'system', id: 'jobs' }, action: 'auth.login' })).id);
      await s.chain();
    }
    await db.db.execute(sql`update audit_entries set actor_id = 'mallory' where id = ${ids[1]}`);
    await db.close();
    const r = await tongban('audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`audit log BROKEN at chain position 2, entry ${ids[1]}:`);
    const low = await promisify(execFile)(process.execPath, [main, 'audit', 'prune'], {
      env: { ...process.env, DATA_DIR: dataDir, AUDIT_RETENTION_DAYS: '90', DATABASE_URL: '' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((low as { code: number }).code).toBe(1);
    expect((low as { stderr: string }).stderr).toMatch(
      /error \[config\.invalid\]: Environment variable AUDIT_RETENTION_DAYS must be at least 184/,
    );
  }, 60_000);
});
