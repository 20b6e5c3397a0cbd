import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCreditCodeCheckCharacter } from './credit-code.ts';
import {
  type FormField,
  type FormFieldInput,
  FormFieldsSchema,
  formDataSchemaFor,
  isIsoDate,
  patternProblem,
  sensitiveFormKeys,
  validateFormData,
} from './form.ts';
import { computeIdentityCheckCharacter } from './identity-number.ts';

const idNumber = (first17 = '52010219900307123') => first17 + computeIdentityCheckCharacter(first17);
/** A published code (public registration data) whose lower-case form differs. */
const creditCode = (first17 = '91330100799655058') => first17 + computeCreditCodeCheckCharacter(first17);

const form = (fields: FormFieldInput[]): FormField[] => FormFieldsSchema.parse(fields);

/** One optional field of each type. */
const ALL: FormField[] = form([
  { key: 'name', label: '姓名', type: 'text', maxLength: 10 },
  { key: 'plate', label: '车牌号', type: 'text', pattern: '[京贵][A-Z][A-Z0-9]{5}', help: '如 贵A12345' },
  { key: 'notes', label: '情况说明', type: 'textarea' },
  { key: 'area', label: '面积', type: 'number', min: 0.5, max: 1000, unit: '平方米' },
  { key: 'familySize', label: '家庭人口数', type: 'integer', min: 1, max: 30, unit: '人' },
  { key: 'lossDate', label: '遗失日期', type: 'date' },
  { key: 'urgent', label: '是否加急', type: 'boolean' },
  {
    key: 'reason',
    label: '补领原因',
    type: 'select',
    options: [
      { value: 'lost', label: '遗失' },
      { value: 'damaged', label: '损坏' },
    ],
  },
  {
    key: 'scopes',
    label: '经营范围',
    type: 'multiselect',
    options: [
      { value: 'retail', label: '零售' },
      { value: 'catering', label: '餐饮' },
      { value: 'lodging', label: '住宿' },
    ],
  },
  { key: 'spouseId', label: '配偶身份证号码', type: 'id_number' },
  { key: 'employerCode', label: '原单位统一社会信用代码', type: 'credit_code' },
  { key: 'mobile', label: '联系手机', type: 'phone' },
  { key: 'insuredPlace', label: '参保地', type: 'division' },
  { key: 'income', label: '家庭月收入', type: 'amount_yuan', max: 100000 },
  { key: 'account', label: '银行账号', type: 'bank_account' },
]);

function issuesOf(fields: readonly FormField[], data: unknown) {
  const r = validateFormData(fields, data);
  if (r.ok) throw new Error(`expected issues for ${JSON.stringify(data)}`);
  return r.issues;
}
function cleaned(fields: readonly FormField[], data: unknown) {
  const r = validateFormData(fields, data);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.data;
}

