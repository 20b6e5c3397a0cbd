/**
 * The outbox's sender (离线可办): how an application saved on the device reaches the server — pure logic
 * over a `fetch`-like function and a store, no Vue, no IndexedDB, so it runs (and is tested) in Node
 * against the real server as well as in the browser (offline/outbox.ts gives it IndexedDB, Web Locks
 * and the page's CSRF header).
 *
 * One try of an entry ({@link OutboxSender.send}) does the steps still missing, each idempotent:
 * 1. 帮办代办: `POST /api/v1/agent-authorizations` (Idempotency-Key = the authorization's `clientRef`),
 *    then its scan `PUT /api/v1/agent-authorizations/:id/signed-form` (key `<clientRef>:scan`);
 * 2. `POST /api/v1/cases` with `Idempotency-Key: <entry id>` (and `agent.authorizationRef` = the recorded
 *    authorization) — never again once `caseNumber` is known;
 * 3. each file not yet uploaded: `PUT /api/v1/cases/:number/materials/:seq/file?filename=…` (key
 *    `<entry id>:file:<index>`), recorded in `uploaded` so a later try continues there.
 * Progress is stored after every step, so a lost answer, a closed tab or a crash repeats at most one
 * step — and the server answers a repeated step with its first result (no second case, ever).
 *
 * Outcomes: all steps done → `sent`. No answer (network error, timeout, a captive portal's page instead
 * of our JSON), 408 / 425 / 429 / 5xx → `waiting` with `nextAttemptAt` after an exponential backoff with
 * jitter ({@link backoffDelay}: 2 s doubling up to 5 min), or after `Retry-After` when the server sent
 * one. Any other 4xx (the server refused the content: validation, not found, conflict, sign-in needed) →
 * `attention` with the server's code, message and field, until the user fixes it ({@link prepareResend}).
 * Entries are sent independently (a few at a time), at most one try in flight per entry: one failing or
 * slow entry never holds back another.
 */
import type { NewOutboxEntry, OutboxEntry, OutboxError, OutboxPatch } from './types.ts';

/** The part of `fetch` the sender uses (the browser's, Node's, or a test's wrapper around one). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Where entries live (IndexedDB in the browser; a Map in tests). Values are stored as given. */
export interface OutboxStore {
  get(id: string): Promise<OutboxEntry | undefined>;
  put(entry: OutboxEntry): Promise<void>;
  all(): Promise<OutboxEntry[]>;
}

export interface Backoff {
  /** delay ceiling after the first failure (ms) */
  initialMs: number;
  /** largest delay (ms) */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 2_000, maxMs: 5 * 60_000 };

/** Longest `Retry-After` honoured (ms); a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** Idempotency keys the server accepts (8–128 of letters, digits, `.`, `_`, `:`, `-`). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

export interface SenderOptions {
  store: OutboxStore;
  fetch: FetchLike;
  /** prefix of every request path, e.g. `http://127.0.0.1:3000`; '' (default) in the browser */
  baseUrl?: string;
  /** headers added to every request (e.g. `X-CSRF-Token`); may be async */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /**
   * Called once when the server answers 403 `auth.csrf_failed`, with the headers of
   * {@link SenderOptions.headers} the refused request carried: refresh the CSRF token and resolve true
   * to repeat the request with the new {@link SenderOptions.headers}.
   */
  refreshAuth?: (used: Record<string, string>) => Promise<boolean>;
  /**
   * Runs `fn` holding the exclusive lock `name` (e.g. `navigator.locks` so two tabs never send the same
   * entry at once); resolves undefined WITHOUT running `fn` when another holder has it. Default: none
   * (this sender alone still never runs two tries of one entry at once).
   */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T | undefined>;
  /** epoch ms (tests move it) */
  now?: () => number;
  /** uniform in [0, 1) (jitter) */
  random?: () => number;
  backoff?: Backoff;
  /** entries tried at once by {@link OutboxSender.flush} (default 2: a 2G link is narrow) */
  concurrency?: number;
  /** after every stored change of an entry */
  onChange?: (entry: OutboxEntry) => void;
  /** true when a request got an answer from our server, false when it got none */
  onReachability?: (reachable: boolean) => void;
}

