/**
 * Case numbers (办件编号): the number a resident is told, printed on every notice and used to track a
 * case (GB/T 39046-2020 table 5 办件编号). 21 digits, no separators:
 *
 * | part | digits | meaning | example |
 * |---|---|---|---|
 * | intake division (收件地区划) | 6 | GB/T 2260 code of the county (区/县) of the hall or channel that received the case; a province or prefecture hall uses its padded code (`520000`, `520100`); a township or village hall its county | `520102` 南明区 |
 * | date (收件日期) | 8 | `YYYYMMDD`, the day the case was created, in Asia/Shanghai | `20261129` |
 * | sequence (顺序号) | 7 | `0000001` … `9999999` | `0000001` |
 *
 * e.g. `520102202611290000001`.
 *
 * Uniqueness across server nodes: the server takes the sequence from ONE PostgreSQL sequence shared by
 * all nodes (never a per-node counter) and maps it into 1 … 9 999 999 with {@link caseSequenceFrom}.
 * Two numbers with the same division and date then differ as long as fewer than 9 999 999 numbers are
 * issued province-wide within one Shanghai day (roughly 115 per second around the clock) — the sequence
 * need not be reset daily. The number carries no check digit: it is looked up, never trusted.
 *
 * Pure: no I/O; runs in Node and in the browser.
 */
import { isRealDate, todayInShanghai } from './calendar.ts';
import { countyCodeOf, parseDivisionCode, toGb2260Code } from './division-code.ts';
import { invalid } from './errors.ts';

/** Number of digits of a case number. */
export const CASE_NUMBER_LENGTH = 21;

/** Largest sequence part (7 digits). */
export const MAX_CASE_SEQUENCE = 9_999_999;

/** The parts of a case number. */
export interface CaseNumberParts {
  /** 6-digit GB/T 2260 code of the intake division, e.g. `520102`. */
  divisionCode: string;
  /** The day the case was created, `YYYY-MM-DD` in Asia/Shanghai. */
  date: string;
  /** 1 … {@link MAX_CASE_SEQUENCE}. */
  sequence: number;
}

/** Input of {@link formatCaseNumber}. */
export interface CaseNumberInput {
  /**
   * Division code of the intake hall or channel: 2, 4, 6, 9 or 12 digits (see the module table for how it
   * becomes 6 digits).
   */
  divisionCode: string;
  /** When the case was created: an instant (converted to its Asia/Shanghai day) or a `YYYY-MM-DD` day. */
  on: Date | string;
  /** 1 … 9 999 999, usually from {@link caseSequenceFrom}. */
  sequence: number;
}

/**
 * Formats a case number: 6-digit division + `YYYYMMDD` + 7-digit sequence, e.g.
 * `formatCaseNumber({ divisionCode: '520102', on: '2026-11-29', sequence: 1 })` → `520102202611290000001`.
 *
 * @throws AppError (kind `validation`): the division-code errors of `parseDivisionCode` (field
 *   `divisionCode`); `case_number.date_invalid` (field `on`) for an invalid instant or a string that is
 *   not a real `YYYY-MM-DD` day (years 1000–9999); `case_number.sequence_invalid` (field `sequence`)
 *   unless a whole number 1 … 9 999 999.
 */
export function formatCaseNumber(input: CaseNumberInput): string {
  const division = intakeDivision(input.divisionCode);
  const date = dayOf(input.on);
  const { sequence } = input;
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > MAX_CASE_SEQUENCE) {
    throw invalid(
      'sequence',
      `A case number's sequence is a whole number from 1 to ${MAX_CASE_SEQUENCE}; got ${String(sequence)}. ` +
        'Map the database sequence value with caseSequenceFrom.',
      'case_number.sequence_invalid',
    );
  }
  return `${division}${date.replaceAll('-', '')}${String(sequence).padStart(7, '0')}`;
}

