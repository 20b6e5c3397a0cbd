import { describe, expect, it } from 'vitest';
import { AppError } from '../../../domain/errors.ts';
import {
  colloquialVariants,
  DEFAULT_SYNONYMS_FILE,
  expandTerm,
  loadSynonyms,
  parseSynonyms,
  synonymTable,
} from './synonyms.ts';

function issuesOf(fn: () => unknown): Array<{ field: string; message: string }> {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).kind).toBe('validation');
    return (e as AppError).issues ?? [];
  }
  throw new Error('expected an AppError');
}

describe('the shipped synonym file', () => {
  const table = loadSynonyms(DEFAULT_SYNONYMS_FILE);

  it('has at least 30 pairs, with the ones the catalog search relies on', () => {
    expect(table.pairs.length).toBeGreaterThanOrEqual(30);
    expect(expandTerm(table, '社保卡')).toEqual(['社会保障卡']);
    expect(expandTerm(table, '补办')).toEqual(['补领', '补发']);
    expect(expandTerm(table, '上户口')).toEqual(['出生登记', '户口登记']);
    expect(expandTerm(table, '身份证')).toEqual(['居民身份证']);
    expect(expandTerm(table, '准生证')).toContain('生育登记');
    expect(expandTerm(table, '房产证')).toContain('不动产权证书');
    expect(expandTerm(table, '社会保障卡')).toEqual([]); // colloquial → official only
    expect(table.colloquials.get('社会保障卡')).toEqual(['社保卡', '医保卡']);
  });

  it('records the file line of each pair', () => {
    expect(table.pairs[0]).toMatchObject({ colloquial: '社保卡', official: '社会保障卡', line: 3 });
    expect(table.pairs.find((p) => p.colloquial === '医保卡')?.note).toContain('医保');
  });
});

describe('parseSynonyms', () => {
  it('skips comments and blank lines, counts rows by file line, normalises terms', () => {
    const t = parseSynonyms(
      '# provenance\ncolloquial,official\n\n社保卡,社会保障卡\n# c\nＥＴＣ,电子不停车收费\n',
    );
    expect(t.pairs).toEqual([
      { colloquial: '社保卡', official: '社会保障卡', line: 4 },
      { colloquial: 'etc', official: '电子不停车收费', line: 6 },
    ]);
    expect(t.maxColloquialLength).toBe(3);
  });

  it('reports every bad row with its line and column, and loads nothing', () => {
    const issues = issuesOf(() =>
      parseSynonyms(
        [
          'colloquial,official,note',
          '社保卡,社会保障卡,',
          '上户口,,',
          '结婚,结婚,',
          '社保卡,社会保障卡,again',
          '医 保,医疗保险,',
          '驾照,机动车驾驶证,note,extra',
          `长,${'长'.repeat(21)}`,
        ].join('\n'),
      ),
    );
    expect(issues.map((i) => i.field)).toEqual([
      'row 3, column official',
      'row 4, column official',
      'row 5',
      'row 6, column colloquial',
      'row 7',
      'row 8, column official',
    ]);
    expect(issues[0]!.message).toMatch(/empty/i);
    expect(issues[2]!.message).toContain('row 2');
    expect(issues[3]!.message).toMatch(/spaces or punctuation/);
  });

  it('rejects a missing or wrong header', () => {
    expect(issuesOf(() => parseSynonyms('# only a comment\n'))[0]!.field).toBe('row 1');
    expect(issuesOf(() => parseSynonyms('from,to\n社保卡,社会保障卡\n'))[0]).toMatchObject({
      field: 'row 1',
    });
  });

  it('rejects broken CSV quoting with the line', () => {
    const issues = issuesOf(() => parseSynonyms('colloquial,official\n"社保卡,社会保障卡\n'));
    expect(issues[0]!.message).toMatch(/not valid CSV/i);
    expect(issues[0]!.field).toMatch(/^row \d+$/);
  });

  it('synonymTable validates pairs given in code', () => {
    expect(issuesOf(() => synonymTable([{ colloquial: 'a', official: 'a' }]))[0]!.field).toBe(
      'pair 1, column official',
    );
    expect(synonymTable([{ colloquial: '低保', official: '最低生活保障' }]).expansions.get('低保')).toEqual([
      '最低生活保障',
    ]);
  });
});

describe('colloquialVariants', () => {
  const t = synonymTable([
    { colloquial: '社保卡', official: '社会保障卡' },
    { colloquial: '医保卡', official: '社会保障卡' },
    { colloquial: '补办', official: '补领' },
  ]);

  it('rewrites each official term, then all at once', () => {
    expect(colloquialVariants(t, '社会保障卡补领')).toEqual([
      '社保卡补领',
      '医保卡补领',
      '社会保障卡补办',
      '社保卡补办',
    ]);
  });

  it('gives nothing for a text without official terms, and respects max', () => {
    expect(colloquialVariants(t, '结婚登记')).toEqual([]);
    expect(colloquialVariants(t, '社会保障卡补领', 2)).toHaveLength(2);
  });
});
