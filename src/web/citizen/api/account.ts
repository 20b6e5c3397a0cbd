/**
 * The citizen app's client for the signed-in part of the API: sign-in by SMS code and real-name
 * registration (/api/v1/auth/…), my applications and their timeline, documents, supplements and pickup
 * code (/api/v1/cases/…, /api/v1/me/cases), the public tracking page (/api/v1/track/…) and the inbox
 * (/api/v1/notifications/inbox).
 *
 * Residents use a cookie session: every POST/PUT/PATCH/DELETE carries the session's CSRF token in
 * `X-CSRF-Token` (from sign-in, or `GET /api/v1/auth/csrf-token` after a reload); case mutations carry an
 * `Idempotency-Key` (the same on every retry of one action) and, where the case version is known,
 * `If-Match`. Errors are the {@link ApiError} of ../api.ts. A 401 on any call but sign-in means the
 * session ended: {@link onSessionEnded} lets the session module react.
 */
import type { CaseStatus } from '../../../domain/case-state.ts';
import { ApiError, apiErrorOf, networkError } from '../api.ts';

export type { CaseStatus };

// ---------------------------------------------------------------------------------------------------
// HTTP

let csrfToken: string | null = null;
let sessionEnded: ((error: ApiError) => void) | null = null;
/** the running `GET /api/v1/auth/csrf-token`, shared by every caller that needs a token now */
let fetchingCsrf: Promise<string | null> | null = null;

/*
 * The one CSRF source of the page. The server keeps ONE token per session and `GET
 * /api/v1/auth/csrf-token` replaces it, so every sender of this page — this module's {@link request},
 * the outbox (offline/outbox.ts, wired in main.ts) and the village agent's session (agent/session.ts) —
 * reads the token here and asks for a new one only through {@link ensureCsrfToken} /
 * {@link renewCsrfToken}, never on its own.
 */

/** Remembers the session's CSRF token (from sign-in or `GET /api/v1/auth/csrf-token`); null forgets it. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The CSRF token of this page's session, for other senders (the outbox); null when signed out. */
export function currentCsrfToken(): string | null {
  return csrfToken;
}

function fetchCsrfToken(): Promise<string | null> {
  fetchingCsrf ??= (async () => {
    try {
      let res: Response;
      try {
        res = await fetch('/api/v1/auth/csrf-token', {
          headers: { accept: 'application/json' },
          credentials: 'same-origin',
        });
      } catch (e) {
        throw networkError(e);
      }
      if (res.status === 401) {
        csrfToken = null;
        return null;
      }
      if (!res.ok) throw await apiErrorOf(res);
      csrfToken = ((await res.json()) as { csrfToken: string }).csrfToken;
      return csrfToken;
    } finally {
      fetchingCsrf = null;
    }
  })();
  return fetchingCsrf;
}

/**
 * The session's CSRF token: the one this page holds, else a new one from the server (after a reload).
 * Concurrent callers share one request. @returns null when the browser holds no session (401).
 * @throws ApiError — status 0 `network` without an answer, the server's error otherwise.
 */
export function ensureCsrfToken(): Promise<string | null> {
  return csrfToken ? Promise.resolve(csrfToken) : fetchCsrfToken();
}

/**
 * After the server refused `stale` (403 `auth.csrf_failed`, e.g. another tab renewed the session's
 * token): a new token — unless the page already holds a different one (someone renewed it meanwhile),
 * which is returned as is. @returns null without a session. @throws as {@link ensureCsrfToken}.
 */
export function renewCsrfToken(stale: string | null): Promise<string | null> {
  if (csrfToken && csrfToken !== stale) return Promise.resolve(csrfToken);
  return fetchCsrfToken();
}

/** Headers with the session's CSRF token for a sender outside this module (the outbox); never throws. */
export async function csrfHeaders(): Promise<Record<string, string>> {
  try {
    const token = await ensureCsrfToken();
    return token ? { 'x-csrf-token': token } : {};
  } catch {
    return {};
  }
}

/**
 * After the server refused the token in `used` (the headers sent): renews it; true when there is a new
 * token to try once more. Never throws.
 */
