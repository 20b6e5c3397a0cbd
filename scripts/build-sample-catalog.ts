/**
 * Builds data/catalog/guizhou-sample-catalog.xlsx (sheets 事项, 材料, 实施清单, 表单, 说明) from the readable
 * source data/catalog/sample-catalog.json, with exceljs. Run after editing the JSON:
 *
 *   node scripts/build-sample-catalog.ts
 *
 * src/server/modules/catalog/sample.test.ts fails when the shipped workbook and the source drift apart.
 */
import fs from 'node:fs';
import { loadSampleCatalogSource, SAMPLE_CATALOG_XLSX } from '../src/server/modules/catalog/sample.ts';
import { writeCatalogXlsx } from '../src/server/modules/catalog/workbook.ts';

const data = loadSampleCatalogSource();
fs.writeFileSync(SAMPLE_CATALOG_XLSX, await writeCatalogXlsx(data));
const industries = new Set(data.items.map((i) => i.industry)).size;
const materials = data.items.reduce((n, i) => n + i.materials.length, 0);
const withForms = data.items.filter((i) => i.formFields.length > 0);
const fields = withForms.reduce((n, i) => n + i.formFields.length, 0);
console.log(
  `wrote ${SAMPLE_CATALOG_XLSX}: ${data.items.length} items in ${industries} industries, ${materials} materials, ${data.implementations.length} local variances, ${fields} form fields on ${withForms.length} items`,
);
