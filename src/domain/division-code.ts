/**
 * Administrative division codes (行政区划代码): GB/T 2260 for province, prefecture and county, extended
 * by the National Bureau of Statistics' statistical division codes (统计用区划代码) for township and
 * village. tongban writes each level in its shortest form:
 *
 * | level | 中文 | digits | structure | example |
 * |---|---|---|---|---|
 * | province | 省级 | 2 | PP | `52` 贵州省 |
 * | prefecture | 地级 (市/自治州) | 4 | PP + 2 | `5201` 贵阳市 |
 * | county | 县级 (区/县/县级市/特区) | 6 | prefecture + 2 | `520102` 南明区 |
 * | township | 乡级 (街道/镇/乡) | 9 | county + 3 | `520102001` |
 * | village | 村级 (社区/村) | 12 | county + township(3) + village(3) | `520102001001` |
 *
 * Pure string logic: whether a code exists is for the regions module to say. Codes directly under a
 * province (省直辖县级行政单位, e.g. `429004`) still get the pseudo-prefecture (`4290`) as parent here.
 *
 * Pure: no I/O; runs in Node and in the browser.
 */
import { invalid } from './errors.ts';

/** Level of an administrative division: 省 / 地 / 县 / 乡 / 村. */
export type DivisionLevel = 'province' | 'prefecture' | 'county' | 'township' | 'village';

/** Number of digits of a code at each level, in tongban's shortest form. */
export const DIVISION_CODE_LENGTHS: Readonly<Record<DivisionLevel, number>> = {
  province: 2,
  prefecture: 4,
  county: 6,
  township: 9,
  village: 12,
};

/** Levels from the root down. */
export const DIVISION_LEVELS: readonly DivisionLevel[] = [
  'province',
  'prefecture',
  'county',
  'township',
  'village',
];

const LEVEL_BY_LENGTH = new Map<number, DivisionLevel>(
  DIVISION_LEVELS.map((level) => [DIVISION_CODE_LENGTHS[level], level]),
);
/** Segment lengths from the root down: 2 + 2 + 2 + 3 + 3 digits. */
const SEGMENTS = [2, 2, 2, 3, 3] as const;

/** A parsed division code in its shortest (canonical) form. */
export interface DivisionCode {
  /** 2, 4, 6, 9 or 12 digits. */
  code: string;
  level: DivisionLevel;
}

/**
 * Parses a division code. Surrounding whitespace is trimmed and full-width digits become ASCII.
 *
 * Zero-padded forms are accepted and shortened, because no level uses an all-zero segment:
 * the GB/T 2260 6-digit forms `520000` → `52` and `520100` → `5201`, and the NBS 12-digit forms
 * `520102000000` → `520102` and `520102001000` → `520102001`.
 *
 * @param input what the caller got (query parameter, form field, CSV cell).
 * @param field the name reported in errors (default `division`).
 * @throws AppError (kind `validation`) with code `division.required` (empty or not a string),
 *   `division.format` (not only digits), `division.length` (not 2, 4, 6, 9 or 12 digits) or
 *   `division.province` (province part `00`).
 */
export function parseDivisionCode(input: unknown, field = 'division'): DivisionCode {
  const raw = typeof input === 'string' ? input.normalize('NFKC').trim() : '';
  if (raw === '') {
    throw invalid(
      field,
      'Enter an administrative division code (行政区划代码), e.g. 520102.',
      'division.required',
    );
  }
  if (!/^\d+$/.test(raw)) {
    throw invalid(field, `A division code has digits only; got ${JSON.stringify(raw)}.`, 'division.format');
  }
  if (!LEVEL_BY_LENGTH.has(raw.length)) {
    throw invalid(
      field,
      `A division code has 2 (province), 4 (prefecture), 6 (county), 9 (township) or 12 (village) digits; ` +
        `${raw} has ${raw.length}.`,
      'division.length',
    );
  }
  let code = raw;
  // Drop trailing all-zero segments (padding): 520100 → 5201, 520102001000 → 520102001.
  for (let i = SEGMENTS.length - 1; i > 0; i--) {
    const start = SEGMENTS.slice(0, i).reduce((a, b) => a + b, 0);
    const segment = code.slice(start, start + SEGMENTS[i]!);
    if (code.length === start + SEGMENTS[i]! && /^0+$/.test(segment)) code = code.slice(0, start);
  }
  if (code === '00') {
    throw invalid(
      field,
      `${raw} is not a division code: the province part cannot be 00.`,
      'division.province',
    );
  }
  return { code, level: LEVEL_BY_LENGTH.get(code.length)! };
}