export async function refreshCsrfHeaders(used: Record<string, string>): Promise<boolean> {
  try {
    const stale = used['x-csrf-token'] ?? null;
    const token = await renewCsrfToken(stale);
    return token !== null && token !== stale;
  } catch {
    return false;
  }
}

/** Registers what happens when a call answers 401 (the session ended elsewhere or timed out). */
export function onSessionEnded(handler: (error: ApiError) => void): void {
  sessionEnded = handler;
}

/** A fresh Idempotency-Key (UUID): one per user action, reused when that same action is retried. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** a JSON body, or a Blob/File sent raw with its own content type (photos, PDFs) */
  body?: unknown;
  idempotencyKey?: string;
  /** the case version last seen: a stale one is a 409 instead of a lost update */
  ifMatch?: number;
  /** a 401 is an answer here (sign-in, the first look at the session), not an ended session */
  quiet401?: boolean;
  /** made before any session (SMS code, sign-in, registration): no CSRF token is fetched for it */
  anonymous?: boolean;
  signal?: AbortSignal;
}

/**
 * Sends one request with the session cookie (and the CSRF token on writes) and returns the JSON answer
 * (undefined for 204). @throws ApiError — status 0 `network` without an answer.
 */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const write = method !== 'GET' && method !== 'HEAD';
  const token = !write ? null : options.anonymous ? csrfToken : await ensureCsrfToken().catch(() => null);
  try {
    return await send<T>(method, path, options, token);
  } catch (e) {
    // another tab (or the outbox of one) renewed the session's token: once more with the new one
    if (!write || !(e instanceof ApiError) || e.status !== 403 || e.code !== 'auth.csrf_failed') throw e;
    const renewed = await renewCsrfToken(token).catch(() => null);
    if (!renewed || renewed === token) throw e;
    return send<T>(method, path, options, renewed);
  }
}

