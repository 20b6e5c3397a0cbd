/**
 * Plain words for the offline core's states (the outbox page, the status line, the apply view's notes):
 * which `offline.outbox.reason.*` string explains an entry's error, and short local times.
 */
import type { OutboxError } from './types.ts';

/** The reason key (under `offline.outbox.reason.`) that explains `error` to the user. */
export function reasonKey(error: OutboxError | undefined): string {
  if (!error) return 'other';
  const { code, status = 0 } = error;
  if (code === 'network' || status === 0) return 'network';
  if (status === 401 || code.startsWith('auth.')) return 'signIn';
  // 帮办: the authorization names a resident who has no 通办 account yet
  if (code === 'account.not_found') return 'noAccount';
  if (status === 413 || code === 'file.too_large') return 'tooLarge';
  if (status === 415 || /content_type|unsupported_media|file\.type|scan\.type/.test(code)) return 'fileType';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 429 || status >= 500) return 'server';
  if (status >= 400) return 'validation';
  return 'other';
}

/**
 * A short local time: "14:05" today, "3月2日 14:05" / "Mar 2, 14:05" another day this year, with the
 * year otherwise.
 */
export function timeText(when: Date | number | string, locale: string, now = new Date()): string {
  const d = new Date(when);
  const sameDay = d.toDateString() === now.toDateString();
  const sameYear = d.getFullYear() === now.getFullYear();
  const options: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : sameYear
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale, options).format(d);
}

/**
 * The key (under `offline.outbox.field.`) and parameters naming the field an error points at, in words:
 * `applicant.idNumber` → `applicant_idNumber`; `files.2.type` → `files` with n = 3; otherwise the
 * nearest known parent (`formData.familySize` → `formData`). Null when nothing is known of it.
 */
export function fieldKey(
  field: string | undefined,
  known: (key: string) => boolean,
): { key: string; n?: number } | null {
  if (!field) return null;
  const file = /^files\.(\d+)/.exec(field);
  if (file) return { key: 'files', n: Number(file[1]) + 1 };
  const parts = field.split('.');
  for (let i = parts.length; i > 0; i--) {
    const key = parts.slice(0, i).join('_');
    if (known(key)) return { key };
  }
  return null;
}