/** `true` when {@link parseDivisionCode} accepts the input; never throws. */
export function isDivisionCode(input: unknown): boolean {
  try {
    parseDivisionCode(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * Level of a division code (after canonicalisation, so `520100` is a prefecture).
 * @throws AppError as {@link parseDivisionCode} (field `division`).
 */
export function levelOfCode(code: string): DivisionLevel {
  return parseDivisionCode(code).level;
}

/**
 * Code of the division directly above: village → township (9), township → county (6), county →
 * prefecture (4), prefecture → province (2); `null` for a province. Returned in canonical form.
 * @throws AppError as {@link parseDivisionCode} (field `division`).
 */
export function parentCodeOf(code: string): string | null {
  const { code: c, level } = parseDivisionCode(code);
  const index = DIVISION_LEVELS.indexOf(level);
  if (index === 0) return null;
  return c.slice(0, DIVISION_CODE_LENGTHS[DIVISION_LEVELS[index - 1]!]);
}

/**
 * Codes of all divisions above, ROOT FIRST (province, prefecture, …, parent), not including the code
 * itself; `[]` for a province. E.g. `520102001001` → `['52', '5201', '520102', '520102001']`.
 * @throws AppError as {@link parseDivisionCode} (field `division`).
 */
export function ancestorCodesOf(code: string): string[] {
  const { code: c, level } = parseDivisionCode(code);
  const index = DIVISION_LEVELS.indexOf(level);
  return DIVISION_LEVELS.slice(0, index).map((l) => c.slice(0, DIVISION_CODE_LENGTHS[l]));
}

/**
 * The 6-digit county code a county, township or village code belongs to (the first 6 digits).
 * @throws AppError `division.above_county` (field `division`) for a province or prefecture code, which
 *   covers many counties; or as {@link parseDivisionCode}.
 */
export function countyCodeOf(code: string): string {
  const { code: c, level } = parseDivisionCode(code);
  if (level === 'province' || level === 'prefecture') {
    throw invalid(
      'division',
      `${c} is a ${level} code, which covers several counties; give a county (6 digits), township (9) or ` +
        'village (12) code.',
      'division.above_county',
    );
  }
  return c.slice(0, 6);
}

/**
 * The GB/T 2260 6-digit form of a province, prefecture or county code (`52` → `520000`,
 * `5201` → `520100`, `520102` → `520102`), as used in credit codes and elsewhere.
 * @throws AppError `division.below_county` (field `division`) for township and village codes, which
 *   GB/T 2260 does not cover; or as {@link parseDivisionCode}.
 */
export function toGb2260Code(code: string): string {
  const { code: c, level } = parseDivisionCode(code);
  if (level === 'township' || level === 'village') {
    throw invalid(
      'division',
      `${c} is a ${level} code; GB/T 2260 has only province, prefecture and county codes. Use countyCodeOf for its county.`,
      'division.below_county',
    );
  }
  return c.padEnd(6, '0');
}

/**
 * Whether division `ancestor` is `descendant` itself or one of its ancestors (e.g. `5201` and
 * `520102001001` → true; `5202` and `520102` → false). Both are canonicalised first, so `520100` and
 * `5201` are the same division.
 * @throws AppError as {@link parseDivisionCode}, with field `ancestor` or `descendant`.
 */
export function isAncestorOrSelf(ancestor: string, descendant: string): boolean {
  const a = parseDivisionCode(ancestor, 'ancestor').code;
  const d = parseDivisionCode(descendant, 'descendant').code;
  return d.startsWith(a);
}
