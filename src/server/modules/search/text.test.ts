import { describe, expect, it } from 'vitest';
import { hanGrams, hanQueryGrams, normalizeText, splitQuery } from './text.ts';

describe('normalizeText', () => {
  it('folds width and case, drops spaces and punctuation', () => {
    expect(normalizeText(' 社保卡 补办（ＡＢ１）！')).toBe('社保卡补办ab1');
    expect(normalizeText('Lü')).toBe('lv');
    expect(normalizeText('，。 ')).toBe('');
  });
});

describe('splitQuery', () => {
  it('splits Han and latin runs and joins pinyin typed with spaces', () => {
    expect(splitQuery('sbk 补办')).toEqual([
      { kind: 'latin', text: 'sbk' },
      { kind: 'han', text: '补办' },
    ]);
    expect(splitQuery('she bao  ka')).toEqual([{ kind: 'latin', text: 'shebaoka' }]);
    expect(splitQuery('驾驶证 换证')).toEqual([
      { kind: 'han', text: '驾驶证' },
      { kind: 'han', text: '换证' },
    ]);
    expect(splitQuery('ab,cd')).toEqual([
      { kind: 'latin', text: 'ab' },
      { kind: 'latin', text: 'cd' },
    ]);
    expect(splitQuery('  ！')).toEqual([]);
  });
});

describe('Han n-grams', () => {
  it('indexes unigrams and in-run bigrams; a query term needs its bigrams', () => {
    expect(hanGrams('出生登记').sort()).toEqual(['出', '出生', '生', '生登', '登', '登记', '记'].sort());
    expect(hanGrams('a出b')).toEqual(['出']);
    expect(hanQueryGrams('登记')).toEqual(['登记']);
    expect(hanQueryGrams('出生登记')).toEqual(['出生', '生登', '登记']);
    expect(hanQueryGrams('卡')).toEqual(['卡']);
  });
});
