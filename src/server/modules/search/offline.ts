import { pinyinKey } from './pinyin.ts';
import type { SynonymTable } from './synonyms.ts';
import { normalizeText } from './text.ts';

/**
 * What the citizen app needs to search one item offline without a pinyin library of its own: the
 * name's toneless pinyin and initials (pinyin-pro, polyphones read in context), and the other words
 * people use for it — its aliases (别名) and the colloquial terms (俗称) of the synonym table whose
 * official term occurs in the name — with their pinyin. Empty lists are left out (compact JSON).
 */
export interface OfflineSearchKeys {
  /** Full pinyin of the name without tones or separators, e.g. 社会保障卡补领 → shehuibaozhangkabuling. */
  pinyin: string;
  /** First letter of every syllable of the name, e.g. shbzkbl. */
  initials: string;
  /** Aliases and colloquial terms, e.g. 社保卡, 医保卡, 补办 (absent when none). */
  synonyms?: string[];
  /** Full pinyin and initials of each synonym, e.g. shebaoka, sbk (absent when none). */
  synonymPinyin?: string[];
}

/** Most synonyms given per item (aliases first). */
const MAX_SYNONYMS = 12;

/**
 * The offline search keys of an item (see {@link OfflineSearchKeys}).
 * @param table the synonym table the online search uses (data/catalog/synonyms.csv).
 */
export function offlineSearchKeys(
  table: SynonymTable,
  name: string,
  aliases: readonly string[],
): OfflineSearchKeys {
  const match = normalizeText(name);
  const key = pinyinKey(match);
  const words = new Set<string>();
  for (const a of aliases) if (a.trim() && a.trim() !== name) words.add(a.trim());
  for (const [official, colloquials] of table.colloquials)
    if (match.includes(official)) for (const c of colloquials) words.add(c);
  const synonyms = [...words].slice(0, MAX_SYNONYMS);
  const latin = new Set<string>();
  for (const w of synonyms) {
    const k = pinyinKey(normalizeText(w));
    if (k.full) latin.add(k.full);
    if (k.initials.length > 1) latin.add(k.initials);
  }
  return {
    pinyin: key.full,
    initials: key.initials,
    ...(synonyms.length > 0 ? { synonyms } : {}),
    ...(latin.size > 0 ? { synonymPinyin: [...latin] } : {}),
  };
}
