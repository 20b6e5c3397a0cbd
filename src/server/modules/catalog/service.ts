import { sql } from 'drizzle-orm';
import {
  codeListLabel,
  type ExerciseLevel,
  type Guide,
  type Implementation,
  INDUSTRIES,
  type Industry,
  implementationCode,
  resolveGuide,
  type ServiceItem,
  type ServiceItemSummary,
  ServiceItemSummarySchema,
  varianceIssues,
} from '../../../domain/catalog.ts';
import type { DepartmentKind } from '../../../domain/department.ts';
import { parseDivisionCode } from '../../../domain/division-code.ts';
import { AppError, type FieldIssue, invalid, invalidMany, notFound } from '../../../domain/errors.ts';
import type { Db } from '../../db/index.ts';
import { CatalogRepository, type ImplementationBinding, type ItemFilter } from './repository.ts';
import {
  type CatalogData,
  type CatalogDataInput,
  CatalogDataSchema,
  readCatalogFile,
  type VarianceRow,
} from './workbook.ts';

/** What the catalog needs from the regions module (RegionsService satisfies it). */
/** Looks a department up by id (the departments service), to name the 实施主体 in guides. */
export interface DepartmentLookup {
  getDepartment(id: string): Promise<{ id: string; name: string; creditCode: string; divisionCode: string }>;
}

/** Which of the given hall codes exist (the halls service). */
export interface HallCodeLookup {
  existingCodes(codes: string[]): Promise<Set<string>>;
}

/** PostgreSQL channel announcing a committed catalog import (servers rebuild their search index). */
export const CATALOG_CHANGES_CHANNEL = 'tongban_catalog';

export interface DivisionAncestrySource {
  /** Which of the given division codes exist. */
  existingCodes(codes: string[]): Promise<Set<string>>;
  /**
   * The division and its ancestors, self first, up to the province.
   * @throws AppError(not_found, `division.not_found`) for an unknown division.
   */
  getAncestry(code: string, field?: string): Promise<{ code: string }[]>;
}

/** What seeding needs from the departments module (DepartmentsService satisfies it). */
export interface DepartmentDirectory {
  listDepartments(filter: {
    divisionCode?: string;
    kind?: string;
  }): Promise<{ id: string; divisionCode: string; level: string; kind: string }[]>;
}

/** A search document for the search module's CatalogSearchIndex: one per implementation (实施清单). */
export interface CatalogSearchDocument {
  /** 实施编码 `<basic code>-<division code>`. */
  id: string;
  itemCode: string;
  name: string;
  aliases: string[];
  /** Industry label (所属行业), e.g. 社会保险 — what search results display and filter on. */
  industry: string;
  divisionCode: string;
  serviceObjects: string[];
  /** The item's popularity on its provincial (standard) implementation, 0 on local ones, so a sum per item equals it. */
  popularity: number;
}

/** A page of items. */
export interface ItemPage {
  total: number;
  limit: number;
  offset: number;
  items: ServiceItemSummary[];
}

/** An industry with its label and number of items. */
export interface IndustryCount {
  id: string;
  label: string;
  items: number;
}

/** What an import changed. */
export interface ImportSummary {
  items: number;
  materials: number;
  variances: number;
  industries: number;
}

/** Called during long work with the units done and the total. */
export type ProgressListener = (done: number, total: number) => void;

/** Code of the province (the provincial standard implementation lives there). */
export const PROVINCE_CODE = '52';

const SEEDED_LEVELS: readonly ExerciseLevel[] = ['prefecture', 'county'];

/**
 * The catalog module's public face: service items (基本目录, GB/T 39046-2020 table 4), implementation
 * lists (实施清单) with local variances, resolved guides (办事指南), import/export of catalog files, and
 * the documents the search index is built from.
 */
export class CatalogService {
  private readonly repo: CatalogRepository;
  private readonly regions: DivisionAncestrySource;
  private readonly departments: DepartmentLookup | undefined;
  private readonly halls: HallCodeLookup | undefined;

  constructor(
    db: Db,
    deps: { regions: DivisionAncestrySource; departments?: DepartmentLookup; halls?: HallCodeLookup },
  ) {
    this.repo = new CatalogRepository(db);
    this.regions = deps.regions;
    this.halls = deps.halls;
    this.departments = deps.departments;
  }

  /**
   * One service item with its materials.
   * @throws AppError(not_found, `catalog.item_not_found`) for an unknown basic code.
   */
  async getItem(code: string): Promise<ServiceItem> {
    const item = await this.repo.findItem(code);
    if (!item) {
      throw notFound(
        'catalog.item_not_found',
        `No service item with basic code ${code}. Search the catalog (GET /api/v1/catalog/search?q=…) for the right code.`,
        'code',
      );
    }
    return item;
  }

