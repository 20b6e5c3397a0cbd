/**
 * The staff workbench's HTTP layer over the API (/api/v1, OpenAPI at /docs/json): the cookie session's
 * CSRF token on every write (X-CSRF-Token), Idempotency-Key and If-Match where the API wants them, and
 * one error type. A 401 from any call but sign-in itself means the session ended (idle timeout, sign-out
 * elsewhere): {@link onSessionEnded} sends the user back to sign-in with a message.
 */

/** One field problem as the API names it (`issues` of a 400). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Why a request failed: `network` (status 0: no answer), or the HTTP status with the server's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly issues: FieldIssue[];
  constructor(
    status: number,
    code: string,
    message: string,
    field: string | null = null,
    issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.issues = issues;
  }
  get network(): boolean {
    return this.status === 0;
  }
}

let csrfToken: string | null = null;
let sessionEnded: ((error: ApiError) => void) | null = null;

/** Remembers the session's CSRF token (from sign-in or GET /api/v1/auth/csrf-token). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Registers what happens when a call answers 401 (the session ended). */
export function onSessionEnded(handler: (error: ApiError) => void): void {
  sessionEnded = handler;
}

/** A fresh Idempotency-Key: one per user action, reused when the same action is retried. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** JSON body, or a Blob/File sent raw with its own content type (scans). */
  body?: unknown;
  /** Required by every case and custody mutation: the same key on every retry of one action. */
  idempotencyKey?: string;
  /** The case version last seen: a stale one is a 409 instead of a lost update. */
  ifMatch?: number;
  /** Do not treat a 401 as an ended session (sign-in itself, the first `me`). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

/** Sends one request and returns the JSON answer (undefined for 204). @throws ApiError. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {}))
    if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = qs.size > 0 ? `${path}?${qs}` : path;
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['content-type'] = options.body.type || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      signal: options.signal ?? null,
      ...(body !== undefined ? { body } : {}),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) {
    const error = await errorOf(res);
    if (res.status === 401 && !options.quiet401) sessionEnded?.(error);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `http.${res.status}`;
  let message = res.statusText;
  let field: string | null = null;
  let issues: FieldIssue[] = [];
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; field?: string | null; issues?: FieldIssue[] };
    };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      field = body.error.field ?? null;
      issues = body.error.issues ?? [];
    }
  } catch {
    // not JSON (a proxy page): keep the status
  }
  return new ApiError(res.status, code, message, field, issues);
}
