/**
 * The one closed set of error kinds in tongban. Every failure a caller can see is an {@link AppError}
 * with a stable machine `code` (e.g. `division.not_found`), a `kind` that decides the HTTP status (mapped
 * in exactly one place: src/server/http/errors.ts), a human message that says what was wrong and what to
 * do, and — for bad input — the offending `field`.
 *
 * Pure: no I/O, runs in Node and in the browser.
 */

/** Error kinds and the HTTP status each maps to. Closed set: add here, nowhere else. */
export const ERROR_KINDS = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** a WebSocket endpoint called without the Upgrade handshake */
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

/** Details of a single offending field, for responses and per-row import reports. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `q`, `materials.0.name`, or `row 12, column 承诺办结时限`. */
  field: string;
  /** What is wrong and what to do. */
  message: string;
}

export interface AppErrorOptions {
  field?: string;
  issues?: FieldIssue[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly field: string | undefined;
  readonly issues: FieldIssue[] | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.field = options.field;
    this.issues = options.issues;
  }

  /** HTTP status for this error's kind. */
  get status(): number {
    return ERROR_KINDS[this.kind];
  }
}

/** Bad input: names the field and says what to do. Changes nothing. */
export function invalid(field: string, message: string, code = 'validation.invalid_field'): AppError {
  return new AppError('validation', code, message, { field, issues: [{ field, message }] });
}

/** Several bad fields at once (e.g. an import file), all reported together. */
export function invalidMany(code: string, message: string, issues: FieldIssue[]): AppError {
  return new AppError('validation', code, message, { field: issues[0]?.field, issues });
}

/** Something looked up by its identifier does not exist. */
export function notFound(code: string, message: string, field?: string): AppError {
  return new AppError('not_found', code, message, field === undefined ? {} : { field });
}

/** A state conflict: an illegal transition, a stale version, a duplicate. */
export function conflict(code: string, message: string, field?: string): AppError {
  return new AppError('conflict', code, message, field === undefined ? {} : { field });
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
