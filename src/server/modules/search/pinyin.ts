/**
 * Pinyin helpers for catalog search, on top of pinyin-pro (which picks the reading of polyphones from
 * context, e.g. 重新 → chong xin, 银行 → yin hang).
 *
 * A text's {@link PinyinKey} holds its full toneless pinyin (`社会保障卡` → `shehuibaozhangka`), the
 * offsets where each character's syllable starts, and its initials (`shbzk`; the first letter of every
 * syllable, so zero-initial syllables count too: 二 → `e`). Letters and digits in the text stand for
 * themselves. `ü` is written `v` (lv, nv), the usual keyboard convention.
 */
import { pinyin } from 'pinyin-pro';

/** Pinyin of one match text (see text.ts `normalizeText`). */
export interface PinyinKey {
  /** Full pinyin without tones or separators, lower case. */
  full: string;
  /** Offset in `full` where each character's syllable starts (ascending; one per character). */
  starts: number[];
  /** First letter of every syllable (one per character). */
  initials: string;
}

/** How a latin query matched a {@link PinyinKey}. */
export type PinyinMatch = 'full' | 'initials';

/**
 * Compute the pinyin key of a match text (Han, a–z, 0–9 only).
 * @example pinyinKey('社保卡') → { full: 'shebaoka', starts: [0, 3, 6], initials: 'sbk' }
 */
export function pinyinKey(matchText: string): PinyinKey {
  const chars = [...matchText];
  let syllables = pinyin(matchText, { toneType: 'none', type: 'array', v: true });
  if (syllables.length !== chars.length) {
    // pinyin-pro returns one entry per character for Han/latin/digits; guard anyway, char by char.
    syllables = chars.map((c) => pinyin(c, { toneType: 'none', type: 'array', v: true })[0] ?? c);
  }
  let full = '';
  let initials = '';
  const starts: number[] = [];
  for (const s of syllables) {
    const syl = s.toLowerCase().replaceAll('ü', 'v');
    starts.push(full.length);
    full += syl;
    initials += syl[0] ?? '';
  }
  return { full, starts, initials };
}

/**
 * Does a latin query (a–z, 0–9) match a key? `full` when it occurs in the full pinyin starting at a
 * syllable boundary (it may end inside a syllable, so `shebaok` matches `shebaoka`); otherwise
 * `initials` when it occurs in the initials (a one-letter query only as the first initial); else
 * undefined. Mixed forms such as `shbaoka` are not matched.
 */
export function matchPinyin(key: PinyinKey, query: string): PinyinMatch | undefined {
  if (query.length === 0) return undefined;
  if (query.length === 1) return key.initials.startsWith(query) ? 'initials' : undefined;
  let from = 0;
  for (;;) {
    const at = key.full.indexOf(query, from);
    if (at < 0) break;
    if (isStart(key.starts, at)) return 'full';
    from = at + 1;
  }
  return key.initials.includes(query) ? 'initials' : undefined;
}

/**
 * Index terms for a key: letter bigrams and trigrams of the full pinyin and of the initials, and `^x`
 * for the first initial. {@link pinyinQueryGrams} of any matching query is a subset of these.
 */
export function pinyinGrams(key: PinyinKey, into: Set<string> = new Set()): Set<string> {
  for (const s of [key.full, key.initials]) {
    for (let i = 0; i + 1 < s.length; i++) {
      into.add(s.slice(i, i + 2));
      if (i + 2 < s.length) into.add(s.slice(i, i + 3));
    }
  }
  if (key.initials.length > 0) into.add(`^${key.initials[0]}`);
  return into;
}

/** Index terms to AND together to find candidates for a latin query (verify with {@link matchPinyin}). */
export function pinyinQueryGrams(query: string): string[] {
  if (query.length === 1) return [`^${query}`];
  if (query.length === 2) return [query];
  const out = new Set<string>();
  for (let i = 0; i + 2 < query.length; i++) out.add(query.slice(i, i + 3));
  return [...out];
}

function isStart(starts: number[], offset: number): boolean {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = starts[mid]!;
    if (v === offset) return true;
    if (v < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
