import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { ServiceItem, Variances } from '../../../domain/catalog.ts';

/** The stored definition of an item: every ServiceItem field but its materials (kept in catalog_materials). */
export type ItemDefinition = Omit<ServiceItem, 'materials'>;

/**
 * 政务服务事项 (基本目录, GB/T 39046-2020 table 4): one row per service item. `definition` is the whole
 * validated item (without materials) and is authoritative; the other columns copy the fields that lists
 * filter and sort on, written together with it by the repository.
 */
export const catalogServiceItems = pgTable(
  'catalog_service_items',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    itemType: text('item_type').notNull(),
    industry: text('industry').notNull(),
    departmentKind: text('department_kind').notNull(),
    exerciseLevels: text('exercise_levels').array().notNull(),
    serviceObjects: text('service_objects').array().notNull(),
    popularity: integer('popularity').notNull().default(0),
    sample: boolean('sample').notNull(),
    definition: jsonb('definition').$type<ItemDefinition>().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** SHA-256 of the whole item with its materials (canonical JSON): an import that changes nothing is no change. */
    contentHash: text('content_hash'),
    /** The catalog version ({@link catalogState}) that last changed the item or its materials (offline sync). */
    changedVersion: bigint('changed_version', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('catalog_items_industry_idx').on(t.industry),
    index('catalog_items_item_type_idx').on(t.itemType),
    index('catalog_items_department_kind_idx').on(t.departmentKind),
    index('catalog_items_changed_version_idx').on(t.changedVersion),
  ],
);

/**
 * 申请材料: one row per material of an item, numbered by `seq` (1-based, the 序号 of the 材料 sheet).
 * Its own table rather than jsonb inside the item: materials are rows of their own sheet on import and
 * export, and cases (材料流转 custody) will reference one material as (item_code, seq).
 */
export const catalogMaterials = pgTable(
  'catalog_materials',
  {
    itemCode: text('item_code')
      .notNull()
      .references(() => catalogServiceItems.code, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    issuingBody: text('issuing_body').notNull(),
    originalCount: integer('original_count').notNull(),
    copyCount: integer('copy_count').notNull(),
    requirement: text('requirement').notNull(),
    form: text('form').notNull(),
    source: text('source').notNull(),
    notes: text('notes').notNull().default(''),
  },
  (t) => [primaryKey({ columns: [t.itemCode, t.seq] })],
);

/**
 * 实施清单: an item as the department of its kind at one division implements it. `code` is the 实施编码
 * `<basic code>-<division code>`; `department_id` refers to the departments module by id (no foreign key
 * across modules) and is null until bound; `variances` holds the local differences (empty = inherit all).
 */
export const catalogImplementations = pgTable(
  'catalog_implementations',
  {
    code: text('code').primaryKey(),
    itemCode: text('item_code')
      .notNull()
      .references(() => catalogServiceItems.code, { onDelete: 'cascade' }),
    divisionCode: text('division_code').notNull(),
    departmentId: uuid('department_id'),
    variances: jsonb('variances').$type<Variances>().notNull().default(sql`'{}'::jsonb`),
    /** The catalog version ({@link catalogState}) that last changed the variances or the department binding. */
    changedVersion: bigint('changed_version', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('catalog_implementations_item_division_idx').on(t.itemCode, t.divisionCode),
    index('catalog_implementations_division_idx').on(t.divisionCode),
  ],
);

/**
 * The catalog version counter (one row, id 1): every transaction that writes the catalog increments it
 * FIRST and stamps the rows it changes with the new value (`changed_version`). The row lock is held until
 * commit, so writers commit in version order: once a version is visible, every smaller one is committed —
 * the offline sync's cursor ("everything up to version v") never skips a slower writer.
 */
export const catalogState = pgTable('catalog_state', {
  id: integer('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});
