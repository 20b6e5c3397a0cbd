/**
 * The admin side of the catalog over HTTP (./admin-routes.ts, ./policy.ts): a county's implementation list
 * and its local variances (only the fields a division may vary, promised ≤ legal, before/after audited);
 * the catalog workbook upload (province administrators; dry run reports by sheet / row / column and changes
 * nothing; apply is one transaction; size limit) and download; and the admin changes of one's scope.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../main.ts';
import { signedInStaff, startTestServer } from '../../testing.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const ITEM = '050004001000'; // 最低生活保障: legal 30, promised 20 working days
const WEINING_IMPL = `${ITEM}-520526`;
let server: RunningServer;
let weiningAdmin = '';
let kailiAdmin = '';
let provinceAdmin = '';
let prefectureAdmin = '';
let clerk = '';

async function call(
  token: string,
  method: 'GET' | 'PUT' | 'POST',
  url: string,
  payload?: object | Buffer,
  type?: string,
) {
  const res = await server.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) },
    ...(payload ? { payload } : {}),
  });
  let body: Record<string, unknown> & {
    error?: { code: string; message?: string; field?: string; issues?: { field: string; message: string }[] };
  } = {};
  try {
    body = res.json();
  } catch {}
  return { status: res.statusCode, body, raw: res.rawPayload, headers: res.headers };
}

/** The exported workbook with its 事项 rows edited by `edit` (row, column-by-header, row number). */
async function editedWorkbook(
  edit: (row: ExcelJS.Row, col: (header: string) => number, n: number) => void,
  add?: (sheet: ExcelJS.Worksheet, col: (header: string) => number) => void,
): Promise<Buffer> {
  const x = await call(provinceAdmin, 'GET', '/api/v1/catalog/export');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(x.raw as never);
  const sheet = wb.getWorksheet('事项')!;
  const headers = (sheet.getRow(1).values as unknown[]).map((v) => String(v ?? ''));
  sheet.eachRow((row, n) => {
    if (n > 1) edit(row, (h) => headers.indexOf(h), n);
  });
  add?.(sheet, (h) => headers.indexOf(h));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

beforeAll(async () => {
  server = await startTestServer();
  const weiningDept = (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id;
  const staff = async (username: string, bind: object, role: string, value: string) =>
    (
      await signedInStaff(server, {
        username,
        ...bind,
        grant: { role, kind: 'division', value },
      })
    ).token;
  weiningAdmin = await staff('c-weining', { departmentId: weiningDept }, 'county_admin', '520526');
  kailiAdmin = await staff('c-kaili', { hallCode: '522601-zwfw' }, 'county_admin', '522601');
  provinceAdmin = await staff('c-province', { hallCode: '52-zwfw' }, 'province_admin', '52');
  prefectureAdmin = await staff('c-qdn', { hallCode: '522601-zwfw' }, 'prefecture_admin', '5226');
  clerk = (
    await signedInStaff(server, {
      username: 'c-clerk',
      hallCode: '520526-zwfw',
      grant: { role: 'intake_clerk', kind: 'hall', value: '520526-zwfw' },
    })
  ).token;
});
afterAll(async () => {
  await server?.close();
});

describe('implementation lists (实施清单) of my division', () => {
  it('lists the division’s implementations with the standard of each variable field; others are refused', async () => {
    const r = await call(
      weiningAdmin,
      'GET',
      `/api/v1/divisions/520526/implementations?q=${encodeURIComponent('最低生活')}`,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const items = r.body.items as { code: string; standard: unknown; divisionCode: string }[];
    const row = items.find((i) => i.code === WEINING_IMPL);
    expect(row).toMatchObject({
      divisionCode: '520526',
      standard: {
        legalTimeLimit: { value: 30, unit: 'working_days' },
        promisedTimeLimit: { value: 20, unit: 'working_days' },
      },
    });
    const page = await call(weiningAdmin, 'GET', '/api/v1/divisions/520526/implementations?limit=2');
    expect([(page.body.items as unknown[]).length, (page.body.total as number) >= 2]).toEqual([2, true]);
    const other = await call(kailiAdmin, 'GET', '/api/v1/divisions/520526/implementations');
    expect([other.status, other.body.error?.code]).toEqual([403, 'implementation.out_of_scope']);
    const notAdmin = await call(clerk, 'GET', '/api/v1/divisions/520526/implementations');
    expect(notAdmin.status).toBe(403);
  });

  it('sets allowed variances (audited before/after); the guide shows them', async () => {
    const variances = {
      promisedTimeLimit: { value: 10, unit: 'working_days' },
      notes: '威宁县可在乡镇便民服务中心提交',
      acceptingHallCodes: ['520526-zwfw'],
    };
    const r = await call(weiningAdmin, 'PUT', `/api/v1/implementations/${WEINING_IMPL}/variances`, {
      variances,
      reason: '承诺时限压缩',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.variances).toEqual(variances);
    const guide = (
      await server.app.inject({ method: 'GET', url: `/api/v1/catalog/items/${ITEM}/guide?division=520526` })
    ).json();
    expect([guide.item.promisedTimeLimit.value, guide.notes]).toEqual([10, variances.notes]);
    const [entry] = (
      await server.services.audit.list({ action: 'implementation.variances_update', targetId: WEINING_IMPL })
    ).items;
    expect(entry).toMatchObject({
      purpose: '承诺时限压缩',
      details: { divisionCode: '520526', before: {}, after: variances },
    });
  });

  it('refuses what a county may not vary, explaining what is allowed, and changes nothing', async () => {
    const attempts: [object, string][] = [
      [{ legalTimeLimit: { value: 60, unit: 'working_days' } }, 'variances.legalTimeLimit'],
      [{ materials: [] }, 'variances.materials'],
      [{ promisedTimeLimit: { value: 31, unit: 'working_days' } }, 'variances.promisedTimeLimit'],
      [{ acceptingHallCodes: ['520526-nope'] }, 'variances.acceptingHallCodes.0'],
      [{ fees: { free: false, items: [] } }, 'variances.fees'],
    ];
    for (const [variances, field] of attempts) {
      const r = await call(weiningAdmin, 'PUT', `/api/v1/implementations/${WEINING_IMPL}/variances`, {
        variances,
      });
      expect([field, r.status, r.body.error?.code]).toEqual([field, 400, 'implementation.invalid_variances']);
      expect(r.body.error?.issues?.map((i) => i.field)).toContain(field);
      expect(String(r.body.error?.message)).toContain('promisedTimeLimit');
    }
    const other = await call(kailiAdmin, 'PUT', `/api/v1/implementations/${WEINING_IMPL}/variances`, {
      variances: {},
    });
    expect([other.status, other.body.error?.code]).toEqual([403, 'implementation.out_of_scope']);
    const unknown = await call(weiningAdmin, 'PUT', `/api/v1/implementations/${ITEM}-999999/variances`, {
      variances: {},
    });
    expect(unknown.status).toBe(404);
    const guide = (
      await server.app.inject({ method: 'GET', url: `/api/v1/catalog/items/${ITEM}/guide?division=520526` })
    ).json();
    expect(guide.item.promisedTimeLimit.value).toBe(10);
  });
});

describe('the catalog workbook over HTTP', () => {
  it('downloads the workbook (xlsx, csv) for administrators; others are refused', async () => {
    const x = await call(weiningAdmin, 'GET', '/api/v1/catalog/export');
    expect([x.status, x.headers['content-type']]).toEqual([200, XLSX]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.raw as never);
    expect(wb.worksheets.map((w) => w.name)).toEqual(expect.arrayContaining(['事项', '材料', '实施清单']));
    const csv = await call(provinceAdmin, 'GET', '/api/v1/catalog/export?format=csv');
    expect(csv.raw.toString('utf8')).toContain(WEINING_IMPL.split('-')[0]);
    const refused = await call(clerk, 'GET', '/api/v1/catalog/export');
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'catalog.admin_only']);
  });

  it('a dry run reports every problem by sheet, row and column and changes nothing', async () => {
    const before = await server.services.catalog.getItem(ITEM);
    // break the legal limit of 最低生活保障 (a word, not a number) and rename it
    let itemRow = 0;
    const bad = await editedWorkbook((row, col, n) => {
      if (String(row.getCell(col('基本编码')).value) !== ITEM) return;
      itemRow = n;
      row.getCell(col('法定办结时限')).value = '三十';
      row.getCell(col('事项名称')).value = '改名的低保';
    });
    const r = await call(provinceAdmin, 'POST', '/api/v1/catalog/import?dryRun=true', bad, XLSX);
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    expect([r.body.dryRun, r.body.valid, r.body.applied, r.body.summary]).toEqual([true, false, false, null]);
    expect(r.body.issues).toContainEqual(
      expect.objectContaining({ sheet: '事项', row: itemRow, column: '法定办结时限' }),
    );
    expect((await server.services.catalog.getItem(ITEM)).name).toBe(before.name);
    // apply of the same file: 400 listing the cell, still nothing changed
    const apply = await call(provinceAdmin, 'POST', '/api/v1/catalog/import', bad, XLSX);
    expect([apply.status, apply.body.error?.code]).toEqual([400, 'catalog.invalid_file']);
    expect(apply.body.error?.issues?.map((i) => i.field)).toContain(
      `sheet 事项, row ${itemRow}, column 法定办结时限`,
    );
    expect((await server.services.catalog.getItem(ITEM)).name).toBe(before.name);
    // not a workbook at all
    const garbage = await call(
      provinceAdmin,
      'POST',
      '/api/v1/catalog/import?dryRun=true',
      Buffer.from('PK not really'),
      XLSX,
    );
    expect([garbage.status, garbage.body.valid]).toEqual([200, false]);
  });

  it('applies a valid workbook in one transaction (audited), province administrators only, within the size limit', async () => {
    // rename 最低生活保障 and add a new item (a copy under a new code): it gets its implementation list
    const NEW_ITEM = '050004009000';
    let copy: ExcelJS.CellValue[] = [];
    const file = await editedWorkbook(
      (row, col) => {
        if (String(row.getCell(col('基本编码')).value) !== ITEM) return;
        row.getCell(col('事项名称')).value = '最低生活保障申请（新版）';
        copy = [...(row.values as ExcelJS.CellValue[])];
      },
      (sheet, col) => {
        copy[col('基本编码')] = NEW_ITEM;
        copy[col('事项名称')] = '临时救助申请（导入测试）';
        sheet.addRow(copy.slice(1)); // row.values is 1-based
      },
    );
    const dry = await call(provinceAdmin, 'POST', '/api/v1/catalog/import?dryRun=true', file, XLSX);
    expect(dry.body.issues, JSON.stringify(dry.body.issues)).toEqual([]);
    expect([dry.status, dry.body.valid, (dry.body.summary as { items: number }).items > 0]).toEqual([
      200,
      true,
      true,
    ]);
    expect((await server.services.catalog.getItem(ITEM)).name).not.toBe('最低生活保障申请（新版）');

    for (const token of [prefectureAdmin, weiningAdmin]) {
      const refused = await call(token, 'POST', '/api/v1/catalog/import', file, XLSX);
      expect([refused.status, refused.body.error?.code]).toEqual([403, 'catalog.province_admin_only']);
    }
    const wrongType = await call(provinceAdmin, 'POST', '/api/v1/catalog/import', { a: 1 });
    expect(wrongType.status).toBe(400);

    const applied = await call(
      provinceAdmin,
      'POST',
      `/api/v1/catalog/import?reason=${encodeURIComponent('年度更新')}`,
      file,
      XLSX,
    );
    expect(applied.status, JSON.stringify(applied.body).slice(0, 500)).toBe(200);
    expect([
      applied.body.applied,
      (applied.body.implementations as { implementations: number }).implementations > 0,
    ]).toEqual([true, true]);
    expect((await server.services.catalog.getItem(ITEM)).name).toBe('最低生活保障申请（新版）');
    // the new item's implementation list was bound to the departments in the same import
    const impls = await server.services.catalog.listImplementations(NEW_ITEM);
    const weining = impls.find((i) => i.divisionCode === '520526');
    expect(weining?.departmentId).toBe(
      (await server.services.departments.findDepartment('520526', 'civil_affairs'))!.id,
    );
    // the county's variance survived the import (it is in the exported 实施清单 sheet)
    const guide = (
      await server.app.inject({ method: 'GET', url: `/api/v1/catalog/items/${ITEM}/guide?division=520526` })
    ).json();
    expect(guide.item.promisedTimeLimit.value).toBe(10);
    const [entry] = (await server.services.audit.list({ action: 'admin.catalog_import' })).items;
    expect(entry).toMatchObject({ purpose: '年度更新', details: { format: 'xlsx', bytes: file.length } });

    const big = Buffer.alloc(server.services.catalog.importMaxBytes + 1, 0x41);
    const tooLarge = await call(provinceAdmin, 'POST', '/api/v1/catalog/import?dryRun=true', big, 'text/csv');
    expect(tooLarge.status).toBe(413);
  });
});

describe('admin changes of my scope', () => {
  it('shows an administrator the changes inside their scope only', async () => {
    const weining = await call(weiningAdmin, 'GET', '/api/v1/audit/admin-changes');
    expect(weining.status, JSON.stringify(weining.body).slice(0, 300)).toBe(200);
    const actions = (weining.body.items as { action: string; details: { divisionCode: string } }[]).map(
      (e) => e.action,
    );
    expect(actions).toContain('implementation.variances_update');
    expect(actions).not.toContain('admin.catalog_import');
    for (const e of weining.body.items as { details: { divisionCode: string } }[])
      expect(e.details.divisionCode.startsWith('520526')).toBe(true);
    const kaili = await call(
      kailiAdmin,
      'GET',
      '/api/v1/audit/admin-changes?action=implementation.variances_update',
    );
    expect((kaili.body.items as unknown[]).length).toBe(0);
    const province = await call(
      provinceAdmin,
      'GET',
      '/api/v1/audit/admin-changes?action=admin.catalog_import',
    );
    expect((province.body.items as unknown[]).length).toBe(1);
    const refused = await call(clerk, 'GET', '/api/v1/audit/admin-changes');
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'audit.not_admin']);
  });
});
