/**
 * The catalog on the device (离线事项库): the service items and guides of the chosen division, synced
 * incrementally from `GET /api/v1/catalog/sync?division=<code>&since=<cursor>` into IndexedDB, so that
 * search and guides work with no network.
 *
 * The endpoint answers `{ cursor, full, items, removed, lifeEvents?, popular? }` ({@link CatalogSyncResponse}):
 * `full: true` replaces the division's copy, otherwise `items` are added or replaced and `removed`
 * codes deleted; `cursor` is sent back as `since` next time. The request carries `If-None-Match` with
 * the last ETag; 304 means nothing changed. One transaction per answer: a sync cut off half-way leaves
 * the previous copy whole.
 *
 * It syncs when the app starts, when the chosen division changes, when the network comes back, and
 * when the page becomes visible after {@link RESYNC_AFTER_MS}. Copies of the {@link KEEP_DIVISIONS}
 * most recently synced divisions are kept; older ones are deleted.
 */
import { reactive, watch } from 'vue';
import type { SearchResult } from '../api.ts';
import { division } from '../division.ts';
import {
  type CatalogMeta,
  type CatalogSyncItem,
  offlineDb,
  type StoredCatalogItem,
  type StoredGuide,
} from './db.ts';
import { onConnectivityChange, reportReachable, reportUnreachable } from './network.ts';
import { rankItems } from './search.ts';

export type { CatalogSyncItem } from './db.ts';

/** The body of `GET /api/v1/catalog/sync` (200). */
export interface CatalogSyncResponse {
  cursor: string;
  /** true: the items are the division's whole catalog (replace the copy) */
  full: boolean;
  items: CatalogSyncItem[];
  /** codes no longer offered in the division */
  removed: string[];
  lifeEvents?: unknown;
  /** the division's most used items (codes, or objects with a `code`), most used first */
  popular?: unknown;
}

/** Sync again on `visibilitychange` when the last sync is older than this (ms). */
export const RESYNC_AFTER_MS = 60 * 60_000;
/** How many divisions' copies are kept on the device. */
export const KEEP_DIVISIONS = 3;
/** Longest wait for a sync answer (ms): a full catalog on 2G takes a while. */
export const SYNC_TIMEOUT_MS = 5 * 60_000;

/** What the settings page or a status line may show. */
export const catalogStatus = reactive({
  /** the division of the last finished sync */
  division: null as string | null,
  syncing: false,
  /** epoch ms of the last successful sync of the chosen division, or null */
  syncedAt: null as number | null,
  itemCount: 0,
  /** the last failure: `network`, or the server's error code */
  error: null as string | null,
});

export type SyncOutcome = 'updated' | 'unchanged' | 'busy' | 'failed';

const metaKey = (d: string) => `catalog:${d}`;
const itemKey = (d: string, code: string) => `${d}|${code}`;

function withLock<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (typeof navigator !== 'undefined' && navigator.locks)
    return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? fn() : undefined));
  return fn();
}

const running = new Map<string, Promise<SyncOutcome>>();

/**
 * Brings the device's copy of `divisionCode`'s catalog up to date (one request). Never rejects: the
 * outcome says what happened (`busy`: another tab is syncing it; `failed`: see `catalogStatus.error`).
 */
export function syncCatalog(divisionCode: string): Promise<SyncOutcome> {
  const current = running.get(divisionCode);
  if (current) return current;
  const p = withLock(`tongban-catalog:${divisionCode}`, () => syncOnce(divisionCode))
    .then((r) => r ?? 'busy')
    .finally(() => running.delete(divisionCode));
  running.set(divisionCode, p);
  return p;
}

