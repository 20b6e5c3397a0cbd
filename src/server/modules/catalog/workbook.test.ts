import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../domain/errors.ts';
import { rejectionOf as errorOf } from '../../../testing/app-error.ts';
import { loadSampleCatalogSource } from './sample.ts';
import {
  FORM_COLUMNS,
  formatOf,
  ITEM_COLUMNS,
  parseCatalogRows,
  readCatalogCsv,
  readCatalogXlsx,
  SHEETS,
  writeCatalogCsv,
  writeCatalogXlsx,
} from './workbook.ts';

const source = loadSampleCatalogSource();

/** Loads the written workbook, lets `edit` change cells, and returns the new bytes. */
async function edited(edit: (wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await writeCatalogXlsx(source)) as never);
  edit(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function col(ws: ExcelJS.Worksheet, header: string): number {
  let found = 0;
  ws.getRow(1).eachCell((c, i) => {
    if (c.value === header) found = i;
  });
  if (!found) throw new Error(header);
  return found;
}

describe('catalog workbook round trip', () => {
  it('xlsx export → import gives back the same catalog', async () => {
    const back = parseCatalogRows(await readCatalogXlsx(await writeCatalogXlsx(source)));
    expect(back).toEqual(source);
  });

  it('csv export → import gives back the same catalog (sections, quoted newlines and commas)', () => {
    const csv = writeCatalogCsv(source);
    expect(csv.startsWith('\uFEFF[事项]\r\n基本编码,事项名称')).toBe(true);
    expect(parseCatalogRows(readCatalogCsv(csv))).toEqual(source);
  });

  it('a CSV without section lines is read as the 事项 sheet', () => {
    const csv = writeCatalogCsv({ items: source.items.slice(0, 2), implementations: [] });
    const itemsOnly = csv.split('\r\n\r\n')[0]?.replace('[事项]\r\n', '') ?? '';
    const back = parseCatalogRows(readCatalogCsv(itemsOnly));
    expect(back.items.map((i) => i.code)).toEqual(source.items.slice(0, 2).map((i) => i.code));
    expect(back.items[0]?.materials).toEqual([]);
  });

  it('accepts standard codes and English identifiers in code list cells, and columns in any order', () => {
    const header = ['事项名称', ...ITEM_COLUMNS.filter((c) => c !== '事项名称')];
    const row = { ...Object.fromEntries(ITEM_COLUMNS.map((c) => [c, ''])) } as Record<string, string>;
    Object.assign(row, {
      基本编码: 'X0001',
      事项名称: '测试事项',
      事项类型: '20',
      所属行业: 'health',
      实施部门类别: '卫生健康',
      行使层级: 'county、5',
      实施主体性质: '1',
      服务对象: '自然人',
      办理形式: '窗口办理\n网上办理',
      办件类型: '即办件',
      设定依据: '《某条例》',
      受理条件: '无',
      承诺办结时限: '0',
      承诺办结时限单位: '工作日',
      是否收费: '否',
      到现场次数: '1',
      通办范围: '全省通办',
      送达方式: '窗口领取',
      审批地确定依据: '户籍地',
      样例数据: '是',
    });
    const csv = [
      header.join(','),
      header.map((h) => `"${(row[h] ?? '').replaceAll('"', '""')}"`).join(','),
    ].join('\n');
    const [item] = parseCatalogRows(readCatalogCsv(csv)).items;
    expect(item?.itemType).toBe('public_service');
    expect(item?.exerciseLevels).toEqual(['county', 'township']);
    expect(item?.handlingForms).toEqual(['window', 'online']);
    expect(item?.legalTimeLimit).toBeNull();
    expect(item?.popularity).toBe(0);
  });
});

describe('catalog workbook validation: every problem, with sheet, row and column', () => {
  it('collects all cell and cross-row errors of a broken workbook', async () => {
    const bytes = await edited((wb) => {
      const items = wb.getWorksheet(SHEETS.items)!;
      items.getCell(2, col(items, '事项类型')).value = '许可';
      items.getCell(3, col(items, '承诺办结时限')).value = 'abc';
      items.getCell(4, col(items, '收费项目')).value = '工本费 二十元';
      items.getCell(4, col(items, '是否收费')).value = '是';
      items.getCell(5, col(items, '基本编码')).value = items.getCell(6, col(items, '基本编码')).value;
      // 医师执业注册: legal 20 working days; promise 21
      let foodRow = 0;
      items.eachRow((r, n) => {
        if (r.getCell(col(items, '事项名称')).value === '医师执业注册') foodRow = n;
      });
      items.getCell(foodRow, col(items, '承诺办结时限')).value = 21;
      const materials = wb.getWorksheet(SHEETS.materials)!;
      materials.getCell(2, col(materials, '基本编码')).value = 'NOPE0001';
      materials.getCell(3, col(materials, '原件份数')).value = -1;
      const variances = wb.getWorksheet(SHEETS.variances)!;
      variances.getCell(2, col(variances, '行政区划代码')).value = '52010';
      variances.getCell(3, col(variances, '承诺办结时限')).value = 99; // 食品经营许可 @ 5201: beyond 10 working days
    });
    const e = await errorOf(async () => parseCatalogRows(await readCatalogXlsx(bytes)));
    expect(e.code).toBe('catalog.invalid_file');
    expect(e.kind).toBe('validation');
    const fields = e.issues?.map((i) => i.field) ?? [];
    expect(fields).toEqual(
      expect.arrayContaining([
        'sheet 事项, row 2, column 事项类型',
        'sheet 事项, row 3, column 承诺办结时限',
        'sheet 事项, row 4, column 收费项目',
        'sheet 事项, row 6, column 基本编码',
        'sheet 材料, row 2, column 基本编码',
        'sheet 材料, row 3, column 原件份数',
        'sheet 实施清单, row 2, column 行政区划代码',
        'sheet 实施清单, row 3, column 承诺办结时限',
      ]),
    );
    const message = (field: string) => e.issues?.find((i) => i.field === field)?.message ?? '';
    expect(message('sheet 事项, row 2, column 事项类型')).toMatch(/"许可" is not a 事项类型.*行政许可/);
    expect(message('sheet 事项, row 3, column 承诺办结时限')).toMatch(/not a whole number/);
    expect(message('sheet 事项, row 6, column 基本编码')).toMatch(/appears twice/);
    expect(message('sheet 实施清单, row 3, column 承诺办结时限')).toMatch(
      /exceeds the legal limit 10 工作日/,
    );
    expect(
      e.issues?.some((i) => /exceeds the legal limit/.test(i.message) && i.field.startsWith('sheet 事项')),
    ).toBe(true);
  });

  it('reports missing columns and a missing 事项 sheet', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet(SHEETS.materials).addRow(['基本编码', '材料名称']);
    const e = await errorOf(async () =>
      parseCatalogRows(await readCatalogXlsx(Buffer.from(await wb.xlsx.writeBuffer()))),
    );
    const fields = e.issues?.map((i) => i.field) ?? [];
    expect(fields).toContain('sheet 事项');
    expect(fields).toContain('sheet 材料, row 1, column 序号');
  });

  it('reports formula cells without a computed value and error cells instead of importing [object Object]', async () => {
    const bytes = await edited((wb) => {
      const ws = wb.getWorksheet(SHEETS.items)!;
      ws.getCell(2, col(ws, '事项名称')).value = { formula: 'CONCAT("社会","保障卡")' } as ExcelJS.CellValue;
      ws.getCell(3, col(ws, '受理条件')).value = { error: '#REF!' } as ExcelJS.CellValue;
    });
    const e = await errorOf(async () => parseCatalogRows(await readCatalogXlsx(bytes)));
    const byField = new Map(e.issues?.map((i) => [i.field, i.message]));
    expect(byField.get('sheet 事项, row 2, column 事项名称')).toMatch(/formula without a computed value/);
    expect(byField.get('sheet 事项, row 3, column 受理条件')).toMatch(/#REF!/);
    expect(JSON.stringify(e.issues)).not.toContain('[object Object]');
  });

  it('refuses unreadable files and other extensions', async () => {
    expect((await errorOf(readCatalogXlsx(Buffer.from('not a zip')))).code).toBe('catalog.unreadable_file');
    expect((await errorOf(() => formatOf('catalog.ods'))).code).toBe('catalog.unsupported_format');
    expect(formatOf('a/B.XLSX')).toBe('xlsx');
    expect((await errorOf(() => readCatalogCsv('[事项]\n"unterminated'))).code).toBe(
      'catalog.unreadable_file',
    );
  });

  it('reports CSV problems by line number', () => {
    const csv = writeCatalogCsv({ items: source.items.slice(0, 1), implementations: [] }).replace(
      ',公共服务,',
      ',公务,',
    );
    const lineOfItem = 3; // [事项], header, first item
    expect(() => parseCatalogRows(readCatalogCsv(csv))).toThrow();
    try {
      parseCatalogRows(readCatalogCsv(csv));
    } catch (e) {
      expect((e as AppError).issues?.[0]?.field).toBe(`sheet 事项, row ${lineOfItem}, column 事项类型`);
    }
  });
});

describe('表单 sheet: application form fields', () => {
  const withForms = source.items.filter((i) => i.formFields.length > 0);

  it('the sample catalog has forms, and both xlsx and csv round-trip them exactly', async () => {
    expect(withForms.length).toBeGreaterThanOrEqual(5);
    const types = new Set(withForms.flatMap((i) => i.formFields.map((f) => f.type)));
    expect(types.size).toBeGreaterThanOrEqual(10);
    expect(withForms.some((i) => i.formFields.some((f) => f.visibleWhen))).toBe(true);
    const fromXlsx = parseCatalogRows(await readCatalogXlsx(await writeCatalogXlsx(source)));
    expect(fromXlsx.items.map((i) => i.formFields)).toEqual(source.items.map((i) => i.formFields));
    const csv = writeCatalogCsv(source);
    expect(csv).toContain('\r\n[表单]\r\n基本编码,序号,字段标识,字段名称');
    const fromCsv = parseCatalogRows(readCatalogCsv(csv));
    expect(fromCsv.items.map((i) => i.formFields)).toEqual(source.items.map((i) => i.formFields));
  });

  it('writes one row per field with options as value=label;… and conditions by key', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeCatalogXlsx(source)) as never);
    const ws = wb.getWorksheet(SHEETS.forms)!;
    const rows: Record<string, unknown>[] = [];
    ws.eachRow((r, n) => {
      if (n === 1) return;
      const o: Record<string, unknown> = {};
      r.eachCell((c, i) => {
        o[String(ws.getRow(1).getCell(i).value)] = c.value;
      });
      rows.push(o);
    });
    expect(rows).toHaveLength(withForms.reduce((n, i) => n + i.formFields.length, 0));
    const reason = rows.find((r) => r.基本编码 === '200002002000' && r.字段标识 === 'reason');
    expect(reason).toMatchObject({
      序号: 1,
      字段类型: '单选',
      必填: '是',
      选项: 'lost=遗失;stolen=被盗;damaged=损坏',
    });
    const reported = rows.find((r) => r.基本编码 === '200002002000' && r.字段标识 === 'reportedLoss');
    expect(reported).toMatchObject({
      显示条件字段: 'reason',
      显示条件值: 'lost',
      其他语言名称: 'en=Loss reported',
    });
    const note = rows.find((r) => r.字段标识 === 'disabilityNote');
    expect(note).toMatchObject({ 显示条件字段: 'hasDisabledMember', 显示条件值: '是' });
  });

  it('reads types, conditions and numbers written by hand (identifiers, 是/否, decimals) from a csv', () => {
    const items = writeCatalogCsv({ items: source.items.slice(0, 1), implementations: [] });
    const code = source.items[0]!.code;
    const csv = `${items}\r\n[表单]\r\n${FORM_COLUMNS.join(',')}\r\n${[
      [
        code,
        2,
        'area',
        '面积',
        'en=Area;ug=كۆلەم',
        'number',
        '否',
        '',
        '',
        '0.5',
        '300',
        '',
        '',
        '平方米',
        '',
        '',
      ],
      [code, 1, 'owner', '是否产权人', '', '是否', '是', '', '', '', '', '', '', '', '', ''],
      [
        code,
        3,
        'deed',
        '产权证号',
        '',
        'text',
        '1',
        '如 黔(2024)南明区不动产权第0001号',
        '',
        '',
        '',
        '60',
        '',
        '',
        'owner',
        '是',
      ],
    ]
      .map((r) => r.join(','))
      .join('\r\n')}\r\n`;
    const [item] = parseCatalogRows(readCatalogCsv(csv)).items;
    expect(item?.formFields).toEqual([
      { key: 'owner', label: '是否产权人', type: 'boolean', required: true },
      {
        key: 'area',
        label: '面积',
        labels: { en: 'Area', ug: 'كۆلەم' },
        type: 'number',
        required: false,
        min: 0.5,
        max: 300,
        unit: '平方米',
      },
      {
        key: 'deed',
        label: '产权证号',
        type: 'text',
        required: true,
        help: '如 黔(2024)南明区不动产权第0001号',
        maxLength: 60,
        visibleWhen: { key: 'owner', equals: true },
      },
    ]);
  });

  it('lists every bad cell of the 表单 sheet with sheet, row and column, and imports nothing', async () => {
    const bytes = await edited((wb) => {
      const ws = wb.getWorksheet(SHEETS.forms)!;
      const rowOf = (code: string, key: string) => {
        let found = 0;
        ws.eachRow((r, n) => {
          if (r.getCell(col(ws, '基本编码')).value === code && r.getCell(col(ws, '字段标识')).value === key)
            found = n;
        });
        if (!found) throw new Error(key);
        return found;
      };
      ws.getCell(rowOf('200002002000', 'reason'), col(ws, '选项')).value = 'lost 遗失';
      ws.getCell(rowOf('200002002000', 'lossDate'), col(ws, '字段类型')).value = '时间';
      ws.getCell(rowOf('200002002000', 'contactPhone'), col(ws, '字段标识')).value = 'reportedLoss';
      ws.getCell(rowOf('050004001000', 'familySize'), col(ws, '最小值')).value = 30;
      ws.getCell(rowOf('050004001000', 'monthlyIncome'), col(ws, '最大值')).value = 'lots';
      ws.getCell(rowOf('050002001000', 'bankName'), col(ws, '格式')).value = '(\\d+)+';
      ws.getCell(rowOf('050002001000', 'bankName'), col(ws, '显示条件值')).value = 'cash';
      ws.getCell(rowOf('070001001000', 'childName'), col(ws, '基本编码')).value = 'NOPE0001';
      ws.getCell(rowOf('010007001000', 'tradeName'), col(ws, '序号')).value = 2;
      ws.getCell(rowOf('010007001000', 'employees'), col(ws, '显示条件字段')).value = 'later';
      ws.getCell(rowOf('010007001000', 'employees'), col(ws, '显示条件值')).value = 'x';
    });
    const e = await errorOf(async () => parseCatalogRows(await readCatalogXlsx(bytes)));
    expect(e.code).toBe('catalog.invalid_file');
    const byField = new Map(e.issues?.map((i) => [i.field, i.message]));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as never);
    const ws = wb.getWorksheet(SHEETS.forms)!;
    const at = (code: string, key: string, column: string) => {
      let found = 0;
      ws.eachRow((r, n) => {
        if (
          r.getCell(col(ws, '基本编码')).value === code &&
          r.getCell(col(ws, '字段标识')).value === key &&
          !found
        )
          found = n;
      });
      return `sheet 表单, row ${found}, column ${column}`;
    };
    const expected: [string, RegExp][] = [
      [at('200002002000', 'reason', '选项'), /not a list of options; write 值=名称/],
      [at('200002002000', 'lossDate', '字段类型'), /"时间" is not a 字段类型/],
      [at('050004001000', 'familySize', '最小值'), /min 30 is greater than max 20/],
      [at('050004001000', 'monthlyIncome', '最大值'), /"lots" is not a number/],
      [at('050002001000', 'bankName', '格式'), /exponential time/],
      [at('050002001000', 'bankName', '显示条件值'), /"cash" is not a value the field payout can hold/],
      [at('NOPE0001', 'childName', '基本编码'), /not an item of the 事项 sheet/],
      [at('010007001000', 'employees', '显示条件字段'), /refers to later, which is not an earlier field/],
    ];
    for (const [field, message] of expected)
      expect(byField.get(field) ?? JSON.stringify(e.issues), field).toMatch(message);
    // the duplicate key and the duplicate 序号 are each reported on the later row
    expect(e.issues?.some((i) => /the key reportedLoss appears twice/.test(i.message))).toBe(true);
    expect(e.issues?.some((i) => /already has a form field number 2/.test(i.message))).toBe(true);
    expect(e.issues?.every((i) => /^sheet 表单, row \d+, column \S+$/.test(i.field))).toBe(true);
  });

  it('a file without a 表单 sheet imports items with empty forms; a 表单 sheet must have its columns', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeCatalogXlsx(source)) as never);
    wb.removeWorksheet(wb.getWorksheet(SHEETS.forms)!.id);
    const back = parseCatalogRows(await readCatalogXlsx(Buffer.from(await wb.xlsx.writeBuffer())));
    expect(back.items.every((i) => i.formFields.length === 0)).toBe(true);
    wb.addWorksheet(SHEETS.forms).addRow(['基本编码', '序号', '字段标识']);
    const e = await errorOf(async () =>
      parseCatalogRows(await readCatalogXlsx(Buffer.from(await wb.xlsx.writeBuffer()))),
    );
    expect(e.issues?.map((i) => i.field)).toContain('sheet 表单, row 1, column 字段类型');
  });
});

