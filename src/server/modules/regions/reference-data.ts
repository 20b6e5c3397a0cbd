import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { DivisionLevel, DivisionRecord } from './repository.ts';

/** The shipped Guizhou reference data (see data/README.md for provenance). */
export const GUIZHOU_DATA_DIR = fileURLToPath(new URL('../../../../data/guizhou', import.meta.url));

function readCsv(dir: string, file: string): Record<string, string>[] {
  return parse(fs.readFileSync(path.join(dir, file)), { columns: true, skip_empty_lines: true, trim: true });
}

/**
 * Reads provinces/prefectures/counties/townships/villages CSVs (GB/T 2260 + statistical codes) into
 * division records with level, parent and county links, parents before children.
 * @throws Error naming the file and row when a code does not fit its level or its parent is missing.
 */
export function loadGuizhouDivisions(dir = GUIZHOU_DATA_DIR): DivisionRecord[] {
  const out: DivisionRecord[] = [];
  const known = new Set<string>();
  const add = (
    file: string,
    level: DivisionLevel,
    length: number,
    parentOf: (r: Record<string, string>) => string | null,
  ) => {
    readCsv(dir, file).forEach((r, i) => {
      const code = r.code ?? '';
      const parentCode = parentOf(r);
      if (code.length !== length || !/^\d+$/.test(code)) {
        throw new Error(`${file} row ${i + 2}: code "${code}" is not a ${length}-digit ${level} code`);
      }
      if (parentCode !== null && !known.has(parentCode)) {
        throw new Error(`${file} row ${i + 2}: parent ${parentCode} of ${code} is not defined`);
      }
      const countyCode = length >= 6 ? code.slice(0, 6) : null;
      out.push({ code, name: r.name ?? '', level, parentCode, countyCode });
      known.add(code);
    });
  };
  add('provinces.csv', 'province', 2, () => null);
  add('prefectures.csv', 'prefecture', 4, (r) => r.provinceCode ?? '');
  add('counties.csv', 'county', 6, (r) => r.cityCode ?? '');
  add('townships.csv', 'township', 9, (r) => r.areaCode ?? '');
  add('villages.csv', 'village', 12, (r) => r.streetCode ?? '');
  return out;
}
