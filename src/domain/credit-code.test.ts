import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDIT_CODE_ALPHABET,
  computeCreditCodeCheckCharacter,
  computeOrganisationCodeCheckCharacter,
  isValidCreditCode,
  makeCreditCode,
  parseCreditCode,
} from './credit-code.ts';
import { AppError } from './errors.ts';

function errorOf(input: unknown, field?: string): AppError {
  try {
    parseCreditCode(input, field);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error(`expected ${String(input)} to be refused`);
}

/** Published codes of well-known companies (public registration data), as known-answer vectors. */
const PUBLISHED = ['914403001922038216', '91330100799655058B', '91110000600037341L'];

describe('check characters', () => {
  it('reproduces the final check character of published codes (GB 32100)', () => {
    for (const code of PUBLISHED)
      expect(computeCreditCodeCheckCharacter(code.slice(0, 17)), code).toBe(code[17]);
  });

  it('reproduces the organisation-code check character of published codes (GB 11714)', () => {
    for (const code of PUBLISHED) {
      expect(computeOrganisationCodeCheckCharacter(code.slice(8, 16)), code).toBe(code[16]);
    }
  });

  it('maps GB 11714 remainders 10 and 11 to X and 0', () => {
    expect(computeOrganisationCodeCheckCharacter('10000000')).toBe('8'); // Σ = 1·3 = 3 → 11 − 3
    expect(computeOrganisationCodeCheckCharacter('40000000')).toBe('X'); // Σ = 12 ≡ 1 → 10 → X
    expect(computeOrganisationCodeCheckCharacter('00000000')).toBe('0'); // Σ = 0 → 11 → 0
    expect(computeOrganisationCodeCheckCharacter('A0000000')).toBe('3'); // A = 10: Σ = 30 ≡ 8 → 3
  });

  it('refuses malformed input to the check functions', () => {
    expect(() => computeCreditCodeCheckCharacter('9144030019220382')).toThrow(AppError);
    expect(() => computeCreditCodeCheckCharacter('91440300192203821I')).toThrow(AppError);
    expect(() => computeOrganisationCodeCheckCharacter('1922038')).toThrow(AppError);
  });
});

describe('parseCreditCode', () => {
  it('splits a valid code into its parts and names the authority and type from GB 32100 table 1', () => {
    expect(parseCreditCode('91330100799655058B')).toEqual({
      value: '91330100799655058B',
      registrationAuthority: '9',
      organisationType: '1',
      divisionCode: '330100',
      organisationCode: '799655058',
      checkCharacter: 'B',
      registrationAuthorityName: '工商',
      organisationTypeName: '企业',
    });
  });

  it('normalises lower case, whitespace and full-width characters', () => {
    expect(parseCreditCode('  91330100799655058b\t').value).toBe('91330100799655058B');
    expect(parseCreditCode('９１３３０１００７９９６５５０５８Ｂ').value).toBe('91330100799655058B');
  });

  it('refuses empty and non-string input', () => {
    expect(errorOf('').code).toBe('credit_code.required');
    expect(errorOf(null).code).toBe('credit_code.required');
  });

  it('refuses a wrong length with the count', () => {
    const e = errorOf('9133010079965505');
    expect(e.code).toBe('credit_code.length');
    expect(e.message).toContain('16');
  });

  it('refuses the letters I, O, Z, S, V, naming the character and its position', () => {
    for (const letter of ['I', 'O', 'Z', 'S', 'V']) {
      const e = errorOf(`9133010079965505${letter}B`);
      expect(e.code, letter).toBe('credit_code.alphabet');
      expect(e.message).toContain(`Character 17 (${letter})`);
    }
    expect(errorOf('91330100-99655058B').code).toBe('credit_code.alphabet');
  });

  it('refuses letters in the division code (characters 3–8)', () => {
    const first17 = '913301A0799655058';
    const e = errorOf(first17 + computeCreditCodeCheckCharacter(first17));
    expect(e.code).toBe('credit_code.division_code');
  });

  it('refuses a wrong final check character', () => {
    const e = errorOf('91330100799655058C');
    expect(e.code).toBe('credit_code.check_character');
    expect(e.field).toBe('creditCode');
  });

  it('refuses a code whose final check is right but whose organisation code check is wrong', () => {
    const first17 = '91330100799655057'; // published code with its GB 11714 check 8 changed to 7
    const code = first17 + computeCreditCodeCheckCharacter(first17);
    const e = errorOf(code);
    expect(e.code).toBe('credit_code.organisation_code');
    expect(e.message).toContain('799655057');
  });

  it('accepts authority and type characters beyond GB 32100 table 1 without naming them', () => {
    const code = makeCreditCode({
      registrationAuthority: 'N',
      organisationType: '2',
      divisionCode: '520102',
      serial: 'MA6D0001',
    });
    const parsed = parseCreditCode(code);
    expect(parsed.registrationAuthority).toBe('N');
    expect(parsed.registrationAuthorityName).toBeUndefined();
    expect(parsed.organisationTypeName).toBeUndefined();
  });

  it('detects every single-character substitution (property)', () => {
    const code = PUBLISHED[1]!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 30 }), (position, delta) => {
        const value = (CREDIT_CODE_ALPHABET.indexOf(code[position]!) + delta) % 31;
        const typo = code.slice(0, position) + CREDIT_CODE_ALPHABET[value] + code.slice(position + 1);
        return !isValidCreditCode(typo);
      }),
    );
  });

  it('uses the caller’s field name', () => {
    expect(errorOf('x', 'department.creditCode').field).toBe('department.creditCode');
  });
});

describe('makeCreditCode', () => {
  it('makes valid codes for a county public security bureau (机关) from a numeric serial', () => {
    const code = makeCreditCode({
      registrationAuthority: '1',
      organisationType: '1',
      divisionCode: '520102',
      serial: 1234,
    });
    // organisation code 00001234 + (11 − (1·5 + 2·8 + 3·4 + 4·2) mod 11 = 3); final check computed
    expect(code).toBe('11520102000012343C');
    const parsed = parseCreditCode(code);
    expect(parsed.registrationAuthorityName).toBe('机构编制');
    expect(parsed.organisationTypeName).toBe('机关');
    expect(parsed.organisationCode).toBe('000012343');
  });

  it('makes valid codes for any serial and division (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99_999_999 }),
        fc.integer({ min: 110000, max: 659999 }),
        (serial, division) =>
          isValidCreditCode(
            makeCreditCode({
              registrationAuthority: '1',
              organisationType: '2',
              divisionCode: String(division),
              serial,
            }),
          ),
      ),
    );
  });

  it('refuses malformed parts, naming the part', () => {
    const base = { registrationAuthority: '1', organisationType: '1', divisionCode: '520102', serial: 1 };
    const field = (parts: Parameters<typeof makeCreditCode>[0]) => {
      try {
        makeCreditCode(parts);
      } catch (e) {
        return (e as AppError).field;
      }
      return undefined;
    };
    expect(field({ ...base, registrationAuthority: 'I' })).toBe('registrationAuthority');
    expect(field({ ...base, organisationType: '11' })).toBe('organisationType');
    expect(field({ ...base, divisionCode: '5201' })).toBe('divisionCode');
    expect(field({ ...base, serial: -1 })).toBe('serial');
    expect(field({ ...base, serial: 1.5 })).toBe('serial');
    expect(field({ ...base, serial: 100_000_000 })).toBe('serial');
    expect(field({ ...base, serial: 'MA6D00O1' })).toBe('serial');
  });
});
