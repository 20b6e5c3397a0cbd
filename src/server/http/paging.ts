import { z } from 'zod';

/**
 * Offset paging shared by list routes (catalog items, staff, implementation lists).
 *
 * Query: `limit` (1…max, default `fallback`) and `offset` (≥ 0, default 0), coerced from the query string;
 * an optional `q` (≤ 64 characters) filters. Answer: `{ total, limit, offset, items }` where `total` counts
 * every match, not only this page.
 */
export function offsetQuery(opts: { max: number; fallback: number; q?: string }) {
  return z.object({
    q: z
      .string()
      .max(64)
      .optional()
      .describe(opts.q ?? 'filter text'),
    limit: z.coerce.number().int().min(1).max(opts.max).default(opts.fallback),
    offset: z.coerce.number().int().min(0).default(0),
  });
}

/** The answer of an offset-paged list of `item` (see {@link offsetQuery}). */
export function offsetPage<T extends z.ZodType>(item: T) {
  return z.object({
    total: z.number().int().describe('every match, not only this page'),
    limit: z.number().int(),
    offset: z.number().int(),
    items: z.array(item),
  });
}
