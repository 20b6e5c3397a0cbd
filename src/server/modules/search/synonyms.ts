/**
 * The search synonym table (同义词表): colloquial terms people type (俗称, e.g. 社保卡, 上户口, 补办) mapped
 * to the official terms used in service item names (规范用语, e.g. 社会保障卡, 出生登记, 补领). Maintained
 * as data in `data/catalog/synonyms.csv`, not in code.
 *
 * How the index uses it (see search-index.ts):
 * - at QUERY time, a colloquial term found in the query expands to its official terms (社保卡补办 →
 *   {社保卡|社会保障卡} + {补办|补领|补发}); the direction is colloquial → official only;
 * - at INDEX time, each indexed text that contains an official term also gets the pinyin of its
 *   colloquial form (社会保障卡补领 → 社保卡补领 → `shebaokabuling`, `sbkbl`), so pinyin of colloquial
 *   words (`shebaoka`, `sbk`) finds official names.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { type FieldIssue, invalidMany } from '../../../domain/errors.ts';
import { normalizeText } from './text.ts';

/** One colloquial → official pair; terms are in match form (see text.ts `normalizeText`). */
export interface SynonymPair {
  colloquial: string;
  official: string;
  /** Free-text note from the file, if any. */
  note?: string;
  /** 1-based line of the pair in its source file (0 when built in code). */
  line: number;
}

/** A validated synonym table. Build it with {@link parseSynonyms}, {@link loadSynonyms} or {@link synonymTable}. */
export interface SynonymTable {
  readonly pairs: readonly SynonymPair[];
  /** colloquial → its official terms, in file order. */
  readonly expansions: ReadonlyMap<string, readonly string[]>;
  /** official → its colloquial terms, in file order. */
  readonly colloquials: ReadonlyMap<string, readonly string[]>;
  /** Length in characters of the longest colloquial term (for longest-match scanning of queries). */
  readonly maxColloquialLength: number;
}

/** The project's synonym file: `data/catalog/synonyms.csv`. */
export const DEFAULT_SYNONYMS_FILE = new URL('../../../../data/catalog/synonyms.csv', import.meta.url);

/** Longest accepted term, in characters. */
export const MAX_TERM_LENGTH = 20;

const HEADER = ['colloquial', 'official', 'note'];

/**
 * Build a table from pairs given in code (tests, fixtures). Terms are normalised; the same checks as
 * for a file apply.
 * @throws AppError `synonyms.invalid` (validation) listing every bad pair as `pair N, column …`.
 */
export function synonymTable(pairs: ReadonlyArray<{ colloquial: string; official: string }>): SynonymTable {
  const issues: FieldIssue[] = [];
  const rows = pairs.map((p, i) => ({ cells: [p.colloquial, p.official], where: `pair ${i + 1}`, line: 0 }));
  const table = buildTable(rows, issues);
  if (issues.length > 0) {
    throw invalidMany('synonyms.invalid', `The synonym pairs have ${issues.length} problem(s).`, issues);
  }
  return table;
}

/**
 * Parse and validate synonym CSV text: lines starting with `#` are comments; the first record is the
 * header `colloquial,official[,note]`; each further record is one pair. A term must be 1–20 Han
 * characters, letters or digits (no spaces or punctuation), colloquial ≠ official, and no pair may
 * repeat.
 * @param source name used in error messages (e.g. the file path).
 * @throws AppError `synonyms.invalid_file` (validation) with one issue per problem, each naming
 *   `row N, column NAME` where N is the 1-based line in the file; nothing is partially loaded.
 */
export function parseSynonyms(text: string, source = 'synonyms.csv'): SynonymTable {
  const issues: FieldIssue[] = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      bom: true,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw invalidMany('synonyms.invalid_file', `${source} is not valid CSV: ${(e as Error).message}`, [
      {
        field: line === undefined ? source : `row ${line}`,
        message: `Not valid CSV (${(e as Error).message}). Fix the quoting on this line; terms need no quotes.`,
      },
    ]);
  }
  const [header, ...body] = records;
  if (header === undefined) {
    throw invalidMany('synonyms.invalid_file', `${source} has no header.`, [
      { field: 'row 1', message: `The file is empty: start it with the header "${HEADER.join(',')}".` },
    ]);
  }
  const got = header.record.map((c) => c.toLowerCase());
  if (
    got[0] !== 'colloquial' ||
    got[1] !== 'official' ||
    (got.length === 3 && got[2] !== 'note') ||
    got.length > 3
  ) {
    issues.push({
      field: `row ${header.info.lines}`,
      message: `The header is "${header.record.join(',')}"; it must be "colloquial,official" or "${HEADER.join(',')}".`,
    });
  }
  const rows = body.map(({ record, info }) => ({
    cells: record,
    where: `row ${info.lines}`,
    line: info.lines,
  }));
  const table = buildTable(rows, issues);
  if (issues.length > 0) {
    throw invalidMany(
      'synonyms.invalid_file',
      `${source} has ${issues.length} problem(s); nothing was loaded. First: ${issues[0]!.field}: ${issues[0]!.message}`,
      issues,
    );
  }
  return table;
}

