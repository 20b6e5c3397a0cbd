import { type SQL, sql } from 'drizzle-orm';

/**
 * The one place where driver differences in result types are normalised.
 * PGlite returns `count(*)` (bigint) as a JS number; node-postgres returns it as a string.
 */
export function toInt(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number.parseInt(value, 10);
  throw new TypeError(`expected an integer from the database, got ${typeof value}`);
}

/** `count(*)` as a JS number on both drivers. */
export function countAll(): SQL<number> {
  return sql<number>`count(*)`.mapWith(toInt);
}

/** Rows of a raw `db.execute(sql…)` result on either driver (both expose `.rows`). */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