describe('译文 sheet: translations of an item by language', () => {
  const translated = source.items.filter((i) => i.translations);

  it('the sample catalog carries machine translations (bo, ug) and both xlsx and csv round-trip them', async () => {
    expect(translated.length).toBeGreaterThan(0);
    for (const item of translated) {
      expect(Object.keys(item.translations ?? {}).sort()).toEqual(['bo', 'ug']);
      expect(Object.values(item.translations ?? {}).every((t) => t.status === 'machine')).toBe(true);
    }
    const xlsx = parseCatalogRows(await readCatalogXlsx(await writeCatalogXlsx(source)));
    expect(xlsx.items.filter((i) => i.translations)).toEqual(translated);
    const csv = parseCatalogRows(readCatalogCsv(writeCatalogCsv(source)));
    expect(csv.items.filter((i) => i.translations)).toEqual(translated);
    // items without a row in 译文 carry no translations key at all
    expect(xlsx.items.filter((i) => !i.translations).every((i) => !('translations' in i))).toBe(true);
  });

  it('writes one row per item and language, materials as 中文名称|译文 lines', () => {
    const item = translated[0]!;
    const csv = writeCatalogCsv({ items: [item], implementations: [] });
    const section = csv.split('\r\n\r\n').find((s) => s.startsWith('[译文]')) ?? '';
    const lines = section.split('\r\n');
    expect(lines[1]).toBe('基本编码,语言,审校状态,审校人,审校日期,事项名称,受理条件,材料名称');
    expect(lines.filter((l) => l.startsWith(item.code)).length).toBe(2);
    expect(section).toContain(`,bo,机器翻译,`);
    const first = item.materials[0]!.name;
    expect(section).toContain(`${first}|${item.translations?.bo?.materials?.[first]}`);
  });

  it('lists every bad cell of the 译文 sheet with sheet, row and column, and imports nothing', async () => {
    const bytes = await edited((wb) => {
      const ws = wb.getWorksheet(SHEETS.translations)!;
      // rows 2–5: the two translated items × bo, ug (in source order)
      ws.getCell(2, col(ws, '审校状态')).value = '看过了';
      ws.getCell(3, col(ws, '语言')).value = 'zh-CN';
      ws.getCell(4, col(ws, '材料名称')).value = '不存在的材料|ཡིག་ཆ།';
      ws.getCell(5, col(ws, '审校日期')).value = '去年';
      ws.addRow(['NOPE0001', 'bo', '机器翻译']);
      ws.addRow([translated[1]!.code, 'bo', '已审校', '', '', 'x']);
    });
    const e = await errorOf(async () => parseCatalogRows(await readCatalogXlsx(bytes)));
    expect(e.code).toBe('catalog.invalid_file');
    const byField = new Map(e.issues?.map((i) => [i.field, i.message]));
    const expected: [string, RegExp][] = [
      ['sheet 译文, row 2, column 审校状态', /"看过了" is not a 审校状态; use one of 机器翻译、已审校/],
      ['sheet 译文, row 3, column 语言', /zh-CN is the source language/],
      ['sheet 译文, row 4, column 材料名称', /"不存在的材料" is not a material of \S+ in the 材料 sheet/],
      ['sheet 译文, row 5, column 审校日期', /write the date as YYYY-MM-DD/],
      ['sheet 译文, row 6, column 基本编码', /not an item of the 事项 sheet/],
      ['sheet 译文, row 7, column 语言', /already has a bo translation/],
    ];
    for (const [field, message] of expected)
      expect(byField.get(field) ?? JSON.stringify(e.issues), field).toMatch(message);
    expect(e.issues?.length).toBe(expected.length);
  });

  it('a file without a 译文 sheet imports items without translations', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeCatalogXlsx(source)) as never);
    wb.removeWorksheet(wb.getWorksheet(SHEETS.translations)!.id);
    const back = parseCatalogRows(await readCatalogXlsx(Buffer.from(await wb.xlsx.writeBuffer())));
    expect(back.items.some((i) => i.translations)).toBe(false);
  });
});