/**
 * Read and validate a synonym file (UTF-8 CSV, see {@link parseSynonyms}). Synchronous: meant for
 * start-up.
 * @throws AppError `synonyms.invalid_file` for bad content; Node's ENOENT error if the file is missing.
 */
export function loadSynonyms(file: string | URL = DEFAULT_SYNONYMS_FILE): SynonymTable {
  const text = readFileSync(file, 'utf8');
  return parseSynonyms(text, file instanceof URL ? file.pathname : file);
}

let defaultTable: SynonymTable | undefined;

/** The table from {@link DEFAULT_SYNONYMS_FILE}, loaded once per process. */
export function defaultSynonyms(): SynonymTable {
  defaultTable ??= loadSynonyms(DEFAULT_SYNONYMS_FILE);
  return defaultTable;
}

/** Official terms for a colloquial term (match form), or an empty list. */
export function expandTerm(table: SynonymTable, term: string): readonly string[] {
  return table.expansions.get(term) ?? [];
}

/**
 * Colloquial rewrites of an official text (match form): each official term the text contains replaced
 * by each of its colloquial terms, one at a time, then all at once with the first colloquial of each.
 * Deduplicated, at most `max` results, never the text itself.
 * @example colloquialVariants(t, '社会保障卡补领') → ['社保卡补领', '医保卡补领', '社会保障卡补办', '社保卡补办']
 */
export function colloquialVariants(table: SynonymTable, text: string, max = 8): string[] {
  const out = new Set<string>();
  let all = text;
  for (const [official, colloquials] of table.colloquials) {
    if (!text.includes(official)) continue;
    for (const c of colloquials) out.add(text.replaceAll(official, c));
    if (all.includes(official)) all = all.replaceAll(official, colloquials[0]!);
  }
  out.add(all);
  out.delete(text);
  return [...out].slice(0, max);
}

function buildTable(
  rows: Array<{ cells: string[]; where: string; line: number }>,
  issues: FieldIssue[],
): SynonymTable {
  const pairs: SynonymPair[] = [];
  const seen = new Map<string, string>();
  for (const { cells, where, line } of rows) {
    if (cells.length < 2 || cells.length > 3) {
      issues.push({
        field: where,
        message: `Has ${cells.length} column(s); write "colloquial,official" with an optional note.`,
      });
      continue;
    }
    const colloquial = checkTerm(cells[0]!, `${where}, column colloquial`, issues);
    const official = checkTerm(cells[1]!, `${where}, column official`, issues);
    if (colloquial === undefined || official === undefined) continue;
    if (colloquial === official) {
      issues.push({
        field: `${where}, column official`,
        message: `"${official}" is the same as the colloquial term; a synonym must differ — delete the row.`,
      });
      continue;
    }
    const key = `${colloquial}\u0000${official}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        field: where,
        message: `Repeats the pair ${colloquial} → ${official} of ${first}; delete one.`,
      });
      continue;
    }
    seen.set(key, where);
    const note = cells[2]?.trim();
    pairs.push(note ? { colloquial, official, note, line } : { colloquial, official, line });
  }
  const expansions = new Map<string, string[]>();
  const colloquials = new Map<string, string[]>();
  let maxColloquialLength = 0;
  for (const p of pairs) {
    push(expansions, p.colloquial, p.official);
    push(colloquials, p.official, p.colloquial);
    maxColloquialLength = Math.max(maxColloquialLength, [...p.colloquial].length);
  }
  return { pairs, expansions, colloquials, maxColloquialLength };
}

function checkTerm(raw: string, field: string, issues: FieldIssue[]): string | undefined {
  const value = raw.trim();
  if (value === '') {
    issues.push({ field, message: 'Is empty; write a term of 1–20 Chinese characters, letters or digits.' });
    return undefined;
  }
  const norm = normalizeText(value);
  if (norm !== value.normalize('NFKC').toLowerCase().replaceAll('ü', 'v')) {
    issues.push({
      field,
      message: `"${value}" contains spaces or punctuation; use only Chinese characters, letters and digits.`,
    });
    return undefined;
  }
  if ([...norm].length > MAX_TERM_LENGTH) {
    issues.push({ field, message: `"${value}" is longer than ${MAX_TERM_LENGTH} characters; shorten it.` });
    return undefined;
  }
  return norm;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
