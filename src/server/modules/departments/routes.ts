import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import type { RegionsService } from '../regions/service.ts';
import type { DepartmentsService } from './service.ts';

export const DepartmentSchema = z
  .object({
    id: z.string().uuid(),
    creditCode: z
      .string()
      .describe('统一社会信用代码 (GB 32100); sample data: valid in form, not a real registration'),
    name: z.string(),
    kind: z.string().describe('department kind, e.g. human_resources_social_security'),
    divisionCode: z.string(),
    level: z.enum(['province', 'prefecture', 'county']),
    sample: z.boolean(),
  })
  .meta({ id: 'Department' });

/** `GET /api/v1/departments?division=CODE&kind=KIND`, `GET /api/v1/departments/{id}`. */
export function departmentsRoutes(deps: {
  departments: DepartmentsService;
  regions: RegionsService;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/departments',
      {
        schema: {
          tags: ['departments'],
          summary: 'Competent departments (部门) by division and/or kind',
          querystring: z.object({ division: z.string().optional(), kind: z.string().optional() }),
          response: { 200: z.object({ items: z.array(DepartmentSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        const { division, kind } = req.query;
        const divisionCode =
          division === undefined ? undefined : (await deps.regions.getDivision(division, 'division')).code;
        const items = await deps.departments.listDepartments({
          ...(divisionCode ? { divisionCode } : {}),
          ...(kind ? { kind } : {}),
        });
        return { items };
      },
    );
    app.get(
      '/api/v1/departments/:id',
      {
        schema: {
          tags: ['departments'],
          summary: 'One department',
          params: z.object({ id: z.string() }),
          response: { 200: DepartmentSchema, ...errorResponses },
        },
      },
      async (req) => deps.departments.getDepartment(req.params.id),
    );
  };
}
