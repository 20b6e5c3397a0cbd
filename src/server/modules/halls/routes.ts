import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import { OpeningHoursSchema } from '../../../domain/opening-hours.ts';
import { CACHE, cacheable } from '../../http/caching.ts';
import { ErrorBodySchema, errorResponses } from '../../http/errors.ts';
import type { RegionsService } from '../regions/service.ts';
import { HALL_LEVELS, HALL_STATUSES, type HallsService } from './service.ts';

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
    statusReason: z.string().nullable().describe('why the hall is closed / degraded / offline'),
    statusExpectedEndAt: z.string().nullable().describe('ISO 8601: when the status is expected to end'),
    statusChangedAt: z.string().nullable().describe('ISO 8601: last status change by an administrator'),
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
        ...cacheable(CACHE.short),
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
        ...cacheable(CACHE.short),
        schema: {
          tags: ['halls'],
          summary: 'One hall',
          params: z.object({ code: z.string() }),
          response: { 200: HallSchema, ...errorResponses },
        },
      },
      async (req) => deps.halls.getHall(req.params.code),
    );

    // ---- administration (hall / county / prefecture / province administrators: ./policy.ts)
    const adminErrors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema };
    const params = z.object({ code: z.string().max(64) });
    const reason = z.string().max(500).optional().describe('why (audited)');

    app.get(
      '/api/v1/halls/:code/windows',
      {
        schema: {
          tags: ['halls'],
          summary: 'The windows (窗口) of a hall and what each serves',
          params,
          response: { 200: z.object({ items: z.array(HallWindowSchema) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await deps.halls.listWindows(req.params.code) }),
    );

    app.put(
      '/api/v1/halls/:code/windows',
      {
        schema: {
          tags: ['halls'],
          summary: 'Replace the windows of a hall (administrators of the hall)',
          description:
            'The whole list: numbers 1–999 unique, names 1–50 characters, the items (12-digit basic codes) and/or industries (GET /api/v1/catalog/industries ids) served; both null = 综合窗口. Sets the hall’s window count. 400 `hall.invalid_windows` lists every bad field; 403 `hall.out_of_scope`. Audited (`hall.windows_update`, before/after).',
          params,
          body: z.strictObject({ windows: z.array(HallWindowSchema).max(500), reason }),
          response: { 200: z.object({ items: z.array(HallWindowSchema) }), ...adminErrors },
        },
      },
      async (req) => ({
        items: await deps.halls.setWindows(req.principal, req.params.code, req.body.windows, req.body.reason),
      }),
    );

    app.put(
      '/api/v1/halls/:code/opening-hours',
      {
        schema: {
          tags: ['halls'],
          summary: 'Set the opening hours of a hall (administrators of the hall)',
          description:
            'Asia/Shanghai HH:MM-HH:MM ranges for working days (incl. 调休 make-up days) and optionally non-working Saturdays / Sundays; statutory holidays are closed. 400 `hall.invalid_hours` for reversed or overlapping ranges. Audited (`hall.hours_update`).',
          params,
          body: z.strictObject({ openingHours: z.unknown(), reason }),
          response: { 200: HallSchema, ...adminErrors },
        },
      },
      async (req) =>
        deps.halls.setOpeningHours(
          req.principal,
          req.params.code,
          req.body.openingHours as never,
          req.body.reason,
        ),
    );

    app.put(
      '/api/v1/halls/:code/status',
      {
        schema: {
          tags: ['halls'],
          summary: 'Set the service status of a hall: open / closed / degraded / offline (administrators)',
          description:
            'closed, degraded and offline need a reason (2–500 characters, shown to residents and staff) and may give expectedEndAt (ISO 8601, future); open clears both. Audited (`hall.status_change`, before/after).',
          params,
          body: z.strictObject({
            status: z.enum(HALL_STATUSES),
            reason: z.string().max(500).optional(),
            expectedEndAt: z.iso.datetime({ offset: true }).optional(),
          }),
          response: { 200: HallSchema, ...adminErrors },
        },
      },
      async (req) =>
        deps.halls.setStatus(req.principal, req.params.code, {
          status: req.body.status,
          reason: req.body.reason,
          ...(req.body.expectedEndAt ? { expectedEndAt: new Date(req.body.expectedEndAt) } : {}),
        }),
    );
  };
}

export const HallWindowSchema = z
  .object({
    number: z.number().int().describe('window number on the hall floor, 1–999'),
    name: z.string().max(50).describe('e.g. 社保综合窗口'),
    itemCodes: z.array(z.string().max(12)).max(500).nullable().describe('items served; null = not limited'),
    industries: z
      .array(z.string().max(64))
      .max(50)
      .nullable()
      .describe('industries served; null = not limited'),
  })
  .meta({ id: 'HallWindow' });
