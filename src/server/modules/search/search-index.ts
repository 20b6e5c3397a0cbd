/**
 * Catalog search (事项搜索): an in-memory index over implementation records (实施清单) that answers
 * "which service items match these words, here?" with one hit per service item, ranked by relevance
 * and then popularity. Used by the catalog module behind `GET /api/v1/catalog/search`.
 *
 * Design (the scale target is Guizhou: 671 items × ~1,066 divisions ≈ 715,000 records):
 * - Records collapse into VARIANTS: one per distinct (itemCode, name, aliases, industry, service
 *   objects). A variant keeps a {@link DivisionSet} of the divisions where it is implemented (a bitmap
 *   once large), so 715,000 records become a few thousand variants.
 * - Variants point at distinct TEXTS (names and aliases in match form, see text.ts). Only texts go into
 *   the inverted index (FlexSearch `Index`, one entry per distinct text), with these terms:
 *   Han unigrams + bigrams (any Han substring is found by AND-ing its bigrams — no dependence on how a
 *   segmenter happened to cut the indexed name), and letter bigrams/trigrams of the text's pinyin
 *   (full and initials) and of the pinyin of its colloquial rewrites from the synonym table
 *   (社会保障卡补领 → 社保卡补领 → `shebaokabuling` / `sbkbl`).
 * - A query is cut into UNITS: colloquial synonym terms by longest match, the rest by jieba
 *   (`cut`, HMM on); stop words (怎么, 办理 …) are dropped; latin runs are pinyin units. Each Han unit
 *   has alternatives: itself (weight 1.0) and its official synonyms (0.9); a unit found nowhere falls
 *   back to its jieba sub-words or characters (0.6 × share of the unit). Candidates come from the
 *   inverted index and are verified on the text (substring, or pinyin at a syllable boundary: full
 *   0.9, initials 0.8, via a colloquial rewrite × 0.95).
 * - Relevance of a text = Σ idf(unit) × weight / Σ idf(unit) over the units found anywhere
 *   (idf = ln(1 + texts / texts containing the unit)); a text must cover at least half of that idf
 *   mass; an alias counts 0.95 of a name; a text equal to the whole query gets +0.1. Rounded to 3
 *   decimals, so equally good matches tie and POPULARITY (sum over the item's records, adjustable with
 *   setPopularity/recordPopularity) decides, then the item code.
 * - Filters apply per variant: industry (exact name), service object (code), division: an
 *   implementation at D applies to D and everything below it, so filtering by X keeps variants
 *   implemented at X or at an ancestor of X (12 → 9 → 6 → 4 → 2 digits).
 * Synonyms are applied at query time (Han) and index time (pinyin of colloquial rewrites only); the
 * table is fixed when the index is constructed.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { Index } from 'flexsearch';
import { ancestorCodesOf, parseDivisionCode } from '../../../domain/division-code.ts';
import { invalid, notFound } from '../../../domain/errors.ts';
import { DivisionSet } from './division-set.ts';
import { matchPinyin, type PinyinKey, pinyinGrams, pinyinKey, pinyinQueryGrams } from './pinyin.ts';
import { colloquialVariants, defaultSynonyms, expandTerm, type SynonymTable } from './synonyms.ts';
import { hanGrams, hanQueryGrams, normalizeText, splitQuery } from './text.ts';

/** One implementation record (实施清单条目) to index. */
export interface SearchDocument {
  /** Implementation code (实施编码); unique across the index. */
  id: string;
  /** Service item basic code (基本编码); results are grouped by it. */
  itemCode: string;
  /** Item name or the local implementation name (事项名称 / 实施名称). */
  name: string;
  /** Extra names, e.g. colloquial names (俗称) from the catalog. */
  aliases?: string[];
  /** Industry name (行业), e.g. `人力资源和社会保障`. */
  industry: string;
  /** Division where this implementation applies (GB/T 2260 + NBS, 2/4/6/9/12 digits; padded forms accepted). */
  divisionCode: string;
  /** Service object codes (服务对象, GB/T 39046 A.4), e.g. `['natural_person']`. */
  serviceObjects: string[];
  /** Popularity ≥ 0, e.g. cases handled last year; summed per item. */
  popularity: number;
}

