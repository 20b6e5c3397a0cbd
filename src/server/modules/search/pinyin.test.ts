import { describe, expect, it } from 'vitest';
import { matchPinyin, pinyinGrams, pinyinKey, pinyinQueryGrams } from './pinyin.ts';

describe('pinyinKey', () => {
  it('gives toneless full pinyin, syllable starts and initials', () => {
    expect(pinyinKey('社保卡')).toEqual({ full: 'shebaoka', starts: [0, 3, 6], initials: 'sbk' });
    expect(pinyinKey('社会保障卡').full).toBe('shehuibaozhangka');
  });

  it('reads polyphones from context, writes ü as v, keeps letters and digits', () => {
    expect(pinyinKey('银行').full).toBe('yinhang');
    expect(pinyinKey('重新').full).toBe('chongxin');
    expect(pinyinKey('绿色').full).toBe('lvse');
    expect(pinyinKey('etc办理')).toEqual({ full: 'etcbanli', starts: [0, 1, 2, 3, 6], initials: 'etcbl' });
  });
});

describe('matchPinyin', () => {
  const key = pinyinKey('社会保障卡补领');

  it('matches full pinyin from a syllable start, possibly ending inside a syllable', () => {
    expect(matchPinyin(key, 'shehuibaozhangka')).toBe('full');
    expect(matchPinyin(key, 'baozhangkab')).toBe('full');
    expect(matchPinyin(key, 'buling')).toBe('full');
  });

  it('does not match from inside a syllable', () => {
    expect(matchPinyin(key, 'ehuibao')).toBeUndefined();
    expect(matchPinyin(key, 'aozhang')).toBeUndefined();
  });

  it('matches initials anywhere, a single letter only at the start', () => {
    expect(matchPinyin(key, 'shbzk')).toBe('initials');
    expect(matchPinyin(key, 'bzkbl')).toBe('initials');
    expect(matchPinyin(key, 's')).toBe('initials');
    expect(matchPinyin(key, 'b')).toBeUndefined();
    expect(matchPinyin(key, 'sbk')).toBeUndefined();
    expect(matchPinyin(key, '')).toBeUndefined();
  });
});

describe('index terms', () => {
  it('the query terms of any matching query are among the text terms', () => {
    const key = pinyinKey('住房公积金提取');
    const terms = pinyinGrams(key);
    for (const q of ['zhufang', 'gongjijin', 'tiqu', 'zfgjj', 'gjjtq', 'gj', 'z', 'jintiq']) {
      expect(matchPinyin(key, q), q).toBeDefined();
      for (const g of pinyinQueryGrams(q)) expect(terms.has(g), `${q}: ${g}`).toBe(true);
    }
    expect(pinyinQueryGrams('shebaoka')).toEqual(['she', 'heb', 'eba', 'bao', 'aok', 'oka']);
  });
});