async function send<T>(
  method: string,
  path: string,
  options: RequestOptions,
  token: string | null,
): Promise<T> {
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
  if (token) headers['x-csrf-token'] = token;
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
    throw networkError(e);
  }
  if (!res.ok) {
    const error = await apiErrorOf(res);
    if (res.status === 401 && !options.quiet401) sessionEnded?.(error);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

// ---------------------------------------------------------------------------------------------------
// Shapes (see docs/openapi.json)

export interface Principal {
  accountId: string;
  kind: 'resident' | 'legal_person_operator' | 'staff';
  via: 'session' | 'api_token' | 'dev_header';
  name?: string;
  departmentId?: string;
  hallCode?: string;
  legalPersonId?: string;
  isAdmin: boolean;
  mfa: boolean;
  restricted?: boolean;
}

export interface Account {
  id: string;
  kind: 'resident' | 'legal_person' | 'staff';
  name: string;
  /** masked, e.g. 5201**********1234 */
  idNumber: string | null;
  /** masked, e.g. 138****5678 */
  phone: string | null;
  hallCode: string | null;
  createdAt: string;
}

export interface SessionGrant {
  csrfToken: string;
  expiresAt: string;
  principal: Principal;
}

export interface Me {
  account: Account;
  principal: Principal;
  legalPersons: { id: string; name: string; creditCode: string | null }[];
}

export interface Grant {
  id: string;
  role: string;
  scope: { kind: string; value: string; divisionCode: string };
  validFrom: string;
  validUntil: string;
  revokedAt: string | null;
}

/** A due date of the case clock: a Shanghai day, possibly provisional (holidays not yet published). */
export interface ClockDate {
  date: string;
  provisional: boolean;
  unknownYears: number[];
}

export interface CaseClocks {
  today: string;
  clockStartedOn: string | null;
  limit: { value: number; unit: string } | null;
  paused: boolean;
  supplementDue: ClockDate | null;
  /** 承诺办结日 (working days) */
  decisionDue: ClockDate | null;
  legalDecisionDue: ClockDate | null;
  /** working days until the decision is due; null when no clock runs */
  workingDaysLeft: number | null;
  warning: 'none' | 'yellow' | 'red' | 'overdue';
}

/** The result delivery of a case: the applicant's preference (masked) and, once decided, the pickup. */
export interface CaseDelivery {
  preference?:
    | { method: 'pickup'; hallCode: string }
    | { method: 'mail'; recipient: string; phone: string; address: string }
    | { method: 'e_licence' };
  pickup?: { hallCode: string; attempts?: number };
  [key: string]: unknown;
}

export interface CaseMaterial {
  seq: number;
  name: string;
  required: boolean;
}

/** A case (办件) as the API shows it to its applicant: identifiers masked, clocks computed now. */
export interface CaseView {
  id: string;
  number: string;
  status: CaseStatus;
  outcome: string | null;
  itemCode: string;
  /** the item's name when the case was filed */
  itemName: string;
  applicant: Record<string, unknown>;
  /**
   * 帮办代办: who filed it for the applicant — `kind` (village_agent 村级代办员, hall_helper 帮办员,
   * authorized_person 受托人), `name`, `authorizationRef`; null when the applicant filed it themselves or
   * at a window
   */
  agent: { kind?: string; name?: string; authorizationRef?: string; [key: string]: unknown } | null;
  channel: string;
  processingMode: string;
  intakeHallCode: string | null;
  decidingDivisionCode: string;
  clocks: CaseClocks;
  delivery: CaseDelivery | null;
  version: number;
  materials: CaseMaterial[];
  createdAt: string;
  updatedAt: string;
}

/** What the applicant must do next on a case (`nextStep` of GET /api/v1/me/cases). */
export type NextStep =
  | { action: 'resubmit'; gaps: { material: string; reason: string }[]; requestedOn: string }
  | { action: 'pickup'; hallCode: string }
  | { action: 'rate' };

export type MyCase = CaseView & { nextStep: NextStep | null };

export interface TimelineEvent {
  seq: number;
  type: string;
  from: string | null;
  to: string;
  at: string;
  actor: { kind?: string; id?: string; name?: string; onBehalfOf?: string; [key: string]: unknown };
  reason: string | null;
  data: Record<string, unknown>;
}

export interface CaseDocument {
  id: string;
  kind: string;
  title: string;
  number: string;
  eventSeq: number;
  bytes: number;
  issuedAt: string;
  downloadUrl: string;
}

export interface CaseMutation {
  case: CaseView;
  pickupCode?: string;
}

export interface InboxMessage {
  id: string;
  topic: string;
  caseId: string | null;
  caseNumber: string | null;
  locale: string;
  subject: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

/**
 * The public tracking answer (`GET /api/v1/track/:number?check=…`, the server's TrackView): where a case
 * stands, without any personal data — no name, no identifier, no address. Days are Shanghai days
 * (YYYY-MM-DD). Errors: 400 `track.number_invalid` / `track.check_invalid` (field named), 404
 * `track.not_found` (a wrong number and a wrong check alike), 429 past the lookups per minute.
 */
export interface TrackedCase {
  number: string;
  itemCode: string;
  itemName: string;
  status: CaseStatus;
  /** the status in words as the server says it (中文); the app shows its own label */
  statusLabel: string;
  /** YYYY-MM-DD */
  submittedOn: string;
  receivedOn?: string;
  acceptedOn?: string;
  decidedOn?: string;
  /** 承诺办结日 (YYYY-MM-DD) while the authority works on it */
  deadline?: string;
  /** the deadline lies in a year whose holidays are not published yet */
  deadlineProvisional?: boolean;
  /** working days until the deadline (negative: overdue); absent when no clock runs */
  workingDaysLeft?: number;
  /** the decision clock is paused (补正, 特别程序) */
  paused?: boolean;
  intakeHall?: { code: string; name: string };
  pickupHall?: { code: string; name: string };
  /** decided, and the result waits at the pickup hall (bring the pickup code) */
  readyForPickup: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Calls

const enc = encodeURIComponent;

export const account = {
  /** Sends a 6-digit code by SMS: `sign_in` only to a registered phone, `register` only to a new one. */
  requestSmsCode: (phone: string, purpose: 'sign_in' | 'register') =>
    request<{ sentTo: string; expiresInSeconds: number }>('POST', '/api/v1/auth/sms-code', {
      body: { phone, purpose },
      quiet401: true,
      anonymous: true,
    }),

  signInWithSms: (phone: string, code: string) =>
    request<SessionGrant>('POST', '/api/v1/auth/login/sms', {
      body: { phone, code },
      quiet401: true,
      anonymous: true,
    }),

  /** 实名注册: name + resident ID number + phone proved by a `register` code, which also signs in. */
  registerResident: (input: { name: string; idNumber: string; phone: string; code: string }) =>
    request<Account & SessionGrant>('POST', '/api/v1/auth/residents', {
      body: input,
      quiet401: true,
      anonymous: true,
    }),

  /** A new CSRF token for the session cookie this browser holds (401 without one). */
  csrfToken: () => request<{ csrfToken: string }>('GET', '/api/v1/auth/csrf-token', { quiet401: true }),

  me: () => request<Me>('GET', '/api/v1/auth/me', { quiet401: true }),

  grantsOf: (accountId: string) =>
    request<{ items: Grant[] }>('GET', `/api/v1/accounts/${enc(accountId)}/grants`, { quiet401: true }),

  signOut: () => request<void>('POST', '/api/v1/auth/logout', { quiet401: true }),

  myCases: (limit = 50, signal?: AbortSignal) =>
    request<{ items: MyCase[] }>('GET', '/api/v1/me/cases', {
      query: { limit },
      ...(signal ? { signal } : {}),
    }),

  case: (ref: string, signal?: AbortSignal) =>
    request<CaseView>('GET', `/api/v1/cases/${enc(ref)}`, signal ? { signal } : {}),

  timeline: (ref: string, signal?: AbortSignal) =>
    request<{ items: TimelineEvent[] }>(
      'GET',
      `/api/v1/cases/${enc(ref)}/timeline`,
      signal ? { signal } : {},
    ),

  documents: (ref: string, signal?: AbortSignal) =>
    request<{ items: CaseDocument[] }>(
      'GET',
      `/api/v1/cases/${enc(ref)}/documents`,
      signal ? { signal } : {},
    ),

  /** One applicant-side command (resubmit, withdraw) on my case. Rating is 好差评 (`/rate/:number`, POST /api/v1/evaluations): the case command refuses `rate`. */
  command: (
    ref: string,
    command: { type: 'resubmit' | 'withdraw'; reason?: string },
    idempotencyKey: string,
    version?: number,
  ) =>
    request<CaseMutation>('POST', `/api/v1/cases/${enc(ref)}/commands`, {
      body: command,
      idempotencyKey,
      ...(version !== undefined ? { ifMatch: version } : {}),
    }),

  /** Uploads a photo (JPEG/PNG) or PDF of material `seq` (1-based) of my case. */
  uploadMaterial: (ref: string, seq: number, file: Blob, filename: string, idempotencyKey: string) =>
    request<unknown>('PUT', `/api/v1/cases/${enc(ref)}/materials/${seq}/file`, {
      body: file,
      query: { filename },
      idempotencyKey,
    }),

  /** A new pickup code, sent to me by SMS and to the inbox (the old one stops working). */
  reissuePickupCode: (ref: string, idempotencyKey: string) =>
    request<CaseMutation>('POST', `/api/v1/cases/${enc(ref)}/pickup-code`, { idempotencyKey }),

  /** Public: a case by its number and the last 4 digits of the phone or last 6 of the ID number. */
  track: (number: string, check: string, signal?: AbortSignal) =>
    request<TrackedCase>('GET', `/api/v1/track/${enc(number)}`, {
      query: { check },
      quiet401: true,
      ...(signal ? { signal } : {}),
    }),

  inbox: (recipient: string, before?: string, signal?: AbortSignal) =>
    request<{ items: InboxMessage[]; unread: number; next: string | null }>(
      'GET',
      '/api/v1/notifications/inbox',
      { query: { recipient, limit: 50, before }, ...(signal ? { signal } : {}) },
    ),

  markRead: (recipient: string, ids: string[]) =>
    request<{ updated: number; unread: number }>('POST', '/api/v1/notifications/inbox/read', {
      body: { recipient, ids },
    }),
};
