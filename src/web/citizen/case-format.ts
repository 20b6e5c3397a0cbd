/**
 * Display helpers of the "apply and follow" screens: case statuses in words with their kind of icon,
 * dates in the Asia/Shanghai day, working days left, file sizes, and a cached look-up of hall names (the
 * case API names halls by code; items it names itself).
 */
import type { ComposerTranslation } from 'vue-i18n';
import type { CaseStatus } from './api/account.ts';
import { api } from './api.ts';

type T = ComposerTranslation;

/**
 * The icon kind of a status — never shown without its words: `progress` (the authority is acting),
 * `action` (waiting for the applicant), `done` (a result), `stopped` (ended without one).
 */
export type StatusTone = 'progress' | 'action' | 'done' | 'stopped';

export function statusTone(status: CaseStatus, outcome: string | null = null): StatusTone {
  switch (status) {
    case 'supplement_requested':
      return 'action';
    case 'decided':
    case 'delivered':
    case 'rated':
      return outcome === 'denied' ? 'stopped' : 'done';
    case 'not_accepted':
    case 'withdrawn':
      return 'stopped';
    default:
      return 'progress';
  }
}

/** 已提交 / 补正材料 / 已办结（准予）… — the status in the applicant's words. */
export function statusText(t: T, status: CaseStatus, outcome: string | null = null): string {
  const base = t(`account.status.${status}`);
  const key = `account.status.${status}`;
  const label = base === key ? status : base;
  if (status === 'decided' && (outcome === 'granted' || outcome === 'denied'))
    return t('account.status.decidedWith', { status: label, outcome: t(`account.outcome.${outcome}`) });
  return label;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** 2026年3月5日 / Mar 5, 2026 — an ISO instant or a YYYY-MM-DD day, in the Asia/Shanghai calendar. */
export function dayText(value: string | null | undefined, locale: string): string {
  if (!value) return '';
  let f = dayFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: 'Asia/Shanghai', dateStyle: 'medium' });
    dayFormats.set(locale, f);
  }
  // a bare day is noon in Shanghai, so no time zone moves it to another day
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00+08:00`) : new Date(value);
  return Number.isNaN(d.getTime()) ? value : f.format(d);
}

/** 2026年3月5日 14:05 — an ISO instant with its time, Asia/Shanghai. */
export function timeText(value: string | null | undefined, locale: string): string {
  if (!value) return '';
  let f = timeFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: 'Asia/Shanghai',
      dateStyle: 'medium',
      timeStyle: 'short',
    });
    timeFormats.set(locale, f);
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : f.format(d);
}

/** "还剩 5 个工作日" / "今天到期" / "已超期 2 个工作日"; null when no clock runs. */
export function workingDaysLeftText(t: T, left: number | null | undefined): string | null {
  if (left === null || left === undefined) return null;
  if (left > 0) return t('account.deadline.left', left);
  if (left === 0) return t('account.deadline.today');
  return t('account.deadline.overdue', -left);
}

/** 238 KB / 1.2 MB — bytes in the units people read (1 KB = 1024 bytes). */
export function bytesText(bytes: number, locale: string): string {
  const f = (n: number, digits: number) =>
    new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);
  if (bytes < 1024) return `${f(bytes, 0)} B`;
  if (bytes < 1024 * 1024) return `${f(bytes / 1024, 0)} KB`;
  return `${f(bytes / (1024 * 1024), 1)} MB`;
}

const hallNames = new Map<string, Promise<string>>();

/** The name of a hall by its code (cached; the code itself when it cannot be fetched). */
export function hallName(code: string): Promise<string> {
  let p = hallNames.get(code);
  if (!p) {
    p = api.hall(code).then(
      (h) => h.name,
      () => {
        hallNames.delete(code);
        return code;
      },
    );
    hallNames.set(code, p);
  }
  return p;
}
