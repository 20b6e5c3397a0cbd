/**
 * The tab's ONE live connection to in-case messaging (`/api/v1/messaging/live`, WebSocket, session cookie;
 * protocol in src/server/modules/messaging/README.md) and the unread badge it keeps current.
 *
 * - Opened while a staff member is signed in, closed on sign-out; reconnects after a drop with
 *   exponential backoff (1 s, 2 s, 4 s … at most 30 s, ±20 % jitter), re-subscribing every followed case.
 * - Cases are followed by owners ({@link followCases}): the case page follows its case, the inbox its rows,
 *   the badge the cases with unread messages. A case stays subscribed while any owner follows it (the
 *   server allows 200 per connection; we ask for at most {@link MAX_FOLLOWED}).
 * - Frames go to {@link onLiveFrame} listeners; `message` and `thread` frames also update {@link unread}
 *   (re-read from `GET /api/v1/messaging/unread`, debounced 300 ms, so the badge counts what the server counts).
 * - A ping every 25 s keeps proxies from closing an idle socket.
 */
import { reactive, watch } from 'vue';
import { request } from './api/http.ts';
import type { CaseThread, LiveFrame, UnreadSummary } from './api/types.ts';
import { signedIn } from './session.ts';

/** Most cases this tab asks the server to push (its limit is 200 per connection). */
export const MAX_FOLLOWED = 150;
const PING_MS = 25_000;
const BACKOFF_MAX_MS = 30_000;

/** The badge: unread messages across my followed threads, and those mentioning me / my department / hall. */
export const unread = reactive<{ total: number; mentions: number; items: CaseThread[]; loaded: boolean }>({
  total: 0,
  mentions: 0,
  items: [],
  loaded: false,
});

/** Whether the live socket is open (shown next to the badge: live updates may lag while it reconnects). */
export const liveState = reactive<{ connected: boolean; cases: number }>({ connected: false, cases: 0 });
/** case ids the server confirmed (`subscribed`) on the current connection */
const confirmed = new Set<string>();

type Listener = (frame: LiveFrame) => void;
const listeners = new Set<Listener>();
const owners = new Map<symbol, string[]>();
const subscribed = new Set<string>();
let socket: WebSocket | null = null;
let attempts = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let unreadTimer: ReturnType<typeof setTimeout> | undefined;
let wanted = false;

/** Registers a frame listener; returns its removal. */
export function onLiveFrame(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Follows cases (by case id — the server unsubscribes by id) for `owner` — replacing what that owner followed before; an empty list
 * stops following. Returns nothing; frames arrive through {@link onLiveFrame}.
 */
export function followCases(owner: symbol, refs: readonly string[]): void {
  if (refs.length === 0) owners.delete(owner);
  else owners.set(owner, [...new Set(refs)]);
  sync();
}

function followedNow(): string[] {
  const all = new Set<string>();
  for (const refs of owners.values()) for (const r of refs) all.add(r);
  return [...all].slice(0, MAX_FOLLOWED);
}

function send(frame: Record<string, unknown>): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

/** Subscribes what is followed and not yet subscribed; unsubscribes what nobody follows any more. */
function sync(): void {
  if (socket?.readyState !== WebSocket.OPEN) return;
  const now = new Set(followedNow());
  for (const ref of now)
    if (!subscribed.has(ref)) {
      subscribed.add(ref);
      send({ type: 'subscribe', case: ref });
    }
  for (const ref of [...subscribed])
    if (!now.has(ref)) {
      subscribed.delete(ref);
      send({ type: 'unsubscribe', caseId: ref });
    }
}

function connect(): void {
  if (!wanted || socket) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/messaging/live`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.addEventListener('open', () => {
    attempts = 0;
    liveState.connected = true;
    subscribed.clear();
    sync();
    pingTimer = setInterval(() => send({ type: 'ping' }), PING_MS);
    // something may have arrived while we were away
    refreshUnread();
  });
  ws.addEventListener('message', (ev) => {
    let frame: LiveFrame;
    try {
      frame = JSON.parse(String(ev.data)) as LiveFrame;
    } catch {
      return;
    }
    if (frame.type === 'subscribed') confirmed.add(frame.caseId);
    if (frame.type === 'unsubscribed') confirmed.delete(frame.caseId);
    liveState.cases = confirmed.size;
    if (frame.type === 'message' || frame.type === 'thread') refreshUnread();
    for (const l of listeners) l(frame);
  });
  ws.addEventListener('close', () => {
    clearInterval(pingTimer);
    liveState.connected = false;
    if (socket === ws) socket = null;
    subscribed.clear();
    confirmed.clear();
    liveState.cases = 0;
    if (!wanted) return;
    const base = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(connect, base * (0.8 + Math.random() * 0.4));
  });
}

function disconnect(): void {
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  const ws = socket;
  socket = null;
  subscribed.clear();
  liveState.connected = false;
  ws?.close(1000, 'signed out');
}

const badgeOwner = Symbol('unread badge');

/** Re-reads the badge summary soon (several frames in a row make one request). */
export function refreshUnread(): void {
  clearTimeout(unreadTimer);
  unreadTimer = setTimeout(() => void loadUnread(), 300);
}

async function loadUnread(): Promise<void> {
  if (!signedIn.value) return;
  try {
    const s = await request<UnreadSummary>('GET', '/api/v1/messaging/unread', { query: { limit: 50 } });
    unread.total = s.total;
    unread.mentions = s.mentions;
    unread.items = s.items;
    unread.loaded = true;
    // follow the cases with unread, so their next messages come live too
    followCases(
      badgeOwner,
      s.items.map((t) => t.caseId),
    );
  } catch {
    // the badge keeps its last counts; the next frame or reconnect tries again
  }
}

/** Starts the connection and the badge for the signed-in staff member (App.vue calls it once). */
export function installLive(): () => void {
  const stop = watch(
    signedIn,
    (on) => {
      wanted = on;
      if (on) {
        connect();
        void loadUnread();
      } else {
        disconnect();
        owners.clear();
        unread.total = 0;
        unread.mentions = 0;
        unread.items = [];
        unread.loaded = false;
      }
    },
    { immediate: true },
  );
  return () => {
    stop();
    wanted = false;
    disconnect();
  };
}