describe('form values, by field type', () => {
  const cases: [string, unknown[], unknown[]][] = [
    ['name', ['王小芳', ' 王 '], ['一二三四五六七八九十十一', 12, true]],
    ['plate', ['贵A12345', '京BX1234'], ['贵a12345', '沪A12345', '贵A123456']],
    ['notes', ['第一行\n第二行'], ['x'.repeat(2001), ['a']]],
    ['area', [0.5, 1000, '12.5', 88], [0.4, 1001, 'twelve', Number.NaN, '1e3']],
    ['familySize', [1, 30, '3'], [0, 31, 2.5, '2.5']],
    [
      'lossDate',
      ['2024-02-29', '2025-12-31'],
      ['2023-02-29', '2024-13-01', '2024/03/01', '20240301', 20240301],
    ],
    ['urgent', [true, false], ['yes', 1]],
    ['reason', ['lost', 'damaged'], ['遗失', 'stolen', ['lost']]],
    ['scopes', [['retail'], ['retail', 'lodging']], [['retail', 'retail'], ['mining'], 'retail']],
    [
      'spouseId',
      [idNumber(), idNumber('52010219900307123').toLowerCase()],
      ['520102199003071230', '52010219900230123X', 520102],
    ],
    ['employerCode', [creditCode(), creditCode().toLowerCase()], ['91330100799655058X', '123', 91330100]],
    [
      'mobile',
      ['13800000000', '19912345678'],
      ['12800000000', '1380000000', '138000000000', '+8613800000000'],
    ],
    ['insuredPlace', ['520102', '520102001', '520102001001'], ['52', '5201', '52010', 'abcdef']],
    ['income', [0, 1250.5, '3000.25', 100000], [-1, 1.005, 100000.01, '12元']],
    [
      'account',
      ['6228480402564890018', '6228 4804 0256 4890 018', '622848040256'],
      ['62284804025', '6228-4804-abcd', '1'.repeat(31), 622848040256],
    ],
  ];
  for (const [key, good, bad] of cases) {
    const field = ALL.find((f) => f.key === key)!;
    it(`${field.type} (${field.label}) accepts good values and refuses bad ones naming the field`, () => {
      for (const v of good) expect(validateFormData(ALL, { [key]: v }).ok, JSON.stringify(v)).toBe(true);
      for (const v of bad) {
        const issues = issuesOf(ALL, { [key]: v });
        expect(issues, JSON.stringify(v)).toHaveLength(1);
        expect(issues[0]?.field).toBe(`formData.${key}`);
        expect(issues[0]?.message).toContain(field.label);
      }
    });
  }

  it('cleans values: trims text, reads numbers written as text, upper-cases identifiers', () => {
    const id = idNumber('52010219900307123');
    expect(
      cleaned(ALL, {
        name: ' 王 ',
        area: '12.5',
        familySize: '3',
        income: '3000.25',
        spouseId: id.toLowerCase(),
        employerCode: creditCode().toLowerCase(),
        notes: '',
        urgent: null,
        scopes: [],
      }),
    ).toEqual({
      name: '王',
      area: 12.5,
      familySize: 3,
      income: 3000.25,
      spouseId: id,
      employerCode: creditCode(),
    });
  });

  it('says what to enter: the range and unit of numbers, the options of selects', () => {
    expect(issuesOf(ALL, { familySize: 0 })[0]?.message).toBe(
      '家庭人口数: enter a whole number from 1 to 30 人',
    );
    expect(issuesOf(ALL, { reason: 'stolen' })[0]?.message).toMatch(
      /补领原因: choose one of lost \(遗失\), damaged \(损坏\)/,
    );
    expect(issuesOf(ALL, { lossDate: '2023-02-29' })[0]?.message).toMatch(/real date as YYYY-MM-DD/);
  });
});

