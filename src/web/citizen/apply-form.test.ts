import { describe, expect, it } from 'vitest';
import type { ComposerTranslation } from 'vue-i18n';
import { FormFieldsSchema } from '../../domain/form.ts';
import { computeIdentityCheckCharacter } from '../../domain/identity-number.ts';
import { formDataOf, formErrors, idNumberError, phoneError, visibleFields } from './apply-form.ts';
import { trackHashFor } from './track-link.ts';

/** A translation that shows which message was chosen and with what (`T:` marks a found message). */
const t = ((key: string, named?: Record<string, unknown>) =>
  named && typeof named === 'object'
    ? `T:${key} ${JSON.stringify(named)}`
    : `T:${key}`) as unknown as ComposerTranslation;

const fields = FormFieldsSchema.parse([
  {
    key: 'reason',
    label: '补领原因',
    labels: { en: 'Reason' },
    type: 'select',
    required: true,
    options: [
      { value: 'lost', label: '遗失' },
      { value: 'damaged', label: '损坏' },
    ],
  },
  {
    key: 'lossDate',
    label: '遗失日期',
    type: 'date',
    required: true,
    visibleWhen: { key: 'reason', equals: 'lost' },
  },
  { key: 'familySize', label: '家庭人口', type: 'integer', required: false, min: 1, max: 20, unit: '人' },
  { key: 'contactPhone', label: '联系手机', type: 'phone', required: true },
]);

const id = (first17: string) => first17 + computeIdentityCheckCharacter(first17);

describe('the application form in the browser', () => {
  it('shows a field only while its visibleWhen holds, and sends only shown, non-empty values', () => {
    expect(visibleFields(fields, { reason: 'damaged' }).map((f) => f.key)).toEqual([
      'reason',
      'familySize',
      'contactPhone',
    ]);
    expect(visibleFields(fields, { reason: 'lost' }).map((f) => f.key)).toContain('lossDate');
    // a hidden field's old value is not sent (the server refuses hidden values)
    expect(
      formDataOf(fields, {
        reason: 'damaged',
        lossDate: '2026-01-05',
        familySize: ' ',
        contactPhone: ' 13800000000 ',
      }),
    ).toEqual({ reason: 'damaged', contactPhone: '13800000000' });
  });

  it('names every problem by field with the check the server runs (validateFormData)', () => {
    const errors = formErrors(
      t,
      fields,
      { reason: 'lost', lossDate: '2026-02-30', familySize: '25' },
      'zh-CN',
    );
    expect(Object.keys(errors).sort()).toEqual(['contactPhone', 'familySize', 'lossDate']);
    expect(errors.contactPhone).toContain('account.form.required');
    expect(errors.lossDate).toContain('account.form.invalid.date');
    expect(errors.familySize).toContain('account.form.invalid.integer');
    expect(errors.familySize).toContain('account.form.range.between');
    // the label in the UI language when the item gives one
    expect(formErrors(t, fields, {}, 'en').reason).toContain('"label":"Reason"');
    expect(formErrors(t, fields, { reason: 'damaged', contactPhone: '13800000000' }, 'zh-CN')).toEqual({});
  });

  it('explains a bad ID number by what is wrong, and wants the account’s own', () => {
    const good = id('52010219880808124');
    expect(idNumberError(t, good)).toBeNull();
    expect(idNumberError(t, good.toLowerCase())).toBeNull();
    expect(idNumberError(t, '')).toBe('T:account.idNumber.required');
    expect(idNumberError(t, good.slice(0, 17))).toBe('T:account.idNumber.length');
    expect(idNumberError(t, `${good.slice(0, 17)}${good.endsWith('0') ? '1' : '0'}`)).toBe(
      'T:account.idNumber.check_character',
    );
    expect(idNumberError(t, good, `5201**********${good.slice(-4)}`)).toBeNull();
    expect(idNumberError(t, id('52052619700101015'), `5201**********${good.slice(-4)}`)).toContain(
      'account.idNumber.notYours',
    );
  });

  it('checks mobile numbers', () => {
    expect(phoneError(t, '139 1234 0001')).toBeNull();
    expect(phoneError(t, '')).toBe('T:account.phone.required');
    expect(phoneError(t, '', false)).toBeNull();
    expect(phoneError(t, '12912340001')).toBe('T:account.phone.invalid');
  });

  it('turns the paper notice QR path /track/<number> into the hash route, and nothing else', () => {
    expect(trackHashFor('/track/520102202612010000001')).toBe('#/track/520102202612010000001');
    expect(trackHashFor('/track/520102202612010000001/')).toBe('#/track/520102202612010000001');
    expect(trackHashFor('/')).toBeNull();
    expect(trackHashFor('/staff/track/1')).toBeNull();
    expect(trackHashFor('/track/')).toBeNull();
  });
});
