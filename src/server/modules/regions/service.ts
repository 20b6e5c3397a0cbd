import { ancestorCodesOf, DIVISION_LEVELS, parseDivisionCode } from '../../../domain/division-code.ts';
import { invalid, notFound } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import { loadGuizhouDivisions } from './reference-data.ts';
import { type DivisionLevel, type DivisionRecord, RegionsRepository } from './repository.ts';

export type { DivisionLevel };

/** A division as the API presents it (行政区划, GB/T 2260). */
export type Division = DivisionRecord;

export { DIVISION_LEVELS };

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
   * Accepts zero-padded forms (520100 = 5201); see parseDivisionCode in src/domain/division-code.ts.
   * @throws AppError(validation, `division.format`/`division.length`/…) for a malformed code,
   *         AppError(not_found, `division.not_found`) for a well-formed code that does not exist.
   */
  async getDivision(input: string, field = 'code'): Promise<Division> {
    const { code } = parseDivisionCode(input, field);
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
    const parent = filter.parent === undefined ? undefined : await this.getDivision(filter.parent, 'parent');
    return this.repo.list({
      limit: filter.limit ?? 100,
      ...(filter.level ? { level: filter.level as DivisionLevel } : {}),
      ...(parent ? { parentCode: parent.code } : {}),
      ...(filter.after ? { after: filter.after } : {}),
    });
  }

  /** The division and its ancestors: self first, then parent, … up to the province. Throws as {@link getDivision}. */
  async getAncestry(code: string, field = 'code'): Promise<Division[]> {
    const self = await this.getDivision(code, field);
    const codes = [self.code, ...ancestorCodesOf(self.code).reverse()];
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

  /** Which of `codes` are divisions (exact codes, no canonicalisation). */
  async existingCodes(codes: string[]): Promise<Set<string>> {
    return new Set((await this.repo.findByCodes(codes)).map((d) => d.code));
  }

  /** Number of divisions per level. */
  countByLevel(): Promise<Record<DivisionLevel, number>> {
    return this.repo.countByLevel();
  }
}
