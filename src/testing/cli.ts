import { Command } from 'commander';

/** What a CLI command group prints, as a test captures it. */
export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * A harness for one `tongban` command group in tests: `run(...args)` builds a fresh program, lets
 * `register` add the group with the captured output, parses `tongban <args>` and returns the exit code
 * (`process.exitCode`, reset afterwards). `out`/`err` hold the lines of the last run; `closed` counts the
 * calls of the `close` the group was given. Never imported by production code.
 */
export function cliHarness(register: (program: Command, io: CliOutput, close: () => Promise<void>) => void) {
  const h = {
    out: [] as string[],
    err: [] as string[],
    closed: 0,
    async run(...args: string[]): Promise<number> {
      h.out.length = 0;
      h.err.length = 0;
      process.exitCode = 0;
      const program = new Command('tongban').exitOverride();
      register(program, { out: (l) => h.out.push(l), err: (l) => h.err.push(l) }, async () => {
        h.closed++;
      });
      await program.parseAsync(['node', 'tongban', ...args]);
      const code = Number(process.exitCode ?? 0);
      process.exitCode = 0;
      return code;
    },
  };
  return h;
}
