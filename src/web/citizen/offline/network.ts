/**
 * Whether the server can be reached right now, as the citizen app shows it (在线 / 离线).
 *
 * `navigator.onLine` only says a network interface is up — on a captive portal (hotel or village Wi-Fi
 * asking for a login) or a dead 2G link it still says true. So {@link online} is false as soon as a
 * request fails without an answer ({@link reportUnreachable}), and while it is false the server is probed
 * (`GET /health`, never cached) every {@link PROBE_MS} ms, a little longer each time up to
 * {@link PROBE_MAX_MS}; the first answer — or any successful API call ({@link reportReachable}) — makes it
 * true again. `offline` events make it false at once; `online` events trigger a probe.
 *
 * Tiny and dependency-free on purpose: it is part of the first load.
 */
import { readonly, ref } from 'vue';

/** First probe interval after the server stopped answering (ms). */
export const PROBE_MS = 5_000;
/** Longest probe interval (ms). */
export const PROBE_MAX_MS = 60_000;

const state = ref(typeof navigator === 'undefined' ? true : navigator.onLine);
/** true while the server answers (see the module comment); read-only for views. */
export const online = readonly(state);

type Listener = (online: boolean) => void;
const listeners = new Set<Listener>();
/** Calls `fn` whenever {@link online} changes (e.g. the outbox sends when it turns true). Returns an unsubscribe. */
export function onConnectivityChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(value: boolean) {
  if (state.value === value) return;
  state.value = value;
  for (const fn of listeners) fn(value);
  if (value) stopProbing();
  else startProbing();
}

/** A request got an answer from our server (any HTTP status with our JSON error body counts). */
export function reportReachable(): void {
  set(true);
}

/** A request failed without an answer (network error, timeout, a captive portal's page instead of JSON). */
export function reportUnreachable(): void {
  set(false);
}

let probeTimer: ReturnType<typeof setTimeout> | undefined;
let probeDelay = PROBE_MS;

function startProbing() {
  if (probeTimer !== undefined) return;
  probeDelay = PROBE_MS;
  schedule();
}

function stopProbing() {
  clearTimeout(probeTimer);
  probeTimer = undefined;
}

function schedule() {
  probeTimer = setTimeout(async () => {
    const ok = await probe();
    if (ok) {
      probeTimer = undefined;
      set(true);
      return;
    }
    probeDelay = Math.min(PROBE_MAX_MS, Math.round(probeDelay * 1.5));
    schedule();
  }, probeDelay);
}

/**
 * Asks the server once (`GET /health`, no cache, 10 s timeout). Resolves true when it answered with
 * JSON (our server), false otherwise; never throws. Does not change {@link online} by itself.
 */
export async function probe(): Promise<boolean> {
  if (typeof navigator !== 'undefined' && !navigator.onLine) return false;
  try {
    const res = await fetch('/health', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    return (res.headers.get('content-type') ?? '').includes('application/json');
  } catch {
    return false;
  }
}

/** Checks now (e.g. after an `online` event) and updates {@link online}. */
export async function checkNow(): Promise<boolean> {
  const ok = await probe();
  set(ok);
  return ok;
}

if (typeof window !== 'undefined') {
  window.addEventListener('offline', () => set(false));
  window.addEventListener('online', () => void checkNow());
  if (!state.value) startProbing();
}