  /**
   * Items matching the filters, most popular first, paginated (`limit` 1–200, default 50; `offset` ≥ 0).
   * Filters take code list identifiers (industry `social_insurance`, item type `public_service`, service
   * object `natural_person`, exercise level `county`, department kind `civil_affairs`); `q` matches part
   * of a name or alias.
   * @throws AppError(validation) for a limit or offset out of range.
   */
  async listItems(filter: ItemFilter & { limit?: number; offset?: number } = {}): Promise<ItemPage> {
    const limit = filter.limit ?? 50;
    const offset = filter.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw invalid('limit', `limit must be a whole number 1–200; got ${limit}.`);
    if (!Number.isInteger(offset) || offset < 0)
      throw invalid('offset', `offset must be a whole number ≥ 0; got ${offset}.`);
    const { limit: _l, offset: _o, ...where } = filter;
    const page = await this.repo.listItems(where, { limit, offset });
    return {
      total: page.total,
      limit,
      offset,
      items: page.items.map((d) => ServiceItemSummarySchema.parse(d)),
    };
  }

  /** Industries (所属行业) that have items, with their Chinese label and item count. */
  async listIndustries(): Promise<IndustryCount[]> {
    const rows = await this.repo.countByIndustry();
    return rows.map((r) => ({
      id: r.industry,
      label: codeListLabel(INDUSTRIES, r.industry),
      items: r.items,
    }));
  }

  /**
   * The guide (办事指南) of an item for a division (2/4/6/9/12-digit GB/T 2260 code): the item with the
   * variances of the nearest implementations along the division's ancestry applied (see resolveGuide).
   * A township or village gets the guide of its county (or of the nearest ancestor with an implementation).
   * The guide names the implementing department (实施主体) when the implementation is bound to one.
   * @throws AppError(validation, `division.format`/`division.length`, field `division`) for a malformed division code;
   *         AppError(not_found, `catalog.item_not_found`) / (`division.not_found`) for an unknown item / division;
   *         AppError(validation, `catalog.invalid_variance`) if a stored variance breaks the item's limits.
   */
  async getGuide(code: string, divisionCode: string): Promise<Guide> {
    const item = await this.getItem(code);
    const ancestry = (await this.regions.getAncestry(divisionCode, 'division')).map((d) => d.code);
    const implementations = await this.repo.implementationsAt(code, ancestry);
    const guide = resolveGuide(item, implementations, ancestry);
    const departmentId = guide.implementation?.departmentId;
    if (!departmentId || !this.departments) return { ...guide, department: null };
    const d = await this.departments.getDepartment(departmentId);
    return {
      ...guide,
      department: { id: d.id, name: d.name, creditCode: d.creditCode, divisionCode: d.divisionCode },
    };
  }

  /** Every implementation (实施清单 row) of an item, by division. @throws as {@link getItem}. */
  async listImplementations(code: string): Promise<Implementation[]> {
    await this.getItem(code);
    return this.repo.implementationsOf(code);
  }