/** A search request; same meaning as the query parameters of `GET /api/v1/catalog/search`. */
export interface SearchQuery {
  /** Words, partial words, pinyin (full or initials) or colloquial terms; 1–100 characters after trimming. */
  q: string;
  /** Keep only items of this industry (exact name). Empty string = no filter. */
  industry?: string;
  /** Keep only items available in this division (implemented there or at an ancestor). Empty = no filter. */
  division?: string;
  /** Keep only items for this service object code. Empty string = no filter. */
  serviceObject?: string;
  /** Page size, integer 1–100; default 20. */
  limit?: number;
  /** Items to skip, integer ≥ 0; default 0. */
  offset?: number;
}

/** How a hit matched: literal Han substring, via a synonym, by part of a word, by pinyin, by initials. */
export type MatchKind = 'exact' | 'synonym' | 'partial' | 'pinyin' | 'initials';

/** One service item in the results. */
export interface SearchHit {
  /** Service item basic code (基本编码). */
  code: string;
  /** Name of the best-matching variant (local name where that is what matched). */
  name: string;
  industry: string;
  /** Relevance, about 0–1.1 (1 = every query unit matched literally in the name; +0.1 exact name). */
  score: number;
  /** The item's popularity (tie-breaker after score). */
  popularity: number;
  /** Which text matched and how. */
  matched: { text: string; field: 'name' | 'alias'; kinds: MatchKind[] };
}

/** A page of results. */
export interface SearchResult {
  /** Number of matching items (before offset/limit). */
  total: number;
  results: SearchHit[];
}

/** Construction options. */
export interface CatalogSearchIndexOptions {
  /** Synonym table; default: data/catalog/synonyms.csv (see synonyms.ts). */
  synonyms?: SynonymTable;
  /** A jieba instance to share; default: one per process with jieba's bundled dictionary. */
  jieba?: Jieba;
}

/** Size figures of an index. */
export interface SearchIndexStats {
  documents: number;
  items: number;
  variants: number;
  texts: number;
  divisions: number;
}

/** Longest accepted query, in characters (after trimming). */
export const MAX_QUERY_LENGTH = 100;
/** Largest page size. */
export const MAX_LIMIT = 100;
/** Query units considered (the rest of a very long query is ignored). */
const MAX_UNITS = 16;

const W_SYNONYM = 0.9;
const W_PARTIAL = 0.6;
const W_PINYIN_FULL = 0.9;
const W_PINYIN_INITIALS = 0.8;
const W_PINYIN_ONE_LETTER = 0.5;
const W_VIA_COLLOQUIAL = 0.95;
const W_ALIAS = 0.95;
const EXACT_BONUS = 0.1;
const MIN_COVERAGE = 0.5;

/** Query words that say nothing about which service is meant. */
const STOP_WORDS = new Set([
  '怎么',
  '怎样',
  '如何',
  '哪里',
  '在哪',
  '在哪里',
  '哪儿',
  '什么',
  '我',
  '我要',
  '想',
  '要',
  '需要',
  '的',
  '了',
  '吗',
  '呢',
  '办',
  '办理',
  '去',
  '给',
  '请问',
  '可以',
  '能',
  '在',
  '到',
  '和',
]);

const KIND_BITS: Record<MatchKind, number> = { exact: 1, synonym: 2, partial: 4, pinyin: 8, initials: 16 };
const KINDS = Object.keys(KIND_BITS) as MatchKind[];

let sharedJieba: Jieba | undefined;

/** One jieba with the bundled dictionary per process (loading it takes ~0.2 s). */
export function defaultJieba(): Jieba {
  sharedJieba ??= Jieba.withDict(dict);
  return sharedJieba;
}

interface Alt {
  term: string;
  weight: number;
  kind: MatchKind;
}

interface Unit {
  latin: boolean;
  term: string;
  alts: Alt[];
}

interface UnitHit {
  weight: number;
  kinds: number;
}

interface PinyinEntry {
  key: PinyinKey;
  /** From a colloquial rewrite rather than the text itself. */
  viaColloquial: boolean;
}

interface Best {
  variant: number;
  text: number;
  alias: boolean;
  score: number;
  kinds: number;
}

/**
 * The catalog search index. Build it once from all implementation records, then query it; records
 * can be added later (add/addAll), popularity updated in place. Not thread-safe; single process.
 *
 * @example
 * const index = new CatalogSearchIndex();
 * index.addAll(records);
 * index.search({ q: '社保卡补办', division: '520102' });
 */