/**
 * The delay before the next try after `failures` consecutive retriable failures (≥ 1), in ms: a ceiling
 * of `initialMs · 2^(failures−1)` capped at `maxMs`, of which a random half is added to the other half
 * ("equal jitter": many phones coming back online together do not retry in step).
 */
export function backoffDelay(failures: number, random: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(failures));
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(n - 1, 30));
  return Math.round(ceiling / 2 + (Math.min(Math.max(random, 0), 1) * ceiling) / 2);
}

/**
 * `Retry-After` in ms from `now`: delta seconds ("120") or an HTTP date; undefined when absent or
 * unreadable; at most {@link MAX_RETRY_AFTER_MS}.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * A new entry from what the apply or agent view gives (`saved`, nothing sent yet).
 * @throws Error naming the field when the input cannot be sent (bad id, empty label, a file without a
 *   Blob or with a material position that is not a positive integer, an authorization without clientRef).
 */
export function newEntry(input: NewOutboxEntry, now: Date, randomId: () => string): OutboxEntry {
  const id = input.id ?? randomId();
  if (!IDEMPOTENCY_KEY.test(id))
    throw new Error(`outbox entry id "${id}": use 8–128 letters, digits, ".", "_", ":" or "-" (a UUID)`);
  if (!input.label?.trim()) throw new Error('outbox entry label is empty: give "item name · applicant name"');
  if (!/^\d{12}$/.test(input.itemCode))
    throw new Error(`outbox entry itemCode "${input.itemCode}": 12 digits`);
  checkFiles(input.files);
  if (input.authorization && !IDEMPOTENCY_KEY.test(input.authorization.clientRef))
    throw new Error('authorization.clientRef: use 8–128 letters, digits, ".", "_", ":" or "-" (a UUID)');
  const at = now.toISOString();
  return {
    id,
    createdAt: at,
    updatedAt: at,
    label: input.label.trim(),
    itemCode: input.itemCode,
    body: input.body,
    files: input.files,
    ...(input.authorization ? { authorization: input.authorization } : {}),
    state: 'saved',
    attempts: 0,
    failures: 0,
    uploaded: [],
  };
}

function checkFiles(files: OutboxEntry['files']): void {
  if (!Array.isArray(files)) throw new Error('files: give a list (empty when there are none)');
  files.forEach((f, i) => {
    if (!Number.isInteger(f.materialSeq) || f.materialSeq < 1)
      throw new Error(`files.${i}.materialSeq: the material's 1-based position in the guide's list`);
    if (!(f.blob instanceof Blob)) throw new Error(`files.${i}.blob: the file's bytes as a Blob`);
    if (!f.type) throw new Error(`files.${i}.type: the MIME type, e.g. image/jpeg`);
  });
}

/**
 * The entry after the user fixed it, ready to be sent again now (`waiting`, error and backoff cleared).
 * Replacing `files` keeps as uploaded those that are the very same Blob as an uploaded one (same object);
 * the others get a fresh upload key.
 * @throws Error when the entry is already sent, or when `patch.body` is given although the case exists
 *   (a case is never filed twice: fix it with the hall instead).
 */
