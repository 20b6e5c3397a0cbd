import { describe, expect, it } from 'vitest';
import { parseLifeEvent } from './browse.ts';

describe('parseLifeEvent: the life-events answer read defensively', () => {
  it('reads { key, name, itemCodes }', () => {
    expect(parseLifeEvent({ key: 'birth', name: '生孩子', itemCodes: ['070001001000', 7] })).toEqual({
      key: 'birth',
      name: '生孩子',
      itemCodes: ['070001001000'],
    });
  });

  it('accepts id/label and items with names instead of codes', () => {
    expect(
      parseLifeEvent({
        id: 'marriage',
        label: '结婚',
        items: [{ code: '070004001000', name: '结婚登记' }, { x: 1 }],
      }),
    ).toEqual({
      key: 'marriage',
      name: '结婚',
      itemCodes: ['070004001000'],
      items: [{ code: '070004001000', name: '结婚登记' }],
    });
  });

  it('drops entries without a key or a name', () => {
    expect(parseLifeEvent({ name: '无键' })).toBeNull();
    expect(parseLifeEvent({ key: 'x', name: '  ' })).toBeNull();
    expect(parseLifeEvent('birth')).toBeNull();
    expect(parseLifeEvent({ key: 'x', name: '空' })).toEqual({ key: 'x', name: '空', itemCodes: [] });
  });
});
