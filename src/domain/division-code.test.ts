import { describe, expect, it } from 'vitest';
import { errorOf } from '../testing/app-error.ts';
import {
  ancestorCodesOf,
  countyCodeOf,
  isAncestorOrSelf,
  isDivisionCode,
  levelOfCode,
  parentCodeOf,
  parseDivisionCode,
  toGb2260Code,
} from './division-code.ts';

// Real Guizhou codes: 贵州省 52, 贵阳市 5201, 南明区 520102, a 南明区 street and one of its communities.
const VILLAGE = '520102001001';

describe('parseDivisionCode and levelOfCode', () => {
  it('recognises the five levels by length', () => {
    expect(parseDivisionCode('52')).toEqual({ code: '52', level: 'province' });
    expect(levelOfCode('5201')).toBe('prefecture');
    expect(levelOfCode('520102')).toBe('county');
    expect(levelOfCode('520102001')).toBe('township');
    expect(levelOfCode(VILLAGE)).toBe('village');
  });

  it('trims whitespace and accepts full-width digits', () => {
    expect(parseDivisionCode(' 520102\n').code).toBe('520102');
    expect(parseDivisionCode('５２０１０２').code).toBe('520102');
  });

  it('shortens zero-padded GB/T 2260 and NBS forms', () => {
    expect(parseDivisionCode('520000')).toEqual({ code: '52', level: 'province' });
    expect(parseDivisionCode('520100')).toEqual({ code: '5201', level: 'prefecture' });
    expect(parseDivisionCode('5200')).toEqual({ code: '52', level: 'province' });
    expect(parseDivisionCode('520102000000')).toEqual({ code: '520102', level: 'county' });
    expect(parseDivisionCode('520102001000')).toEqual({ code: '520102001', level: 'township' });
    expect(parseDivisionCode('520102000')).toEqual({ code: '520102', level: 'county' });
    expect(parseDivisionCode('520000000000')).toEqual({ code: '52', level: 'province' });
  });

  it('keeps zeros inside a segment (5201 and 520102001 are not padding)', () => {
    expect(parseDivisionCode('520101').code).toBe('520101');
    expect(parseDivisionCode('522700100200').code).toBe('522700100200');
  });

  it('refuses non-digits, wrong lengths, empty input and the 00 province with clear codes', () => {
    expect(errorOf(() => parseDivisionCode('52O102')).code).toBe('division.format');
    expect(errorOf(() => parseDivisionCode('-52')).code).toBe('division.format');
    const length = errorOf(() => parseDivisionCode('52010'));
    expect(length.code).toBe('division.length');
    expect(length.message).toContain('has 5');
    expect(errorOf(() => parseDivisionCode('5')).code).toBe('division.length');
    expect(errorOf(() => parseDivisionCode('5201020010011')).code).toBe('division.length');
    expect(errorOf(() => parseDivisionCode('')).code).toBe('division.required');
    expect(errorOf(() => parseDivisionCode(520102)).code).toBe('division.required');
    expect(errorOf(() => parseDivisionCode('000000')).code).toBe('division.province');
  });

  it('names the caller’s field', () => {
    expect(errorOf(() => parseDivisionCode('x', 'parent')).field).toBe('parent');
    expect(errorOf(() => levelOfCode('x')).field).toBe('division');
  });

  it('isDivisionCode never throws', () => {
    expect(isDivisionCode('520102')).toBe(true);
    expect(isDivisionCode('5201021')).toBe(false);
    expect(isDivisionCode(undefined)).toBe(false);
  });
});

describe('parentCodeOf and ancestorCodesOf', () => {
  it('walks up one level at a time', () => {
    expect(parentCodeOf(VILLAGE)).toBe('520102001');
    expect(parentCodeOf('520102001')).toBe('520102');
    expect(parentCodeOf('520102')).toBe('5201');
    expect(parentCodeOf('5201')).toBe('52');
    expect(parentCodeOf('52')).toBeNull();
    expect(parentCodeOf('520100')).toBe('52');
  });

  it('lists ancestors root first, without the code itself', () => {
    expect(ancestorCodesOf(VILLAGE)).toEqual(['52', '5201', '520102', '520102001']);
    expect(ancestorCodesOf('522701')).toEqual(['52', '5227']);
    expect(ancestorCodesOf('52')).toEqual([]);
  });
});

describe('countyCodeOf', () => {
  it('resolves county, township and village codes to their county', () => {
    expect(countyCodeOf('520102')).toBe('520102');
    expect(countyCodeOf('520102001')).toBe('520102');
    expect(countyCodeOf(VILLAGE)).toBe('520102');
  });

  it('refuses province and prefecture codes, saying what to give instead', () => {
    for (const code of ['52', '5201', '520100']) {
      const e = errorOf(() => countyCodeOf(code));
      expect(e.code).toBe('division.above_county');
      expect(e.message).toContain('6 digits');
    }
  });
});

describe('toGb2260Code', () => {
  it('pads province and prefecture codes to 6 digits', () => {
    expect(toGb2260Code('52')).toBe('520000');
    expect(toGb2260Code('5201')).toBe('520100');
    expect(toGb2260Code('520102')).toBe('520102');
  });

  it('refuses township and village codes', () => {
    expect(errorOf(() => toGb2260Code('520102001')).code).toBe('division.below_county');
  });
});

describe('isAncestorOrSelf', () => {
  it('is true for the code itself and every ancestor', () => {
    expect(isAncestorOrSelf(VILLAGE, VILLAGE)).toBe(true);
    for (const a of ancestorCodesOf(VILLAGE)) expect(isAncestorOrSelf(a, VILLAGE), a).toBe(true);
    expect(isAncestorOrSelf('520100', '520102')).toBe(true);
  });

  it('is false for siblings, descendants and other branches', () => {
    expect(isAncestorOrSelf('5202', '520102')).toBe(false);
    expect(isAncestorOrSelf('520102', '5201')).toBe(false);
    expect(isAncestorOrSelf('520103', '520102001001')).toBe(false);
    expect(isAncestorOrSelf('53', '520102')).toBe(false);
  });

  it('refuses malformed input naming which argument', () => {
    expect(errorOf(() => isAncestorOrSelf('5', '520102')).field).toBe('ancestor');
    expect(errorOf(() => isAncestorOrSelf('52', 'abc')).field).toBe('descendant');
  });
});
