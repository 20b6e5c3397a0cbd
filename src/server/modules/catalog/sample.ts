import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CatalogData, CatalogDataSchema } from './workbook.ts';

/**
 * The shipped sample catalog (data/catalog/): `sample-catalog.json` is the hand-editable source;
 * `guizhou-sample-catalog.xlsx` is generated from it by scripts/build-sample-catalog.ts and is what
 * `tongban seed` / `tongban catalog import` read. Written by the project as sample data — not official.
 */
export const SAMPLE_CATALOG_JSON = fileURLToPath(
  new URL('../../../../data/catalog/sample-catalog.json', import.meta.url),
);
export const SAMPLE_CATALOG_XLSX = fileURLToPath(
  new URL('../../../../data/catalog/guizhou-sample-catalog.xlsx', import.meta.url),
);

/**
 * Reads and validates the JSON source of the sample catalog.
 * @throws ZodError when the source does not satisfy the catalog schemas (a defect in the shipped data).
 */
export function loadSampleCatalogSource(file = SAMPLE_CATALOG_JSON): CatalogData {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  return CatalogDataSchema.parse({ items: json.items, implementations: json.implementations });
}