describe('required fields, unknown keys, visibility', () => {
  const fields = form([
    { key: 'unemploymentDate', label: '失业日期', type: 'date', required: true },
    { key: 'employer', label: '原工作单位', type: 'text', required: true },
    { key: 'phone', label: '联系电话', type: 'phone' },
    {
      key: 'payout',
      label: '领取方式',
      type: 'select',
      required: true,
      options: [
        { value: 'bank', label: '银行卡' },
        { value: 'social_card', label: '社会保障卡' },
      ],
    },
    {
      key: 'bankName',
      label: '开户银行',
      type: 'text',
      required: true,
      visibleWhen: { key: 'payout', equals: 'bank' },
    },
    {
      key: 'bankBranch',
      label: '开户网点',
      type: 'text',
      required: true,
      visibleWhen: { key: 'bankName', equals: '其他银行' },
    },
  ]);

  it('lists every missing required field at once, and not the optional ones', () => {
    const issues = issuesOf(fields, {});
    expect(issues.map((i) => i.field)).toEqual([
      'formData.unemploymentDate',
      'formData.employer',
      'formData.payout',
    ]);
    expect(issues[0]?.message).toBe('失业日期 is required: enter a date as YYYY-MM-DD');
    expect(issues[2]?.message).toMatch(/领取方式 is required: choose 银行卡 \/ 社会保障卡/);
  });

  it('treats empty strings, null and empty lists as not given', () => {
    expect(
      issuesOf(fields, { unemploymentDate: '  ', employer: null, payout: 'social_card' }).map((i) => i.field),
    ).toEqual(['formData.unemploymentDate', 'formData.employer']);
  });

  it('requires a conditional field only while it is visible, and refuses a value for a hidden one', () => {
    const base = { unemploymentDate: '2025-03-01', employer: '贵阳某公司', payout: 'social_card' };
    expect(cleaned(fields, base)).toEqual(base);
    expect(issuesOf(fields, { ...base, payout: 'bank' }).map((i) => i.field)).toEqual(['formData.bankName']);
    expect(cleaned(fields, { ...base, payout: 'bank', bankName: '工商银行' })).toMatchObject({
      bankName: '工商银行',
    });
    // chained: bankBranch is visible only when bankName is, and equals 其他银行
    expect(issuesOf(fields, { ...base, payout: 'bank', bankName: '其他银行' }).map((i) => i.field)).toEqual([
      'formData.bankBranch',
    ]);
    const hidden = issuesOf(fields, { ...base, bankName: '工商银行' });
    expect(hidden).toEqual([
      {
        field: 'formData.bankName',
        message: '开户银行: only applies when 领取方式 is "bank"; leave it empty',
      },
    ]);
    expect(cleaned(fields, { ...base, bankName: '' })).toEqual(base);
  });

  it('does not add visibility complaints when the controlling value itself is bad', () => {
    const issues = issuesOf(fields, {
      unemploymentDate: '2025-03-01',
      employer: 'x',
      payout: 'cash',
      bankName: 'y',
    });
    expect(issues.map((i) => i.field)).toEqual(['formData.payout']);
  });

  it('refuses keys the form does not define, naming them, together with the other problems', () => {
    const issues = issuesOf(fields, {
      familySize: 3,
      employer: '某公司',
      payout: 'bank',
      bankName: '工商银行',
    });
    expect(issues.map((i) => i.field)).toEqual(['formData.familySize', 'formData.unemploymentDate']);
    expect(issues[0]?.message).toMatch(/familySize is not a field of this form; remove it/);
    expect(issuesOf([], { a: 1 })[0]?.message).toMatch(/has no application form fields/);
    expect(validateFormData([], {})).toEqual({ ok: true, data: {} });
    expect(issuesOf(fields, [1, 2])[0]?.field).toBe('formData');
  });

  it('formDataSchemaFor gives the same result as a zod schema, with paths under formData', () => {
    const schema = formDataSchemaFor(fields);
    const bad = schema.safeParse({ employer: 'x', payout: 'bank' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['unemploymentDate', 'bankName']);
    expect(schema.parse({ unemploymentDate: '2025-03-01', employer: ' x ', payout: 'social_card' })).toEqual({
      unemploymentDate: '2025-03-01',
      employer: 'x',
      payout: 'social_card',
    });
  });
});

describe('form definitions', () => {
  const problems = (fields: unknown[]) => {
    const r = FormFieldsSchema.safeParse(fields);
    if (r.success) throw new Error('expected the definition to be refused');
    return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const text = (key: string, extra: object = {}) => ({ key, label: '名称', type: 'text', ...extra });

  it('accepts a valid definition and defaults required to false', () => {
    expect(FormFieldsSchema.parse([text('a')])[0]?.required).toBe(false);
    expect(FormFieldsSchema.parse([]).length).toBe(0);
  });

  it('refuses duplicate keys and keys that are not ASCII identifiers', () => {
    expect(problems([text('a'), text('a')])).toEqual(['1.key: the key a appears twice']);
    expect(problems([text('1a')])[0]).toMatch(/^0.key: use an ASCII identifier/);
    expect(problems([text('姓名')])[0]).toMatch(/^0.key/);
  });

  it('requires options for select and multiselect only, with distinct values', () => {
    expect(problems([{ key: 's', label: '选项', type: 'select' }])).toEqual([
      '0.options: a select field needs options',
    ]);
    expect(problems([{ key: 's', label: '选项', type: 'multiselect' }])[0]).toMatch(/needs options/);
    expect(problems([text('t', { options: [{ value: 'a', label: 'A' }] })])[0]).toMatch(
      /options are only for select/,
    );
    expect(
      problems([
        {
          key: 's',
          label: '选项',
          type: 'select',
          options: [
            { value: 'a', label: 'A' },
            { value: 'a', label: 'B' },
          ],
        },
      ]),
    ).toEqual(['0.options: the option value a appears twice']);
  });

  it('checks min ≤ max, bounds only on numbers, and non-negative amounts', () => {
    expect(problems([{ key: 'n', label: '数', type: 'number', min: 5, max: 1 }])).toEqual([
      '0.min: min 5 is greater than max 1',
    ]);
    expect(problems([text('t', { min: 1 })])[0]).toMatch(/^0.min: min is only for number/);
    expect(problems([{ key: 'n', label: '金额', type: 'amount_yuan', min: -1 }])[0]).toMatch(
      /never negative/,
    );
    expect(problems([{ key: 'n', label: '数', type: 'number', maxLength: 3 }])[0]).toMatch(
      /maxLength is only/,
    );
  });

  it('refuses patterns that do not compile, are too long, may backtrack exponentially, or are on non-text fields', () => {
    expect(problems([text('t', { pattern: '([a-z' })])[0]).toMatch(/not a valid regular expression/);
    expect(problems([text('t', { pattern: '(a+)+$' })])[0]).toMatch(/exponential time/);
    expect(problems([text('t', { pattern: 'a'.repeat(201) })])[0]).toMatch(/^0.pattern/);
    expect(problems([{ key: 'd', label: '日', type: 'date', pattern: '\\d+' }])[0]).toMatch(
      /pattern is only for text/,
    );
    expect(patternProblem('[0-9]{6}')).toBeNull();
  });

  it('makes visibleWhen refer to an earlier field and a value that field can hold', () => {
    const yes = { key: 'has', label: '是否有', type: 'boolean' };
    expect(
      FormFieldsSchema.safeParse([yes, text('t', { visibleWhen: { key: 'has', equals: true } })]).success,
    ).toBe(true);
    expect(problems([text('t', { visibleWhen: { key: 'has', equals: true } }), yes])[0]).toMatch(
      /^0.visibleWhen: visibleWhen refers to has, which is not an earlier field/,
    );
    expect(problems([text('t', { visibleWhen: { key: 't', equals: 'x' } })])[0]).toMatch(
      /not an earlier field/,
    );
    expect(problems([yes, text('t', { visibleWhen: { key: 'has', equals: 'true' } })])[0]).toMatch(
      /is not a value the field has can hold/,
    );
    const sel = { key: 's', label: '选', type: 'select', options: [{ value: 'a', label: 'A' }] };
    expect(problems([sel, text('t', { visibleWhen: { key: 's', equals: 'b' } })])[0]).toMatch(/not a value/);
  });

  it('refuses unknown properties of a field', () => {
    expect(problems([text('t', { placeholder: 'x' })])[0]).toMatch(/placeholder/);
  });

  it('lists the sensitive keys (id_number and phone fields) for protection at rest', () => {
    expect(sensitiveFormKeys(ALL)).toEqual(['spouseId', 'mobile', 'account']);
    expect(sensitiveFormKeys([])).toEqual([]);
  });

  it('knows real ISO dates', () => {
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('1900-02-29')).toBe(false);
    expect(isIsoDate('0999-01-01')).toBe(false);
  });
});

describe('property: cleaned data always re-validates to itself', () => {
  const junk = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -100, max: 2000 }),
    fc.double({ noNaN: false }),
    fc.string({ maxLength: 30 }),
    fc.array(fc.constantFrom('retail', 'catering', 'lodging', 'x')),
  );
  const good: Record<string, fc.Arbitrary<unknown>> = {
    name: fc.string({ maxLength: 10 }),
    plate: fc.stringMatching(/^[京贵][A-Z][A-Z0-9]{5}$/),
    notes: fc.string({ maxLength: 50 }),
    area: fc.double({ min: 0.5, max: 1000, noNaN: true }),
    familySize: fc.integer({ min: 1, max: 30 }).map((n) => (n % 2 ? n : String(n))),
    lossDate: fc
      .date({ min: new Date('1950-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    urgent: fc.boolean(),
    reason: fc.constantFrom('lost', 'damaged'),
    scopes: fc.subarray(['retail', 'catering', 'lodging']),
    spouseId: fc.stringMatching(/^5201021990030\d{4}$/).map((s) => idNumber(s).toLowerCase()),
    employerCode: fc.constant(` ${creditCode().toLowerCase()} `),
    mobile: fc.stringMatching(/^1[3-9]\d{9}$/),
    insuredPlace: fc.constantFrom('520102', '520102001', '520102001001'),
    income: fc.integer({ min: 0, max: 10_000_000 }).map((fen) => fen / 100),
  };
  const data = fc.record(
    Object.fromEntries(
      Object.entries(good).map(([k, arb]) => [k, fc.oneof({ weight: 12, arbitrary: arb }, junk)]),
    ),
    { requiredKeys: [] },
  );

  it('whenever data is accepted, its cleaned form is accepted and unchanged (1,000 draws, fixed seed)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(data, (d) => {
        const r = validateFormData(ALL, d);
        if (!r.ok) {
          expect(r.issues.length).toBeGreaterThan(0);
          for (const i of r.issues) expect(i.field).toMatch(/^formData\.\w+$/);
          return;
        }
        accepted++;
        expect(validateFormData(ALL, r.data)).toEqual({ ok: true, data: r.data });
        expect(validateFormData(ALL, JSON.parse(JSON.stringify(r.data)))).toEqual({ ok: true, data: r.data });
      }),
      { numRuns: 1000, seed: 39046 },
    );
    expect(accepted).toBeGreaterThan(50);
  });
});