export class CatalogSearchIndex {
  readonly #synonyms: SynonymTable;
  readonly #jieba: Jieba;
  // FlexSearch serves as the inverted index over distinct texts: id = text number; the "content" is our
  // own pre-computed terms joined by spaces, and `encode` just splits them back.
  readonly #flex = new Index({ tokenize: 'strict', resolution: 1, encode: (s: string) => s.split(' ') });

  #documents = 0;
  // items
  readonly #itemByCode = new Map<string, number>();
  readonly #itemCodes: string[] = [];
  readonly #itemPopularity: number[] = [];
  // variants
  readonly #variantByKey = new Map<string, number>();
  readonly #variantItem: number[] = [];
  readonly #variantName: string[] = [];
  readonly #variantIndustry: number[] = [];
  readonly #variantObjects: number[][] = [];
  readonly #variantDivisions: DivisionSet[] = [];
  // texts
  readonly #textByMatch = new Map<string, number>();
  readonly #textMatch: string[] = [];
  readonly #textDisplay: string[] = [];
  readonly #textPinyin: PinyinEntry[][] = [];
  /** Per text: variant refs, `variant * 2 + (alias ? 1 : 0)`. */
  readonly #textRefs: number[][] = [];
  // dictionaries
  readonly #industries: string[] = [];
  readonly #industryId = new Map<string, number>();
  readonly #objectId = new Map<string, number>();
  readonly #divisionId = new Map<string, number>();
  /** Raw division code as given → dense id (codes repeat across records; parse each spelling once). */
  readonly #rawDivisionId = new Map<string, number>();

  /**
   * @param options synonyms (default: data/catalog/synonyms.csv) and an optional shared jieba.
   * @throws AppError `synonyms.invalid_file` if the default synonym file is invalid.
   */
  constructor(options: CatalogSearchIndexOptions = {}) {
    this.#synonyms = options.synonyms ?? defaultSynonyms();
    this.#jieba = options.jieba ?? defaultJieba();
  }

  /**
   * Create an index and add all documents (see {@link addAll}).
   * @throws AppError (validation) for the first bad document; nothing is indexed then.
   */
  static build(
    documents: Iterable<SearchDocument>,
    options: CatalogSearchIndexOptions = {},
  ): CatalogSearchIndex {
    const index = new CatalogSearchIndex(options);
    index.addAll(documents);
    return index;
  }

  /** Counts of documents, items, variants, distinct texts and divisions. */
  get stats(): SearchIndexStats {
    return {
      documents: this.#documents,
      items: this.#itemCodes.length,
      variants: this.#variantItem.length,
      texts: this.#textMatch.length,
      divisions: this.#divisionId.size,
    };
  }

  /**
   * Index one implementation record. Its id must not be indexed yet (not checked across calls: see
   * {@link addAll}); a repeated id would count its popularity twice.
   * @throws AppError (validation, field named after the document property) when a field is missing or
   *   malformed; the index is unchanged then.
   */
  add(document: SearchDocument): void {
    this.addAll([document], '');
  }

  /**
   * Index many records. All are validated first, including that no id repeats within the batch; on the
   * first bad one an error is thrown and nothing of the batch is indexed. Ids are not kept afterwards,
   * so uniqueness across calls is the caller's (the catalog's primary key).
   * @param fieldPrefix prefix for error fields (default `documents`: `documents[12].divisionCode`).
   * @returns the number of records added.
   * @throws AppError (validation) naming the record (index and id) and the field.
   */
  addAll(documents: Iterable<SearchDocument>, fieldPrefix = 'documents'): number {
    const list = Array.isArray(documents) ? (documents as SearchDocument[]) : [...documents];
    const divisions: number[] = new Array(list.length);
    // Duplicate ids are caught within a batch only: keeping every id for the index's lifetime would
    // cost ~90 MB at province scale for a rule the catalog's primary key already enforces.
    let batchIds: Set<string> | undefined = list.length > 1 ? new Set() : undefined;
    for (let i = 0; i < list.length; i++) {
      const at = fieldPrefix === '' ? '' : `${fieldPrefix}[${i}].`;
      divisions[i] = this.#validate(list[i], at);
      if (batchIds !== undefined) {
        const id = list[i]!.id;
        if (batchIds.has(id)) {
          throw invalid(
            `${at}id`,
            `Implementation code ${id} appears twice; implementation codes must be unique.`,
          );
        }
        batchIds.add(id);
      }
    }
    batchIds = undefined;
    for (let i = 0; i < list.length; i++) this.#insert(list[i]!, divisions[i]!);
    this.#documents += list.length;
    return list.length;
  }

