/**
 * The outbox (待发送, 离线可办) as the views use it: applications submitted on this device — possibly with
 * no network — stored in IndexedDB with their photos, and sent by {@link OutboxSender} (offline/sender.ts)
 * when the server can be reached. Replays never create a second case (the entry id is the
 * Idempotency-Key of `POST /api/v1/cases`).
 *
 * When it sends: right after {@link enqueue}; when the network comes back (`online` event, or the
 * server answers again — see offline/network.ts); when the earliest backoff of a waiting entry is due;
 * every {@link SAFETY_INTERVAL_MS} ms anyway (a missed event); when the page becomes visible. Two tabs
 * never send one entry at once (Web Locks, `tongban-outbox:<id>`), and each tab's list follows the
 * other's changes (BroadcastChannel `tongban-outbox`).
 *
 * Requests carry the session cookie and, for the CSRF check, the headers of {@link setRequestHeaders}
 * (main.ts wires the page's one CSRF source, api/account.ts, for residents and village agents alike).
 * Until it is called the outbox asks `GET /api/v1/auth/csrf-token` itself when the server answers 403
 * `auth.csrf_failed`.
 */
import { computed, type Ref, shallowRef, watchEffect } from 'vue';
import { offlineDb } from './db.ts';
import { onConnectivityChange, reportReachable, reportUnreachable } from './network.ts';
import { plain } from './plain.ts';
import { isPending, newEntry, OutboxSender, type OutboxStore, prepareResend } from './sender.ts';
import { setOutboxCounts } from './status.ts';
import type { NewOutboxEntry, OutboxEntry, OutboxPatch } from './types.ts';

export type { NewOutboxEntry, OutboxEntry, OutboxPatch } from './types.ts';

/** A try is made at least this often while entries wait (ms), whatever the events said. */
export const SAFETY_INTERVAL_MS = 60_000;

/** Every entry on this device, newest first (replaced as a whole on every change). */
export const entries: Ref<OutboxEntry[]> = shallowRef([]);

/** Entries not yet sent (saved, waiting, sending, or needing the user's attention). */
export const pendingCount = computed(() => entries.value.filter((e) => e.state !== 'sent').length);

/** Entries that need the user (state `attention`). */
export const attentionCount = computed(() => entries.value.filter((e) => e.state === 'attention').length);

watchEffect(() => setOutboxCounts({ pending: pendingCount.value, attention: attentionCount.value }));

/** IndexedDB could not be opened (private mode): the outbox cannot keep anything on this device. */
export const unavailable = shallowRef(false);

const store: OutboxStore = {
  async get(id) {
    return (await offlineDb()).get('outbox', id);
  },
  async put(entry) {
    await (await offlineDb()).put('outbox', entry);
  },
  async all() {
    return (await offlineDb()).getAll('outbox');
  },
};

let extraHeaders: (() => Record<string, string> | Promise<Record<string, string>>) | null = null;
let extraRefresh: ((used: Record<string, string>) => Promise<boolean>) | null = null;
let ownCsrfToken: string | null = null;

/**
 * The headers every outbox request carries besides the cookie, e.g. `() => ({ 'x-csrf-token': token })`
 * from the sign-in code (which owns the session's CSRF token); null to go back to the built-in fallback.
 * `refresh`, when given, is asked once after a 403 `auth.csrf_failed` with the headers that were refused
 * (renew the token; resolve true to try again). The provider should not throw (an entry whose headers
 * cannot be made waits like one without network).
 */
export function setRequestHeaders(
  provider: (() => Record<string, string> | Promise<Record<string, string>>) | null,
  refresh: ((used: Record<string, string>) => Promise<boolean>) | null = null,
): void {
  extraHeaders = provider;
  extraRefresh = provider ? refresh : null;
}

async function headers(): Promise<Record<string, string>> {
  if (extraHeaders) return extraHeaders();
  return ownCsrfToken ? { 'x-csrf-token': ownCsrfToken } : {};
}

/** After 403 auth.csrf_failed without a provider: fetch a token once (this renews the session's token). */
async function refreshAuth(used: Record<string, string>): Promise<boolean> {
  if (extraHeaders) return extraRefresh ? extraRefresh(used) : false;
  try {
    const res = await fetch('/api/v1/auth/csrf-token', { headers: { accept: 'application/json' } });
    if (!res.ok) return false;
    const { csrfToken } = (await res.json()) as { csrfToken?: string };
    ownCsrfToken = csrfToken ?? null;
    return ownCsrfToken !== null;
  } catch {
    return false;
  }
}

const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('tongban-outbox');

function show(entry: OutboxEntry | null, id?: string) {
  const key = entry?.id ?? id;
  const rest = entries.value.filter((e) => e.id !== key);
  entries.value = entry ? sortNewestFirst([entry, ...rest]) : rest;
}

function sortNewestFirst(list: OutboxEntry[]): OutboxEntry[] {
  return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function changed(entry: OutboxEntry) {
  // a copy: the sender keeps changing its one object of an entry through a try, and the views' computed
  // values see a change only when the entry is a new object (entries is a shallowRef of plain objects)
  show({ ...entry });
  channel?.postMessage({ id: entry.id });
}

const sender = new OutboxSender({
  store,
  fetch: (url, init) => fetch(url, init),
  headers,
  refreshAuth,
  lock: (name, fn) =>
    typeof navigator !== 'undefined' && navigator.locks
      ? navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? fn() : undefined))
      : fn(),
  onChange: changed,
  onReachability: (ok) => (ok ? reportReachable() : reportUnreachable()),
});

