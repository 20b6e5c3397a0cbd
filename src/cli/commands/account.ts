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