  /**
   * Search. One hit per service item; ranked by score (relevance) descending, then popularity
   * descending, then item code.
   * @throws AppError (validation): field `q` when missing, blank or longer than 100 characters
   *   (codes `search.q_required`, `search.q_too_long`); `limit` unless an integer 1–100; `offset`
   *   unless an integer ≥ 0; `division` when not a division code (see parseDivisionCode).
   */
  search(query: SearchQuery): SearchResult {
    const { q, limit, offset, industry, serviceObject, division } = this.#checkQuery(query);
    const units = this.#units(q);
    const empty: SearchResult = { total: 0, results: [] };
    if (units.length === 0) return empty;

    // Filters → ids (an unknown value matches nothing).
    let industryFilter = -1;
    if (industry !== undefined) {
      industryFilter = this.#industryId.get(industry) ?? -2;
      if (industryFilter === -2) return empty;
    }
    let objectFilter = -1;
    if (serviceObject !== undefined) {
      objectFilter = this.#objectId.get(serviceObject) ?? -2;
      if (objectFilter === -2) return empty;
    }
    let divisionFilter: number[] | undefined;
    if (division !== undefined) {
      divisionFilter = [];
      for (const code of [...ancestorCodesOf(division), division]) {
        const id = this.#divisionId.get(code);
        if (id !== undefined) divisionFilter.push(id);
      }
      if (divisionFilter.length === 0) return empty;
    }

    // Units → per-text hits, idf.
    const textCount = this.#textMatch.length;
    const evaluated: Array<{ hits: Map<number, UnitHit>; idf: number }> = [];
    let totalIdf = 0;
    for (const unit of units) {
      const hits = this.#evaluate(unit);
      if (hits.size === 0) continue;
      const idf = Math.log(1 + textCount / hits.size);
      evaluated.push({ hits, idf });
      totalIdf += idf;
    }
    if (evaluated.length === 0) return empty;

    const sum = new Map<number, number>();
    const covered = new Map<number, number>();
    const kinds = new Map<number, number>();
    for (const { hits, idf } of evaluated) {
      for (const [text, hit] of hits) {
        sum.set(text, (sum.get(text) ?? 0) + idf * hit.weight);
        covered.set(text, (covered.get(text) ?? 0) + idf);
        kinds.set(text, (kinds.get(text) ?? 0) | hit.kinds);
      }
    }

    const whole = normalizeText(q);
    const best = new Map<number, Best>();
    for (const [text, s] of sum) {
      if (covered.get(text)! / totalIdf < MIN_COVERAGE - 1e-9) continue;
      const relevance = s / totalIdf + (this.#textMatch[text] === whole ? EXACT_BONUS : 0);
      for (const ref of this.#textRefs[text]!) {
        const variant = ref >> 1;
        if (industryFilter >= 0 && this.#variantIndustry[variant] !== industryFilter) continue;
        if (objectFilter >= 0 && !this.#variantObjects[variant]!.includes(objectFilter)) continue;
        if (divisionFilter !== undefined && !this.#variantDivisions[variant]!.hasAny(divisionFilter))
          continue;
        const alias = (ref & 1) === 1;
        const score = Math.round((alias ? relevance * W_ALIAS : relevance) * 1000) / 1000;
        const item = this.#variantItem[variant]!;
        const current = best.get(item);
        if (current === undefined || this.#better(score, alias, variant, current)) {
          best.set(item, { variant, text, alias, score, kinds: kinds.get(text)! });
        }
      }
    }

    const ranked = [...best.entries()].sort(
      ([a, x], [b, y]) =>
        y.score - x.score ||
        this.#itemPopularity[b]! - this.#itemPopularity[a]! ||
        compare(this.#itemCodes[a]!, this.#itemCodes[b]!),
    );
    const results = ranked.slice(offset, offset + limit).map(([item, b]): SearchHit => {
      return {
        code: this.#itemCodes[item]!,
        name: this.#variantName[b.variant]!,
        industry: this.#industries[this.#variantIndustry[b.variant]!]!,
        score: b.score,
        popularity: this.#itemPopularity[item]!,
        matched: {
          text: this.#textDisplay[b.text]!,
          field: b.alias ? 'alias' : 'name',
          kinds: KINDS.filter((k) => (b.kinds & KIND_BITS[k]) !== 0),
        },
      };
    });
    return { total: ranked.length, results };
  }

  /**
   * Set an item's popularity (e.g. cases handled last year) without rebuilding.
   * @throws AppError `search.item_not_found` (not_found) for an item with no indexed record;
   *   validation on field `popularity` unless a finite number ≥ 0.
   */
  setPopularity(itemCode: string, popularity: number): void {
    const item = this.#item(itemCode);
    checkPopularity(popularity, 'popularity');
    this.#itemPopularity[item] = popularity;
  }

  /**
   * Add to an item's popularity (e.g. +1 per case handled).
   * @throws AppError as {@link setPopularity}; validation on `delta` unless finite and the result ≥ 0.
   */
  recordPopularity(itemCode: string, delta = 1): void {
    const item = this.#item(itemCode);
    if (!Number.isFinite(delta) || this.#itemPopularity[item]! + delta < 0) {
      throw invalid(
        'delta',
        `The popularity change must be a finite number leaving popularity ≥ 0; got ${delta}.`,
      );
    }
    this.#itemPopularity[item]! += delta;
  }

  /** An item's popularity, or undefined when the item is not indexed. */
  popularityOf(itemCode: string): number | undefined {
    const item = this.#itemByCode.get(itemCode);
    return item === undefined ? undefined : this.#itemPopularity[item];
  }

  #item(itemCode: string): number {
    const item = this.#itemByCode.get(itemCode);
    if (item === undefined) {
      throw notFound(
        'search.item_not_found',
        `Service item ${itemCode} has no indexed implementation; index its records first.`,
        'itemCode',
      );
    }
    return item;
  }

  #better(score: number, alias: boolean, variant: number, current: Best): boolean {
    if (score !== current.score) return score > current.score;
    if (alias !== current.alias) return !alias;
    return this.#variantDivisions[variant]!.size > this.#variantDivisions[current.variant]!.size;
  }

  #checkQuery(query: SearchQuery): {
    q: string;
    limit: number;
    offset: number;
    industry: string | undefined;
    serviceObject: string | undefined;
    division: string | undefined;
  } {
    const raw = (query as { q?: unknown }).q;
    const q = typeof raw === 'string' ? raw.trim() : '';
    if (q === '') {
      throw invalid('q', 'Enter what you are looking for, e.g. 社保卡补办 or shebaoka.', 'search.q_required');
    }
    const length = [...q].length;
    if (length > MAX_QUERY_LENGTH) {
      throw invalid(
        'q',
        `The search text has ${length} characters; use at most ${MAX_QUERY_LENGTH} (a few key words are enough).`,
        'search.q_too_long',
      );
    }
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw invalid(
        'limit',
        `limit must be an integer from 1 to ${MAX_LIMIT}; got ${String(limit)}.`,
        'search.limit',
      );
    }
    const offset = query.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw invalid('offset', `offset must be an integer ≥ 0; got ${String(offset)}.`, 'search.offset');
    }
    const filter = (field: 'industry' | 'division' | 'serviceObject'): string | undefined => {
      const v: unknown = query[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw invalid(field, `${field} must be text; got ${typeof v}.`);
      return v.trim() === '' ? undefined : v.trim();
    };
    const division = filter('division');
    return {
      q,
      limit,
      offset,
      industry: filter('industry'),
      serviceObject: filter('serviceObject'),
      division: division === undefined ? undefined : parseDivisionCode(division, 'division').code,
    };
  }

  /** Query → units (see the module comment). */
  #units(q: string): Unit[] {
    const units: Unit[] = [];
    const seen = new Set<string>();
    const push = (latin: boolean, term: string) => {
      const key = `${latin ? 'l' : 'h'}${term}`;
      if (seen.has(key) || units.length >= MAX_UNITS) return;
      seen.add(key);
      if (latin) {
        units.push({ latin, term, alts: [] });
        return;
      }
      const alts: Alt[] = [{ term, weight: 1, kind: 'exact' }];
      for (const official of expandTerm(this.#synonyms, term)) {
        alts.push({ term: official, weight: W_SYNONYM, kind: 'synonym' });
      }
      units.push({ latin, term, alts });
    };
    for (const run of splitQuery(q)) {
      if (run.kind === 'latin') push(true, run.text);
      else for (const word of this.#segment(run.text)) if (!STOP_WORDS.has(word)) push(false, word);
    }
    return units;
  }

  /** Han run → words: colloquial synonym terms by longest match first, jieba for the gaps. */
  #segment(text: string): string[] {
    const chars = [...text];
    const words: string[] = [];
    let gap = '';
    const flush = () => {
      if (gap !== '') words.push(...this.#jieba.cut(gap, true));
      gap = '';
    };
    let i = 0;
    outer: while (i < chars.length) {
      for (let len = Math.min(this.#synonyms.maxColloquialLength, chars.length - i); len >= 2; len--) {
        const candidate = chars.slice(i, i + len).join('');
        if (this.#synonyms.expansions.has(candidate)) {
          flush();
          words.push(candidate);
          i += len;
          continue outer;
        }
      }
      gap += chars[i];
      i++;
    }
    flush();
    return words;
  }

  /** A unit → the texts it matches, with the best weight per text. */
  #evaluate(unit: Unit): Map<number, UnitHit> {
    const hits = new Map<number, UnitHit>();
    const note = (text: number, weight: number, kinds: number) => {
      const h = hits.get(text);
      if (h === undefined) hits.set(text, { weight, kinds });
      else if (weight > h.weight) {
        h.weight = weight;
        h.kinds = kinds;
      } else if (weight === h.weight) h.kinds |= kinds;
    };
    if (unit.latin) {
      for (const text of this.#candidates(pinyinQueryGrams(unit.term))) {
        for (const { key, viaColloquial } of this.#textPinyin[text]!) {
          const m = matchPinyin(key, unit.term);
          if (m === undefined) continue;
          let weight =
            unit.term.length === 1 ? W_PINYIN_ONE_LETTER : m === 'full' ? W_PINYIN_FULL : W_PINYIN_INITIALS;
          let kinds = m === 'full' ? KIND_BITS.pinyin : KIND_BITS.initials;
          if (viaColloquial) {
            weight *= W_VIA_COLLOQUIAL;
            kinds |= KIND_BITS.synonym;
          }
          note(text, weight, kinds);
        }
      }
      return hits;
    }
    const matchAlts = (alts: Alt[]) => {
      for (const alt of alts) {
        for (const text of this.#candidates(hanQueryGrams(alt.term))) {
          if (this.#textMatch[text]!.includes(alt.term)) note(text, alt.weight, KIND_BITS[alt.kind]);
        }
      }
    };
    matchAlts(unit.alts);
    if (hits.size === 0) matchAlts(this.#pieces(unit.term));
    return hits;
  }

  /** Fallback alternatives for a Han unit found nowhere: its jieba sub-words, else its characters. */
  #pieces(term: string): Alt[] {
    const length = [...term].length;
    if (length < 2) return [];
    let pieces = this.#jieba.cutForSearch(term, true).filter((p) => p !== term && [...p].length >= 2);
    if (pieces.length === 0) pieces = length === 2 ? [...term] : hanQueryGrams(term);
    return [...new Set(pieces)].map((p) => ({
      term: p,
      weight: (W_PARTIAL * [...p].length) / length,
      kind: 'partial' as const,
    }));
  }

  #candidates(grams: string[]): number[] {
    if (grams.length === 0) return [];
    return this.#flex.search(grams.join(' '), { limit: this.#textMatch.length + 1 }) as number[];
  }

  /** Validates a document; returns its dense division id (registering the division if new). */
  #validate(doc: SearchDocument | undefined, at: string): number {
    if (typeof doc !== 'object' || doc === null) {
      throw invalid(at === '' ? 'document' : at.slice(0, -1), 'Expected an implementation record object.');
    }
    const who = typeof doc.id === 'string' && doc.id !== '' ? `Implementation ${doc.id}: ` : '';
    const text = (field: keyof SearchDocument, value: unknown) => {
      if (typeof value !== 'string' || value.trim() === '') {
        throw invalid(`${at}${field}`, `${who}${field} is required (a non-empty string).`);
      }
    };
    text('id', doc.id);
    text('itemCode', doc.itemCode);
    text('name', doc.name);
    text('industry', doc.industry);
    if (normalizeText(doc.name) === '') {
      throw invalid(
        `${at}name`,
        `${who}the name "${doc.name}" has no Chinese characters, letters or digits.`,
      );
    }
    if (doc.aliases !== undefined) {
      if (!Array.isArray(doc.aliases))
        throw invalid(`${at}aliases`, `${who}aliases must be a list of names.`);
      doc.aliases.forEach((a, i) => {
        if (typeof a !== 'string' || normalizeText(a) === '') {
          throw invalid(`${at}aliases[${i}]`, `${who}alias ${i + 1} is empty; remove it or give a name.`);
        }
      });
    }
    if (
      !Array.isArray(doc.serviceObjects) ||
      doc.serviceObjects.some((o) => typeof o !== 'string' || o === '')
    ) {
      throw invalid(
        `${at}serviceObjects`,
        `${who}serviceObjects must be a list of service object codes, e.g. ["natural_person"].`,
      );
    }
    checkPopularity(doc.popularity, `${at}popularity`, who);
    const known = this.#rawDivisionId.get(doc.divisionCode);
    if (known !== undefined) return known;
    const code = parseDivisionCode(doc.divisionCode, `${at}divisionCode`).code;
    let id = this.#divisionId.get(code);
    if (id === undefined) {
      id = this.#divisionId.size;
      this.#divisionId.set(code, id);
    }
    this.#rawDivisionId.set(doc.divisionCode, id);
    return id;
  }

  #insert(doc: SearchDocument, division: number): void {
    let item = this.#itemByCode.get(doc.itemCode);
    if (item === undefined) {
      item = this.#itemCodes.length;
      this.#itemByCode.set(doc.itemCode, item);
      this.#itemCodes.push(doc.itemCode);
      this.#itemPopularity.push(0);
    }
    this.#itemPopularity[item]! += doc.popularity;

    const objects = doc.serviceObjects.length > 1 ? [...doc.serviceObjects].sort() : doc.serviceObjects;
    const aliases = doc.aliases ?? [];
    const key = `${doc.itemCode}\u0001${doc.name}\u0001${aliases.join('\u0002')}\u0001${doc.industry}\u0001${objects.join('\u0002')}`;
    let variant = this.#variantByKey.get(key);
    if (variant === undefined) {
      variant = this.#variantItem.length;
      this.#variantByKey.set(key, variant);
      this.#variantItem.push(item);
      this.#variantName.push(doc.name);
      this.#variantIndustry.push(intern(this.#industryId, this.#industries, doc.industry));
      this.#variantObjects.push(objects.map((o) => intern(this.#objectId, undefined, o)));
      this.#variantDivisions.push(new DivisionSet());
      const linked = new Set<number>();
      const link = (name: string, alias: boolean) => {
        const text = this.#text(name);
        if (linked.has(text)) return;
        linked.add(text);
        this.#textRefs[text]!.push(variant! * 2 + (alias ? 1 : 0));
      };
      link(doc.name, false);
      for (const a of aliases) link(a, true);
    }
    this.#variantDivisions[variant]!.add(division);
  }

