/**
 * Unified social credit code (统一社会信用代码) of legal persons and other organisations,
 * GB 32100-2015 (法人和其他组织统一社会信用代码编码规则).
 *
 * 18 characters over the 31-character alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, Z, S, V):
 *
 * | chars | part | 中文 |
 * |---|---|---|
 * | 1 | registration authority | 登记管理部门码 (1 机构编制, 5 民政, 9 工商/市场监管, Y 其他 …) |
 * | 2 | organisation type | 机构类别码 (e.g. 11 机关, 12 事业单位, 91 企业) |
 * | 3–8 | division code | 登记管理机关行政区划码 (GB/T 2260, 6 digits) |
 * | 9–17 | organisation code | 主体标识码 (组织机构代码, GB 11714-1997: 8 characters + its own check character) |
 * | 18 | check character | 校验码 (weights 3^(i−1) mod 31, modulus 31) |
 *
 * Pure: no I/O; runs in Node and in the browser.
 */
import { invalid, isAppError } from './errors.ts';

/** The GB 32100-2015 code alphabet; a character's value is its index (0–30). */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Weights Wᵢ = 3^(i−1) mod 31 for positions i = 1..17 (GB 32100-2015 §5.2). */
const CREDIT_WEIGHTS = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** GB 11714-1997 weights for the 8 body characters of an organisation code. */
const ORGANISATION_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/**
 * Registration authorities and organisation types defined in GB 32100-2015 table 1 (names for display
 * only: other authority/type characters added by later notices are accepted, just not named).
 */
const KNOWN_TYPES: Record<string, { name: string; types: Record<string, string> }> = {
  '1': {
    name: '机构编制',
    types: { '1': '机关', '2': '事业单位', '3': '中央编办直接管理机构编制的群众团体', '9': '其他' },
  },
  '5': { name: '民政', types: { '1': '社会团体', '2': '民办非企业单位', '3': '基金会', '9': '其他' } },
  '9': { name: '工商', types: { '1': '企业', '2': '个体工商户', '3': '农民专业合作社' } },
  Y: { name: '其他', types: { '1': '其他' } },
};

/** A parsed, valid unified social credit code. */
export interface CreditCode {
  /** The normalised 18-character code (upper case, no whitespace). */
  value: string;
  /** 登记管理部门码, character 1. */
  registrationAuthority: string;
  /** 机构类别码, character 2. */
  organisationType: string;
  /** 登记管理机关行政区划码, characters 3–8 (GB/T 2260; `100000` for central bodies). */
  divisionCode: string;
  /** 主体标识码 (组织机构代码, GB 11714), characters 9–17, including its own check character. */
  organisationCode: string;
  /** 校验码, character 18. */
  checkCharacter: string;
  /** Name of the registration authority when GB 32100-2015 table 1 defines it, e.g. `机构编制`. */
  registrationAuthorityName?: string;
  /** Name of the organisation type when GB 32100-2015 table 1 defines it, e.g. `机关`. */
  organisationTypeName?: string;
}

/**
 * The GB 32100-2015 check character (character 18) of the first 17 characters:
 * C18 = alphabet[(31 − Σ value(cᵢ)·3^(i−1) mod 31) mod 31].
 *
 * @param first17 17 characters of {@link CREDIT_CODE_ALPHABET} (upper case).
 * @throws AppError `credit_code.format` (field `first17`) when the input is not 17 alphabet characters.
 */
