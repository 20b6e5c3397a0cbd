import fs from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { invalid } from '../../domain/errors.ts';
import type { CalendarService } from '../../server/modules/calendar/service.ts';

/** Reads `date,kind,name` rows from a .csv file or a JSON array from a .json file. */
export function readCalendarEntries(file: string): unknown[] {
  if (!fs.existsSync(file)) throw invalid('file', `No such file: ${file}.`, 'calendar.file_missing');
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const data = JSON.parse(text) as unknown;
    if (Array.isArray(data)) return data;
    if (data && typeof data === 'object' && Array.isArray((data as { entries?: unknown }).entries)) {
      return (data as { entries: unknown[] }).entries;
    }
    throw invalid(
      'file',
      'A JSON calendar file holds an array of { date, kind, name } (or { entries: [...] }).',
      'calendar.file_shape',
    );
  }
  const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true, comment: '#' }) as Record<
    string,
    string
  >[];
  return rows.map((r) => ({ date: r.date, kind: r.kind, ...(r.name ? { name: r.name } : {}) }));
}

/**
 * `tongban calendar years|publish-year|override`: lets an administrator add a newly published year
 * (e.g. 2027) or a single-day correction to the working-day calendar.
 */
export function calendarCommands(
  program: Command,
  open: () => Promise<{
    calendar: CalendarService;
    /** Recomputes open cases' due dates after a change (the case engine). */
    recompute?: () => Promise<number>;
    close(): Promise<void>;
  }>,
): void {
  const cmd = program.command('calendar').description('working-day calendar (法定节假日 and 调休)');
  cmd
    .command('years')
    .description('list the years whose holiday schedule is known')
    .action(async () => {
      const { calendar, close } = await open();
      try {
        console.log((await calendar.knownYears()).join(' '));
      } finally {
        await close();
      }
    });
  cmd
    .command('publish-year <year> <file>')
    .description("register a year's published schedule from a .csv (date,kind,name) or .json file")
    .requiredOption(
      '--source <notice>',
      'where the schedule comes from, e.g. the State Council notice number',
    )
    .action(async (year: string, file: string, opts: { source: string }) => {
      const entries = readCalendarEntries(file);
      const { calendar, recompute, close } = await open();
      try {
        const r = await calendar.publishYear({ year: Number(year), entries }, opts.source);
        const cases = recompute ? await recompute() : 0;
        console.log(
          `calendar: ${r.year} registered with ${r.entries} days; due dates of ${cases} open case(s) recomputed`,
        );
      } finally {
        await close();
      }
    });
  cmd
    .command('override <file>')
    .description('store single-day corrections from a .csv (date,kind,name) or .json file')
    .requiredOption('--reason <text>', 'why the correction is made')
    .action(async (file: string, opts: { reason: string }) => {
      const entries = readCalendarEntries(file);
      const { calendar, recompute, close } = await open();
      try {
        const stored = await calendar.addOverrides(entries, opts.reason);
        const cases = recompute ? await recompute() : 0;
        console.log(
          `calendar: ${stored.length} correction(s) stored; due dates of ${cases} open case(s) recomputed`,
        );
      } finally {
        await close();
      }
    });
}
