import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/index.ts';
import { openTestDatabase } from '../../server/db/testing.ts';
import { loadSampleCatalogSource, SAMPLE_CATALOG_XLSX } from '../../server/modules/catalog/sample.ts';
import { CatalogService } from '../../server/modules/catalog/service.ts';
import { readCatalogFile, writeCatalogCsv } from '../../server/modules/catalog/workbook.ts';
import { DepartmentsService } from '../../server/modules/departments/service.ts';
import { RegionsService } from '../../server/modules/regions/service.ts';
import { cliHarness } from '../../testing/cli.ts';
import { catalogCommands } from './catalog.ts';

let database: Database;
let catalog: CatalogService;
let departments: DepartmentsService;
let tmp: string;
const cli = cliHarness((program, io, close) =>
  catalogCommands(program, async () => ({ catalog, departments, close }), { ...io, tty: false }),
);
const { out, err } = cli;
const run = cli.run;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-cli-catalog-'));
  database = await openTestDatabase();
  // Divisions are loaded (variances must name real ones); departments are left empty here:
  // implementations are created but stay unbound.
  const regions = new RegionsService(database.db);
  await database.db.transaction((tx) => regions.seed(tx));
  catalog = new CatalogService(database.db, { regions });
  departments = new DepartmentsService(database.db);
});
afterAll(async () => {
  await database?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tongban catalog import|export', () => {
  it('an invalid file exits with code 1, lists each row/column problem and imports nothing', async () => {
    const broken = path.join(tmp, 'broken.csv');
    const csv = writeCatalogCsv(loadSampleCatalogSource())
      .replace(',公共服务,', ',公务服务,')
      .replace(',20,工作日,', ',abc,工作日,');
    fs.writeFileSync(broken, csv);
    expect(await run('catalog', 'import', broken)).toBe(1);
    expect(err[0]).toMatch(/^error \[catalog\.invalid_file\]/);
    expect(
      err.some((l) => l.startsWith('  - sheet 事项, row 3, column 事项类型: "公务服务" is not a 事项类型')),
    ).toBe(true);
    expect(err.some((l) => /column 承诺办结时限: "abc" is not a whole number/.test(l))).toBe(true);
    expect((await catalog.counts()).items).toBe(0);
    expect(cli.closed).toBe(1);
  });

  it('imports the sample workbook and prints a summary', async () => {
    expect(await run('catalog', 'import', SAMPLE_CATALOG_XLSX)).toBe(0);
    expect(out[0]).toMatch(
      /^imported guizhou-sample-catalog\.xlsx: \d+ items in \d+ industries, \d+ materials, 9 local variances$/,
    );
    expect(out[1]).toMatch(/implementation list: \d+ implementations \(\d+ without a department/);
    expect((await catalog.counts()).items).toBe(loadSampleCatalogSource().items.length);
  });

  it('exports to .xlsx and .csv by extension, in the import layout', async () => {
    for (const name of ['out/export.xlsx', 'export.csv']) {
      const file = path.join(tmp, name);
      expect(await run('catalog', 'export', file)).toBe(0);
      expect(out[0]).toMatch(/^exported \d+ items and 9 local variances to /);
      expect((await readCatalogFile(file)).items.length).toBe(loadSampleCatalogSource().items.length);
    }
  });

  it('refuses an unknown export extension before touching the database', async () => {
    const before = cli.closed;
    await expect(run('catalog', 'export', path.join(tmp, 'x.ods'))).rejects.toMatchObject({
      code: 'catalog.unsupported_format',
    });
    expect(cli.closed).toBe(before);
  });
});
