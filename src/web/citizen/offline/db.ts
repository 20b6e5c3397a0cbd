/**
 * The citizen app's IndexedDB database (`tongban`, through the `idb` library): what the app keeps on the
 * device to work offline.
 *
 * | store    | key                    | value |
 * |----------|------------------------|-------|
 * | `catalog`| `<division>|<code>`    | the search keys of one item of a synced division ({@link StoredCatalogItem}); index `division` |
 * | `guides` | `<division>|<code>`    | that item's guide ({@link StoredGuide}); index `division` |
 * | `meta`   | `catalog:<division>`   | the sync cursor, ETag and time of a division's catalog ({@link CatalogMeta}) |
 * | `drafts` | the draft's key        | a form being typed ({@link StoredDraft}), e.g. `apply:<item code>` |
 * | `outbox` | the entry's id (UUID)  | an application waiting to be sent, with its files as Blobs ({@link OutboxEntry}); index `state` |
 *
 * Opened once per page ({@link offlineDb}); a newer version opened in another tab closes this one's
 * connection (the page then reopens on next use). Every value must be structured-cloneable: pass
 * reactive values through `plain()` first.
 */
import { type DBSchema, deleteDB, type IDBPDatabase, openDB } from 'idb';
import type { Guide } from '../api.ts';
import type { OutboxEntry, OutboxState } from './types.ts';

export const DB_NAME = 'tongban';
export const DB_VERSION = 1;

/** One item of `GET /api/v1/catalog/sync`: the item's search keys and its guide for the division. */
export interface CatalogSyncItem {
  code: string;
  name: string;
  industry: string;
  /** full pinyin of the name, e.g. "shehuibaozhangka buling" (spaces and case do not matter) */
  pinyin: string | string[];
  /** pinyin initials, e.g. "shbzkbl" */
  initials: string | string[];
  /** colloquial names (俗称), e.g. ["社保卡补办"] */
  synonyms?: string[];
  /** the same shape as `GET /api/v1/catalog/items/:code/guide?division=…` */
  guide: Guide & { department?: { id: string; name: string; divisionCode: string } | null };
}

/** What offline search reads (kept apart from the guides so a search never loads every guide). */
export interface StoredCatalogItem extends Omit<CatalogSyncItem, 'guide'> {
  /** `<division>|<code>` */
  key: string;
  /** the division synced (the sync's `division`) */
  division: string;
}

export interface StoredGuide {
  /** `<division>|<code>` */
  key: string;
  /** the division the guide was resolved for */
  division: string;
  code: string;
  guide: CatalogSyncItem['guide'];
}

export interface CatalogMeta {
  /** `catalog:<division>` */
  key: string;
  division: string;
  /** the server's cursor of the last applied sync (sent back as `since`) */
  cursor: string;
  /** ETag of the last 200 answer (sent back as If-None-Match) */
  etag: string | null;
  /** epoch ms of the last successful sync (a 304 counts) */
  syncedAt: number;
  itemCount: number;
  /** as the server sent them (shapes owned by the browse view) */
  lifeEvents?: unknown;
  popular?: unknown;
}

export interface StoredDraft {
  key: string;
  value: unknown;
  /** epoch ms */
  savedAt: number;
}

export interface TongbanDB extends DBSchema {
  catalog: { key: string; value: StoredCatalogItem; indexes: { division: string } };
  guides: { key: string; value: StoredGuide; indexes: { division: string } };
  meta: { key: string; value: CatalogMeta };
  drafts: { key: string; value: StoredDraft };
  outbox: { key: string; value: OutboxEntry; indexes: { state: OutboxState } };
}

export type OfflineDb = IDBPDatabase<TongbanDB>;

let opening: Promise<OfflineDb> | null = null;

/**
 * The database, opened (and created or upgraded) on first use. Rejects when IndexedDB is unavailable
 * (some private modes); callers then work online only.
 */
export function offlineDb(): Promise<OfflineDb> {
  if (!opening) {
    opening = openDB<TongbanDB>(DB_NAME, DB_VERSION, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          db.createObjectStore('catalog', { keyPath: 'key' }).createIndex('division', 'division');
          db.createObjectStore('guides', { keyPath: 'key' }).createIndex('division', 'division');
          db.createObjectStore('meta', { keyPath: 'key' });
          db.createObjectStore('drafts', { keyPath: 'key' });
          db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('state', 'state');
        }
      },
      blocking() {
        // a newer version wants to open in another tab: let it, reopen next time
        void opening?.then((db) => db.close());
        opening = null;
      },
      terminated() {
        opening = null;
      },
    }).catch((e: unknown) => {
      opening = null;
      throw e;
    });
  }
  return opening;
}

/** Deletes the whole database (sign-out on a shared phone; tests). */
export async function deleteOfflineDb(): Promise<void> {
  const db = await opening?.catch(() => null);
  db?.close();
  opening = null;
  await deleteDB(DB_NAME);
}
