import { describe, expect, it } from 'vitest';
import { matchScore, normaliseText, rankItems, type SearchKeys } from './search.ts';

const ITEMS: SearchKeys[] = [
  {
    code: '050001003000',
    name: '社会保障卡补领',
    industry: 'social_insurance',
    pinyin: 'shehui baozhangka buling',
    initials: 'shbzkbl',
    synonyms: ['社保卡补办', '社保卡丢了'],
  },
  {
    code: '050001001000',
    name: '社会保障卡申领',
    industry: 'social_insurance',
    pinyin: ['she', 'hui', 'bao', 'zhang', 'ka', 'shen', 'ling'],
    initials: ['s', 'h', 'b', 'z', 'k', 's', 'l'],
  },
  {
    code: '070001002000',
    name: '户口迁移',
    industry: 'household_registration',
    pinyin: 'hukou qianyi',
    initials: 'hkqy',
    synonyms: ['迁户口'],
  },
  {
    code: '080001001000',
    name: '结婚登记',
    industry: 'marriage_registration',
    pinyin: 'jiehun dengji',
    initials: 'jhdj',
  },
];

const codes = (q: string, popularity?: Map<string, number>) =>
  rankItems(ITEMS, q, popularity ? { popularity } : {}).map((r) => r.item.code);

describe('offline search', () => {
  it('normalises case, width, spaces and punctuation', () => {
    expect(normaliseText(' ＳＢＫ，社保 卡！')).toBe('sbk社保卡');
  });

  it('finds by name, colloquial name, pinyin initials and full pinyin', () => {
    expect(codes('结婚登记')).toEqual(['080001001000']);
    expect(codes('社保卡补办')[0]).toBe('050001003000');
    expect(codes('迁户口')).toEqual(['070001002000']);
    expect(codes('hkqy')).toEqual(['070001002000']);
    expect(codes('shbzk')).toEqual(['050001001000', '050001003000']);
    expect(codes('jiehun')).toEqual(['080001001000']);
    expect(codes('SHEHUIBAO')).toHaveLength(2);
    expect(codes('')).toEqual([]);
    expect(codes('出入境')).toEqual([]);
  });

  it('ranks an exact name above a prefix above a substring above a partial character match', () => {
    const item = ITEMS[0]!;
    const q = (s: string) => matchScore(item, normaliseText(s));
    expect(q('社会保障卡补领')).toBe(100);
    expect(q('社会保障卡')).toBe(90);
    expect(q('保障卡补领')).toBe(80);
    expect(q('社保卡补办')).toBe(85);
    expect(q('社会保障补发')).toBeGreaterThan(0);
    expect(q('社会保障补发')).toBeLessThan(40);
    expect(q('护照')).toBe(0);
  });

  it('breaks ties by popularity, then the shorter name', () => {
    expect(codes('社会保障卡')).toEqual(['050001001000', '050001003000']);
    expect(codes('社会保障卡', new Map([['050001003000', 0]]))).toEqual(['050001003000', '050001001000']);
  });
});
