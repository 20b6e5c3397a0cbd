/**
 * Resident identity number (公民身份号码), GB 11643-1999.
 *
 * 18 characters: area code (地址码, 6 digits, GB/T 2260) + birth date (出生日期码, 8 digits YYYYMMDD)
 * + sequence (顺序码, 3 digits; odd = male, even = female) + check character (校验码, ISO 7064
 * MOD 11-2, `0`–`9` or `X`). The first-generation 15-digit number is no longer accepted.
 *
 * Pure: no I/O except the shipped area-code list (data/gb2260/area-codes.json, see its README); runs
 * in Node and in the browser.
 */
import areaCodeList from '../../data/gb2260/area-codes.json' with { type: 'json' };
import { invalid, isAppError } from './errors.ts';

/** 性别 as encoded by the parity of the sequence code. */
export type Sex = 'male' | 'female';

/** A parsed, valid resident identity number. */
export interface IdentityNumber {
  /** The normalised 18-character number (upper-case `X`, no whitespace). */
  value: string;
  /** 地址码: 6-digit GB/T 2260 code of the place of first registration (may be an abolished code). */
  areaCode: string;
  /** 出生日期, `YYYY-MM-DD`. */
  birthDate: string;
  /** 性别, from the parity of the 3-digit sequence code (odd = male). */
  sex: Sex;
}

/** Options for {@link parseIdentityNumber}. */
export interface ParseIdentityNumberOptions {
  /**
   * Today's date as `YYYY-MM-DD` in Asia/Shanghai; a birth date after it is refused. Defaults to the
   * current date in Asia/Shanghai. Pass it for reproducible results (tests, re-validation of old data).
   */
  today?: string;
}

const AREA_CODES: ReadonlySet<string> = new Set(areaCodeList as string[]);
/** ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for positions i = 0..16. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for each value of (Σ aᵢ·Wᵢ) mod 11. */
const CHECK_CHARACTERS = '10X98765432';
const EARLIEST_BIRTH_DATE = '1900-01-01';

/**
 * ISO 7064 MOD 11-2 check character of the first 17 digits of a resident identity number
 * (GB 11643-1999 §6): `0`–`9` or `X`.
 *
 * @param first17 exactly 17 ASCII digits.
 * @throws AppError `identity.format` (field `first17`) when the input is not 17 digits.
 */
export function computeIdentityCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw invalid('first17', 'The check character needs exactly 17 digits.', 'identity.format');
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

/**
 * Whether a 6-digit code ever existed in GB/T 2260 (historical or current) or is a Hong Kong / Macao /
 * Taiwan residence-permit area code (810000 / 820000 / 830000). See data/gb2260/README.md.
 */
export function isKnownAreaCode(code: string): boolean {
  return AREA_CODES.has(code);
}

/**
 * Parses and validates a resident identity number (GB 11643-1999).
 *
 * Normalisation: Unicode NFKC (so full-width digits and `Ｘ` typed with a Chinese input method become
 * ASCII), surrounding whitespace trimmed, lower-case `x` upper-cased.
 *
 * Checks, in this order, each failure an `AppError` of kind `validation` naming `field`:
 * - `identity.required` — not a string, or empty;
 * - `identity.fifteen_digit` — a 15-digit first-generation number (18 digits are required);
 * - `identity.length` — not 18 characters;
 * - `identity.format` — characters 1–17 not all digits, or the 18th not a digit or `X`;
 * - `identity.birth_date` — characters 7–14 not a real calendar date, before 1900-01-01, or after today
 *   (Asia/Shanghai);
 * - `identity.area_code` — characters 1–6 not a code that ever existed in GB/T 2260;
 * - `identity.check_character` — the 18th character does not match ISO 7064 MOD 11-2 over the first 17.
 *
 * @param input what the user typed.
 * @param field the name of the input field, reported in errors (default `idNumber`).
 * @returns the normalised number with its area code, birth date (`YYYY-MM-DD`) and sex.
 */
