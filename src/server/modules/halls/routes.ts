import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import { OpeningHoursSchema } from '../../../domain/opening-hours.ts';
import { errorResponses } from '../../http/errors.ts';
import type { RegionsService } from '../regions/service.ts';
import { HALL_LEVELS, type HallsService } from './service.ts';

const LevelEnum = z.enum(['province', 'prefecture', 'county', 'township', 'village']);

export const HallSchema = z
  .object({
    code: z
      .string()
      .describe('e.g. 520102-zwfw (政务服务中心), 520102016-bmfw (便民服务中心), 520102016001-fwz (服务站)'),
    name: z.string(),
    kind: z.enum(['government_service_center', 'convenience_service_center', 'service_station']),
    level: LevelEnum,
    divisionCode: z.string(),
    countyCode: z.string().nullable(),
    latitude: z.number().describe('degrees'),
    longitude: z.number().describe('degrees'),
    locationApproximate: z.boolean().describe('true: a sample point inside the county, display only'),
    address: z.string(),
    windows: z.number().int(),
    openingHours: OpeningHoursSchema,
    openNow: z
      .boolean()
      .nullable()
      .describe('open right now by its hours on the working-day calendar (Asia/Shanghai); null when unknown'),
    capabilities: z.array(z.string()),
    status: z
      .enum(['open', 'closed', 'degraded', 'offline'])
      .describe(
        'service status (in service / closed / degraded / offline), not whether it is open at this hour',
      ),
    sample: z.boolean(),
    distanceKm: z.number().optional().describe('great-circle distance from `near`, km'),
  })
  .meta({ id: 'Hall' });

/** Parses `LAT,LON` in degrees. @throws AppError(validation) naming `near`. */
export function parseNear(near: string): { latitude: number; longitude: number } {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(near);
  if (!m)
    throw invalid(
      'near',
      `near must be "LAT,LON" in degrees, e.g. near=26.58,106.71; got "${near}".`,
      'hall.bad_point',
    );
  return { latitude: Number(m[1]), longitude: Number(m[2]) };
}

/** `GET /api/v1/halls?near=LAT,LON&limit=N` or `?division=CODE`; `GET /api/v1/halls/{code}`. */
export function hallsRoutes(deps: { halls: HallsService; regions: RegionsService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/halls',
      {
        schema: {
          tags: ['halls'],
          summary:
            'Nearest halls to a point (near=LAT,LON) or the halls of a division (division=CODE, whole subtree)',
          querystring: z.object({
            near: z.string().optional().describe('LAT,LON in degrees; nearest first'),
            division: z.string().optional().describe('GB/T 2260 code; halls located in it and below'),
            level: z
              .string()
              .optional()
              .describe('comma-separated hall levels to keep, e.g. county,prefecture,province'),
            limit: z.coerce.number().int().min(1).max(500).default(10),
            after: z.string().optional().describe('with division: hall codes after this one (next page)'),
          }),
          response: {
            200: z.object({ items: z.array(HallSchema), next: z.string().nullable() }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { near, division, limit, after } = req.query;
        const levels = req.query.level?.split(',').map((l) => l.trim());
        for (const l of levels ?? []) {
          if (!HALL_LEVELS.includes(l as never)) {
            throw invalid(
              'level',
              `level must be a comma-separated list of ${HALL_LEVELS.join(', ')}; got "${l}".`,
              'hall.unknown_level',
            );
          }
        }
        if ((near === undefined) === (division === undefined)) {
          throw invalid(
            near === undefined ? 'near' : 'division',
            'Give exactly one of near=LAT,LON or division=CODE.',
            'hall.query_shape',
          );
        }
        if (near !== undefined) {
          const items = await deps.halls.nearestHalls({
            ...parseNear(near),
            limit,
            ...(levels ? { levels: levels as never } : {}),
          });
          return { items, next: null };
        }
        const { code } = await deps.regions.getDivision(division!, 'division');
        if (levels && levels.length > 1)
          throw invalid('level', 'With division=, give a single level.', 'hall.query_shape');
        const items = await deps.halls.listHallsOfDivision(code, {
          limit,
          ...(levels?.[0] ? { level: levels[0] as never } : {}),
          ...(after ? { after } : {}),
        });
        return { items, next: items.length === limit ? (items.at(-1)?.code ?? null) : null };
      },
    );

    app.get(
      '/api/v1/halls/:code',
      {
        schema: {
          tags: ['halls'],
          summary: 'One hall',
          params: z.object({ code: z.string() }),
          response: { 200: HallSchema, ...errorResponses },
        },
      },
      async (req) => deps.halls.getHall(req.params.code),
    );
  };
}
