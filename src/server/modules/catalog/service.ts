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
  VARIANCE_FIELDS,
  type Variances,
  VariancesSchema,
  varianceIssues,
} from '../../../domain/catalog.ts';
import type { DepartmentKind } from '../../../domain/department.ts';
import { countyCodeOf, parseDivisionCode } from '../../../domain/division-code.ts';
import { AppError, type FieldIssue, invalid, invalidMany, notFound } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { Principal } from '../identity/principal.ts';
import { PROVINCE_CODE } from './constants.ts';
import { type LifeEvent, loadLifeEvents } from './life-events.ts';
import { authorizeCatalogExport, authorizeCatalogImport, authorizeImplementation } from './policy.ts';
import { CatalogRepository, type ImplementationBinding, type ItemFilter } from './repository.ts';
import type { ItemDefinition } from './schema.ts';
import {
  type CatalogData,
  type CatalogDataInput,
  CatalogDataSchema,
  type CatalogFileFormat,
  issueLocation,
  readCatalogBuffer,
  readCatalogFile,
  type VarianceRow,
  writeCatalogCsv,
  writeCatalogXlsx,
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

export { PROVINCE_CODE };

const SEEDED_LEVELS: readonly ExerciseLevel[] = ['prefecture', 'county'];

/** Default largest catalog workbook accepted over HTTP: 10 MiB (the province's whole catalog is ≈ 1 MiB). */
export const DEFAULT_IMPORT_MAX_BYTES = 10 * 1024 * 1024;

/** What a county may vary, with the rule of each field — said in every refusal of a variance. */
export const VARIANCE_RULES =
  'A division may vary only: promisedTimeLimit (承诺办结时限, at most the legal limit; 0 for a 即办件), fees (收费), notes (补充说明, 1–2000 characters) and acceptingHallCodes (受理大厅, existing halls). The legal time limit, the materials, the conditions and every other field are the provincial standard (基本目录): change them by a catalog import.';

/** One implementation of a division as the admin workbench shows it. */
export interface ImplementationAdminView {
  code: string;
  itemCode: string;
  itemName: string;
  divisionCode: string;
  departmentId: string | null;
  variances: Variances;
  /** The provincial standard of the variable fields (what an absent variance inherits at the top). */
  standard: {
    legalTimeLimit: ServiceItem['legalTimeLimit'];
    promisedTimeLimit: ServiceItem['promisedTimeLimit'];
    fees: ServiceItem['fees'];
    caseType: ServiceItem['caseType'];
  };
}

/** The service object (服务对象) of the items the citizen app shows: natural persons (自然人). */
export const CITIZEN_SERVICE_OBJECT = 'natural_person';

/** Format number of the offline sync cursor: a new one makes every client sync in full once. */
const SYNC_CURSOR_FORMAT = 'c1';

/**
 * What changed in the catalog for one division since a cursor (offline sync, see {@link CatalogService.syncGuides}).
 */
export interface CatalogSyncSlice {
  /** Opaque; send it back as `since` to get only what changed after this answer. */
  cursor: string;
  /** true: `guides` is everything (no cursor, or one this server no longer recognises). */
  full: boolean;
  /** Resolved guides (the shape of GET …/guide), by item code. */
  guides: Guide[];
  /** Codes of items the client holds that are no longer shown here (delta only). */
  removed: string[];
}

/** A popular item of a county (see {@link CatalogService.popular}). */
export interface PopularItem {
  code: string;
  name: string;
  /** 所属行业 identifier, e.g. social_insurance. */
  industry: string;
  /** 所属行业 中文 label, e.g. 社会保险. */
  industryLabel: string;
  /** Cases filed in the county in the window (0 when none). */
  cases: number;
  /** The catalog's 热度 (0–100). */
  popularity: number;
  /** Why it is ranked here: local `cases` (enough of them), or the catalog `popularity` (fallback). */
  basis: 'cases' | 'popularity';
}

/** A life event with the name and industry of each of its items (browse screen). */
export interface LifeEventView extends LifeEvent {
  items: { code: string; name: string; industry: string; industryLabel: string }[];
}

/** Cases an item needs in the window to be ranked by local demand rather than by catalog popularity. */
export const POPULAR_MIN_CASES = 3;

/** A problem of an uploaded catalog, with its place in the workbook when it has one. */
export interface ImportIssue {
  field: string;
  message: string;
  sheet: string | null;
  row: number | null;
  column: string | null;
}

/** What an upload did or would do. */
export interface ImportUploadResult {
  dryRun: boolean;
  valid: boolean;
  applied: boolean;
  summary: ImportSummary | null;
  issues: ImportIssue[];
  /** After an applied import: the implementation list bound to departments. */
  implementations: { implementations: number; unbound: number } | null;
}

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
  private readonly audit: AuditService | undefined;
  private readonly clock: () => Date;
  /** Largest catalog workbook accepted over HTTP, bytes (CATALOG_IMPORT_MAX_BYTES). */
  readonly importMaxBytes: number;
  /** data/catalog/life-events.json, read on first use. */
  private lifeEventsFile: LifeEvent[] | undefined;

  constructor(
    db: Db,
    deps: {
      regions: DivisionAncestrySource;
      departments?: DepartmentLookup;
      halls?: HallCodeLookup;
      audit?: AuditService;
      clock?: () => Date;
      importMaxBytes?: number;
    },
  ) {
    this.repo = new CatalogRepository(db);
    this.regions = deps.regions;
    this.halls = deps.halls;
    this.departments = deps.departments;
    this.audit = deps.audit;
    this.clock = deps.clock ?? (() => new Date());
    this.importMaxBytes = deps.importMaxBytes ?? DEFAULT_IMPORT_MAX_BYTES;
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

  // ================================================================================ citizen app

  /**
   * Offline catalog sync (离线可办) for one division (6/9/12-digit county, township or village code): the
   * resolved guides ({@link getGuide}'s shape) of every item the citizen app shows there — items serving
   * natural persons (`serviceObjects` ∋ natural_person) with an implementation along the division's
   * ancestry. With the `since` cursor of an earlier answer for the same division, only the guides that
   * changed after it (the item, its materials, or one of its implementations along the ancestry: variances
   * or department binding) and, in `removed`, the codes of changed items no longer shown; without one, or
   * with one that is malformed, of another division or format, or newer than this catalog (a restored
   * database), everything (`full: true`). The cursor is the catalog version (see catalogState): writers
   * commit in version order, so no change is skipped. Department renames are not tracked (rare; the next
   * full sync carries them).
   * @throws AppError(validation, `division.format`/`division.length`/`division.above_county`, field
   *   `division`); AppError(not_found, `division.not_found`).
   */
  async syncGuides(divisionCode: string, since?: string): Promise<CatalogSyncSlice> {
    const code = parseDivisionCode(divisionCode, 'division').code;
    countyCodeOf(code);
    const ancestry = (await this.regions.getAncestry(code, 'division')).map((d) => d.code);
    const version = await this.repo.currentVersion();
    const from = parseSyncCursor(since, code, version);
    const items =
      from === null
        ? await this.repo.itemsWithMaterials()
        : await this.repo.itemsWithMaterials(await this.repo.changedItemCodes(from, version, ancestry));
    const implementations = await this.repo.implementationsAtDivisions(ancestry);
    const byItem = new Map<string, Implementation[]>();
    for (const impl of implementations) {
      const list = byItem.get(impl.itemCode) ?? [];
      list.push(impl);
      byItem.set(impl.itemCode, list);
    }
    const guides: Guide[] = [];
    const removed: string[] = [];
    const departments = new Map<string, Guide['department']>();
    for (const item of items) {
      const impls = byItem.get(item.code) ?? [];
      if (!item.serviceObjects.includes(CITIZEN_SERVICE_OBJECT) || impls.length === 0) {
        removed.push(item.code);
        continue;
      }
      const guide = resolveGuide(item, impls, ancestry);
      const departmentId = guide.implementation?.departmentId;
      let department: Guide['department'] = null;
      if (departmentId && this.departments) {
        if (!departments.has(departmentId)) {
          const d = await this.departments.getDepartment(departmentId).catch(() => null);
          departments.set(
            departmentId,
            d ? { id: d.id, name: d.name, creditCode: d.creditCode, divisionCode: d.divisionCode } : null,
          );
        }
        department = departments.get(departmentId) ?? null;
      }
      guides.push({ ...guide, department });
    }
    return {
      cursor: `${SYNC_CURSOR_FORMAT}.${code}.${version}`,
      full: from === null,
      guides,
      removed: from === null ? [] : removed,
    };
  }

  /**
   * Popular services for a county (热门服务), at most `limit` (1–50): items the citizen app shows there,
   * ranked first by the cases filed in the county in the recent window (`filed`, from the case engine) —
   * for items with at least {@link POPULAR_MIN_CASES} cases — then, to fill the list (or entirely, when
   * the county has too few cases), by the catalog's 热度 (`popularity`), then by code.
   * @throws as {@link syncGuides} for the division.
   */
  async popular(
    divisionCode: string,
    filed: readonly { itemCode: string; cases: number }[],
    limit = 10,
  ): Promise<PopularItem[]> {
    const code = parseDivisionCode(divisionCode, 'division').code;
    countyCodeOf(code);
    const ancestry = (await this.regions.getAncestry(code, 'division')).map((d) => d.code);
    const available = await this.repo.itemCodesAt(ancestry);
    const counts = new Map(filed.map((f) => [f.itemCode, f.cases]));
    const items = (await this.repo.summaries())
      .filter((i) => i.serviceObjects.includes(CITIZEN_SERVICE_OBJECT) && available.has(i.code))
      .map((i): PopularItem => {
        const cases = counts.get(i.code) ?? 0;
        return {
          code: i.code,
          name: i.name,
          industry: i.industry,
          industryLabel: codeListLabel(INDUSTRIES, i.industry),
          cases,
          popularity: i.popularity,
          basis: cases >= POPULAR_MIN_CASES ? 'cases' : 'popularity',
        };
      });
    items.sort(
      (a, b) =>
        (a.basis === 'cases' ? 0 : 1) - (b.basis === 'cases' ? 0 : 1) ||
        (a.basis === 'cases' ? b.cases - a.cases : 0) ||
        b.popularity - a.popularity ||
        a.code.localeCompare(b.code),
    );
    return items.slice(0, Math.max(1, Math.min(50, limit)));
  }

  /**
   * The life events (人生事件) of the citizen app's browse screen, from data/catalog/life-events.json, each
   * with the name and industry of its items — only items of this catalog that the citizen app shows
   * (unknown codes are left out; an event left without items is left out).
   */
  async lifeEvents(): Promise<LifeEventView[]> {
    this.lifeEventsFile ??= loadLifeEvents();
    const items = new Map(
      (await this.repo.summaries())
        .filter((i) => i.serviceObjects.includes(CITIZEN_SERVICE_OBJECT))
        .map((i) => [i.code, i]),
    );
    return this.lifeEventsFile
      .map((e) => {
        const codes = e.itemCodes.filter((c) => items.has(c));
        return {
          ...e,
          itemCodes: codes,
          items: codes.map((c) => {
            const i = items.get(c)!;
            return {
              code: c,
              name: i.name,
              industry: i.industry,
              industryLabel: codeListLabel(INDUSTRIES, i.industry),
            };
          }),
        };
      })
      .filter((e) => e.itemCodes.length > 0);
  }

  /** Every implementation (实施清单 row) of an item, by division. @throws as {@link getItem}. */
  async listImplementations(code: string): Promise<Implementation[]> {
    await this.getItem(code);
    return this.repo.implementationsOf(code);
  }

  // ================================================================================ administration

  /**
   * The implementation list (实施清单) of one division for its administrator: the implementations at exactly
   * that division, with the item's name and the provincial standard of each variable field, by item code;
   * `q` matches part of the item name or code. @throws 401; 403 `implementation.out_of_scope`; 400/404 for
   * a bad division.
   */
  async listDivisionImplementations(
    principal: Principal | null,
    divisionCode: string,
    query: { q?: string | undefined; limit: number; offset: number },
  ): Promise<{ total: number; limit: number; offset: number; items: ImplementationAdminView[] }> {
    const code = parseDivisionCode(divisionCode, 'division').code;
    authorizeImplementation(principal, code, this.clock());
    await this.regions.getAncestry(code, 'division');
    const page = await this.repo.implementationsOfDivision({
      divisionCode: code,
      ...(query.q?.trim() ? { q: query.q.trim() } : {}),
      limit: query.limit,
      offset: query.offset,
    });
    return {
      total: page.total,
      limit: query.limit,
      offset: query.offset,
      items: page.rows.map((r) => adminView(r.implementation, r.item)),
    };
  }

  /**
   * Replaces the local variances of one implementation (absent field = inherit from the parent division,
   * then the provincial standard; `{}` clears them all). Checked against the item: the promised limit at
   * most the legal one (行政许可法 art. 42; 0 for a 即办件), fees well formed, accepting halls that exist;
   * any other field is refused with {@link VARIANCE_RULES}. One transaction with the audit entry
   * (`implementation.variances_update`, before/after, the division).
   * @throws 400 `implementation.invalid_variances` listing every field; 401; 403
   *   `implementation.out_of_scope`; 404 `catalog.implementation_not_found`.
   */
  async setVariances(
    principal: Principal | null,
    code: string,
    input: unknown,
    reason?: string,
  ): Promise<ImplementationAdminView> {
    const impl = await this.repo.implementationByCode(code);
    if (!impl)
      throw notFound(
        'catalog.implementation_not_found',
        `No implementation ${code}. 实施编码 look like 050004001000-520526.`,
        'code',
      );
    const p = authorizeImplementation(principal, impl.divisionCode, this.clock());
    const item = await this.getItem(impl.itemCode);
    const issues: FieldIssue[] = [];
    let variances: Variances = {};
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      issues.push({ field: 'variances', message: `send an object of variances. ${VARIANCE_RULES}` });
    } else {
      const allowed = new Set<string>(VARIANCE_FIELDS);
      for (const key of Object.keys(input))
        if (!allowed.has(key))
          issues.push({
            field: `variances.${key}`,
            message: `${key} may not be varied locally. ${VARIANCE_RULES}`,
          });
      const parsed = VariancesSchema.safeParse(
        Object.fromEntries(Object.entries(input).filter(([k]) => allowed.has(k))),
      );
      if (!parsed.success)
        issues.push(
          ...parsed.error.issues.map((i) => ({
            field: ['variances', ...i.path].join('.'),
            message: i.message,
          })),
        );
      else {
        variances = parsed.data;
        issues.push(...varianceIssues(item, variances));
        const halls = variances.acceptingHallCodes ?? [];
        const known = this.halls ? await this.halls.existingCodes(halls) : new Set(halls);
        halls.forEach((h, j) => {
          if (!known.has(h))
            issues.push({
              field: `variances.acceptingHallCodes.${j}`,
              message: `${h} is not a hall; hall codes look like 520102-zwfw (see GET /api/v1/halls)`,
            });
        });
      }
    }
    if (issues.length > 0)
      throw invalidMany(
        'implementation.invalid_variances',
        `The variances are not allowed; nothing was changed. ${VARIANCE_RULES}`,
        issues,
      );
    await this.repo.transaction(async (tx) => {
      const version = await this.repo.bumpVersion(tx);
      const before = (await this.repo.implementationByCode(code, tx))?.variances ?? {};
      await this.repo.setVariances(tx, code, variances, version);
      await this.audit?.append(tx, {
        actor: { kind: p.kind, id: p.accountId },
        action: 'implementation.variances_update',
        target: { type: 'implementation', id: code },
        ...(reason?.trim() ? { purpose: reason.trim() } : {}),
        details: { divisionCode: impl.divisionCode, itemCode: impl.itemCode, before, after: variances },
      });
    });
    return adminView({ ...impl, variances }, item);
  }

  /**
   * Imports an uploaded catalog workbook (.xlsx or .csv, the layout of ./workbook.ts) for a province
   * administrator. `dryRun`: reads and checks everything the import checks (cells, cross-row rules, stored
   * variances, divisions and halls) and reports every problem by sheet / row / column, changing nothing.
   * Otherwise imports it in ONE transaction with the implementation list of its items bound to their
   * departments and the audit entry (`admin.catalog_import`): all or nothing. An invalid
   * file changes nothing: `valid: false` with the issues (dry run), or 400 `catalog.invalid_file` /
   * `catalog.invalid_import` (apply).
   * @throws 401; 403 `catalog.province_admin_only`; 400 as above; 413 beyond {@link importMaxBytes}.
   */
  async importUpload(
    principal: Principal | null,
    file: Buffer,
    options: { format: CatalogFileFormat; dryRun: boolean; directory: DepartmentDirectory; reason?: string },
  ): Promise<ImportUploadResult> {
    const p = authorizeCatalogImport(principal, this.clock());
    if (file.length > this.importMaxBytes)
      throw new AppError(
        'payload_too_large',
        'catalog.file_too_large',
        `The workbook has ${file.length} bytes; at most ${this.importMaxBytes} are accepted (CATALOG_IMPORT_MAX_BYTES).`,
      );
    if (file.length === 0)
      throw invalid('file', 'The upload is empty: send the workbook as the body.', 'catalog.unreadable_file');
    if (options.dryRun) {
      try {
        const catalog = await this.validateCatalog(await readCatalogBuffer(file, options.format));
        return {
          dryRun: true,
          valid: true,
          applied: false,
          summary: summaryOf(catalog),
          issues: [],
          implementations: null,
        };
      } catch (e) {
        if (!(e instanceof AppError) || e.kind !== 'validation') throw e;
        const issues = e.issues?.length ? e.issues : [{ field: e.field ?? 'file', message: e.message }];
        return {
          dryRun: true,
          valid: false,
          applied: false,
          summary: null,
          issues: issues.map((i) => ({ ...i, ...issueLocation(i.field) })),
          implementations: null,
        };
      }
    }
    const catalog = await this.validateCatalog(await readCatalogBuffer(file, options.format));
    // The implementation list of the imported items, planned before the transaction (it reads the
    // departments) and written in it: items, variances, bindings and the audit entry commit together.
    const bindings = await this.planBindings(catalog.items, options.directory, catalog.implementations);
    const summary = await this.writeCatalog(catalog, undefined, async (tx, s, version) => {
      await this.repo.upsertBindings(tx, bindings, version);
      await this.audit?.append(tx, {
        actor: { kind: p.kind, id: p.accountId },
        action: 'admin.catalog_import',
        target: { type: 'catalog', id: 'workbook' },
        ...(options.reason?.trim() ? { purpose: options.reason.trim() } : {}),
        details: { divisionCode: PROVINCE_CODE, format: options.format, bytes: file.length, ...s },
      });
    });
    return {
      dryRun: false,
      valid: true,
      applied: true,
      summary,
      issues: [],
      implementations: bindingCounts(bindings),
    };
  }

  /**
   * The whole catalog as a workbook download (.xlsx, or .csv) in the import layout, for administrators of
   * implementation lists. @throws 401; 403 `catalog.admin_only`.
   */
  async exportWorkbook(principal: Principal | null, format: CatalogFileFormat): Promise<Buffer> {
    authorizeCatalogExport(principal, this.clock());
    const data = await this.exportCatalog();
    return format === 'xlsx' ? writeCatalogXlsx(data) : Buffer.from(writeCatalogCsv(data), 'utf8');
  }

  /**
   * Imports a catalog (items with materials, and local variances) in ONE transaction: items are inserted
   * or replaced by basic code (their materials replaced), variances set on the implementation of
   * item + division (created unbound if missing). Items not in `data` are kept. Validated first: an
   * invalid catalog changes nothing.
   * @throws AppError(validation, `catalog.invalid_import`) listing every problem (fields like `items.3.name`).
   */
  /**
   * Every check of {@link importCatalog} (schema, cross-record, stored variances, divisions and halls that
   * exist) without writing anything: the catalog as it would be imported.
   * @throws AppError(validation, `catalog.invalid_import`) listing every problem.
   */
  async validateCatalog(data: CatalogDataInput): Promise<CatalogData> {
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
    return catalog;
  }

  async importCatalog(
    data: CatalogDataInput,
    onProgress?: ProgressListener,
    inTransaction?: (tx: Tx, summary: ImportSummary, version: number) => Promise<void>,
  ): Promise<ImportSummary> {
    return this.writeCatalog(await this.validateCatalog(data), onProgress, inTransaction);
  }

  /**
   * Writes a catalog checked by {@link validateCatalog} in ONE transaction (see {@link importCatalog}),
   * under a new catalog version (rows it changes are stamped with it, for the offline sync).
   */
  private async writeCatalog(
    catalog: CatalogData,
    onProgress?: ProgressListener,
    inTransaction?: (tx: Tx, summary: ImportSummary, version: number) => Promise<void>,
  ): Promise<ImportSummary> {
    const summary = summaryOf(catalog);
    const total = catalog.items.length + catalog.implementations.length;
    const step = 50;
    await this.repo.transaction(async (tx) => {
      const version = await this.repo.bumpVersion(tx);
      for (let i = 0; i < catalog.items.length; i += step) {
        await this.repo.upsertItems(tx, catalog.items.slice(i, i + step), version);
        onProgress?.(Math.min(i + step, catalog.items.length), total);
      }
      await this.repo.upsertVariances(
        tx,
        catalog.implementations.map((v) => ({ code: implementationCode(v.itemCode, v.divisionCode), ...v })),
        version,
      );
      await inTransaction?.(tx, summary, version);
      // Every server node rebuilds its search index when this commits.
      await tx.execute(sql`select pg_notify(${CATALOG_CHANGES_CHANNEL}, 'imported')`);
      onProgress?.(total, total);
    });
    return summary;
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
    const bindings = await this.planBindings(await this.repo.allItems(), departments, [], onProgress);
    await this.repo.transaction(async (tx) => {
      await this.repo.upsertBindings(tx, bindings, await this.repo.bumpVersion(tx));
      await tx.execute(sql`select pg_notify(${CATALOG_CHANGES_CHANNEL}, 'bound')`);
    });
    return bindingCounts(bindings);
  }

  /**
   * The implementations (实施清单) `items` should have, bound to their departments (see
   * {@link seedImplementations}): the province, the prefectures and counties of their exercise levels, the
   * divisions they already have and the divisions of `variances` (rows about to be imported). Reads only
   * (departments and stored implementations): call it before a transaction.
   */
  private async planBindings(
    items: readonly ServiceItem[],
    departments: DepartmentDirectory,
    variances: readonly VarianceRow[] = [],
    onProgress?: ProgressListener,
  ): Promise<ImplementationBinding[]> {
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
      for (const v of variances) if (v.itemCode === item.code) divisions.add(v.divisionCode);
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
    return bindings;
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

function adminView(impl: Implementation, item: ItemDefinition | ServiceItem): ImplementationAdminView {
  return {
    code: impl.code,
    itemCode: impl.itemCode,
    itemName: item.name,
    divisionCode: impl.divisionCode,
    departmentId: impl.departmentId,
    variances: impl.variances,
    standard: {
      legalTimeLimit: item.legalTimeLimit,
      promisedTimeLimit: item.promisedTimeLimit,
      fees: item.fees,
      caseType: item.caseType,
    },
  };
}

function bindingCounts(bindings: readonly ImplementationBinding[]): {
  implementations: number;
  unbound: number;
} {
  return {
    implementations: bindings.length,
    unbound: bindings.filter((b) => b.departmentId === null).length,
  };
}

function summaryOf(catalog: CatalogData): ImportSummary {
  return {
    items: catalog.items.length,
    materials: catalog.items.reduce((n, i) => n + i.materials.length, 0),
    variances: catalog.implementations.length,
    industries: new Set(catalog.items.map((i) => i.industry)).size,
  };
}

/**
 * The catalog version an offline sync cursor stands for, or null when it cannot be used (absent,
 * malformed, another format or division, or newer than the catalog): then the sync is full.
 */
function parseSyncCursor(cursor: string | undefined, divisionCode: string, current: number): number | null {
  if (!cursor) return null;
  const m = /^([a-z0-9]+)\.(\d{2,12})\.(\d{1,15})$/.exec(cursor);
  if (!m || m[1] !== SYNC_CURSOR_FORMAT || m[2] !== divisionCode) return null;
  const version = Number(m[3]);
  return Number.isSafeInteger(version) && version <= current ? version : null;
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
