import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import {
  computeIdentityCheckCharacter,
  isKnownAreaCode,
  isValidIdentityNumber,
  maskIdentityNumber,
  parseIdentityNumber,
} from './identity-number.ts';

/** Builds a synthetic valid number from its parts (area code, YYYYMMDD, 3-digit sequence). */
function make(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

const TODAY = '2026-03-01';

function errorOf(input: unknown, options = { today: TODAY }, field?: string): AppError {
  try {
    parseIdentityNumber(input, field, options);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error(`expected ${String(input)} to be refused`);
}

describe('computeIdentityCheckCharacter (ISO 7064 MOD 11-2)', () => {
  it('matches the worked example of GB 11643-1999 (11010519491231002X)', () => {
    expect(computeIdentityCheckCharacter('11010519491231002')).toBe('X');
  });

  it('matches a second published example (440524188001010014)', () => {
    expect(computeIdentityCheckCharacter('44052418800101001')).toBe('4');
  });

  it('produces every character of 0–9 and X over some inputs', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) {
      seen.add(computeIdentityCheckCharacter(`52010219900307${String(s).padStart(3, '0')}`));
    }
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });

  it('refuses input that is not 17 digits', () => {
    expect(() => computeIdentityCheckCharacter('1234')).toThrow(/17 digits/);
    expect(() => computeIdentityCheckCharacter('5201021990030712X')).toThrow(AppError);
  });
});

