/**
 * Drafts (草稿): a form saved on the device as the user types, so nothing typed is lost when the app is
 * closed, the phone runs out of battery, or the page reloads offline. Stored in IndexedDB (`drafts`,
 * offline/db.ts) with Blobs intact (a photo taken for a material survives too).
 */
import { getCurrentScope, onScopeDispose, type Ref, ref, shallowRef, watch } from 'vue';
import { offlineDb, type StoredDraft } from './db.ts';
import { plain } from './plain.ts';

/** Saving waits this long after the last change (ms). */
export const DRAFT_DEBOUNCE_MS = 300;

/** Where drafts are kept: IndexedDB by default ({@link indexedDbDrafts}); tests pass a Map-backed one. */
export interface DraftStore {
  load(key: string): Promise<{ value: unknown; savedAt: number } | undefined>;
  save(key: string, value: unknown): Promise<Date>;
  delete(key: string): Promise<void>;
}

export interface Draft<T> {
  /** the form's value: edit it (deeply) and it is saved */
  value: Ref<T>;
  /** when the stored copy was last written (or restored from); null: nothing stored */
  savedAt: Ref<Date | null>;
  /** true once a stored draft was put into `value` */
  restored: Ref<boolean>;
  /** resolves when the stored draft (if any) has been restored */
  ready: Promise<void>;
  /** writes a pending change now (e.g. before leaving the page) */
  save(): Promise<void>;
  /** deletes the stored draft and puts `initial` back (after the application was queued) */
  clear(): Promise<void>;
}

/**
 * A form value kept on the device under `key` (e.g. `apply:<item code>`, or `agent:<resident>:<item>`):
 * restored when the form opens again, saved {@link DRAFT_DEBOUNCE_MS} ms after the last change, and
 * when the page is hidden or the component goes away. A stored draft replaces `initial` only while the
 * user has not typed yet. Without IndexedDB (private mode) it is a plain ref and `savedAt` stays null.
 *
 * Call it in a component's `setup` (or another effect scope): the pending save is flushed when that
 * scope ends. `initial` is copied, never stored as given.
 */
export function useDraft<T>(key: string, initial: T, store: DraftStore = indexedDbDrafts): Draft<T> {
  const start = plain(initial);
  const value = ref(plain(initial)) as Ref<T>;
  const savedAt = shallowRef<Date | null>(null);
  const restored = ref(false);
  /** the user changed the value (a stored draft no longer replaces it) */
  let touched = false;
  /** a change not yet written */
  let pending = false;
  /** the value is being set by this module (restore, clear): not a change to save */
  let applying = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function put(v: T) {
    applying = true;
    try {
      value.value = v;
    } finally {
      applying = false;
    }
  }

  const ready = store
    .load(key)
    .then((stored) => {
      if (stored && !touched) {
        put(stored.value as T);
        savedAt.value = new Date(stored.savedAt);
        restored.value = true;
      }
    })
    .catch(() => undefined);

  async function save(): Promise<void> {
    clearTimeout(timer);
    if (!pending) return;
    pending = false;
    try {
      savedAt.value = await store.save(key, plain(value.value));
    } catch {
      // no IndexedDB, or the quota is full: the form still works, it just is not kept
    }
  }

  const stop = watch(
    value,
    () => {
      if (applying) return;
      touched = true;
      pending = true;
      clearTimeout(timer);
      timer = setTimeout(() => void save(), DRAFT_DEBOUNCE_MS);
    },
    { deep: true, flush: 'sync' },
  );

  async function clear(): Promise<void> {
    clearTimeout(timer);
    pending = false;
    await store.delete(key).catch(() => undefined);
    put(plain(start));
    savedAt.value = null;
    restored.value = false;
    touched = false;
  }

  const onVisibility = () => {
    if (document.visibilityState === 'hidden') void save();
  };
  const onPageHide = () => void save();
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('pagehide', onPageHide);
  }
  if (getCurrentScope()) {
    onScopeDispose(() => {
      void save();
      stop();
      if (typeof document !== 'undefined') {
        document.removeEventListener('visibilitychange', onVisibility);
        window.removeEventListener('pagehide', onPageHide);
      }
    });
  }

  return { value, savedAt, restored, ready, save, clear };
}

/** The stored draft under `key`, or undefined. */
export async function loadDraft<T>(key: string): Promise<{ value: T; savedAt: number } | undefined> {
  const d = await (await offlineDb()).get('drafts', key);
  return d ? { value: d.value as T, savedAt: d.savedAt } : undefined;
}

/** Stores `value` (copied, proxies unwrapped) under `key`; resolves with the time written. */
export async function saveDraft(key: string, value: unknown): Promise<Date> {
  const savedAt = Date.now();
  const record: StoredDraft = { key, value: plain(value), savedAt };
  await (await offlineDb()).put('drafts', record);
  return new Date(savedAt);
}

/** Deletes the draft under `key` (nothing when there is none). */
export async function deleteDraft(key: string): Promise<void> {
  await (await offlineDb()).delete('drafts', key);
}

/** The drafts in IndexedDB (`drafts` store). */
export const indexedDbDrafts: DraftStore = { load: loadDraft, save: saveDraft, delete: deleteDraft };

/**
 * Drafts whose key starts with `prefix` (e.g. `agent:` — the agent's unfinished applications for
 * several residents), newest first.
 */
export async function listDrafts(prefix = ''): Promise<{ key: string; savedAt: Date; value: unknown }[]> {
  const db = await offlineDb();
  const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
  const all = await db.getAll('drafts', range);
  return all
    .sort((a, b) => b.savedAt - a.savedAt)
    .map((d) => ({ key: d.key, savedAt: new Date(d.savedAt), value: d.value }));
}
