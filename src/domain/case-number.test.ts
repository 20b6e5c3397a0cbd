import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../testing/app-error.ts';
import { fromEpochDay } from './calendar.ts';
import {
  CASE_NUMBER_LENGTH,
  caseSequenceFrom,
  formatCaseNumber,
  isCaseNumber,
  MAX_CASE_SEQUENCE,
  parseCaseNumber,
} from './case-number.ts';

describe('formatCaseNumber', () => {
  it('writes division (6) + YYYYMMDD + sequence (7): 21 digits', () => {
    const n = formatCaseNumber({ divisionCode: '520102', on: '2026-11-29', sequence: 1 });
    expect(n).toBe('520102202611290000001');
    expect(n).toHaveLength(CASE_NUMBER_LENGTH);
    expect(formatCaseNumber({ divisionCode: '522632', on: '2026-02-14', sequence: MAX_CASE_SEQUENCE })).toBe(
      '522632202602149999999',
    );
  });

  it('takes the Asia/Shanghai day of an instant', () => {
    // 2026-11-28T16:30Z is 2026-11-29 00:30 in Shanghai.
    expect(
      formatCaseNumber({ divisionCode: '520102', on: new Date('2026-11-28T16:30:00Z'), sequence: 42 }),
    ).toBe('520102202611290000042');
    expect(
      formatCaseNumber({ divisionCode: '520102', on: new Date('2026-11-28T15:59:59Z'), sequence: 42 }),
    ).toBe('520102202611280000042');
  });

  it('uses the county of a township/village hall and the padded code of a province/prefecture hall', () => {
    expect(formatCaseNumber({ divisionCode: '520102001001', on: '2026-01-05', sequence: 7 })).toBe(
      '520102202601050000007',
    );
    expect(formatCaseNumber({ divisionCode: '520102001', on: '2026-01-05', sequence: 7 }).slice(0, 6)).toBe(
      '520102',
    );
    expect(formatCaseNumber({ divisionCode: '52', on: '2026-01-05', sequence: 7 }).slice(0, 6)).toBe(
      '520000',
    );
    expect(formatCaseNumber({ divisionCode: '5201', on: '2026-01-05', sequence: 7 }).slice(0, 6)).toBe(
      '520100',
    );
  });

  it('refuses bad parts with the field and a stable code', () => {
    const seq = errorOf(() => formatCaseNumber({ divisionCode: '520102', on: '2026-01-05', sequence: 0 }));
    expect([seq.code, seq.field]).toEqual(['case_number.sequence_invalid', 'sequence']);
    expect(
      errorOf(() => formatCaseNumber({ divisionCode: '520102', on: '2026-01-05', sequence: 1.5 })).code,
    ).toBe('case_number.sequence_invalid');
    expect(
      errorOf(() => formatCaseNumber({ divisionCode: '520102', on: '2026-01-05', sequence: 10_000_000 }))
        .code,
    ).toBe('case_number.sequence_invalid');
    const date = errorOf(() => formatCaseNumber({ divisionCode: '520102', on: '2026-02-30', sequence: 1 }));
    expect([date.code, date.field]).toEqual(['case_number.date_invalid', 'on']);
    expect(
      errorOf(() => formatCaseNumber({ divisionCode: '520102', on: new Date(Number.NaN), sequence: 1 })).code,
    ).toBe('case_number.date_invalid');
    const division = errorOf(() =>
      formatCaseNumber({ divisionCode: '5201x2', on: '2026-01-05', sequence: 1 }),
    );
    expect([division.code, division.field]).toEqual(['division.format', 'divisionCode']);
  });
});

describe('parseCaseNumber', () => {
  it('reads the parts back (also full-width digits with spaces)', () => {
    expect(parseCaseNumber('520102202611290000001')).toEqual({
      divisionCode: '520102',
      date: '2026-11-29',
      sequence: 1,
    });
    expect(parseCaseNumber(' ５２０１０２２０２６１１２９００００００１ ').sequence).toBe(1);
  });

  it('says which part is wrong', () => {
    const cases: [unknown, string][] = [
      ['52010220261129000001', 'case_number.format'], // 20 digits
      ['52010220261129000000a', 'case_number.format'],
      [12345, 'case_number.format'],
      ['000102202611290000001', 'case_number.division_invalid'],
      ['520102202613290000001', 'case_number.date_invalid'], // month 13
      ['520102202602300000001', 'case_number.date_invalid'], // 30 February
      ['520102202611290000000', 'case_number.sequence_invalid'],
    ];
    for (const [input, code] of cases) {
      const e = errorOf(() => parseCaseNumber(input));
      expect([e.code, e.field, e.kind]).toEqual([code, 'caseNumber', 'validation']);
    }
    expect(isCaseNumber('520102202611290000001')).toBe(true);
    expect(isCaseNumber('520102202611290000000')).toBe(false);
  });

  it('round-trips every division, day and sequence (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 110000, max: 659999 }),
        fc.integer({ min: toDay('2000-01-01'), max: toDay('2099-12-31') }),
        fc.integer({ min: 1, max: MAX_CASE_SEQUENCE }),
        (division, epochDay, sequence) => {
          const divisionCode = String(division);
          fc.pre(!divisionCode.endsWith('00')); // a county, not a padded prefecture code
          const date = fromEpochDay(epochDay);
          const n = formatCaseNumber({ divisionCode, on: date, sequence });
          expect(n).toMatch(/^\d{21}$/);
          expect(parseCaseNumber(n)).toEqual({ divisionCode, date, sequence });
        },
      ),
    );
  });
});

describe('caseSequenceFrom', () => {
  it('maps a shared database sequence into 1 … 9 999 999, cycling', () => {
    expect(caseSequenceFrom(1)).toBe(1);
    expect(caseSequenceFrom(9_999_999n)).toBe(9_999_999);
    expect(caseSequenceFrom('10000000')).toBe(1);
    expect(caseSequenceFrom(10_000_001n)).toBe(2);
    expect(caseSequenceFrom(123_456_789_012_345n)).toBe(
      Number(((123_456_789_012_345n - 1n) % 9_999_999n) + 1n),
    );
  });

  it('keeps consecutive values distinct within any window of 9 999 999 (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2n ** 62n }),
        fc.integer({ min: 1, max: MAX_CASE_SEQUENCE - 1 }),
        (v, gap) => {
          expect(caseSequenceFrom(v)).not.toBe(caseSequenceFrom(v + BigInt(gap)));
        },
      ),
    );
  });

  it('refuses values below 1 and non-integers', () => {
    for (const bad of [0, -1, 0n, 1.5, 'x', '', Number.NaN]) {
      expect(errorOf(() => caseSequenceFrom(bad as number)).code).toBe('case_number.sequence_invalid');
    }
  });
});

function toDay(date: string): number {
  return (
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / 86_400_000
  );
}
