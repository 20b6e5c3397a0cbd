/**
 * Offline search (离线检索) over the synced catalog: simple substring matching of the name, colloquial
 * names (俗称), full pinyin and pinyin initials, ranked by how well it matched, then by popularity.
 * Pure: no I/O, the caller passes the items (offline/catalog.ts reads them from IndexedDB). Coarser
 * than the server's search (no word segmentation, no typo tolerance) — it only has to find the common
 * services while there is no network.
 */

/** What offline search needs of an item. */
export interface SearchKeys {
  code: string;
  name: string;
  industry: string;
  pinyin?: string | readonly string[];
  initials?: string | readonly string[];
  synonyms?: readonly string[];
}

export interface RankedItem<T extends SearchKeys> {
  item: T;
  /** 0–100, higher is better (100: the name exactly) */
  score: number;
}

/** Lower case, full-width folded (NFKC), without spaces, punctuation and symbols. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]/gu, '');
}

function joined(v: string | readonly string[] | undefined): string {
  if (v === undefined) return '';
  return normaliseText(typeof v === 'string' ? v : v.join(''));
}

/**
 * How well `item` matches the normalised query `q` (0: not at all). Name: exact 100, prefix 90,
 * substring 80. Colloquial name: exact 85, substring 70, contained in the query 65. Latin queries also
 * match pinyin initials (prefix 75, substring 55) and full pinyin (prefix 72, substring 60). A Chinese
 * query none of that matched scores up to 40 by the share of its characters found in the name (at
 * least 60 % of them, and at least two): 社保卡补办 still finds 社会保障卡补领.
 */
export function matchScore(item: SearchKeys, q: string): number {
  if (!q) return 0;
  const name = normaliseText(item.name);
  let best = 0;
  if (name === q) return 100;
  if (name.startsWith(q)) best = 90;
  else if (name.includes(q)) best = 80;
  for (const s of item.synonyms ?? []) {
    const syn = normaliseText(s);
    if (!syn) continue;
    if (syn === q) best = Math.max(best, 85);
    else if (syn.includes(q)) best = Math.max(best, 70);
    else if (syn.length >= 2 && q.includes(syn)) best = Math.max(best, 65);
  }
  if (/^[a-z]+$/.test(q)) {
    const initials = joined(item.initials);
    if (initials.startsWith(q)) best = Math.max(best, 75);
    else if (q.length >= 2 && initials.includes(q)) best = Math.max(best, 55);
    const pinyin = joined(item.pinyin);
    if (pinyin.startsWith(q)) best = Math.max(best, 72);
    else if (q.length >= 3 && pinyin.includes(q)) best = Math.max(best, 60);
  } else if (best === 0) {
    const chars = [...new Set(q)];
    if (chars.length >= 2) {
      const found = chars.filter((c) => name.includes(c)).length / chars.length;
      if (found >= 0.6) best = Math.round(40 * found);
    }
  }
  return best;
}

/**
 * The items matching `query`, best first; ties by `popularity` (code → rank, 0 = most popular), then
 * the shorter name, then the code. At most `limit`.
 */
export function rankItems<T extends SearchKeys>(
  items: readonly T[],
  query: string,
  options: { limit?: number; popularity?: ReadonlyMap<string, number> } = {},
): RankedItem<T>[] {
  const q = normaliseText(query);
  if (!q) return [];
  const popularity = options.popularity ?? new Map<string, number>();
  const rank = (code: string) => popularity.get(code) ?? Number.MAX_SAFE_INTEGER;
  return items
    .map((item) => ({ item, score: matchScore(item, q) }))
    .filter((r) => r.score > 0)
    .sort(
      (a, b) =>
        b.score - a.score ||
        rank(a.item.code) - rank(b.item.code) ||
        a.item.name.length - b.item.name.length ||
        a.item.code.localeCompare(b.item.code),
    )
    .slice(0, options.limit ?? 20);
}
