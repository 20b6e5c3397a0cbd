/**
 * Text normalisation and n-grams shared by the catalog search index, its synonym table and its pinyin
 * helpers. Pure functions, no I/O.
 *
 * Normal form ("match text"): Unicode NFKC (full-width Ａ１（ → A1( ), lower case, `ü` → `v` (pinyin
 * input convention), and only Han characters, ASCII letters and digits kept — spaces and punctuation are
 * dropped, so `社会保障卡补领（线上）` and `社会保障卡补领 线上` compare equal.
 */

const HAN = /\p{Script=Han}/u;
const DROP = /[^\p{Script=Han}a-z0-9]+/gu;

/** True when `ch` (one code point) is a Han (CJK) character. */
export function isHan(ch: string): boolean {
  return HAN.test(ch);
}

/**
 * The match form of a text: NFKC, lower case, `ü`→`v`, only Han / a–z / 0–9 kept.
 * @example normalizeText('社保卡 补办（ＡＢ）') === '社保卡补办ab'
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replaceAll('ü', 'v').replace(DROP, '');
}

/** One run of a query: consecutive Han characters, or ASCII letters/digits (pinyin or literal). */
export interface QueryRun {
  kind: 'han' | 'latin';
  /** Normalised text of the run. */
  text: string;
}

/**
 * Split a raw query into Han runs and latin runs. Latin runs separated only by spaces are joined
 * (`she bao ka` → `shebaoka`, the way people type pinyin); any other separator ends a run.
 * @example splitQuery('sbk 补办') → [{kind:'latin',text:'sbk'},{kind:'han',text:'补办'}]
 */
export function splitQuery(query: string): QueryRun[] {
  const runs: QueryRun[] = [];
  const text = query.normalize('NFKC').toLowerCase().replaceAll('ü', 'v');
  let current: QueryRun | undefined;
  let spaceAfterLatin = false;
  for (const ch of text) {
    const kind = isHan(ch) ? 'han' : /[a-z0-9]/.test(ch) ? 'latin' : undefined;
    if (kind === undefined) {
      if (/\s/.test(ch) && current?.kind === 'latin') {
        spaceAfterLatin = true;
        continue;
      }
      current = undefined;
      spaceAfterLatin = false;
      continue;
    }
    if (current !== undefined && current.kind === kind) {
      current.text += ch;
    } else if (kind === 'latin' && spaceAfterLatin && runs.at(-1)?.kind === 'latin') {
      current = runs.at(-1)!;
      current.text += ch;
    } else {
      current = { kind, text: ch };
      runs.push(current);
    }
    spaceAfterLatin = false;
  }
  return runs;
}

/**
 * Han unigrams and bigrams of a match text (bigrams only inside Han runs), deduplicated.
 * These are the Chinese terms of the inverted index: any Han substring of length ≥ 2 of a text has all
 * its bigrams among them, so an AND over a query term's bigrams finds every text containing it.
 */
export function hanGrams(matchText: string): string[] {
  const out = new Set<string>();
  const chars = [...matchText];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!isHan(c)) continue;
    out.add(c);
    const next = chars[i + 1];
    if (next !== undefined && isHan(next)) out.add(c + next);
  }
  return [...out];
}

/**
 * The index terms that find every text containing `term` as a substring: its bigrams (or the single
 * character for a one-character term). Han only.
 */
export function hanQueryGrams(term: string): string[] {
  const chars = [...term];
  if (chars.length === 1) return chars;
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return [...out];
}