export function parseIdentityNumber(
  input: unknown,
  field = 'idNumber',
  options: ParseIdentityNumberOptions = {},
): IdentityNumber {
  const value = normalise(input);
  if (value === '') {
    throw invalid(
      field,
      'Enter the 18-character resident identity number (公民身份号码).',
      'identity.required',
    );
  }
  if (/^\d{15}$/.test(value)) {
    throw invalid(
      field,
      'This is a 15-digit first-generation identity number; 18 characters are required. ' +
        'Enter the 18-character number printed on the current resident identity card.',
      'identity.fifteen_digit',
    );
  }
  if (value.length !== 18) {
    throw invalid(
      field,
      `A resident identity number has 18 characters; this one has ${value.length}. Check for a missing or extra character.`,
      'identity.length',
    );
  }
  if (!/^\d{17}[\dX]$/.test(value)) {
    throw invalid(
      field,
      'Characters 1–17 of a resident identity number must be digits and the 18th a digit or X.',
      'identity.format',
    );
  }
  const birthDate = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  checkBirthDate(birthDate, field, options.today ?? todayInShanghai());
  const areaCode = value.slice(0, 6);
  if (!AREA_CODES.has(areaCode)) {
    throw invalid(
      field,
      `Characters 1–6 (${areaCode}) are not an administrative division code that has ever existed; ` +
        'check the first six digits against the identity card.',
      'identity.area_code',
    );
  }
  if (computeIdentityCheckCharacter(value.slice(0, 17)) !== value[17]) {
    throw invalid(
      field,
      'The identity number does not pass its check-character test, so a character is probably mistyped; ' +
        'compare all 18 characters with the identity card.',
      'identity.check_character',
    );
  }
  const sequence = Number(value.slice(14, 17));
  return { value, areaCode, birthDate, sex: sequence % 2 === 1 ? 'male' : 'female' };
}

/** `true` when {@link parseIdentityNumber} accepts the input (with today's date); never throws. */
export function isValidIdentityNumber(input: unknown, options: ParseIdentityNumberOptions = {}): boolean {
  try {
    parseIdentityNumber(input, 'idNumber', options);
    return true;
  } catch (e) {
    if (isAppError(e) && e.kind === 'validation') return false;
    throw e;
  }
}

/**
 * Masks an identity number for display and logs: keeps the first 4 and last 4 characters and replaces
 * the rest with `*`, e.g. `520102199003071234` → `5201**********1234`. A value of 8 characters or
 * fewer is masked entirely. Never throws; the input is trimmed but not validated.
 */
export function maskIdentityNumber(value: string): string {
  const v = value.trim();
  if (v.length <= 8) return '*'.repeat(v.length);
  return `${v.slice(0, 4)}${'*'.repeat(v.length - 8)}${v.slice(-4)}`;
}

function normalise(input: unknown): string {
  if (typeof input !== 'string') return '';
  return input.normalize('NFKC').trim().toUpperCase();
}

function checkBirthDate(date: string, field: string, today: string): void {
  if (!isRealDate(date)) {
    throw invalid(
      field,
      `Characters 7–14 must be the birth date as YYYYMMDD; ${date.replaceAll('-', '')} is not a real calendar date.`,
      'identity.birth_date',
    );
  }
  if (date < EARLIEST_BIRTH_DATE) {
    throw invalid(
      field,
      `The birth date ${date} (characters 7–14) is before 1900; check the year digits.`,
      'identity.birth_date',
    );
  }
  if (date > today) {
    throw invalid(
      field,
      `The birth date ${date} (characters 7–14) is in the future; check the date digits.`,
      'identity.birth_date',
    );
  }
}

/** `YYYY-MM-DD` that exists in the proleptic Gregorian calendar. */
function isRealDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= lengths[month - 1]!;
}

/** Today's date in Asia/Shanghai as `YYYY-MM-DD`. */
function todayInShanghai(): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date());
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}
