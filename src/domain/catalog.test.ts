import { describe, expect, it } from 'vitest';
import {
  type Implementation,
  ITEM_TYPES,
  implementationCode,
  MaterialSchema,
  parseCodeListValue,
  promisedLimitProblem,
  resolveGuide,
  type ServiceItem,
  type ServiceItemInput,
  ServiceItemSchema,
} from './catalog.ts';
import { isAppError } from './errors.ts';

const baseInput: ServiceItemInput = {
  code: '010013001000',
  name: '食品经营许可',
  itemType: 'administrative_licensing',
  industry: 'food_safety',
  departmentKind: 'market_regulation',
  exerciseLevels: ['county'],
  implementingBodyNature: 'statutory_authority',
  serviceObjects: ['natural_person', 'enterprise_legal_person'],
  handlingForms: ['window', 'online'],
  caseType: 'promised',
  legalBasis: '《中华人民共和国食品安全法》第三十五条',
  conditions: '有与经营的食品品种、数量相适应的经营场所',
  legalTimeLimit: { value: 20, unit: 'working_days' },
  promisedTimeLimit: { value: 10, unit: 'working_days' },
  fees: { free: true, items: [] },
  requiredVisits: 0,
  universalScope: 'province',
  deliveryOptions: ['pickup', 'mail', 'e_licence'],
  processingModes: ['online', 'off_site_intake'],
  decidingBasis: 'business_premises',
  materials: [
    {
      name: '营业执照',
      issuingBody: '市场监督管理部门',
      originalCount: 1,
      copyCount: 0,
      requirement: 'required',
      form: 'paper_or_electronic',
      source: 'e_licence',
    },
  ],
  sample: true,
};
const item: ServiceItem = ServiceItemSchema.parse(baseInput);

function impl(
  divisionCode: string,
  variances: Implementation['variances'],
  itemCode = item.code,
): Implementation {
  return {
    code: implementationCode(itemCode, divisionCode),
    itemCode,
    departmentId: null,
    divisionCode,
    variances,
  };
}

const NANMING = ['520102', '5201', '52'];

