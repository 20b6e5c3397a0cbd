import type { Command } from 'commander';

/**
 * `tongban pii rotate`: seals every row still holding personal data in plaintext (written before
 * encryption) or under an older key, under the current key of PII_ENCRYPTION_KEYS, in batches (FOR UPDATE
 * SKIP LOCKED: safe while servers run, and on several machines at once). The background jobs do the same
 * a batch per round; this finishes it at once, e.g. before an old key is removed from the list.
 * `encrypt-existing` is the same command under the name of the one-time migration.
 */
export function piiCommands(
  program: Command,
  open: () => Promise<{ rotate(limit: number): Promise<Record<string, number>>; close(): Promise<void> }>,
): void {
  const cmd = program.command('pii').description('personal data: SM4 envelopes and key rotation');
  for (const name of ['rotate', 'encrypt-existing']) {
    cmd
      .command(name)
      .description(
        name === 'rotate'
          ? 're-seal personal data under the current key (PII_ENCRYPTION_KEYS, first entry)'
          : 'encrypt personal data written before encryption (same as rotate)',
      )
      .option('--batch <n>', 'rows per batch and store', '500')
      .action(async (opts: { batch: string }) => {
        const { rotate, close } = await open();
        const batch = Math.max(1, Math.min(10_000, Number(opts.batch) || 500));
        try {
          const total: Record<string, number> = {};
          for (;;) {
            const done = await rotate(batch);
            for (const [k, v] of Object.entries(done)) total[k] = (total[k] ?? 0) + v;
            if (Object.values(done).every((v) => v === 0)) break;
          }
          console.log(
            `re-sealed: ${Object.entries(total)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
          );
        } finally {
          await close();
        }
      });
  }
}