export function prepareResend(entry: OutboxEntry, patch: OutboxPatch, now: number): OutboxEntry {
  if (entry.state === 'sent')
    throw new Error(`outbox entry ${entry.id} was already sent (${entry.caseNumber})`);
  if (patch.body && entry.caseNumber)
    throw new Error(
      `outbox entry ${entry.id}: case ${entry.caseNumber} already exists; its application can no longer be changed here`,
    );
  const next: OutboxEntry = { ...entry };
  if (patch.body) next.body = patch.body;
  if (patch.label?.trim()) next.label = patch.label.trim();
  if (patch.authorization) {
    if (entry.authorization?.serverId && patch.authorization.clientRef === entry.authorization.clientRef)
      next.authorization = { ...patch.authorization, serverId: entry.authorization.serverId };
    else next.authorization = patch.authorization;
  }
  if (patch.files) {
    checkFiles(patch.files);
    const uploaded: number[] = [];
    next.files = patch.files.map((f, j) => {
      const old = entry.files.findIndex((o, i) => o.blob === f.blob && entry.uploaded.includes(i));
      if (old >= 0) {
        uploaded.push(j);
        return { ...f, idempotencyKey: fileKey(entry, old) };
      }
      return { ...f, idempotencyKey: `${entry.id}:file:${j}:${now.toString(36)}` };
    });
    next.uploaded = uploaded;
  }
  delete next.error;
  next.state = 'waiting';
  next.failures = 0;
  next.nextAttemptAt = now;
  next.updatedAt = new Date(now).toISOString();
  return next;
}

/** The Idempotency-Key of file `i`'s upload. */
export function fileKey(entry: OutboxEntry, i: number): string {
  return entry.files[i]?.idempotencyKey ?? `${entry.id}:file:${i}`;
}

/** Whether the sender tries the entry by itself (`attention` waits for the user; `sent` is done). */
export function isPending(e: OutboxEntry): boolean {
  return e.state === 'saved' || e.state === 'waiting' || e.state === 'sending';
}

type Step<T> =
  | { ok: true; value: T }
  | { ok: false; retry: boolean; retryAfterMs?: number; error: OutboxError };

interface RequestSpec {
  method: 'POST' | 'PUT';
  path: string;
  key: string;
  json?: unknown;
  blob?: Blob;
  /** for the blob */
  contentType?: string;
}

/** The entry was removed while it was being sent: stop, store nothing. */
class EntryRemoved extends Error {}

/** HTTP statuses worth another try later (the request itself may be fine). */
function retriable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Sends outbox entries; see the module comment. One instance per page (or per test). */
export class OutboxSender {
  private readonly inflight = new Map<string, Promise<OutboxEntry | undefined>>();
  private readonly o: SenderOptions;

  constructor(options: SenderOptions) {
    this.o = options;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /**
   * One try of entry `id` now, unless another try of it is running here (then that one's result) or
   * in another tab (then the entry as stored, untouched). `sent` and `attention` entries are returned
   * as they are; `force` also ignores the entry's backoff time. Never throws for HTTP or network
   * failures (they are the entry's state); rejects only when the store fails.
   */
  send(id: string, options: { force?: boolean } = {}): Promise<OutboxEntry | undefined> {
    const running = this.inflight.get(id);
    if (running) return running;
    const lock = this.o.lock ?? ((_name, fn) => fn());
    const attempt = lock(`tongban-outbox:${id}`, () => this.attempt(id, options.force ?? false))
      .then(async (r) => r ?? (await this.o.store.get(id)))
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, attempt);
    return attempt;
  }

  /** Resolves when no try of `id` is running in this sender. */
  async settled(id: string): Promise<void> {
    await this.inflight.get(id)?.catch(() => undefined);
  }