describe('ServiceItemSchema (GB/T 39046 table 4)', () => {
  it('applies defaults and keeps the sample flag', () => {
    expect(item.aliases).toEqual([]);
    expect(item.specialProcedures).toEqual([]);
    expect(item.materials[0]?.notes).toBe('');
    expect(item.sample).toBe(true);
  });

  it('rejects a promised limit longer than the legal limit in the same unit', () => {
    const r = ServiceItemSchema.safeParse({
      ...baseInput,
      promisedTimeLimit: { value: 21, unit: 'working_days' },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['promisedTimeLimit']);
    expect(r.error?.issues[0]?.message).toMatch(/exceeds the legal limit 20 工作日/);
  });

  it('compares limits in different units conservatively, and allows no statutory limit', () => {
    const withPromise = (value: number, unit: string) =>
      ServiceItemSchema.safeParse({ ...baseInput, promisedTimeLimit: { value, unit } });
    // Against 20 working days: 25 calendar days may fit (the case clock caps it); 40 never do; nor 120 months.
    expect(withPromise(25, 'calendar_days').success).toBe(true);
    const over = withPromise(40, 'calendar_days');
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.message).toMatch(/exceeds the legal limit 20/);
    expect(withPromise(120, 'months').success).toBe(false);
    expect(ServiceItemSchema.safeParse({ ...baseInput, legalTimeLimit: null }).success).toBe(true);
  });

  it('requires 即办件 to be decided on the spot', () => {
    const r = ServiceItemSchema.safeParse({ ...baseInput, caseType: 'immediate' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/即办件/);
  });

  it('requires fees to be either free with no items or charged with items', () => {
    expect(ServiceItemSchema.safeParse({ ...baseInput, fees: { free: false, items: [] } }).success).toBe(
      false,
    );
    expect(
      ServiceItemSchema.safeParse({
        ...baseInput,
        fees: { free: true, items: [{ name: '工本费', amountYuan: 20, basis: 'x' }] },
      }).success,
    ).toBe(false);
    expect(
      ServiceItemSchema.safeParse({
        ...baseInput,
        fees: { free: false, items: [{ name: '工本费', amountYuan: 20.005, basis: 'x' }] },
      }).success,
    ).toBe(false);
  });

  it('rejects unknown code list values and duplicate list entries', () => {
    expect(ServiceItemSchema.safeParse({ ...baseInput, itemType: 'permit' }).success).toBe(false);
    expect(ServiceItemSchema.safeParse({ ...baseInput, handlingForms: ['window', 'window'] }).success).toBe(
      false,
    );
    expect(ServiceItemSchema.safeParse({ ...baseInput, departmentKind: 'ministry_of_magic' }).success).toBe(
      false,
    );
  });

  it('validates materials counts', () => {
    expect(MaterialSchema.safeParse({ ...baseInput.materials?.[0], copyCount: -1 }).success).toBe(false);
  });
});

describe('code lists', () => {
  it('reads a value by identifier, standard code or Chinese label', () => {
    expect(parseCodeListValue(ITEM_TYPES, 'public_service')).toBe('public_service');
    expect(parseCodeListValue(ITEM_TYPES, '20')).toBe('public_service');
    expect(parseCodeListValue(ITEM_TYPES, ' 行政许可 ')).toBe('administrative_licensing');
    expect(parseCodeListValue(ITEM_TYPES, '许可')).toBeNull();
  });

  it('promisedLimitProblem compares only same units', () => {
    expect(
      promisedLimitProblem({ value: 5, unit: 'working_days' }, { value: 5, unit: 'working_days' }),
    ).toBeNull();
    expect(
      promisedLimitProblem({ value: 6, unit: 'working_days' }, { value: 5, unit: 'working_days' }),
    ).not.toBeNull();
    expect(promisedLimitProblem({ value: 6, unit: 'working_days' }, { value: 1, unit: 'months' })).toBeNull();
  });
});

describe('resolveGuide (实施清单 inheritance with fallback to the parent division)', () => {
  it('returns the provincial standard when no implementation varies anything', () => {
    const g = resolveGuide(item, [impl('52', {})], NANMING);
    expect(g.divisionCode).toBe('520102');
    expect(g.item.promisedTimeLimit).toEqual({ value: 10, unit: 'working_days' });
    expect(g.implementation?.code).toBe('010013001000-52');
    expect(g.sources.promisedTimeLimit).toEqual({
      from: 'standard',
      divisionCode: null,
      implementationCode: null,
    });
    expect(g.notes).toBeNull();
    expect(g.acceptingHallCodes).toEqual([]);
  });

  it('county variance beats prefecture beats province, field by field', () => {
    const impls = [
      impl('52', { promisedTimeLimit: { value: 9, unit: 'working_days' }, notes: '省级说明' }),
      impl('5201', { promisedTimeLimit: { value: 7, unit: 'working_days' }, acceptingHallCodes: ['H5201'] }),
      impl('520102', { promisedTimeLimit: { value: 3, unit: 'working_days' } }),
    ];
    const g = resolveGuide(item, impls, NANMING);
    expect(g.item.promisedTimeLimit.value).toBe(3);
    expect(g.sources.promisedTimeLimit).toEqual({
      from: 'variance',
      divisionCode: '520102',
      implementationCode: '010013001000-520102',
    });
    expect(g.acceptingHallCodes).toEqual(['H5201']);
    expect(g.sources.acceptingHallCodes.divisionCode).toBe('5201');
    expect(g.notes).toBe('省级说明');
    expect(g.sources.notes.divisionCode).toBe('52');
    expect(g.implementation?.divisionCode).toBe('520102');
    expect(g.sources.fees.from).toBe('standard');
  });

  it('order of the input does not matter', () => {
    const impls = [
      impl('520102', { notes: '县' }),
      impl('52', { notes: '省' }),
      impl('5201', { notes: '市' }),
    ];
    expect(resolveGuide(item, impls, NANMING).notes).toBe('县');
    expect(resolveGuide(item, impls.slice(1), NANMING).notes).toBe('市');
  });

  it('a county without its own implementation falls back to its prefecture, then the province', () => {
    const impls = [
      impl('52', {}),
      impl('5201', { promisedTimeLimit: { value: 7, unit: 'working_days' } }),
      impl('520103', { notes: '云岩' }),
    ];
    const g = resolveGuide(item, impls, NANMING);
    expect(g.implementation?.code).toBe('010013001000-5201');
    expect(g.item.promisedTimeLimit.value).toBe(7);
    expect(g.notes).toBeNull(); // 云岩区's note does not leak into 南明区
    const village = resolveGuide(item, impls, ['520102001001', '520102001', '520102', '5201', '52']);
    expect(village.divisionCode).toBe('520102001001');
    expect(village.implementation?.divisionCode).toBe('5201');
    const other = resolveGuide(item, impls, ['5203', '52']);
    expect(other.implementation?.divisionCode).toBe('52');
    expect(other.item.promisedTimeLimit.value).toBe(10);
  });

  it('ignores implementations of other items and returns null when none applies', () => {
    const g = resolveGuide(item, [impl('520102', { notes: 'x' }, '999999999999')], NANMING);
    expect(g.implementation).toBeNull();
    expect(g.notes).toBeNull();
  });

  it('applies a local fee override', () => {
    const fees = { free: false, items: [{ name: '工本费', amountYuan: 5, basis: '地方规定' }] };
    const g = resolveGuide(item, [impl('5201', { fees })], NANMING);
    expect(g.item.fees).toEqual(fees);
    expect(g.sources.fees.divisionCode).toBe('5201');
  });

  it('rejects a variance whose promised limit exceeds the legal limit, naming it', () => {
    const impls = [
      impl('520102', { promisedTimeLimit: { value: 30, unit: 'working_days' } }),
      impl('5201', {}),
    ];
    let caught: unknown;
    try {
      resolveGuide(item, impls, NANMING);
    } catch (e) {
      caught = e;
    }
    expect(isAppError(caught)).toBe(true);
    if (!isAppError(caught)) return;
    expect(caught.code).toBe('catalog.invalid_variance');
    expect(caught.kind).toBe('validation');
    expect(caught.issues).toHaveLength(1);
    expect(caught.issues?.[0]?.field).toBe('implementation 010013001000-520102.promisedTimeLimit');
  });

  it('rejects an empty ancestry', () => {
    expect(() => resolveGuide(item, [], [])).toThrow(/ancestry is empty/);
  });
});