async function syncOnce(d: string): Promise<SyncOutcome> {
  const isChosen = () => d === division.code;
  if (isChosen()) catalogStatus.syncing = true;
  try {
    const db = await offlineDb();
    const meta = await db.get('meta', metaKey(d));
    const qs = new URLSearchParams({ division: d });
    if (meta?.cursor) qs.set('since', meta.cursor);
    let res: Response;
    try {
      res = await fetch(`/api/v1/catalog/sync?${qs}`, {
        cache: 'no-store',
        headers: { accept: 'application/json', ...(meta?.etag ? { 'if-none-match': meta.etag } : {}) },
        signal: AbortSignal.timeout(SYNC_TIMEOUT_MS),
      });
    } catch {
      reportUnreachable();
      return fail(d, 'network');
    }
    if (res.status === 304 && meta) {
      reportReachable();
      const next: CatalogMeta = { ...meta, syncedAt: Date.now() };
      await db.put('meta', next);
      done(d, next);
      return 'unchanged';
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      // a captive portal's page, a proxy's error page: not our server
      reportUnreachable();
      return fail(d, 'network');
    }
    reportReachable();
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      return fail(d, 'network');
    }
    if (!res.ok) {
      const code = (body as { error?: { code?: string } })?.error?.code;
      return fail(d, code ?? `http.${res.status}`);
    }
    const answer = body as CatalogSyncResponse;
    if (typeof answer?.cursor !== 'string' || !Array.isArray(answer.items))
      return fail(d, 'catalog.sync_malformed');
    const next = await apply(d, answer, res.headers.get('etag'));
    done(d, next);
    await prune(d);
    return 'updated';
  } catch (e) {
    // IndexedDB unavailable or failed (quota): online search still works
    return fail(d, e instanceof Error ? e.name : 'storage');
  } finally {
    if (isChosen()) catalogStatus.syncing = false;
  }
}

async function apply(d: string, answer: CatalogSyncResponse, etag: string | null): Promise<CatalogMeta> {
  const db = await offlineDb();
  const tx = db.transaction(['catalog', 'guides', 'meta'], 'readwrite');
  const catalog = tx.objectStore('catalog');
  const guides = tx.objectStore('guides');
  if (answer.full) {
    for (const key of await catalog.index('division').getAllKeys(d)) await catalog.delete(key);
    for (const key of await guides.index('division').getAllKeys(d)) await guides.delete(key);
  }
  for (const item of answer.items) {
    if (typeof item?.code !== 'string') continue;
    const key = itemKey(d, item.code);
    const { guide, ...keys } = item;
    const entry: StoredCatalogItem = { ...keys, key, division: d };
    await catalog.put(entry);
    if (guide) {
      const g: StoredGuide = { key, division: d, code: item.code, guide };
      await guides.put(g);
    }
  }
  for (const code of answer.removed ?? []) {
    await catalog.delete(itemKey(d, code));
    await guides.delete(itemKey(d, code));
  }
  const itemCount = await catalog.index('division').count(d);
  const meta: CatalogMeta = {
    key: metaKey(d),
    division: d,
    cursor: answer.cursor,
    etag,
    syncedAt: Date.now(),
    itemCount,
    ...(answer.lifeEvents === undefined ? {} : { lifeEvents: answer.lifeEvents }),
    ...(answer.popular === undefined ? {} : { popular: answer.popular }),
  };
  const previous = await tx.objectStore('meta').get(metaKey(d));
  if (!answer.full && previous) {
    if (answer.lifeEvents === undefined && previous.lifeEvents !== undefined)
      meta.lifeEvents = previous.lifeEvents;
    if (answer.popular === undefined && previous.popular !== undefined) meta.popular = previous.popular;
  }
  await tx.objectStore('meta').put(meta);
  await tx.done;
  searchCache.delete(d);
  return meta;
}

/** Deletes the copies of all but the {@link KEEP_DIVISIONS} most recently synced divisions (never `keep`). */
async function prune(keep: string): Promise<void> {
  const db = await offlineDb();
  const metas = (await db.getAll('meta')).filter((m) => m.key.startsWith('catalog:'));
  const old = metas
    .filter((m) => m.division !== keep)
    .sort((a, b) => b.syncedAt - a.syncedAt)
    .slice(KEEP_DIVISIONS - 1);
  for (const m of old) {
    const tx = db.transaction(['catalog', 'guides', 'meta'], 'readwrite');
    for (const key of await tx.objectStore('catalog').index('division').getAllKeys(m.division))
      await tx.objectStore('catalog').delete(key);
    for (const key of await tx.objectStore('guides').index('division').getAllKeys(m.division))
      await tx.objectStore('guides').delete(key);
    await tx.objectStore('meta').delete(m.key);
    await tx.done;
    searchCache.delete(m.division);
  }
}

