import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSampleCatalogSource, SAMPLE_CATALOG_XLSX } from './sample.ts';
import { parseCatalogRows, readCatalogXlsx } from './workbook.ts';

const source = loadSampleCatalogSource();

describe('the shipped sample catalog (data/catalog)', () => {
  it('the shipped xlsx matches the JSON source (rebuild with node scripts/build-sample-catalog.ts)', async () => {
    const fromXlsx = parseCatalogRows(await readCatalogXlsx(fs.readFileSync(SAMPLE_CATALOG_XLSX)));
    expect(fromXlsx).toEqual(source);
  });

  it('has at least 60 items across at least 20 industries, all marked sample, with materials', () => {
    expect(source.items.length).toBeGreaterThanOrEqual(60);
    expect(new Set(source.items.map((i) => i.industry)).size).toBeGreaterThanOrEqual(20);
    expect(source.items.every((i) => i.sample)).toBe(true);
    expect(source.items.every((i) => i.materials.length > 0)).toBe(true);
    expect(new Set(source.items.map((i) => i.code)).size).toBe(source.items.length);
  });

  it('contains the commonly handled services the issue names', () => {
    const names = new Set(source.items.map((i) => i.name));
    for (const name of [
      '居民身份证换领',
      '出生登记',
      '社会保障卡补领',
      '城乡居民基本医疗保险参保登记',
      '住房公积金提取',
      '结婚登记',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('gives 行政许可 items a legal limit no longer than 行政许可法 art. 42 allows (20 working days) unless a special law sets another unit', () => {
    for (const item of source.items.filter((i) => i.itemType === 'administrative_licensing')) {
      expect(item.legalTimeLimit, item.name).not.toBeNull();
      if (item.legalTimeLimit?.unit === 'working_days')
        expect(item.legalTimeLimit.value, item.name).toBeLessThanOrEqual(20);
    }
  });

  it('has a handful of local variances, each on an item of the catalog', () => {
    const codes = new Set(source.items.map((i) => i.code));
    expect(source.implementations.length).toBeGreaterThanOrEqual(5);
    expect(source.implementations.every((v) => codes.has(v.itemCode))).toBe(true);
  });
});
