/** Display helpers of the workbench (through the locale files). */
import type { ComposerTranslation } from 'vue-i18n';
import type { CaseView } from './api/types.ts';

/** "2026-12-01 14:03" in Asia/Shanghai. */
export function dateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

/** The day a case's light counts towards: the decision due date, else the supplement notice's. */
export function dueDate(c: CaseView): string | null {
  return c.clocks.decisionDue?.date ?? c.clocks.supplementDue?.date ?? null;
}

/** Sorts by due date (soonest first; cases without one last), then by number. */
export function byDeadline(a: CaseView, b: CaseView): number {
  const da = dueDate(a) ?? '9999-12-31';
  const db = dueDate(b) ?? '9999-12-31';
  return da === db ? a.number.localeCompare(b.number) : da.localeCompare(db);
}

/** The applicant's name and masked identifier, e.g. 王小芳（5205**********0020）. */
export function applicantText(c: CaseView): string {
  const a = c.applicant;
  const id = (a.idNumber ?? a.creditCode ?? '') as string;
  return id ? `${a.name ?? ''}（${id}）` : String(a.name ?? '');
}

/** A status label (status.<id>). */
export const statusLabel = (t: ComposerTranslation, status: string) => t(`status.${status}`);