function done(d: string, meta: CatalogMeta) {
  if (d !== division.code) return;
  catalogStatus.division = d;
  catalogStatus.syncedAt = meta.syncedAt;
  catalogStatus.itemCount = meta.itemCount;
  catalogStatus.error = null;
}

function fail(d: string, code: string): SyncOutcome {
  if (d === division.code) catalogStatus.error = code;
  return 'failed';
}

/** The sync time of the device's copy of `divisionCode` (epoch ms), or null when there is none. */
export async function syncedAt(divisionCode: string): Promise<number | null> {
  try {
    return (await (await offlineDb()).get('meta', metaKey(divisionCode)))?.syncedAt ?? null;
  } catch {
    return null;
  }
}

const searchCache = new Map<
  string,
  Promise<{ items: StoredCatalogItem[]; popularity: Map<string, number> }>
>();

function searchData(d: string) {
  let p = searchCache.get(d);
  if (!p) {
    p = (async () => {
      const db = await offlineDb();
      const [items, meta] = await Promise.all([
        db.getAllFromIndex('catalog', 'division', d),
        db.get('meta', metaKey(d)),
      ]);
      const popularity = new Map<string, number>();
      if (Array.isArray(meta?.popular))
        meta.popular.forEach((p: unknown, i: number) => {
          const code = typeof p === 'string' ? p : (p as { code?: unknown })?.code;
          if (typeof code === 'string' && !popularity.has(code)) popularity.set(code, i);
        });
      return { items, popularity };
    })();
    p.catch(() => searchCache.delete(d));
    searchCache.set(d, p);
  }
  return p;
}

/**
 * Searches the device's copy of `divisionCode`'s catalog (offline/search.ts ranking).
 * @returns the results and when the copy was synced, or null when there is no copy (or no IndexedDB).
 */
export async function searchOffline(
  q: string,
  divisionCode: string = division.code,
  limit = 20,
): Promise<{ results: SearchResult[]; syncedAt: Date } | null> {
  try {
    const at = await syncedAt(divisionCode);
    if (at === null) return null;
    const { items, popularity } = await searchData(divisionCode);
    const results = rankItems(items, q, { limit, popularity }).map(({ item, score }) => ({
      code: item.code,
      name: item.name,
      industry: item.industry,
      score,
    }));
    return { results, syncedAt: new Date(at) };
  } catch {
    return null;
  }
}

/**
 * The guide of `code` for `divisionCode` as last synced, or null when the device has none.
 */
export async function guideOffline(
  code: string,
  divisionCode: string = division.code,
): Promise<{ guide: StoredGuide['guide']; syncedAt: Date } | null> {
  try {
    const db = await offlineDb();
    const [g, meta] = await Promise.all([
      db.get('guides', itemKey(divisionCode, code)),
      db.get('meta', metaKey(divisionCode)),
    ]);
    if (!g || !meta) return null;
    return { guide: g.guide, syncedAt: new Date(meta.syncedAt) };
  } catch {
    return null;
  }
}

/** The life events and popular items the last sync of `divisionCode` sent (for the browse views), or null. */
export async function catalogExtras(
  divisionCode: string = division.code,
): Promise<{ lifeEvents: unknown; popular: unknown; syncedAt: Date } | null> {
  try {
    const meta = await (await offlineDb()).get('meta', metaKey(divisionCode));
    return meta
      ? { lifeEvents: meta.lifeEvents, popular: meta.popular, syncedAt: new Date(meta.syncedAt) }
      : null;
  } catch {
    return null;
  }
}

let started = false;
/** Starts the automatic syncing (idempotent; offline/start.ts calls it once the app is shown). */
export function startCatalogSync(): void {
  if (started || typeof window === 'undefined') return;
  started = true;
  const syncChosen = () => void syncCatalog(division.code);
  watch(
    () => division.code,
    async (code) => {
      const at = await syncedAt(code);
      catalogStatus.syncedAt = at;
      syncChosen();
    },
    { immediate: true },
  );
  onConnectivityChange((up) => {
    if (up) syncChosen();
  });
  document.addEventListener('visibilitychange', async () => {
    if (document.visibilityState !== 'visible') return;
    const at = await syncedAt(division.code);
    if (at === null || Date.now() - at > RESYNC_AFTER_MS) syncChosen();
  });
}