  /**
   * Imports a catalog (items with materials, and local variances) in ONE transaction: items are inserted
   * or replaced by basic code (their materials replaced), variances set on the implementation of
   * item + division (created unbound if missing). Items not in `data` are kept. Validated first: an
   * invalid catalog changes nothing.
   * @throws AppError(validation, `catalog.invalid_import`) listing every problem (fields like `items.3.name`).
   */
  async importCatalog(data: CatalogDataInput, onProgress?: ProgressListener): Promise<ImportSummary> {
    const parsed = CatalogDataSchema.safeParse(data);
    if (!parsed.success) {
      throw invalidMany(
        'catalog.invalid_import',
        'The catalog is invalid; nothing was imported. Correct the listed fields.',
        parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'catalog', message: i.message })),
      );
    }
    const catalog = parsed.data;
    // Padded GB/T 2260 forms (520100) name the same division as 5201: store the canonical code.
    const canonicalIssues: FieldIssue[] = [];
    catalog.implementations = catalog.implementations.map((v, i) => {
      try {
        return {
          ...v,
          divisionCode: parseDivisionCode(v.divisionCode, `implementations.${i}.divisionCode`).code,
        };
      } catch (e) {
        if (e instanceof AppError) canonicalIssues.push(...(e.issues ?? []));
        return v;
      }
    });
    const issues = [
      ...canonicalIssues,
      ...crossCheck(catalog),
      ...(await this.storedVarianceIssues(catalog)),
    ];
    if (issues.length > 0) {
      throw invalidMany(
        'catalog.invalid_import',
        'The catalog is invalid; nothing was imported. Correct the listed fields.',
        issues,
      );
    }
    const refIssues = await this.referenceIssues(catalog);
    if (refIssues.length > 0) {
      throw invalidMany(
        'catalog.invalid_import',
        'The catalog names divisions or halls that do not exist; nothing was imported. Correct the listed fields.',
        refIssues,
      );
    }
    const total = catalog.items.length + catalog.implementations.length;
    const step = 50;
    await this.repo.transaction(async (tx) => {
      for (let i = 0; i < catalog.items.length; i += step) {
        await this.repo.upsertItems(tx, catalog.items.slice(i, i + step));
        onProgress?.(Math.min(i + step, catalog.items.length), total);
      }
      await this.repo.upsertVariances(
        tx,
        catalog.implementations.map((v) => ({ code: implementationCode(v.itemCode, v.divisionCode), ...v })),
      );
      // Every server node rebuilds its search index when this commits.
      await tx.execute(sql`select pg_notify(${CATALOG_CHANGES_CHANNEL}, 'imported')`);
      onProgress?.(total, total);
    });
    return {
      items: catalog.items.length,
      materials: catalog.items.reduce((n, i) => n + i.materials.length, 0),
      variances: catalog.implementations.length,
      industries: new Set(catalog.items.map((i) => i.industry)).size,
    };
  }

  /**
   * Local variances already stored for the imported items (and not replaced by this file) must still fit
   * the new item definitions — e.g. a lowered legal limit must not leave a county's promise above it.
   */
  private async storedVarianceIssues(catalog: CatalogData): Promise<FieldIssue[]> {
    const items = new Map(catalog.items.map((i) => [i.code, i]));
    const inFile = new Set(catalog.implementations.map((v) => `${v.itemCode}-${v.divisionCode}`));
    const issues: FieldIssue[] = [];
    for (const stored of await this.repo.implementationsWithVariances()) {
      const item = items.get(stored.itemCode);
      if (!item || inFile.has(`${stored.itemCode}-${stored.divisionCode}`)) continue;
      for (const issue of varianceIssues(item, stored.variances, `stored implementation ${stored.code}`)) {
        issues.push({
          field: issue.field,
          message: `${issue.message} — the stored local variance of ${stored.divisionCode} no longer fits: change it in the 实施清单 sheet too`,
        });
      }
    }
    return issues;
  }

  /** Implementation rows must name existing divisions and halls (checked against the regions and halls modules). */
  private async referenceIssues(catalog: CatalogData): Promise<FieldIssue[]> {
    const divisions = await this.regions.existingCodes([
      ...new Set(catalog.implementations.map((v) => v.divisionCode)),
    ]);
    const hallCodes = [
      ...new Set(catalog.implementations.flatMap((v) => v.variances.acceptingHallCodes ?? [])),
    ];
    const halls = this.halls ? await this.halls.existingCodes(hallCodes) : new Set(hallCodes);
    const issues: FieldIssue[] = [];
    catalog.implementations.forEach((v, i) => {
      if (!divisions.has(v.divisionCode)) {
        issues.push({
          field: `implementations.${i}.divisionCode`,
          message: `${v.divisionCode} is not a division of this province; use a code from GET /api/v1/divisions`,
        });
      }
      (v.variances.acceptingHallCodes ?? []).forEach((h, j) => {
        if (!halls.has(h)) {
          issues.push({
            field: `implementations.${i}.variances.acceptingHallCodes.${j}`,
            message: `${h} is not a hall; hall codes look like 520102-zwfw (see GET /api/v1/halls)`,
          });
        }
      });
    });
    return issues;
  }

  /**
   * Reads, validates and imports a catalog file (.xlsx or .csv, layout in ./workbook.ts).
   * @throws AppError(validation) `catalog.invalid_file` with every sheet/row/column problem, or as
   *   readCatalogFile / {@link importCatalog}. Nothing changes on error.
   */
  async importFile(file: string, onProgress?: ProgressListener): Promise<ImportSummary> {
    return this.importCatalog(await readCatalogFile(file), onProgress);
  }

  /** The whole catalog in the import layout: items (by code) with materials, and every non-empty variance. */
  async exportCatalog(): Promise<CatalogData> {
    const items = await this.repo.allItems();
    const implementations: VarianceRow[] = (await this.repo.implementationsWithVariances()).map((i) => ({
      itemCode: i.itemCode,
      divisionCode: i.divisionCode,
      variances: i.variances,
    }));
    return { items, implementations };
  }

  /**
   * Creates the implementation list (实施清单) from the items and the departments: for every item, a
   * provincial standard implementation at `52`, plus one at every prefecture and county whose level is
   * among the item's exercise levels (A.2; township/village levels are served by their county's
   * implementation), each bound to the department of the item's kind at that division. Implementations
   * created by an import (variances) are bound too. Codes: `<basic code>-<division code>`. Idempotent;
   * variances are kept. One transaction.
   * @returns the number of implementations, and how many have no department of the item's kind (left unbound).
   */
  async seedImplementations(
    departments: DepartmentDirectory,
    onProgress?: ProgressListener,
  ): Promise<{ implementations: number; unbound: number }> {
    const items = await this.repo.allItems();
    const byKind = new Map<string, Map<string, { id: string; level: string }>>();
    const departmentsOf = async (kind: DepartmentKind) => {
      let map = byKind.get(kind);
      if (!map) {
        const list = await departments.listDepartments({ kind });
        map = new Map(list.map((d) => [d.divisionCode, { id: d.id, level: d.level }]));
        byKind.set(kind, map);
      }
      return map;
    };
    const bindings: ImplementationBinding[] = [];
    for (const [n, item] of items.entries()) {
      const depts = await departmentsOf(item.departmentKind);
      const divisions = new Set<string>([PROVINCE_CODE]);
      for (const [divisionCode, d] of depts) {
        if (
          SEEDED_LEVELS.includes(d.level as ExerciseLevel) &&
          item.exerciseLevels.includes(d.level as ExerciseLevel)
        ) {
          divisions.add(divisionCode);
        }
      }
      for (const existing of await this.repo.implementationsOf(item.code))
        divisions.add(existing.divisionCode);
      for (const divisionCode of divisions) {
        bindings.push({
          code: implementationCode(item.code, divisionCode),
          itemCode: item.code,
          divisionCode,
          departmentId: depts.get(divisionCode)?.id ?? null,
        });
      }
      onProgress?.(n + 1, items.length);
    }
    await this.repo.transaction(async (tx) => {
      await this.repo.upsertBindings(tx, bindings);
      await tx.execute(sql`select pg_notify(${CATALOG_CHANGES_CHANNEL}, 'bound')`);
    });
    return {
      implementations: bindings.length,
      unbound: bindings.filter((b) => b.departmentId === null).length,
    };
  }

  /**
   * The documents for the search index (CatalogSearchIndex): one per implementation, with the item's
   * name, aliases, industry label, service objects and popularity (on the provincial implementation).
   */
  async listSearchDocuments(): Promise<CatalogSearchDocument[]> {
    const items = new Map((await this.repo.allItems()).map((i) => [i.code, i]));
    const docs: CatalogSearchDocument[] = [];
    for (const impl of await this.repo.implementationKeys()) {
      const item = items.get(impl.itemCode);
      if (!item) continue;
      docs.push({
        id: impl.code,
        itemCode: item.code,
        name: item.name,
        aliases: item.aliases,
        industry: codeListLabel(INDUSTRIES, item.industry),
        divisionCode: impl.divisionCode,
        serviceObjects: item.serviceObjects,
        popularity: impl.divisionCode === PROVINCE_CODE ? item.popularity : 0,
      });
    }
    return docs;
  }

  /** Numbers for the startup summary. */
  counts(): Promise<{
    items: number;
    materials: number;
    implementations: number;
    boundImplementations: number;
    itemsWithoutStandard: number;
  }> {
    return this.repo.counts();
  }
}

/** Industry label for an identifier or label (search filter), or the text itself when unknown. */
export function industryLabel(text: string): string {
  if (Object.hasOwn(INDUSTRIES, text)) return INDUSTRIES[text as Industry].label;
  return text;
}

/** Cross-record checks of a catalog: unique codes, variances on known items within the legal limits. */
function crossCheck(catalog: CatalogData): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const items = new Map<string, ServiceItem>();
  catalog.items.forEach((item, i) => {
    if (items.has(item.code))
      issues.push({ field: `items.${i}.code`, message: `${item.code} appears twice; each item once` });
    items.set(item.code, item);
  });
  const seen = new Set<string>();
  catalog.implementations.forEach((v, i) => {
    const item = items.get(v.itemCode);
    if (!item) {
      issues.push({
        field: `implementations.${i}.itemCode`,
        message: `${v.itemCode} is not an item of this catalog`,
      });
      return;
    }
    issues.push(...varianceIssues(item, v.variances, `implementations.${i}.variances`));
    const key = `${v.itemCode}-${v.divisionCode}`;
    if (seen.has(key))
      issues.push({
        field: `implementations.${i}.divisionCode`,
        message: `${key} appears twice; one row per item and division`,
      });
    seen.add(key);
  });
  return issues;
}
