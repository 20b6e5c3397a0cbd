import { describe, expect, it } from 'vitest';
import sample from '../../../data/catalog/sample-catalog.json';
import { ServiceItemSchema } from '../../domain/catalog.ts';
import { localizedField, localizedMaterialName, translationUnreviewed } from './localized.ts';

const item = ServiceItemSchema.parse(sample.items.find((i) => i.name === '社会保障卡补领'));
if (!item.translations) throw new Error('the sample catalog lost the 社会保障卡补领 translations');

describe('localizedField: guide text in the resident’s language, falling back to Chinese', () => {
  it('gives the translation where the item has one, marked with its language', () => {
    const name = localizedField(item, 'name', 'ug');
    expect(name).toEqual({ text: item.translations?.ug?.name, lang: 'ug', fallback: false });
    expect(name.text).not.toBe(item.name);
    expect(localizedField(item, 'conditions', 'bo').lang).toBe('bo');
  });

  it('falls back to the Chinese original, marked zh-CN, for a language or field without translation', () => {
    expect(localizedField(item, 'name', 'en')).toEqual({ text: item.name, lang: 'zh-CN', fallback: true });
    const partial = { ...item, translations: { bo: { status: 'machine' as const, name: 'མིང་།' } } };
    expect(localizedField(partial, 'conditions', 'bo')).toEqual({
      text: item.conditions,
      lang: 'zh-CN',
      fallback: true,
    });
    const blank = { ...item, translations: { bo: { status: 'machine' as const, name: '  ' } } };
    expect(localizedField(blank, 'name', 'bo').fallback).toBe(true);
    const none = { ...item, translations: undefined };
    expect(localizedField(none, 'name', 'ug')).toEqual({ text: item.name, lang: 'zh-CN', fallback: true });
  });

  it('never calls Chinese a fallback', () => {
    expect(localizedField(item, 'name', 'zh-CN')).toEqual({
      text: item.name,
      lang: 'zh-CN',
      fallback: false,
    });
  });

  it('translates material names by their Chinese name; a renamed material falls back', () => {
    const first = item.materials[0]?.name ?? '';
    expect(localizedMaterialName(item, 0, 'ug')).toEqual({
      text: item.translations?.ug?.materials?.[first],
      lang: 'ug',
      fallback: false,
    });
    const renamed = {
      ...item,
      materials: item.materials.map((m, i) => (i === 0 ? { ...m, name: `${m.name}（新）` } : m)),
    };
    expect(localizedMaterialName(renamed, 0, 'ug')).toEqual({
      text: `${first}（新）`,
      lang: 'zh-CN',
      fallback: true,
    });
  });

  it('knows the sample translations are unreviewed machine translations', () => {
    expect(translationUnreviewed(item, 'bo')).toBe(true);
    expect(translationUnreviewed(item, 'en')).toBe(false);
    const reviewed = { ...item, translations: { ug: { status: 'reviewed' as const, name: 'x' } } };
    expect(translationUnreviewed(reviewed, 'ug')).toBe(false);
  });
});
