/**
 * A message, a thread subject or a consultation reason is no place for a full ID number or mobile number
 * (./service.ts `cleanMessageText`, `maskIdentifiers`): also not when written with full-width digits,
 * spaces or hyphens, or a +86 prefix — the ways people actually type them.
 */
import { describe, expect, it } from 'vitest';
import { cleanMessageText, maskIdentifiers } from './service.ts';

describe('identifiers in messages are masked however they are written', () => {
  it.each([
    ['电话+8613812345678', '电话138****5678'],
    ['电话 +86 138 1234 5678。', '电话 138****5678。'],
    ['电话 138-1234-5678', '电话 138****5678'],
    ['电话 138 1234 5678', '电话 138****5678'],
    ['身份证５２０１０２１９９００３０７１２３４', '身份证5201**********1234'],
    ['身份证 520102 19900307 1234', '身份证 5201**********1234'],
    ['身份证 520102-19900307-123X', '身份证 5201**********123X'],
    ['２０２６ ５２０１０２１９９００３０７１２３４', '２０２６ 5201**********1234'],
    ['13812345678 13912345678', '138****5678 139****5678'],
    ['身份证520102199003071234', '身份证5201**********1234'],
  ])('%s', (input, masked) => {
    expect(cleanMessageText(input)).toBe(masked);
  });

  it('leaves case numbers, dates, times and counts alone', () => {
    for (const t of [
      '办件 520102260302000000123 已收',
      '2026-03-02 10:00',
      '共3份、合计 12 页',
      '电话 0851-8123 4567',
    ])
      expect(maskIdentifiers(t)).toBe(t);
  });
});