export function computeCreditCodeCheckCharacter(first17: string): string {
  if (first17.length !== 17 || [...first17].some((c) => !CREDIT_CODE_ALPHABET.includes(c))) {
    throw invalid(
      'first17',
      `The check character needs exactly 17 characters from ${CREDIT_CODE_ALPHABET}.`,
      'credit_code.format',
    );
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_CODE_ALPHABET.indexOf(first17[i]!) * CREDIT_WEIGHTS[i]!;
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/**
 * The GB 11714-1997 check character of an organisation code's 8 body characters (digits and upper-case
 * letters, A = 10 … Z = 35): C9 = 11 − Σ value(cᵢ)·Wᵢ mod 11 with W = 3,7,9,10,5,8,4,2; 10 → `X`,
 * 11 → `0`.
 *
 * @throws AppError `credit_code.format` (field `body`) when the input is not 8 digits/upper-case letters.
 */
export function computeOrganisationCodeCheckCharacter(body: string): string {
  if (!/^[0-9A-Z]{8}$/.test(body)) {
    throw invalid(
      'body',
      'An organisation code body is 8 digits or upper-case letters.',
      'credit_code.format',
    );
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number.parseInt(body[i]!, 36) * ORGANISATION_WEIGHTS[i]!;
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/**
 * Parses and validates a unified social credit code (GB 32100-2015).
 *
 * Normalisation: Unicode NFKC (full-width characters become ASCII), surrounding whitespace trimmed,
 * upper-cased. Failures are `AppError`s of kind `validation` naming `field`, with codes:
 * - `credit_code.required` — not a string, or empty;
 * - `credit_code.length` — not 18 characters;
 * - `credit_code.alphabet` — a character outside the alphabet (names it and its position; I, O, Z, S
 *   and V never occur);
 * - `credit_code.division_code` — characters 3–8 not 6 digits;
 * - `credit_code.check_character` — character 18 does not match the GB 32100 check;
 * - `credit_code.organisation_code` — characters 9–17 fail the GB 11714 check.
 *
 * @param input what the user typed.
 * @param field the name of the input field, reported in errors (default `creditCode`).
 */
export function parseCreditCode(input: unknown, field = 'creditCode'): CreditCode {
  const value = typeof input === 'string' ? input.normalize('NFKC').trim().toUpperCase() : '';
  if (value === '') {
    throw invalid(
      field,
      'Enter the 18-character unified social credit code (统一社会信用代码).',
      'credit_code.required',
    );
  }
  if (value.length !== 18) {
    throw invalid(
      field,
      `A unified social credit code has 18 characters; this one has ${value.length}. Check for a missing or extra character.`,
      'credit_code.length',
    );
  }
  const bad = [...value].findIndex((c) => !CREDIT_CODE_ALPHABET.includes(c));
  if (bad !== -1) {
    throw invalid(
      field,
      `Character ${bad + 1} (${value[bad]}) cannot occur in a unified social credit code: only digits and the ` +
        'letters A–Y except I, O, S, V are used. Check for a letter O typed for zero or I for one.',
      'credit_code.alphabet',
    );
  }
  const divisionCode = value.slice(2, 8);
  if (!/^\d{6}$/.test(divisionCode)) {
    throw invalid(
      field,
      `Characters 3–8 (${divisionCode}) must be the 6-digit division code of the registration authority.`,
      'credit_code.division_code',
    );
  }
  if (computeCreditCodeCheckCharacter(value.slice(0, 17)) !== value[17]) {
    throw invalid(
      field,
      'The credit code does not pass its check-character test, so a character is probably mistyped; ' +
        'compare all 18 characters with the licence or certificate.',
      'credit_code.check_character',
    );
  }
  const organisationCode = value.slice(8, 17);
  if (computeOrganisationCodeCheckCharacter(organisationCode.slice(0, 8)) !== organisationCode[8]) {
    throw invalid(
      field,
      `Characters 9–17 (${organisationCode}) are not a valid organisation code (GB 11714 check failed); ` +
        'compare them with the licence or certificate.',
      'credit_code.organisation_code',
    );
  }
  const registrationAuthority = value[0]!;
  const organisationType = value[1]!;
  const known = KNOWN_TYPES[registrationAuthority];
  const typeName = known?.types[organisationType];
  return {
    value,
    registrationAuthority,
    organisationType,
    divisionCode,
    organisationCode,
    checkCharacter: value[17]!,
    ...(known === undefined ? {} : { registrationAuthorityName: known.name }),
    ...(typeName === undefined ? {} : { organisationTypeName: typeName }),
  };
}

/** `true` when {@link parseCreditCode} accepts the input; never throws. */
export function isValidCreditCode(input: unknown): boolean {
  try {
    parseCreditCode(input);
    return true;
  } catch (e) {
    if (isAppError(e) && e.kind === 'validation') return false;
    throw e;
  }
}

/** Parts from which {@link makeCreditCode} builds a code. */
export interface CreditCodeParts {
  /** 登记管理部门码: one alphabet character, e.g. `1` (机构编制) for government departments. */
  registrationAuthority: string;
  /** 机构类别码: one alphabet character, e.g. `1` (机关). */
  organisationType: string;
  /** 6-digit GB/T 2260 division code of the registration authority, e.g. `520102`. */
  divisionCode: string;
  /**
   * The organisation code body: an integer 0–99,999,999 (zero-padded to 8 digits) or 8 characters of
   * {@link CREDIT_CODE_ALPHABET}. The GB 11714 check character is appended.
   */
  serial: number | string;
}

/**
 * Builds a valid unified social credit code: both the organisation-code check character (GB 11714) and
 * the final check character (GB 32100) are computed. Used to create sample departments; a made-up code
 * may coincide with a real organisation's, so mark such data as sample.
 *
 * @throws AppError (kind `validation`, field named after the offending part) when a part is malformed.
 */
export function makeCreditCode(parts: CreditCodeParts): string {
  const { registrationAuthority, organisationType, divisionCode, serial } = parts;
  for (const [name, c] of [
    ['registrationAuthority', registrationAuthority],
    ['organisationType', organisationType],
  ] as const) {
    if (c.length !== 1 || !CREDIT_CODE_ALPHABET.includes(c)) {
      throw invalid(name, `${name} must be one character of ${CREDIT_CODE_ALPHABET}.`, 'credit_code.format');
    }
  }
  if (!/^\d{6}$/.test(divisionCode)) {
    throw invalid(
      'divisionCode',
      'divisionCode must be a 6-digit GB/T 2260 code.',
      'credit_code.division_code',
    );
  }
  let body: string;
  if (typeof serial === 'number') {
    if (!Number.isInteger(serial) || serial < 0 || serial > 99_999_999) {
      throw invalid('serial', 'serial must be an integer from 0 to 99,999,999.', 'credit_code.format');
    }
    body = String(serial).padStart(8, '0');
  } else {
    body = serial;
    if (body.length !== 8 || [...body].some((c) => !CREDIT_CODE_ALPHABET.includes(c))) {
      throw invalid(
        'serial',
        `serial must be 8 characters of ${CREDIT_CODE_ALPHABET}.`,
        'credit_code.format',
      );
    }
  }
  const first17 = `${registrationAuthority}${organisationType}${divisionCode}${body}${computeOrganisationCodeCheckCharacter(body)}`;
  return first17 + computeCreditCodeCheckCharacter(first17);
}
