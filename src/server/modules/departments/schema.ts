import { boolean, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * 部门 competent departments (实施主体), one per kind per division at province, prefecture and county
 * level, each identified by its unified social credit code (统一社会信用代码, GB 32100).
 * `sample` marks generated sample data (the credit codes are valid in form but not real registrations).
 */
export const departments = pgTable(
  'departments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    creditCode: text('credit_code').notNull().unique(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    divisionCode: text('division_code').notNull(),
    level: text('level', { enum: ['province', 'prefecture', 'county'] }).notNull(),
    sample: boolean('sample').notNull().default(true),
  },
  (t) => [
    uniqueIndex('departments_division_kind_idx').on(t.divisionCode, t.kind),
    index('departments_kind_idx').on(t.kind),
  ],
);