describe('parseIdentityNumber', () => {
  const male = make('520102', '19900307', '123'); // 南明区, odd sequence

  it('parses a valid Guizhou number into area code, birth date and sex', () => {
    expect(parseIdentityNumber(male, 'idNumber', { today: TODAY })).toEqual({
      value: male,
      areaCode: '520102',
      birthDate: '1990-03-07',
      sex: 'male',
    });
  });

  it('reads an even sequence as female', () => {
    const female = make('522601', '20000229', '246'); // 凯里市, leap day
    const parsed = parseIdentityNumber(female, 'idNumber', { today: TODAY });
    expect(parsed.sex).toBe('female');
    expect(parsed.birthDate).toBe('2000-02-29');
  });

  it('accepts lower-case x and normalises it to X', () => {
    const withX = make('520103', '19851111', '015');
    expect(withX.endsWith('X')).toBe(true);
    expect(parseIdentityNumber(withX.toLowerCase(), 'idNumber', { today: TODAY }).value).toBe(withX);
  });

  it('trims surrounding whitespace (including an ideographic space) and accepts full-width digits', () => {
    expect(parseIdentityNumber(`  ${male}\u3000\n`, 'idNumber', { today: TODAY }).value).toBe(male);
    const fullWidth = male.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    expect(parseIdentityNumber(fullWidth, 'idNumber', { today: TODAY }).value).toBe(male);
  });

  it('accepts an abolished (historical) area code: 北京市崇文区 110103 and 贵州省遵义县 520321', () => {
    expect(isValidIdentityNumber(make('110103', '19700101', '031'), { today: TODAY })).toBe(true);
    expect(isValidIdentityNumber(make('520321', '19760615', '112'), { today: TODAY })).toBe(true);
    expect(isValidIdentityNumber(make('522401', '19800808', '088'), { today: TODAY })).toBe(true); // 毕节地区毕节市
  });

  it('accepts a code created recently (观山湖区 520115, 盘州市 520281) and residence-permit codes', () => {
    expect(isValidIdentityNumber(make('520115', '20150101', '011'), { today: TODAY })).toBe(true);
    expect(isValidIdentityNumber(make('520281', '20180505', '022'), { today: TODAY })).toBe(true);
    expect(isValidIdentityNumber(make('810000', '19950101', '013'), { today: TODAY })).toBe(true);
  });

  it('refuses an area code that never existed', () => {
    const e = errorOf(make('529999', '19900307', '123'));
    expect(e.code).toBe('identity.area_code');
    expect(e.field).toBe('idNumber');
    expect(e.message).toContain('529999');
    expect(errorOf(make('000000', '19900307', '123')).code).toBe('identity.area_code');
  });

  it('refuses a 15-digit first-generation number, saying 18 are required', () => {
    const e = errorOf('520102900307123');
    expect(e.code).toBe('identity.fifteen_digit');
    expect(e.message).toContain('18');
    expect(e.kind).toBe('validation');
  });

  it('refuses other lengths with the count', () => {
    const e = errorOf(male.slice(0, 17));
    expect(e.code).toBe('identity.length');
    expect(e.message).toContain('17');
    expect(errorOf(`${male}1`).code).toBe('identity.length');
  });

  it('refuses empty and non-string input', () => {
    expect(errorOf('').code).toBe('identity.required');
    expect(errorOf('   ').code).toBe('identity.required');
    expect(errorOf(undefined).code).toBe('identity.required');
    // a number cannot hold 18 digits exactly (it would round to …071200), so it is refused
    expect(errorOf(Number('520102199003071234')).code).toBe('identity.required');
  });

  it('refuses letters other than a final X', () => {
    expect(errorOf('52010219900307A234').code).toBe('identity.format');
    expect(errorOf('52010219900307123Y').code).toBe('identity.format');
    expect(errorOf('5201021990 0307123').code).toBe('identity.format');
  });

  it('refuses a birth date that is not a real calendar date', () => {
    for (const birth of ['19900230', '19991301', '19900001', '19900100', '19000229', '20010229']) {
      const e = errorOf(make('520102', birth, '123'));
      expect(e.code, birth).toBe('identity.birth_date');
      expect(e.message).toContain(birth);
    }
  });

  it('refuses a birth date before 1900 or after today (Asia/Shanghai)', () => {
    expect(errorOf(make('520102', '18991231', '123')).code).toBe('identity.birth_date');
    expect(isValidIdentityNumber(make('520102', '19000101', '123'), { today: TODAY })).toBe(true);
    expect(isValidIdentityNumber(make('520102', '20260301', '123'), { today: TODAY })).toBe(true);
    const future = errorOf(make('520102', '20260302', '123'));
    expect(future.code).toBe('identity.birth_date');
    expect(future.message).toContain('future');
  });

  it('uses the real current date when no today is given', () => {
    expect(isValidIdentityNumber(make('520102', '20991231', '123'))).toBe(false);
    expect(isValidIdentityNumber(make('520102', '19900307', '123'))).toBe(true);
  });

  it('refuses a wrong check character without revealing the expected one', () => {
    const wrong = male.slice(0, 17) + (male[17] === '0' ? '1' : '0');
    const e = errorOf(wrong);
    expect(e.code).toBe('identity.check_character');
    expect(e.message).toMatch(/mistyped/);
  });

  it('detects every single-digit typo in the first 17 digits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (position, delta) => {
        const digit = (Number(male[position]) + delta) % 10;
        const typo = male.slice(0, position) + String(digit) + male.slice(position + 1);
        return !isValidIdentityNumber(typo, { today: TODAY });
      }),
    );
  });

  it('reports errors under the caller’s field name', () => {
    const e = errorOf('123', { today: TODAY }, 'applicant.idNumber');
    expect(e.field).toBe('applicant.idNumber');
    expect(e.issues).toEqual([{ field: 'applicant.idNumber', message: e.message }]);
  });
});

describe('isKnownAreaCode', () => {
  it('knows current, historical and residence-permit codes and nothing else', () => {
    expect(isKnownAreaCode('520102')).toBe(true);
    expect(isKnownAreaCode('110104')).toBe(true); // 宣武区, abolished 2010
    expect(isKnownAreaCode('830000')).toBe(true);
    expect(isKnownAreaCode('520199')).toBe(false);
    expect(isKnownAreaCode('52')).toBe(false);
  });
});

describe('maskIdentityNumber', () => {
  it('keeps the first 4 and last 4 characters', () => {
    expect(maskIdentityNumber('52010319851111015X')).toBe('5201**********015X');
    expect(maskIdentityNumber(' 520102199003071234 ')).toBe('5201**********1234');
  });

  it('masks short values entirely and never throws', () => {
    expect(maskIdentityNumber('12345678')).toBe('********');
    expect(maskIdentityNumber('')).toBe('');
  });
});
