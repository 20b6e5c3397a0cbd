import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/index.ts';
import { openTestDatabase } from '../../server/db/testing.ts';
import { loadAuthConfig } from '../../server/modules/identity/config.ts';
import { IdentityService } from '../../server/modules/identity/service.ts';
import { PiiVault } from '../../server/modules/pii/service.ts';
import { accountCommands } from './account.ts';

let database: Database;
let identity: IdentityService;
const out: string[] = [];

async function run(stdin: string, ...args: string[]): Promise<void> {
  out.length = 0;
  const program = new Command('tongban').exitOverride();
  accountCommands(program, async () => ({ identity, close: async () => {} }), {
    out: (l) => out.push(l),
    stdin: async () => stdin,
  });
  await program.parseAsync(['node', 'tongban', ...args]);
}

beforeAll(async () => {
  database = await openTestDatabase();
  identity = new IdentityService(database.db, {
    piiHashKey: 'cli-test-pii-hash-key-0123456789abcdef',
    cipher: PiiVault.ephemeral(),
    sms: undefined,
    config: loadAuthConfig({}),
  });
});
afterAll(async () => {
  await database?.close();
});

describe('tongban account create-staff', () => {
  it('creates an administrator who can then sign in with the piped password (restricted until TOTP)', async () => {
    await run(
      'Bootstrap-Pass-1\n',
      'account',
      'create-staff',
      '--name',
      '省级管理员',
      '--username',
      'root.admin',
      '--hall',
      '520000-zwfw',
      '--admin',
      '--password-stdin',
    );
    expect(out.join('\n')).toMatch(/created staff account .* administrator/);
    expect(out.join('\n')).not.toContain('Bootstrap-Pass-1');
    const grant = await identity.loginWithPassword(
      { username: 'root.admin', password: 'Bootstrap-Pass-1' },
      '127.0.0.1',
    );
    expect(grant.principal).toMatchObject({
      kind: 'staff',
      isAdmin: true,
      restricted: true,
      hallCode: '520000-zwfw',
    });
  });

  it('refuses a password given without --password-stdin, and a weak one', async () => {
    await expect(
      run('Bootstrap-Pass-1\n', 'account', 'create-staff', '--name', 'x1', '--hall', 'h'),
    ).rejects.toMatchObject({
      code: 'account.password_stdin_required',
    });
    await expect(
      run('weak\n', 'account', 'create-staff', '--name', 'x2', '--hall', 'h', '--password-stdin'),
    ).rejects.toMatchObject({
      code: 'account.password_weak',
    });
  });
});
