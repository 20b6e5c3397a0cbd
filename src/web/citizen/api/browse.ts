/**
 * Browsing the catalog without typing: industries (所属行业), life events (人生事件: 生孩子, 结婚 …) and
 * the services most often handled in a county (本县常办).
 *
 * The life-event and popular endpoints are newer than the app may be (an older server answers 404):
 * {@link browseApi.lifeEvents} then resolves to null (the section is hidden) and
 * {@link browseApi.popular} falls back to the province-wide most popular items, saying so
 * (`scope: 'province'`). Their answers are read defensively — unknown shapes give empty lists, never
 * a broken page.
 */
import { ApiError, getJson, type ServiceItem } from '../api.ts';

/** An industry that has items, with its Chinese label and item count. */
export interface IndustryCount {
  id: string;
  label: string;
  items: number;
}

/** A life event (人生事件) and the service items it groups, in the order the server gives. */
export interface LifeEvent {
  key: string;
  /** Chinese name from the server */
  name: string;
  itemCodes: string[];
  /** item names when the server sends them (saves one request per item) */
  items?: { code: string; name: string }[];
}

/** A service item in a list: code, Chinese name, industry. */
export interface ItemRef {
  code: string;
  name: string;
  industry: string;
}

export interface PopularList {
  /** `division`: popular in the chosen county; `province`: the province-wide fallback */
  scope: 'division' | 'province';
  items: ItemRef[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** An item reference from any object with a code and a name; null when it lacks either. */
function itemRef(v: unknown): ItemRef | null {
  if (!isRecord(v)) return null;
  const code = str(v.code);
  const name = str(v.name);
  if (!code || !name) return null;
  return { code, name, industry: str(v.industry) ?? '' };
}

/** The list in `{ items: [...] }`, `{ results: [...] }` or a bare array; [] otherwise. */
function listOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (isRecord(body)) {
    if (Array.isArray(body.items)) return body.items;
    if (Array.isArray(body.results)) return body.results;
  }
  return [];
}

/** A life event from `{ key|id|code, name|label|title, itemCodes | items }`; null when unusable. */
export function parseLifeEvent(v: unknown): LifeEvent | null {
  if (!isRecord(v)) return null;
  const key = str(v.key) ?? str(v.id) ?? str(v.code);
  const name = str(v.name) ?? str(v.label) ?? str(v.title);
  if (!key || !name) return null;
  const items = Array.isArray(v.items)
    ? v.items.map(itemRef).filter((i): i is ItemRef => i !== null)
    : undefined;
  const codes = Array.isArray(v.itemCodes)
    ? v.itemCodes.filter((c): c is string => typeof c === 'string')
    : (items?.map((i) => i.code) ?? []);
  return {
    key,
    name,
    itemCodes: codes,
    ...(items && items.length > 0 ? { items: items.map(({ code, name: n }) => ({ code, name: n })) } : {}),
  };
}

const notThere = (e: unknown) => e instanceof ApiError && e.status === 404;

export const browseApi = {
  /** GET /api/v1/catalog/industries: the industries that have items, with counts. */
  industries: async (signal?: AbortSignal): Promise<IndustryCount[]> => {
    const body = await getJson<unknown>('/api/v1/catalog/industries', {}, signal);
    return listOf(body).flatMap((v) => {
      if (!isRecord(v)) return [];
      const id = str(v.id);
      if (!id) return [];
      return [{ id, label: str(v.label) ?? id, items: typeof v.items === 'number' ? v.items : 0 }];
    });
  },

  /** GET /api/v1/catalog/life-events; null when the server has no such endpoint (404). */
  lifeEvents: async (signal?: AbortSignal): Promise<LifeEvent[] | null> => {
    try {
      const body = await getJson<unknown>('/api/v1/catalog/life-events', {}, signal);
      return listOf(body)
        .map(parseLifeEvent)
        .filter((e): e is LifeEvent => e !== null);
    } catch (e) {
      if (notThere(e)) return null;
      throw e;
    }
  },

  /**
   * The `limit` services most often handled in `division` (GET /api/v1/catalog/popular); where the
   * server has no such endpoint (404), the province's most popular items (GET /api/v1/catalog/items,
   * sorted by popularity) with `scope: 'province'`.
   */
  popular: async (division: string, limit: number, signal?: AbortSignal): Promise<PopularList> => {
    try {
      const body = await getJson<unknown>('/api/v1/catalog/popular', { division, limit }, signal);
      const items = listOf(body)
        .map(itemRef)
        .filter((i): i is ItemRef => i !== null);
      return { scope: 'division', items: items.slice(0, limit) };
    } catch (e) {
      if (!notThere(e)) throw e;
    }
    const body = await getJson<unknown>('/api/v1/catalog/items', { limit }, signal);
    return {
      scope: 'province',
      items: listOf(body)
        .map(itemRef)
        .filter((i): i is ItemRef => i !== null),
    };
  },

  /** The items of one industry, most popular first (up to 200). */
  itemsOfIndustry: async (industry: string, signal?: AbortSignal): Promise<ItemRef[]> => {
    const body = await getJson<unknown>('/api/v1/catalog/items', { industry, limit: 200 }, signal);
    return listOf(body)
      .map(itemRef)
      .filter((i): i is ItemRef => i !== null);
  },

  /** Names of items by code, in the given order; codes the catalog does not have are left out. */
  itemsByCode: async (codes: readonly string[], signal?: AbortSignal): Promise<ItemRef[]> => {
    const settled = await Promise.allSettled(
      codes.map((code) =>
        getJson<ServiceItem>(`/api/v1/catalog/items/${encodeURIComponent(code)}`, {}, signal),
      ),
    );
    const failed = settled.find((s) => s.status === 'rejected' && !notThere(s.reason));
    if (failed && failed.status === 'rejected' && settled.every((s) => s.status === 'rejected'))
      throw failed.reason;
    return settled.flatMap((s) => {
      const ref = s.status === 'fulfilled' ? itemRef(s.value) : null;
      return ref ? [ref] : [];
    });
  },
};
