import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KPI_DEFINITIONS, KPI_IDS, KpiDashboardSchema } from '../../../domain/kpi.ts';
import { errorResponses } from '../../http/errors.ts';
import type { KpiService } from './service.ts';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD (Asia/Shanghai)');

const KpiDefinitionSchema = z
  .object({
    id: z.enum(KPI_IDS),
    name: z.string().describe('中文 name'),
    nameEn: z.string(),
    unit: z.enum(['ratio', 'count', 'working_hours', 'working_days']),
    higherIsBetter: z.boolean(),
    formula: z.string().describe('where the formula is documented (docs/metrics.md#<id>)'),
  })
  .meta({ id: 'KpiDefinition' });

/** `GET /api/v1/kpi/dashboard`, `GET /api/v1/kpi/definitions` — 循数治理 (docs/metrics.md). */
export function kpiRoutes(deps: { kpi: KpiService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/kpi/dashboard',
      {
        schema: {
          tags: ['kpi'],
          summary:
            'KPIs of a division (52 / 5226 / 522601) or one hall over from…to (inclusive, Asia/Shanghai, ≤ 366 days): figures with the previous period, the daily trend, the children for drill-down. Needs dashboard.read over the scope (403 kpi.scope_missing).',
          querystring: z.object({
            division: z
              .string()
              .regex(/^\d{2}(\d{2}){0,2}$/, 'a province, prefecture or county code')
              .optional(),
            hall: z.string().min(1).max(64).optional().describe('a hall code, e.g. 522601-zwfw'),
            from: Day,
            to: Day,
          }),
          response: { 200: KpiDashboardSchema, ...errorResponses },
        },
      },
      async (req) =>
        deps.kpi.dashboard(req.principal, {
          from: req.query.from,
          to: req.query.to,
          ...(req.query.division ? { division: req.query.division } : {}),
          ...(req.query.hall ? { hall: req.query.hall } : {}),
        }),
    );

    app.get(
      '/api/v1/kpi/definitions',
      {
        schema: {
          tags: ['kpi'],
          summary: 'The KPIs, in dashboard order: names, unit, direction, where the formula is documented',
          response: { 200: z.object({ items: z.array(KpiDefinitionSchema) }), ...errorResponses },
        },
      },
      async () => ({
        items: KPI_IDS.map((id) => ({ id, ...KPI_DEFINITIONS[id], formula: `docs/metrics.md#${id}` })),
      }),
    );
  };
}