  /** Text number for a display text, indexing it on first sight. */
  #text(display: string): number {
    const match = normalizeText(display);
    const known = this.#textByMatch.get(match);
    if (known !== undefined) return known;
    const id = this.#textMatch.length;
    this.#textByMatch.set(match, id);
    this.#textMatch.push(match);
    this.#textDisplay.push(display.trim());
    this.#textRefs.push([]);
    const pinyin: PinyinEntry[] = [{ key: pinyinKey(match), viaColloquial: false }];
    for (const variant of colloquialVariants(this.#synonyms, match)) {
      pinyin.push({ key: pinyinKey(variant), viaColloquial: true });
    }
    this.#textPinyin.push(pinyin);
    const terms = new Set(hanGrams(match));
    for (const { key } of pinyin) pinyinGrams(key, terms);
    this.#flex.add(id, [...terms].join(' '));
    return id;
  }
}

function intern(ids: Map<string, number>, values: string[] | undefined, value: string): number {
  let id = ids.get(value);
  if (id === undefined) {
    id = ids.size;
    ids.set(value, id);
    values?.push(value);
  }
  return id;
}

function checkPopularity(value: unknown, field: string, who = ''): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(
      field,
      `${who}popularity must be a finite number ≥ 0 (e.g. cases handled last year); got ${String(value)}.`,
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
