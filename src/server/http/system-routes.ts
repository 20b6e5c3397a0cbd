import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import type { Services } from '../services.ts';
import { type LoadSummary, summarize } from '../services.ts';

const LevelCounts = z.object({
  province: z.number().int(),
  prefecture: z.number().int(),
  county: z.number().int(),
  township: z.number().int(),
  village: z.number().int(),
});

/** `GET /health`: liveness plus a database round trip (`select 1`) and what is loaded (cached 30 s). */
export function systemRoutes(deps: { database: Database; services: Services }): FastifyPluginAsyncZod {
  // The counts are cached for 30 s: health checks are frequent and must stay cheap at province scale.
  let cache: { at: number; value: Promise<LoadSummary> } | undefined;
  const loaded = (): Promise<LoadSummary> => {
    if (!cache || Date.now() - cache.at > 30_000) {
      cache = { at: Date.now(), value: summarize(deps.services) };
      cache.value.catch(() => {
        cache = undefined;
      });
    }
    return cache.value;
  };
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['system'],
          summary: 'Health: database reachable, reference data loaded',
          response: {
            200: z.object({
              status: z.literal('ok'),
              database: z.enum(['pglite', 'postgres']),
              loaded: z.object({
                divisions: LevelCounts,
                halls: LevelCounts,
                departments: z.number().int(),
                catalog: z.object({
                  items: z.number().int(),
                  materials: z.number().int(),
                  implementations: z.number().int(),
                  boundImplementations: z.number().int(),
                  itemsWithoutStandard: z.number().int(),
                }),
              }),
            }),
          },
        },
      },
      async () => {
        await deps.database.db.execute(sql`select 1`);
        return {
          status: 'ok' as const,
          database: deps.database.kind,
          loaded: await loaded(),
        };
      },
    );
  };
}
