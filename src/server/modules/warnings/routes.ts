import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_RULES, ALERT_STATUSES, AlertSchema } from '../../../domain/alerts.ts';
import { errorResponses } from '../../http/errors.ts';
import type { WarningsService } from './service.ts';

const AlertViewSchema = AlertSchema.extend({
  place: z.string().describe('division:<code>, hall:<code> or department:<id>'),
  period: z
    .string()
    .describe('the day (YYYY-MM-DD) of a periodic rule; `ongoing` for hall_down and bad_review_cluster'),
  departmentId: z.string().nullable(),
  acknowledgeNote: z.string().nullable(),
}).meta({ id: 'Alert' });

const keyHeaders = z.object({
  'idempotency-key': z.string().describe('client-generated key (e.g. a UUID), the same on every retry'),
});
const idParams = z.object({ id: z.string().max(64).describe('alert id (UUID)') });
const writeResponses = { ...errorResponses, 403: errorResponses[400], 409: errorResponses[400] };
const Threshold = z.record(z.string(), z.number());

/**
 * 预警 over HTTP: the alerts of the caller's scope, acknowledge (签收) and resolve (处置完毕), the rules and
 * their thresholds. Access: WarningsService (dashboard.read over the alert to see it, alert.manage to act;
 * an alert outside one's scope is 404 as if it did not exist).
 */
export function warningsRoutes(deps: { warnings: WarningsService }): FastifyPluginAsyncZod {
  const { warnings } = deps;
  return async (app) => {
    app.get(
      '/api/v1/alerts',
      {
        schema: {
          tags: ['warnings'],
          summary: 'Alerts of your scope (预警), active and critical first',
          description:
            'Administrators, duty officers and leaders (dashboard.read) see the alerts whose division lies in their division scope, or whose hall / department is theirs. `division` narrows to a subtree (403 `alert.scope_missing` outside your scope).',
          querystring: z.object({
            status: z
              .enum(['active', ...ALERT_STATUSES])
              .optional()
              .describe('active = open or acknowledged; default: all'),
            rule: z.enum(ALERT_RULES).optional(),
            division: z.string().max(12).optional().describe('GB/T 2260 code: alerts in that subtree'),
            limit: z.coerce.number().int().min(1).max(200).optional().describe('default 50'),
          }),
          response: {
            200: z.object({ items: z.array(AlertViewSchema), total: z.number().int() }),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req) => warnings.list(req.principal, req.query),
    );

    app.get(
      '/api/v1/alerts/rules',
      {
        schema: {
          tags: ['warnings'],
          summary: 'The warning rules, their names and thresholds',
          description:
            'Thresholds are set by WARN_<RULE>_<PARAM> environment variables (e.g. WARN_OVERDUE_SPIKE_FACTOR); windows in calendar days of the KPI series, response times in working hours.',
          response: {
            200: z.object({
              rules: z.array(z.object({ id: z.enum(ALERT_RULES), name: z.string() })),
              thresholds: z.record(z.string(), Threshold),
            }),
            ...errorResponses,
            403: errorResponses[400],
          },
        },
      },
      async (req) => {
        const r = warnings.rules(req.principal);
        return {
          rules: r.rules,
          thresholds: r.thresholds as unknown as Record<string, Record<string, number>>,
        };
      },
    );

    app.post(
      '/api/v1/alerts/:id/acknowledge',
      {
        schema: {
          tags: ['warnings'],
          summary: 'Acknowledge an alert (签收): who and when, with an optional note',
          params: idParams,
          headers: keyHeaders,
          body: z
            .strictObject({ note: z.string().max(2000).optional().describe('≤ 500 characters') })
            .optional(),
          response: { 200: AlertViewSchema, ...writeResponses },
        },
      },
      async (req) =>
        warnings.acknowledge(req.principal, req.params.id, req.body ?? {}, req.headers['idempotency-key']),
    );

    app.post(
      '/api/v1/alerts/:id/resolve',
      {
        schema: {
          tags: ['warnings'],
          summary: 'Resolve an alert (处置完毕) with what was done',
          description: 'The same rule firing again later opens a new alert.',
          params: idParams,
          headers: keyHeaders,
          body: z.strictObject({ resolution: z.string().max(2000).describe('2–500 characters') }),
          response: { 200: AlertViewSchema, ...writeResponses },
        },
      },
      async (req) => warnings.resolve(req.principal, req.params.id, req.body, req.headers['idempotency-key']),
    );
  };
}