async function reload(): Promise<void> {
  try {
    entries.value = sortNewestFirst(await store.all());
  } catch {
    unavailable.value = true;
  }
}

/** Resolves once the stored entries are in {@link entries}. */
export const ready: Promise<void> = reload();

channel?.addEventListener('message', async (event: MessageEvent<{ id?: string }>) => {
  const id = event.data?.id;
  if (!id) return;
  const e = await store.get(id).catch(() => undefined);
  show(e ?? null, id);
});

let timer: ReturnType<typeof setTimeout> | undefined;
let flushing: Promise<void> | null = null;
/** another flush was asked for while one ran: run once more (forced if any of those asks was) */
let again: { force: boolean } | null = null;

/**
 * Tries every entry whose time has come now (`force`: every pending entry, ignoring backoff), then
 * schedules the next automatic try. Concurrent calls coalesce. Never rejects. Does nothing (unforced)
 * while the browser knows it has no network at all.
 */
export function flush(options: { force?: boolean } = {}): Promise<void> {
  // `navigator.onLine` false is reliable (true is not): no try until the `online` event (a forced flush)
  if (!options.force && typeof navigator !== 'undefined' && navigator.onLine === false)
    return Promise.resolve();
  if (flushing) {
    again = { force: (again?.force ?? false) || (options.force ?? false) };
    return flushing;
  }
  flushing = (async () => {
    try {
      await ready;
      await sender.flush(options);
      while (again) {
        const next: { force: boolean } = again;
        again = null;
        await sender.flush(next);
      }
    } catch {
      // the store failed (quota, private mode): nothing was sent; the next timer tries again
    } finally {
      flushing = null;
      void schedule();
    }
  })();
  return flushing;
}

async function schedule() {
  clearTimeout(timer);
  let due: number | undefined;
  try {
    due = await sender.nextDue();
  } catch {
    due = undefined;
  }
  if (due === undefined) return;
  const wait = Math.min(SAFETY_INTERVAL_MS, Math.max(1_000, due - Date.now()));
  timer = setTimeout(() => void flush(), wait);
}

/**
 * Keeps the application on this device (`saved`, then `waiting`) and sends it as soon as the network
 * allows. Values are copied (reactive proxies unwrapped; Blobs kept).
 * @returns the entry as stored.
 * @throws Error naming the field for input that can never be sent (see `newEntry` in offline/sender.ts),
 *   or the IndexedDB error when the device cannot store it (then nothing was queued — tell the user).
 */
export async function enqueue(input: NewOutboxEntry): Promise<OutboxEntry> {
  const entry = newEntry(plain(input), new Date(), () => crypto.randomUUID());
  await store.put(entry);
  changed(entry);
  const waiting: OutboxEntry = { ...entry, state: 'waiting', nextAttemptAt: Date.now() };
  await store.put(waiting);
  changed(waiting);
  void flush();
  return waiting;
}

/**
 * Sends the entry again now: after the user fixed it (`patch` replaces the body — only while no case
 * exists —, the files, the authorization or the label), or simply "retry now" (no patch).
 * @throws Error when the entry does not exist, was already sent, or `patch.body` is given after the case
 *   was filed.
 */
export async function resend(id: string, patch: OutboxPatch = {}): Promise<void> {
  await sender.settled(id);
  const current = await store.get(id);
  if (!current) throw new Error(`outbox entry ${id} does not exist (deleted?)`);
  const next = prepareResend(current, plain(patch), Date.now());
  await store.put(next);
  changed(next);
  await sender.send(id, { force: true });
  void schedule();
}

/**
 * Removes an entry the user gave up on. A sent entry stays (its case exists: it is shown with its
 * number); an entry being sent is removed once that try ended.
 * @throws Error for a sent entry.
 */
export async function remove(id: string): Promise<void> {
  await sender.settled(id);
  const current = await store.get(id);
  if (!current) {
    show(null, id);
    return;
  }
  if (current.state === 'sent' || current.caseNumber)
    throw new Error(`outbox entry ${id} was filed as case ${current.caseNumber}: it cannot be deleted`);
  await (await offlineDb()).delete('outbox', id);
  show(null, id);
  channel?.postMessage({ id });
}

/** The stored entry (e.g. for the apply view's `?outbox=<id>` to edit it), or undefined. */
export async function getEntry(id: string): Promise<OutboxEntry | undefined> {
  return store.get(id);
}

/** Forgets sent entries older than `maxAgeMs` (default 30 days): the case list keeps them. */
export async function pruneSent(maxAgeMs = 30 * 86_400_000): Promise<void> {
  const db = await offlineDb();
  const cutoff = Date.now() - maxAgeMs;
  for (const e of await db.getAllFromIndex('outbox', 'state', 'sent'))
    if (Date.parse(e.sentAt ?? e.createdAt) < cutoff) {
      await db.delete('outbox', e.id);
      show(null, e.id);
    }
}

let started = false;
/**
 * Starts the automatic sending (idempotent): called once at app start (offline/start.ts). Entries left
 * `sending` by a closed tab are picked up again.
 */
export function startOutbox(): void {
  if (started || typeof window === 'undefined') return;
  started = true;
  onConnectivityChange((up) => {
    if (up) void flush({ force: true });
  });
  window.addEventListener('online', () => void flush({ force: true }));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void flush();
  });
  setInterval(() => {
    if (entries.value.some(isPending)) void flush();
  }, SAFETY_INTERVAL_MS);
  void pruneSent().catch(() => undefined);
  void flush();
}
