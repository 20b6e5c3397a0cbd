import type { Command } from 'commander';
import { invalid } from '../../domain/errors.ts';
import type { IdentityService } from '../../server/modules/identity/service.ts';

/** Reads the whole of stdin (the password, piped: never an argument, so it stays out of `ps` and shell history). */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `tongban account create-staff --name 张三 [--username zhang.san] --department <id> --hall <code>
 * [--admin] --password-stdin`: bootstraps staff accounts (e.g. the first administrator, who then enrols
 * TOTP at first sign-in). The password is read from stdin (first line) and hashed with argon2id.
 * Prints the new account id; errors (weak password, taken username) exit 1 with the reason.
 */
export function accountCommands(
  program: Command,
  open: () => Promise<{ identity: IdentityService; close(): Promise<void> }>,
  io: { out: (line: string) => void; stdin?: () => Promise<string> } = { out: (l) => console.log(l) },
): void {
  const cmd = program.command('account').description('accounts (账户): bootstrap staff and administrators');
  cmd
    .command('create-staff')
    .description('create a staff account bound to a department and/or hall; password from stdin')
    .requiredOption('--name <name>', 'display name, e.g. 张三')
    .option('--username <username>', 'sign-in name (default: the name)')
    .option('--department <id>', 'department id the staff member acts for')
    .option('--hall <code>', 'hall code, e.g. 520102-zwfw')
    .option('--admin', 'administrator (must enrol TOTP at first sign-in)', false)
    .option('--password-stdin', 'read the password from standard input (required)', false)
    .action(
      async (opts: {
        name: string;
        username?: string;
        department?: string;
        hall?: string;
        admin: boolean;
        passwordStdin: boolean;
      }) => {
        if (!opts.passwordStdin)
          throw invalid(
            '--password-stdin',
            'Pipe the password in and pass --password-stdin (passwords are never taken as arguments).',
            'account.password_stdin_required',
          );
        const password = (await (io.stdin ?? readStdin)()).split(/\r?\n/)[0] ?? '';
        const { identity, close } = await open();
        try {
          const account = await identity.createStaff({
            name: opts.name,
            username: opts.username ?? opts.name,
            password,
            departmentId: opts.department,
            hallCode: opts.hall,
            isAdmin: opts.admin,
          });
          io.out(
            `created staff account ${account.id} (username ${account.username}${account.isAdmin ? ', administrator: enrol TOTP at first sign-in' : ''})`,
          );
        } finally {
          await close();
        }
      },
    );
}

/**
 * `tongban grant create --username U --role province_admin --division 52 --until 2027-12-31 --reason …`:
 * bootstraps grants (授权) — typically the first province administrator, who then grants everyone else
 * over the API within their own scope. Scope: exactly one of `--division CODE` (GB/T 2260 prefix),
 * `--hall CODE`, `--department ID`; `--items` a comma-separated list of 12-digit item codes (default:
 * all). Audited as `grant.create` by `cli:<OS user>`. Prints the grant id; bad input exits 1 naming it.
 */
export function grantCommands(
  program: Command,
  open: () => Promise<{ identity: IdentityService; close(): Promise<void> }>,
  io: { out: (line: string) => void; user?: string } = { out: (l) => console.log(l) },
): void {
  const cmd = program.command('grant').description('grants (授权): roles × jurisdiction, bootstrap');
  cmd
    .command('create')
    .description('grant a role over a scope to a staff account (no granter check: for bootstrapping)')
    .option('--account <id>', 'staff account id')
    .option('--username <username>', 'staff sign-in name (instead of --account)')
    .requiredOption('--role <role>', 'e.g. province_admin, county_admin, intake_clerk')
    .option('--division <code>', 'division scope, e.g. 52 (the province) or 522601')
    .option('--hall <code>', 'hall scope, e.g. 520102-zwfw')
    .option('--department <id>', 'department scope')
    .option('--items <codes>', 'comma-separated 12-digit item codes (default: every item)')
    .requiredOption('--until <date>', 'end of validity, ISO 8601 (e.g. 2027-12-31)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(
      async (opts: {
        account?: string;
        username?: string;
        role: string;
        division?: string;
        hall?: string;
        department?: string;
        items?: string;
        until: string;
        reason: string;
      }) => {
        const scopes = (
          [
            ['division', opts.division],
            ['hall', opts.hall],
            ['department', opts.department],
          ] as const
        ).filter(([, v]) => v !== undefined);
        if (scopes.length !== 1)
          throw invalid(
            '--division',
            'Give exactly one of --division, --hall, --department.',
            'grant.invalid',
          );
        const until = new Date(opts.until);
        if (Number.isNaN(until.getTime()))
          throw invalid(
            '--until',
            'Give the end of validity as an ISO 8601 date, e.g. 2027-12-31.',
            'grant.invalid',
          );
        const { identity, close } = await open();
        try {
          const accountId =
            opts.account ?? (opts.username ? await identity.staffIdByUsername(opts.username) : undefined);
          if (!accountId)
            throw invalid(
              '--username',
              'Give --account <id> or the --username of a staff account.',
              'grant.invalid',
            );
          const g = await identity.grants.grantFromCli(
            {
              accountId,
              role: opts.role,
              scope: { kind: scopes[0]![0], value: scopes[0]![1]! },
              itemCodes: opts.items ? opts.items.split(',').map((s) => s.trim()) : null,
              validUntil: until,
              reason: opts.reason,
            },
            io.user ?? process.env.USER ?? 'unknown',
          );
          io.out(
            `granted ${g.role} over ${g.scope.kind} ${g.scope.value} until ${g.validUntil} (grant ${g.id})`,
          );
        } finally {
          await close();
        }
      },
    );
}
