import { describe, expect, it } from 'vitest';
import { DivisionSet } from './division-set.ts';

describe('DivisionSet', () => {
  it('keeps members across the switch from list to bitmap', () => {
    const set = new DivisionSet();
    const members = Array.from({ length: 500 }, (_, i) => i * 37);
    for (const m of members) expect(set.add(m)).toBe(true);
    expect(set.add(37)).toBe(false);
    expect(set.size).toBe(500);
    for (const m of members) expect(set.has(m)).toBe(true);
    expect(set.has(1)).toBe(false);
    expect(set.has(500 * 37)).toBe(false); // beyond the bitmap
    expect(set.add(100_000)).toBe(true); // grows
    expect(set.has(100_000)).toBe(true);
  });

  it('hasAny', () => {
    const set = new DivisionSet();
    set.add(3);
    expect(set.hasAny([1, 2, 3])).toBe(true);
    expect(set.hasAny([1, 2])).toBe(false);
    expect(set.hasAny([])).toBe(false);
  });
});
