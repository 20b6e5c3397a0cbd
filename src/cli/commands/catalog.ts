import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { isAppError } from '../../domain/errors.ts';
import type {
  CatalogService,
  DepartmentDirectory,
  ProgressListener,
} from '../../server/modules/catalog/service.ts';
import { formatOf, writeCatalogCsv, writeCatalogFile } from '../../server/modules/catalog/workbook.ts';

/**
 * What the catalog commands need from the composition root: the catalog service, the departments
 * directory (DepartmentsService) to bind implementations after an import, and a way to close the database.
 */
export interface CatalogCommandContext {
  catalog: CatalogService;
  departments: DepartmentDirectory;
  close(): Promise<void>;
}

/** Where command output goes (stdout/stderr by default; tests pass their own). */
export interface CatalogCommandOutput {
  out: (line: string) => void;
  err: (line: string) => void;
  /** True to draw progress bars (default: stdout is a TTY). */
  tty: boolean;
}

const defaultOutput = (): CatalogCommandOutput => ({
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  tty: Boolean(process.stdout.isTTY),
});

/** A cli-progress bar when `tty`, otherwise nothing. Returns the listener and a stop function. */
function progressBar(
  tty: boolean,
  label: string,
): { listener: ProgressListener | undefined; stop: () => void } {
  if (!tty) return { listener: undefined, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    listener: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * `tongban catalog import <file>` and `tongban catalog export [file]` (service catalog, GB/T 39046-2020).
 *
 * - import: reads a .xlsx or .csv catalog (layout: src/server/modules/catalog/workbook.ts and
 *   data/catalog/README.md), validates every row and cell, imports it in one transaction, then binds the
 *   implementation list (实施清单) to departments; prints a summary. An invalid file changes nothing: the
 *   command lists every problem as `sheet 事项, row 12, column 承诺办结时限: …` and exits with code 1.
 *   A progress bar is drawn when stdout is a terminal.
 * - export: writes the whole catalog in the same layout to `file` (default `catalog-export.xlsx`;
 *   `.csv` by extension; `-` writes CSV to stdout), so export → import round-trips.
 */
export function catalogCommands(
  program: Command,
  open: () => Promise<CatalogCommandContext>,
  output: CatalogCommandOutput = defaultOutput(),
): void {
  const cmd = program
    .command('catalog')
    .description('service catalog (政务服务事项目录, 实施清单): import and export');

  cmd
    .command('import <file>')
    .description('import a catalog from .xlsx or .csv (all-or-nothing; errors listed per row and column)')
    .action(async (file: string) => {
      const ctx = await open();
      try {
        const importing = progressBar(output.tty, 'importing');
        let summary: Awaited<ReturnType<CatalogService['importFile']>>;
        try {
          summary = await ctx.catalog.importFile(file, importing.listener);
        } finally {
          importing.stop();
        }
        const binding = progressBar(output.tty, 'implementations');
        let seeded: Awaited<ReturnType<CatalogService['seedImplementations']>>;
        try {
          seeded = await ctx.catalog.seedImplementations(ctx.departments, binding.listener);
        } finally {
          binding.stop();
        }
        output.out(
          `imported ${path.basename(file)}: ${summary.items} items in ${summary.industries} industries, ` +
            `${summary.materials} materials, ${summary.variances} local variances`,
        );
        output.out(
          `implementation list: ${seeded.implementations} implementations` +
            (seeded.unbound > 0 ? ` (${seeded.unbound} without a department of the item's kind yet)` : ''),
        );
      } catch (e) {
        if (!isAppError(e)) throw e;
        output.err(`error [${e.code}]: ${e.message}`);
        for (const issue of e.issues ?? []) {
          if (!e.message.includes(issue.message)) output.err(`  - ${issue.field}: ${issue.message}`);
        }
        process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });

  cmd
    .command('export [file]')
    .description('export the catalog to .xlsx or .csv (default catalog-export.xlsx; "-" for CSV on stdout)')
    .action(async (file: string | undefined) => {
      const target = file ?? 'catalog-export.xlsx';
      if (target !== '-') formatOf(target);
      const ctx = await open();
      try {
        const data = await ctx.catalog.exportCatalog();
        if (target === '-') {
          process.stdout.write(writeCatalogCsv(data));
          return;
        }
        fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
        await writeCatalogFile(target, data);
        output.out(
          `exported ${data.items.length} items and ${data.implementations.length} local variances to ${target}`,
        );
      } finally {
        await ctx.close();
      }
    });
}
