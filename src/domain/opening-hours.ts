import { z } from 'zod';
import type { CalendarDay } from './calendar.ts';
import { dayOfWeek } from './calendar.ts';

const RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * A hall's opening hours, local time Asia/Shanghai: time ranges `HH:MM-HH:MM` for working days
 * (Monday–Friday and 调休 make-up days), and optionally for Saturdays and Sundays that are not working
 * days (e.g. 周六上午延时服务). Statutory holidays are closed.
 */
export const OpeningHoursSchema = z.object({
  weekdays: z.array(z.string().regex(RANGE, 'use HH:MM-HH:MM, e.g. 09:00-12:00')),
  saturday: z.array(z.string().regex(RANGE, 'use HH:MM-HH:MM')).optional(),
  sunday: z.array(z.string().regex(RANGE, 'use HH:MM-HH:MM')).optional(),
  note: z.string().optional(),
});
export type OpeningHours = z.infer<typeof OpeningHoursSchema>;

/** Minutes since midnight in Asia/Shanghai (UTC+8, no daylight saving) for an instant. */
export function shanghaiMinuteOfDay(now: Date): number {
  const ms = (now.getTime() + 8 * 3_600_000) % 86_400_000;
  return Math.floor((ms < 0 ? ms + 86_400_000 : ms) / 60_000);
}

function within(ranges: string[] | undefined, minute: number): boolean {
  for (const r of ranges ?? []) {
    const m = RANGE.exec(r);
    if (!m) continue;
    const from = Number(m[1]) * 60 + Number(m[2]);
    const to = Number(m[3]) * 60 + Number(m[4]);
    if (minute >= from && minute < to) return true;
  }
  return false;
}

/**
 * Whether a hall with `hours` is open on `day` at `minute` (minutes since midnight, Asia/Shanghai).
 * Working days (weekdays and 调休 make-up days) use the weekday hours; statutory holidays are closed;
 * other Saturdays/Sundays use their own hours if any.
 * @returns `null` when the day's calendar is provisional (a year whose holidays are not published):
 *   the answer is unknown rather than guessed.
 */
export function isOpenAt(hours: OpeningHours, day: CalendarDay, minute: number): boolean | null {
  if (day.provisional) return null;
  if (day.working) return within(hours.weekdays, minute);
  if (day.dayType === 'holiday') return false;
  const dow = dayOfWeek(day.date);
  return within(dow === 6 ? hours.saturday : dow === 0 ? hours.sunday : undefined, minute);
}

/**
 * Problems of opening hours beyond their shape: each range must end after it starts, and the ranges of
 * one day must not overlap. @returns issues with `field` like `openingHours.weekdays.1` (empty when valid).
 */
export function openingHoursIssues(
  hours: OpeningHours,
  prefix = 'openingHours',
): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  for (const day of ['weekdays', 'saturday', 'sunday'] as const) {
    const spans: [number, number, number][] = [];
    (hours[day] ?? []).forEach((r, i) => {
      const m = RANGE.exec(r);
      if (!m) {
        issues.push({ field: `${prefix}.${day}.${i}`, message: `"${r}": use HH:MM-HH:MM, e.g. 09:00-12:00` });
        return;
      }
      const from = Number(m[1]) * 60 + Number(m[2]);
      const to = Number(m[3]) * 60 + Number(m[4]);
      if (to <= from)
        issues.push({ field: `${prefix}.${day}.${i}`, message: `"${r}" ends before it starts` });
      else spans.push([from, to, i]);
    });
    spans.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < spans.length; k++)
      if (spans[k]![0] < spans[k - 1]![1])
        issues.push({
          field: `${prefix}.${day}.${spans[k]![2]}`,
          message: `overlaps ${hours[day]![spans[k - 1]![2]]}: merge the two ranges`,
        });
  }
  return issues;
}