  /**
   * Tries every pending entry whose time has come (`force`: every pending entry, e.g. when the network
   * came back), {@link SenderOptions.concurrency} at a time, oldest first; resolves when all are done.
   */
  async flush(options: { force?: boolean } = {}): Promise<void> {
    const now = this.now();
    const due = (await this.o.store.all())
      .filter((e) => isPending(e) && (options.force || (e.nextAttemptAt ?? 0) <= now))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const e = due[next++];
        if (e) await this.send(e.id, { force: options.force ?? false }).catch(() => undefined);
      }
    };
    const width = Math.max(1, Math.min(this.o.concurrency ?? 2, due.length));
    await Promise.all(Array.from({ length: width }, worker));
  }

  /** The earliest `nextAttemptAt` of the pending entries (epoch ms), or undefined when none waits. */
  async nextDue(): Promise<number | undefined> {
    let min: number | undefined;
    for (const e of await this.o.store.all())
      if (isPending(e)) {
        const at = e.nextAttemptAt ?? 0;
        if (min === undefined || at < min) min = at;
      }
    return min;
  }

  private async save(entry: OutboxEntry): Promise<OutboxEntry> {
    if (!(await this.o.store.get(entry.id))) throw new EntryRemoved(entry.id);
    entry.updatedAt = new Date(this.now()).toISOString();
    await this.o.store.put(entry);
    this.o.onChange?.(entry);
    return entry;
  }

  private async attempt(id: string, force: boolean): Promise<OutboxEntry | undefined> {
    const stored = await this.o.store.get(id);
    if (!stored || !isPending(stored)) return stored;
    if (!force && (stored.nextAttemptAt ?? 0) > this.now()) return stored;
    // `sending` as stored means a try that died with its tab: we hold the lock, so it is ours now
    let e: OutboxEntry = { ...stored, state: 'sending', attempts: stored.attempts + 1 };
    try {
      e = await this.save(e);
      const failed = await this.steps(e);
      if (!failed) {
        delete e.error;
        delete e.nextAttemptAt;
        e.state = 'sent';
        e.failures = 0;
        e.sentAt = new Date(this.now()).toISOString();
      } else if (failed.retry) {
        e.failures = (e.failures ?? 0) + 1;
        e.state = 'waiting';
        e.error = failed.error;
        const delay =
          failed.retryAfterMs ?? backoffDelay(e.failures, this.o.random?.() ?? Math.random(), this.o.backoff);
        e.nextAttemptAt = this.now() + delay;
      } else {
        e.state = 'attention';
        e.error = failed.error;
        delete e.nextAttemptAt;
      }
      return await this.save(e);
    } catch (err) {
      if (err instanceof EntryRemoved) return undefined;
      throw err;
    }
  }

  /** Runs the missing steps, storing progress; returns the failure that stopped them, or null when done. */
  private async steps(
    e: OutboxEntry,
  ): Promise<{ retry: boolean; retryAfterMs?: number; error: OutboxError } | null> {
    const auth = e.authorization;
    if (auth && !auth.serverId) {
      const r = await this.request<{ id?: string }>({
        method: 'POST',
        path: '/api/v1/agent-authorizations',
        key: auth.clientRef,
        json: auth.body,
      });
      if (!r.ok) return withField(r, 'authorization');
      if (typeof r.value.id !== 'string') return notOurs('authorization: the answer has no id');
      e.authorization = { ...auth, serverId: r.value.id };
      await this.save(e);
    }
    const recorded = e.authorization;
    if (recorded?.serverId && recorded.scan && !recorded.scanUploaded) {
      const r = await this.request<unknown>({
        method: 'PUT',
        path: `/api/v1/agent-authorizations/${encodeURIComponent(recorded.serverId)}/signed-form`,
        key: `${recorded.clientRef}:scan`,
        blob: recorded.scan.blob,
        contentType: recorded.scan.type,
      });
      if (!r.ok) return withField(r, 'authorization.scan');
      e.authorization = { ...recorded, scanUploaded: true };
      await this.save(e);
    }
    if (!e.caseNumber) {
      const serverId = e.authorization?.serverId;
      const body =
        serverId && e.body.agent
          ? { ...e.body, agent: { ...e.body.agent, authorizationRef: serverId } }
          : e.body;
      const r = await this.request<{ case?: { id?: string; number?: string } }>({
        method: 'POST',
        path: '/api/v1/cases',
        key: e.id,
        json: body,
      });
      if (!r.ok) return r;
      const number = r.value.case?.number;
      if (typeof number !== 'string') return notOurs('case: the answer has no case number');
      e.caseNumber = number;
      if (typeof r.value.case?.id === 'string') e.caseId = r.value.case.id;
      await this.save(e);
    }
    const number = e.caseNumber;
    for (let i = 0; i < e.files.length; i++) {
      const file = e.files[i];
      if (!file || e.uploaded.includes(i)) continue;
      const r = await this.request<unknown>({
        method: 'PUT',
        path: `/api/v1/cases/${encodeURIComponent(number)}/materials/${file.materialSeq}/file?filename=${encodeURIComponent(file.name)}`,
        key: fileKey(e, i),
        blob: file.blob,
        contentType: file.type,
      });
      if (!r.ok) return withField(r, `files.${i}`);
      e.uploaded = [...e.uploaded, i];
      await this.save(e);
    }
    return null;
  }

  /** One HTTP request; classifies what came back (see the module comment). */
  private async request<T>(spec: RequestSpec, refreshed = false): Promise<Step<T>> {
    let extra: Record<string, string>;
    try {
      extra = (await this.o.headers?.()) ?? {};
    } catch (err) {
      // the headers could not be made (e.g. no answer while fetching a CSRF token): try again later
      return {
        ok: false,
        retry: true,
        error: { code: 'network', message: err instanceof Error ? err.message : String(err), status: 0 },
      };
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...extra,
      'idempotency-key': spec.key,
    };
    let body: BodyInit | undefined;
    let bytes = 0;
    if (spec.blob) {
      body = spec.blob;
      bytes = spec.blob.size;
      headers['content-type'] = spec.contentType || spec.blob.type || 'application/octet-stream';
    } else if (spec.json !== undefined) {
      const text = JSON.stringify(spec.json);
      body = text;
      bytes = text.length;
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.o.fetch(`${this.o.baseUrl ?? ''}${spec.path}`, {
        method: spec.method,
        headers,
        ...(body === undefined ? {} : { body }),
        credentials: 'same-origin',
        // 30 s plus the time the bytes need at 5 KB/s (a weak 2G link)
        signal: AbortSignal.timeout(30_000 + Math.ceil(bytes / 5)),
      });
    } catch (err) {
      this.o.onReachability?.(false);
      return {
        ok: false,
        retry: true,
        error: { code: 'network', message: err instanceof Error ? err.message : String(err), status: 0 },
      };
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.now());
    const type = res.headers.get('content-type') ?? '';
    let json: unknown;
    try {
      json = type.includes('json') ? await res.json() : undefined;
    } catch {
      json = undefined;
    }
    if (json === undefined || json === null || typeof json !== 'object') {
      // not our server's answer (a captive portal's login page, a proxy's error page): as if offline
      this.o.onReachability?.(false);
      return {
        ok: false,
        retry: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        error: {
          code: 'network',
          message: `the answer did not come from the server (HTTP ${res.status}${type ? `, ${type}` : ''})`,
          status: res.status,
        },
      };
    }
    this.o.onReachability?.(true);
    if (res.ok) return { ok: true, value: json as T };
    const e = (json as { error?: { code?: unknown; message?: unknown; field?: unknown } }).error;
    const error: OutboxError = {
      code: typeof e?.code === 'string' ? e.code : `http.${res.status}`,
      message: typeof e?.message === 'string' ? e.message : res.statusText || `HTTP ${res.status}`,
      ...(typeof e?.field === 'string' ? { field: e.field } : {}),
      status: res.status,
    };
    if (res.status === 403 && error.code === 'auth.csrf_failed' && !refreshed && this.o.refreshAuth) {
      if (await this.o.refreshAuth(extra).catch(() => false)) return this.request<T>(spec, true);
    }
    return {
      ok: false,
      retry: retriable(res.status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      error,
    };
  }
}

function withField<T extends { error: OutboxError }>(r: T, prefix: string): T {
  const field = r.error.field ? `${prefix}.${r.error.field}` : prefix;
  return { ...r, error: { ...r.error, field } };
}

function notOurs(message: string) {
  return { retry: true, error: { code: 'network', message, status: 0 } };
}
