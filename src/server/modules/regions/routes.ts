import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import type { RegionsService } from './service.ts';

export const DivisionSchema = z
  .object({
    code: z.string().describe('GB/T 2260 code: 2/4/6/9/12 digits'),
    name: z.string(),
    level: z.enum(['province', 'prefecture', 'county', 'township', 'village']),
    parentCode: z.string().nullable(),
    countyCode: z.string().nullable().describe('the county (6 digits) a township or village lies in'),
  })
  .meta({ id: 'Division' });

const DivisionWithAncestry = DivisionSchema.extend({
  ancestors: z.array(DivisionSchema).describe('parent first, up to the province'),
});

/** `GET /api/v1/divisions`, `GET /api/v1/divisions/{code}` — 行政区划. */
export function regionsRoutes(deps: { regions: RegionsService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/divisions',
      {
        schema: {
          tags: ['regions'],
          summary: 'List divisions by level and/or parent (ordered by code, keyset pagination with `after`)',
          querystring: z.object({
            level: z.enum(['province', 'prefecture', 'county', 'township', 'village']).optional(),
            parent: z.string().optional().describe('parent division code; lists its children'),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            after: z.string().regex(/^\d+$/).optional().describe('return codes after this one (next page)'),
          }),
          response: {
            200: z.object({ items: z.array(DivisionSchema), next: z.string().nullable() }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { level, parent, limit, after } = req.query;
        const items = await deps.regions.listDivisions({
          limit,
          ...(level ? { level } : {}),
          ...(parent ? { parent } : {}),
          ...(after ? { after } : {}),
        });
        return { items, next: items.length === limit ? (items.at(-1)?.code ?? null) : null };
      },
    );

    app.get(
      '/api/v1/divisions/:code',
      {
        schema: {
          tags: ['regions'],
          summary: 'One division with its ancestors',
          params: z.object({ code: z.string() }),
          response: { 200: DivisionWithAncestry, ...errorResponses },
        },
      },
      async (req) => {
        const [self, ...ancestors] = await deps.regions.getAncestry(req.params.code, 'code');
        return { ...self!, ancestors };
      },
    );
  };
}
