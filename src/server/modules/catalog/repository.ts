import { createHash } from 'node:crypto';
import { and, arrayContains, asc, desc, eq, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { Implementation, Material, ServiceItem, Variances } from '../../../domain/catalog.ts';
import type { Db, Tx } from '../../db/index.ts';
import { countAll, rowsOf, toInt } from '../../db/sql.ts';
import {
  catalogImplementations,
  catalogMaterials,
  catalogServiceItems,
  catalogState,
  type ItemDefinition,
} from './schema.ts';

/** Filters of the item list; all optional, combined with AND. */
export interface ItemFilter {
  industry?: string;
  itemType?: string;
  departmentKind?: string;
  serviceObject?: string;
  exerciseLevel?: string;
  /** 办理模式 identifier, e.g. `any_hall` (无差别办理). */
  processingMode?: string;
  /** Part of the name or of an alias (case-insensitive substring). */
  q?: string;
}

/** An implementation's binding to its department (seeding). */
export interface ImplementationBinding {
  code: string;
  itemCode: string;
  divisionCode: string;
  departmentId: string | null;
}

type ItemRow = typeof catalogServiceItems.$inferSelect;
type MaterialRow = typeof catalogMaterials.$inferSelect;
type ImplementationRow = typeof catalogImplementations.$inferSelect;

const BATCH = 500;

/** Canonical JSON (sorted keys): the same item always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/** SHA-256 (hex) of an item with its materials, for `content_hash`. */
function contentHashOf(item: ServiceItem): string {
  return createHash('sha256').update(canonical(item)).digest('hex');
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toMaterial(row: MaterialRow): Material {
  return {
    name: row.name,
    issuingBody: row.issuingBody,
    originalCount: row.originalCount,
    copyCount: row.copyCount,
    requirement: row.requirement as Material['requirement'],
    form: row.form as Material['form'],
    source: row.source as Material['source'],
    notes: row.notes,
  };
}

function toImplementation(row: ImplementationRow): Implementation {
  return {
    code: row.code,
    itemCode: row.itemCode,
    divisionCode: row.divisionCode,
    departmentId: row.departmentId,
    variances: row.variances,
  };
}

/** The only place with SQL for the catalog module. */
export class CatalogRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Inserts or replaces items and replaces their materials (inside `tx`); an item whose content (with its
   * materials) differs from the stored one, or a new one, is stamped with catalog `version`.
   */
  async upsertItems(tx: Tx, items: readonly ServiceItem[], version: number): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      const rows = batch.map((item) => {
        const { materials: _materials, ...definition } = item;
        return {
          code: item.code,
          name: item.name,
          itemType: item.itemType,
          industry: item.industry,
          departmentKind: item.departmentKind,
          exerciseLevels: item.exerciseLevels,
          serviceObjects: item.serviceObjects,
          popularity: item.popularity,
          sample: item.sample,
          definition: definition satisfies ItemDefinition,
          contentHash: contentHashOf(item),
          changedVersion: version,
        };
      });
      await tx
        .insert(catalogServiceItems)
        .values(rows)
        .onConflictDoUpdate({
          target: catalogServiceItems.code,
          set: {
            name: sql`excluded.name`,
            itemType: sql`excluded.item_type`,
            industry: sql`excluded.industry`,
            departmentKind: sql`excluded.department_kind`,
            exerciseLevels: sql`excluded.exercise_levels`,
            serviceObjects: sql`excluded.service_objects`,
            popularity: sql`excluded.popularity`,
            sample: sql`excluded.sample`,
            definition: sql`excluded.definition`,
            updatedAt: sql`now()`,
            changedVersion: sql`case when ${catalogServiceItems.contentHash} is distinct from excluded.content_hash then excluded.changed_version else ${catalogServiceItems.changedVersion} end`,
            contentHash: sql`excluded.content_hash`,
          },
        });
      await tx.delete(catalogMaterials).where(
        inArray(
          catalogMaterials.itemCode,
          batch.map((item) => item.code),
        ),
      );
      const materials = batch.flatMap((item) =>
        item.materials.map((m, seq) => ({ itemCode: item.code, seq: seq + 1, ...m })),
      );
      for (let j = 0; j < materials.length; j += BATCH) {
        await tx.insert(catalogMaterials).values(materials.slice(j, j + BATCH));
      }
    }
  }

  /**
   * Sets the variances of implementations, creating them (unbound, department null) when missing; a new
   * implementation or changed variances are stamped with catalog `version`.
   */
  async upsertVariances(
    tx: Tx,
    rows: readonly { code: string; itemCode: string; divisionCode: string; variances: Variances }[],
    version: number,
  ) {
    for (let i = 0; i < rows.length; i += BATCH) {
      await tx
        .insert(catalogImplementations)
        .values(rows.slice(i, i + BATCH).map((r) => ({ ...r, departmentId: null, changedVersion: version })))
        .onConflictDoUpdate({
          target: catalogImplementations.code,
          set: {
            variances: sql`excluded.variances`,
            changedVersion: sql`case when ${catalogImplementations.variances} is distinct from excluded.variances then excluded.changed_version else ${catalogImplementations.changedVersion} end`,
          },
        });
    }
  }

  /**
   * Creates implementations or rebinds their department, keeping their variances; a new implementation
   * or a changed department is stamped with catalog `version` (a rebinding that changes nothing is not).
   */
  async upsertBindings(tx: Tx, rows: readonly ImplementationBinding[], version: number): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      await tx
        .insert(catalogImplementations)
        .values(rows.slice(i, i + BATCH).map((r) => ({ ...r, variances: {}, changedVersion: version })))
        .onConflictDoUpdate({
          target: catalogImplementations.code,
          set: {
            departmentId: sql`coalesce(excluded.department_id, ${catalogImplementations.departmentId})`,
            changedVersion: sql`case when coalesce(excluded.department_id, ${catalogImplementations.departmentId}) is distinct from ${catalogImplementations.departmentId} then excluded.changed_version else ${catalogImplementations.changedVersion} end`,
          },
        });
    }
  }

  /**
   * Increments the catalog version counter and returns the new version. Call it FIRST in every transaction
   * that writes the catalog: the counter row stays locked until commit, so catalog writers commit in
   * version order (see catalogState).
   */
  async bumpVersion(tx: Tx): Promise<number> {
    const [row] = rowsOf<{ version: unknown }>(
      await tx.execute(sql`insert into ${catalogState} (id, version) values (1, 1)
        on conflict (id) do update set version = ${catalogState}.version + 1 returning version`),
    );
    return toInt(row!.version);
  }

  /**
   * The newest catalog version stamped on any committed item or implementation (0 for none). Every row
   * stamped with a version up to it is committed (writers commit in version order).
   */
  async currentVersion(): Promise<number> {
    const [row] = rowsOf<{ v: unknown }>(
      await this.db.execute(sql`select greatest(
        (select coalesce(max(changed_version), 0) from ${catalogServiceItems}),
        (select coalesce(max(changed_version), 0) from ${catalogImplementations})) as v`),
    );
    return toInt(row?.v ?? 0);
  }

  /**
   * Codes of the items whose guide for a division with ancestry `divisionCodes` may have changed after
   * catalog version `since` (up to `until`): the item itself changed, or one of its implementations along
   * the ancestry did.
   */
  async changedItemCodes(since: number, until: number, divisionCodes: readonly string[]): Promise<string[]> {
    const items = await this.db
      .select({ code: catalogServiceItems.code })
      .from(catalogServiceItems)
      .where(
        and(
          gt(catalogServiceItems.changedVersion, since),
          sql`${catalogServiceItems.changedVersion} <= ${until}`,
        ),
      );
    const impls =
      divisionCodes.length === 0
        ? []
        : await this.db
            .selectDistinct({ code: catalogImplementations.itemCode })
            .from(catalogImplementations)
            .where(
              and(
                inArray(catalogImplementations.divisionCode, [...divisionCodes]),
                gt(catalogImplementations.changedVersion, since),
                sql`${catalogImplementations.changedVersion} <= ${until}`,
              ),
            );
    return [...new Set([...items, ...impls].map((r) => r.code))].sort();
  }

  /** Items with their materials, ordered by code: those of `codes`, or every item when `codes` is undefined. */
  async itemsWithMaterials(codes?: readonly string[]): Promise<ServiceItem[]> {
    if (codes === undefined) return this.allItems();
    if (codes.length === 0) return [];
    const rows = await this.db
      .select()
      .from(catalogServiceItems)
      .where(inArray(catalogServiceItems.code, [...codes]))
      .orderBy(asc(catalogServiceItems.code));
    return this.withMaterials(rows, await this.materialsOf(rows.map((r) => r.code)));
  }

  /** Every implementation at any of `divisionCodes` (the ancestry of one division), of any item. */
  async implementationsAtDivisions(divisionCodes: readonly string[]): Promise<Implementation[]> {
    if (divisionCodes.length === 0) return [];
    const rows = await this.db
      .select()
      .from(catalogImplementations)
      .where(inArray(catalogImplementations.divisionCode, [...divisionCodes]));
    return rows.map(toImplementation);
  }

  private async materialsOf(codes: readonly string[]): Promise<Map<string, Material[]>> {
    const out = new Map<string, Material[]>();
    if (codes.length === 0) return out;
    const rows = await this.db
      .select()
      .from(catalogMaterials)
      .where(inArray(catalogMaterials.itemCode, [...codes]))
      .orderBy(asc(catalogMaterials.itemCode), asc(catalogMaterials.seq));
    for (const row of rows) {
      const list = out.get(row.itemCode) ?? [];
      list.push(toMaterial(row));
      out.set(row.itemCode, list);
    }
    return out;
  }

  private withMaterials(rows: ItemRow[], materials: Map<string, Material[]>): ServiceItem[] {
    // Definitions stored before items had forms carry no formFields: an empty form.
    return rows.map((row) => ({
      ...row.definition,
      formFields: row.definition.formFields ?? [],
      materials: materials.get(row.code) ?? [],
    }));
  }

  async findItem(code: string): Promise<ServiceItem | null> {
    const rows = await this.db.select().from(catalogServiceItems).where(eq(catalogServiceItems.code, code));
    if (rows.length === 0) return null;
    return this.withMaterials(rows, await this.materialsOf([code]))[0] ?? null;
  }

  /** Items matching `filter`, by popularity (desc) then code; `total` counts all matches. */
  async listItems(
    filter: ItemFilter,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; items: ItemDefinition[] }> {
    const where: SQL[] = [];
    if (filter.industry) where.push(eq(catalogServiceItems.industry, filter.industry));
    if (filter.itemType) where.push(eq(catalogServiceItems.itemType, filter.itemType));
    if (filter.departmentKind) where.push(eq(catalogServiceItems.departmentKind, filter.departmentKind));
    if (filter.serviceObject)
      where.push(arrayContains(catalogServiceItems.serviceObjects, [filter.serviceObject]));
    if (filter.exerciseLevel)
      where.push(arrayContains(catalogServiceItems.exerciseLevels, [filter.exerciseLevel]));
    if (filter.processingMode)
      where.push(
        sql`(${catalogServiceItems.definition}->'processingModes') @> jsonb_build_array(${filter.processingMode}::text)`,
      );
    if (filter.q) {
      const pattern = `%${escapeLike(filter.q)}%`;
      where.push(
        or(
          ilike(catalogServiceItems.name, pattern),
          sql`exists (select 1 from jsonb_array_elements_text(${catalogServiceItems.definition}->'aliases') as alias where alias ilike ${pattern})`,
        ) as SQL,
      );
    }
    const condition = and(...where);
    const [count] = await this.db.select({ n: countAll() }).from(catalogServiceItems).where(condition);
    const rows = await this.db
      .select({ definition: catalogServiceItems.definition })
      .from(catalogServiceItems)
      .where(condition)
      .orderBy(desc(catalogServiceItems.popularity), asc(catalogServiceItems.code))
      .limit(page.limit)
      .offset(page.offset);
    return { total: count?.n ?? 0, items: rows.map((r) => r.definition) };
  }

  /** Every item with its materials, ordered by code (export, seeding). */
  async allItems(): Promise<ServiceItem[]> {
    const rows = await this.db.select().from(catalogServiceItems).orderBy(asc(catalogServiceItems.code));
    return this.withMaterials(rows, await this.materialsOf(rows.map((r) => r.code)));
  }

  /** Every item's code, name, industry, popularity and service objects, by code (browse lists). */
  async summaries(): Promise<
    { code: string; name: string; industry: string; popularity: number; serviceObjects: string[] }[]
  > {
    return this.db
      .select({
        code: catalogServiceItems.code,
        name: catalogServiceItems.name,
        industry: catalogServiceItems.industry,
        popularity: catalogServiceItems.popularity,
        serviceObjects: catalogServiceItems.serviceObjects,
      })
      .from(catalogServiceItems)
      .orderBy(asc(catalogServiceItems.code));
  }

  /** Codes of the items with an implementation at any of `divisionCodes` (available there). */
  async itemCodesAt(divisionCodes: readonly string[]): Promise<Set<string>> {
    if (divisionCodes.length === 0) return new Set();
    const rows = await this.db
      .selectDistinct({ code: catalogImplementations.itemCode })
      .from(catalogImplementations)
      .where(inArray(catalogImplementations.divisionCode, [...divisionCodes]));
    return new Set(rows.map((r) => r.code));
  }

  /** Number of items per industry. */
  async countByIndustry(): Promise<{ industry: string; items: number }[]> {
    return this.db
      .select({ industry: catalogServiceItems.industry, items: countAll() })
      .from(catalogServiceItems)
      .groupBy(catalogServiceItems.industry)
      .orderBy(asc(catalogServiceItems.industry));
  }

  /** Implementations of `itemCode` at any of `divisionCodes`. */
  async implementationsAt(itemCode: string, divisionCodes: readonly string[]): Promise<Implementation[]> {
    if (divisionCodes.length === 0) return [];
    const rows = await this.db
      .select()
      .from(catalogImplementations)
      .where(
        and(
          eq(catalogImplementations.itemCode, itemCode),
          inArray(catalogImplementations.divisionCode, [...divisionCodes]),
        ),
      );
    return rows.map(toImplementation);
  }

  /** Every implementation of `itemCode`. */
  async implementationsOf(itemCode: string): Promise<Implementation[]> {
    const rows = await this.db
      .select()
      .from(catalogImplementations)
      .where(eq(catalogImplementations.itemCode, itemCode))
      .orderBy(asc(catalogImplementations.divisionCode));
    return rows.map(toImplementation);
  }

  /**
   * The implementations at exactly `divisionCode`, with their item's definition, ordered by item code;
   * `q` matches part of the item name or its basic code. `total` counts every match.
   */
  async implementationsOfDivision(filter: {
    divisionCode: string;
    q?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ total: number; rows: { implementation: Implementation; item: ItemDefinition }[] }> {
    const where: SQL[] = [eq(catalogImplementations.divisionCode, filter.divisionCode)];
    if (filter.q) {
      const pattern = `%${escapeLike(filter.q)}%`;
      where.push(
        or(ilike(catalogServiceItems.name, pattern), ilike(catalogServiceItems.code, pattern)) as SQL,
      );
    }
    const cond = and(...where);
    const [count] = await this.db
      .select({ n: countAll() })
      .from(catalogImplementations)
      .innerJoin(catalogServiceItems, eq(catalogServiceItems.code, catalogImplementations.itemCode))
      .where(cond);
    const rows = await this.db
      .select({ impl: catalogImplementations, definition: catalogServiceItems.definition })
      .from(catalogImplementations)
      .innerJoin(catalogServiceItems, eq(catalogServiceItems.code, catalogImplementations.itemCode))
      .where(cond)
      .orderBy(asc(catalogImplementations.itemCode))
      .limit(filter.limit)
      .offset(filter.offset);
    return {
      total: count?.n ?? 0,
      rows: rows.map((r) => ({ implementation: toImplementation(r.impl), item: r.definition })),
    };
  }

  /** One implementation by its 实施编码, locked for update when `tx` is given. */
  async implementationByCode(code: string, tx?: Tx): Promise<Implementation | undefined> {
    const q = (tx ?? this.db)
      .select()
      .from(catalogImplementations)
      .where(eq(catalogImplementations.code, code));
    const [row] = tx ? await q.for('update') : await q;
    return row ? toImplementation(row) : undefined;
  }

  /** Replaces the variances of one implementation inside `tx`, stamped with catalog `version`. */
  async setVariances(tx: Tx, code: string, variances: Variances, version: number): Promise<void> {
    await tx
      .update(catalogImplementations)
      .set({ variances, changedVersion: version })
      .where(eq(catalogImplementations.code, code));
  }

  /** Implementations that carry at least one variance, by item then division (export). */
  async implementationsWithVariances(): Promise<Implementation[]> {
    const rows = await this.db
      .select()
      .from(catalogImplementations)
      .where(sql`${catalogImplementations.variances} <> '{}'::jsonb`)
      .orderBy(asc(catalogImplementations.itemCode), asc(catalogImplementations.divisionCode));
    return rows.map(toImplementation);
  }

  /** Every implementation's code, item and division (search documents), by code. */
  async implementationKeys(): Promise<{ code: string; itemCode: string; divisionCode: string }[]> {
    return this.db
      .select({
        code: catalogImplementations.code,
        itemCode: catalogImplementations.itemCode,
        divisionCode: catalogImplementations.divisionCode,
      })
      .from(catalogImplementations)
      .orderBy(asc(catalogImplementations.code));
  }

  async counts(): Promise<{
    items: number;
    materials: number;
    implementations: number;
    boundImplementations: number;
    itemsWithoutStandard: number;
  }> {
    const [items] = await this.db.select({ n: countAll() }).from(catalogServiceItems);
    const [materials] = await this.db.select({ n: countAll() }).from(catalogMaterials);
    const [impls] = await this.db.select({ n: countAll() }).from(catalogImplementations);
    const [bound] = await this.db
      .select({ n: countAll() })
      .from(catalogImplementations)
      .where(sql`${catalogImplementations.departmentId} is not null`);
    // Items without their provincial standard implementation (e.g. an import whose binding step was cut off).
    const [missing] = await this.db
      .select({ n: countAll() })
      .from(catalogServiceItems)
      .where(
        sql`not exists (select 1 from ${catalogImplementations} where ${catalogImplementations.itemCode} = ${catalogServiceItems.code} and ${catalogImplementations.divisionCode} = '52')`,
      );
    return {
      items: items?.n ?? 0,
      materials: materials?.n ?? 0,
      implementations: impls?.n ?? 0,
      boundImplementations: bound?.n ?? 0,
      itemsWithoutStandard: missing?.n ?? 0,
    };
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }
}