/**
 * Maps a value of the shared PostgreSQL sequence (1, 2, 3, … as `bigint`, `number` or its decimal
 * string, as `pg` returns `bigint` columns) into 1 … 9 999 999, cycling: 9 999 999 → 9 999 999,
 * 10 000 000 → 1.
 * @throws AppError `case_number.sequence_invalid` (field `sequence`) unless a whole number ≥ 1.
 */
export function caseSequenceFrom(value: bigint | number | string): number {
  let big: bigint | null = null;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
  else if (typeof value === 'string' && /^\d{1,30}$/.test(value.trim())) big = BigInt(value.trim());
  if (big === null || big < 1n) {
    throw invalid(
      'sequence',
      `A sequence value is a whole number from 1 up; got ${String(value)}.`,
      'case_number.sequence_invalid',
    );
  }
  return Number(((big - 1n) % BigInt(MAX_CASE_SEQUENCE)) + 1n);
}

/**
 * Reads a case number (surrounding spaces and full-width digits, as typed on a phone keyboard, are
 * accepted) into its parts.
 *
 * @throws AppError (kind `validation`, field `caseNumber`): `case_number.format` when it is not 21
 *   digits; `case_number.division_invalid` when the first 6 digits are not a division code (province part
 *   00); `case_number.date_invalid` when digits 7–14 are not a real day; `case_number.sequence_invalid`
 *   when the last 7 digits are `0000000`. Each message says which part is wrong.
 */
export function parseCaseNumber(input: unknown): CaseNumberParts {
  const raw = typeof input === 'string' ? input.normalize('NFKC').trim() : '';
  if (!/^\d+$/.test(raw) || raw.length !== CASE_NUMBER_LENGTH) {
    throw invalid(
      'caseNumber',
      `A case number (办件编号) has ${CASE_NUMBER_LENGTH} digits — division (6), date YYYYMMDD (8), ` +
        `sequence (7), e.g. 520102202611290000001; got ${JSON.stringify(input)}.`,
      'case_number.format',
    );
  }
  const divisionCode = raw.slice(0, 6);
  const ymd = raw.slice(6, 14);
  const date = `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
  const sequence = Number(raw.slice(14));
  if (divisionCode.startsWith('00')) {
    throw invalid(
      'caseNumber',
      `The first 6 digits of a case number are a division code; ${divisionCode} is not one. Check the number.`,
      'case_number.division_invalid',
    );
  }
  if (!isRealDate(date) || date < '1000-01-01') {
    throw invalid(
      'caseNumber',
      `Digits 7–14 of a case number are the date (YYYYMMDD); ${ymd} is not a real day. Check the number.`,
      'case_number.date_invalid',
    );
  }
  if (sequence === 0) {
    throw invalid(
      'caseNumber',
      'The last 7 digits of a case number are its sequence, which starts at 0000001; got 0000000.',
      'case_number.sequence_invalid',
    );
  }
  return { divisionCode, date, sequence };
}

/** `true` when {@link parseCaseNumber} accepts the input; never throws. */
export function isCaseNumber(input: unknown): boolean {
  try {
    parseCaseNumber(input);
    return true;
  } catch {
    return false;
  }
}

function intakeDivision(code: string): string {
  const { level } = parseDivisionCode(code, 'divisionCode');
  return level === 'township' || level === 'village' ? countyCodeOf(code) : toGb2260Code(code);
}

function dayOf(on: Date | string): string {
  if (on instanceof Date) {
    if (Number.isNaN(on.getTime())) {
      throw invalid('on', 'The creation time is not a valid instant.', 'case_number.date_invalid');
    }
    const day = todayInShanghai(on);
    if (!isRealDate(day) || day < '1000-01-01') {
      throw invalid('on', `The creation day ${day} is out of range.`, 'case_number.date_invalid');
    }
    return day;
  }
  if (typeof on !== 'string' || !isRealDate(on) || on < '1000-01-01') {
    throw invalid(
      'on',
      `Give the creation day as YYYY-MM-DD (Asia/Shanghai) or an instant; got ${JSON.stringify(on)}.`,
      'case_number.date_invalid',
    );
  }
  return on;
}
