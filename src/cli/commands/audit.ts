import type { Command } from 'commander';
import { isAppError } from '../../domain/errors.ts';
import type { AuditService } from '../../server/modules/audit/service.ts';

/** What the audit commands need from the composition root. */
export interface AuditCommandContext {
  audit: AuditService;
  close(): Promise<void>;
}

/** Where command output goes (stdout/stderr by default; tests pass their own). */
export interface AuditCommandOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultOutput = (): AuditCommandOutput => ({
  out: (l) => console.log(l),
  err: (l) => console.error(l),
});

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * `tongban audit verify` and `tongban audit prune` — the tamper-evident audit log (审计日志,
 * GB/T 39786-2021 §8.1.4.3; retention 网络安全法 art. 21).
 *
 * - verify: chains pending entries first (unless `--no-chain`), then walks the SM3 hash chain from the
 *   pruning checkpoint to the head. Intact: prints the count and the head hash, exit code 0. Broken:
 *   prints `audit log BROKEN at chain position N, entry <id>: <what is wrong>` on stderr, exit code 1.
 * - prune: deletes chained entries older than AUDIT_RETENTION_DAYS (≥ 184 calendar days) and records
 *   the checkpoint; refuses (exit code 1, nothing deleted in that batch) when an entry to delete fails
 *   verification. Schedule it daily (cron / systemd timer); it never runs by itself.
 */
export function auditCommands(
  program: Command,
  open: () => Promise<AuditCommandContext>,
  output: AuditCommandOutput = defaultOutput(),
): void {
  const cmd = program.command('audit').description('tamper-evident audit log (审计日志): verify and prune');

  cmd
    .command('verify')
    .description('verify the SM3 hash chain; exit code 1 naming the first broken link')
    .option('--no-chain', 'do not chain pending entries first (report them as pending)')
    .option(
      '--expect-head <position:hash>',
      'a chain head printed by an earlier verify and kept OUTSIDE the database: it must still be in the chain (catches a cut-off or rewritten end)',
    )
    .action(async (opts: { chain: boolean; expectHead?: string }) => {
      let expectHead: { chainSeq: number; hash: string } | undefined;
      if (opts.expectHead !== undefined) {
        const m = /^(\d+):([0-9a-f]{64})$/.exec(opts.expectHead.replaceAll(',', '').trim());
        if (!m) {
          output.err(
            '--expect-head takes <position>:<64 hex SM3 hash>, as printed by `tongban audit verify`.',
          );
          process.exitCode = 2;
          return;
        }
        expectHead = { chainSeq: Number(m[1]), hash: m[2]! };
      }
      const ctx = await open();
      try {
        const chained = opts.chain ? await ctx.audit.chainAll() : 0;
        const r = await ctx.audit.verify(expectHead ? { expectHead } : {});
        const from = r.from > 0 ? ` (from the pruning checkpoint at position ${fmt(r.from)})` : '';
        const pending = r.pending > 0 ? `; ${fmt(r.pending)} pending, not yet chained` : '';
        if (chained > 0) output.out(`chained ${fmt(chained)} pending entries`);
        if (r.ok) {
          output.out(`audit log intact: ${fmt(r.checked)} entries verified${from}${pending}`);
          output.out(`chain head: position ${fmt(r.head.chainSeq)}, SM3 ${r.head.hash}`);
          output.out(
            `keep this outside the database and check it later: --expect-head ${r.head.chainSeq}:${r.head.hash}`,
          );
          return;
        }
        const b = r.firstBroken!;
        output.err(
          `audit log BROKEN at chain position ${b.chainSeq}, entry ${b.id ?? '(none: deleted)'}: ${b.reason}`,
        );
        output.err(`${fmt(r.checked)} entries before it verified${from}${pending}`);
        process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });

  cmd
    .command('prune')
    .description(
      'delete chained entries older than AUDIT_RETENTION_DAYS (≥ 184 days), keeping the chain verifiable',
    )
    .action(async () => {
      const ctx = await open();
      try {
        const r = await ctx.audit.prune();
        output.out(
          `pruned ${fmt(r.pruned)} entries older than ${ctx.audit.retentionDays} days (before ${r.cutoff.toISOString()})`,
        );
        if (r.checkpoint) {
          output.out(`checkpoint: position ${fmt(r.checkpoint.chainSeq)}, SM3 ${r.checkpoint.hash}`);
        }
      } catch (e) {
        if (!isAppError(e)) throw e;
        output.err(`error [${e.code}]: ${e.message}`);
        process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
