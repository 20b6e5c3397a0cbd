import { invalid, notFound } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import { loadGuizhouDivisions } from './reference-data.ts';
import { type DivisionLevel, type DivisionRecord, RegionsRepository } from './repository.ts';

export type { DivisionLevel };

/** A division as the API presents it (行政区划, GB/T 2260). */
export type Division = DivisionRecord;

export const DIVISION_LEVELS: readonly DivisionLevel[] = [
  'province',
  'prefecture',
  'county',
  'township',
  'village',
];
const LENGTH_OF: Record<DivisionLevel, number> = {
  province: 2,
  prefecture: 4,
  county: 6,
  township: 9,
  village: 12,
};

/**
 * Checks the form of a division code: digits only, 2/4/6/9/12 long.
 * @throws AppError(validation, `division.malformed_code`) naming `field`.
 */
export function assertDivisionCodeForm(code: string, field = 'code'): void {
  if (!/^\d+$/.test(code) || ![2, 4, 6, 9, 12].includes(code.length)) {
    throw invalid(
      field,
      `"${code}" is not a division code: use 2 (province), 4 (prefecture), 6 (county), 9 (township) or 12 (village) digits, e.g. 520102.`,
      'division.malformed_code',
    );
  }
}

/** Parent code by the GB/T 2260 code structure (12→9→6→4→2); null for a province. */
function structuralParent(code: string): string | null {
  const order = [12, 9, 6, 4, 2];
  const i = order.indexOf(code.length);
  return i < 0 || i === order.length - 1 ? null : code.slice(0, order[i + 1]);
}

/**
 * The regions module's public face: Guizhou's 1 + 9 + 88 + 1,510 + 17,964 divisions with levels and
 * parent links. Lookups by code, children, ancestry, and resolution of any 6/9/12-digit code to its county.
 */
export class RegionsService {
  private readonly repo: RegionsRepository;
  constructor(db: Db) {
    this.repo = new RegionsRepository(db);
  }

  /**
   * Loads the shipped divisions (data/guizhou) inside `tx`. Idempotent: existing codes are kept.
   * @returns the divisions in the data set, parents before children.
   */
  async seed(tx: Tx): Promise<Division[]> {
    const rows = loadGuizhouDivisions();
    await this.repo.insertMany(rows, tx);
    return rows;
  }

  /**
   * @throws AppError(validation, `division.malformed_code`) for a malformed code,
   *         AppError(not_found, `division.not_found`) for a well-formed code that does not exist.
   */
  async getDivision(code: string, field = 'code'): Promise<Division> {
    assertDivisionCodeForm(code, field);
    const row = await this.repo.findByCode(code);
    if (!row) {
      throw notFound(
        'division.not_found',
        `No division with code ${code} in the catalog of divisions. Check the code (GB/T 2260).`,
        field,
      );
    }
    return row;
  }

  /** Children of `code` (one level down), ordered by code. Throws as {@link getDivision}. */
  async getChildren(code: string, options: { limit?: number; after?: string } = {}): Promise<Division[]> {
    await this.getDivision(code, 'parent');
    return this.repo.list({
      parentCode: code,
      limit: options.limit ?? 20_000,
      ...(options.after ? { after: options.after } : {}),
    });
  }

  /**
   * Lists divisions filtered by `level` and/or `parent`, ordered by code, keyset-paginated by `after`.
   * @throws AppError(validation) for an unknown level; AppError(not_found) for an unknown parent.
   */
  async listDivisions(filter: {
    level?: string;
    parent?: string;
    limit?: number;
    after?: string;
  }): Promise<Division[]> {
    if (filter.level !== undefined && !DIVISION_LEVELS.includes(filter.level as DivisionLevel)) {
      throw invalid(
        'level',
        `level must be one of ${DIVISION_LEVELS.join(', ')}; got "${filter.level}".`,
        'division.unknown_level',
      );
    }
    if (filter.parent !== undefined) await this.getDivision(filter.parent, 'parent');
    return this.repo.list({
      limit: filter.limit ?? 100,
      ...(filter.level ? { level: filter.level as DivisionLevel } : {}),
      ...(filter.parent ? { parentCode: filter.parent } : {}),
      ...(filter.after ? { after: filter.after } : {}),
    });
  }

  /** The division and its ancestors: self first, then parent, … up to the province. Throws as {@link getDivision}. */
  async getAncestry(code: string, field = 'code'): Promise<Division[]> {
    await this.getDivision(code, field);
    const codes: string[] = [];
    for (let c: string | null = code; c !== null; c = structuralParent(c)) codes.push(c);
    const rows = await this.repo.findByCodes(codes);
    const byCode = new Map(rows.map((r) => [r.code, r]));
    return codes.map((c) => byCode.get(c)).filter((d): d is Division => d !== undefined);
  }

  /**
   * The county (6-digit) that a county, township or village code lies in.
   * @throws AppError(validation, `division.above_county`) for a province or prefecture code; as {@link getDivision} otherwise.
   */
  async resolveCounty(code: string, field = 'code'): Promise<Division> {
    const d = await this.getDivision(code, field);
    if (d.countyCode === null) {
      throw invalid(
        field,
        `${code} (${d.name}) is a ${d.level}; it has no single county. Give a county, township or village code.`,
        'division.above_county',
      );
    }
    return d.level === 'county' ? d : this.getDivision(d.countyCode, field);
  }

  /** Number of divisions per level. */
  countByLevel(): Promise<Record<DivisionLevel, number>> {
    return this.repo.countByLevel();
  }

  static lengthOfLevel(level: DivisionLevel): number {
    return LENGTH_OF[level];
  }
}
